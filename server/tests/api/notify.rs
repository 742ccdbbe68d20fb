//! Reporters are told, through a real SMTP server (aiosmtpd from the setup script's virtual
//! environment, on loopback): one message each, from the template of what their report came
//! to, and never a second one — not for a second end of the investigation, not after a restart.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use airdesk_core::events::notify::{NotifyConfig, Relay, Templates};
use airdesk_core::investigations::intake::{self, IntakeConfig};
use model::{Actor, Indicator, IndicatorKind, Role, Verdict};

use crate::corpus::{campaign_message, drop_message, newsletter};
use crate::helpers::{spawn_app_with, TestApp};

const PHISH: &str = "phish@example.test";

/// aiosmtpd, writing every message it accepts into a Maildir.
struct Smtp {
    child: Child,
    address: SocketAddr,
    maildir: tempfile::TempDir,
}

impl Smtp {
    fn start() -> Smtp {
        Smtp::start_with(None)
    }

    /// With a certificate, the server offers STARTTLS and takes no mail before it.
    fn start_with(cert: Option<&crate::certs::ServerCert>) -> Smtp {
        let bin = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/smtp-venv/bin/aiosmtpd");
        assert!(
            bin.exists(),
            "{} (scripts/setup installs it)",
            bin.display()
        );
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let maildir = tempfile::tempdir().unwrap();
        let mut command = Command::new(bin);
        command.args(["-n", "-l", &format!("127.0.0.1:{port}")]);
        if let Some(cert) = cert {
            let (cert_file, key_file) = (
                maildir.path().join("cert.pem"),
                maildir.path().join("key.pem"),
            );
            std::fs::write(&cert_file, &cert.cert_pem).unwrap();
            std::fs::write(&key_file, &cert.key_pem).unwrap();
            command
                .arg("--tlscert")
                .arg(cert_file)
                .arg("--tlskey")
                .arg(key_file);
        }
        let child = command
            .args(["-c", "aiosmtpd.handlers.Mailbox"])
            .arg(maildir.path().join("box"))
            .spawn()
            .expect("aiosmtpd starts");
        let address: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(address).is_err() {
            assert!(Instant::now() < deadline, "aiosmtpd did not listen");
            std::thread::sleep(Duration::from_millis(50));
        }
        Smtp {
            child,
            address,
            maildir,
        }
    }

    /// Every message received so far, raw.
    fn received(&self) -> Vec<String> {
        let mut found = Vec::new();
        for sub in ["new", "cur"] {
            if let Ok(entries) = std::fs::read_dir(self.maildir.path().join("box").join(sub)) {
                for entry in entries {
                    found.push(std::fs::read_to_string(entry.unwrap().path()).unwrap());
                }
            }
        }
        found
    }

    async fn until(&self, count: usize) -> Vec<String> {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let got = self.received();
            if got.len() >= count {
                return got;
            }
            assert!(
                Instant::now() < deadline,
                "{} of {count} messages: {got:?}",
                got.len()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

impl Drop for Smtp {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn notify_config(smtp: &Smtp) -> NotifyConfig {
    NotifyConfig {
        relay: Relay::parse(&format!("smtp://{}", smtp.address), None).unwrap(),
        from: "airdesk <airdesk@example.test>".parse().unwrap(),
        templates: Templates::default(),
        public_url: "https://airdesk.example.test".into(),
        backoff: Duration::from_millis(100),
        retry_for: Duration::from_secs(60),
        timeout: Duration::from_secs(5),
    }
}

async fn app_telling(smtp: &Smtp, dir: Option<PathBuf>) -> TestApp {
    app_with(notify_config(smtp), dir).await
}

async fn app_with(config: NotifyConfig, dir: Option<PathBuf>) -> TestApp {
    spawn_app_with(move |settings| {
        settings.notify = Some(config);
        if let Some(dir) = dir {
            settings.database_url = crate::helpers::database_url(&dir);
            settings.mail = mail::Connector::Maildir {
                root: dir.join("mail"),
                sieve_global: None,
            };
        }
    })
    .await
}

fn report(from: &str, original: &str) -> String {
    format!(
        "From: {from}\r\nTo: {PHISH}\r\nSubject: Phishing report\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"rep\"\r\n\r\n--rep\r\nContent-Type: text/plain\r\n\r\nReported.\r\n--rep\r\nContent-Type: message/rfc822\r\n\r\n{original}\r\n--rep--\r\n"
    )
}

fn drop_report(root: &Path, name: &str, raw: &str) {
    for sub in ["new", "cur", "tmp"] {
        std::fs::create_dir_all(root.join(PHISH).join(sub)).unwrap();
    }
    std::fs::write(
        root.join(PHISH)
            .join("new")
            .join(format!("1764200000.{name}.test")),
        raw,
    )
    .unwrap();
}

/// `reporter` forwards their copy to the report mailbox as an attachment.
fn report_copy(root: &Path, reporter: &str, copy: &Path) {
    let name = reporter.split('@').next().unwrap_or(reporter);
    let original = std::fs::read_to_string(copy).unwrap();
    drop_report(root, name, &report(reporter, &original));
}

/// A received message as a mail client reads it: (To, Subject, From, the decoded text).
fn read_mail(raw: &str) -> (String, String, String, String) {
    let message = mail_parser::MessageParser::default()
        .parse(raw.as_bytes())
        .expect("MIME");
    let address = |a: Option<&mail_parser::Address>| {
        a.and_then(|a| a.first())
            .map(|a| match &a.name {
                Some(name) => format!("{name} <{}>", a.address().unwrap_or_default()),
                None => a.address().unwrap_or_default().to_string(),
            })
            .unwrap_or_default()
    };
    (
        address(message.to()),
        message.subject().unwrap_or_default().to_string(),
        address(message.from()),
        message.body_text(0).unwrap_or_default().to_string(),
    )
}

#[tokio::test]
async fn each_reporter_is_told_once_with_the_template_of_the_outcome() {
    let smtp = Smtp::start();
    let app = app_telling(&smtp, None).await;
    let analyst = app.token("analyst", Role::SearchAndPurge).await;
    let root = app.mail_root();
    // A known-bad URL: alice's report finds the campaign Malicious.
    let bad = Indicator {
        id: String::new(),
        kind: IndicatorKind::Url,
        value: crate::corpus::CAMPAIGN_URL.into(),
        verdict: Verdict::Malicious,
        expires_at: None,
    };
    airdesk_core::indicators::store(&app.db, &bad, &Actor::IndicatorsFile)
        .await
        .unwrap();
    // Two copies of a campaign, delivered now (within the look-back).
    let alice_copy = drop_message(
        &root,
        "alice@example.test",
        "INBOX",
        &campaign_message(1, "alice@example.test"),
    );
    drop_message(
        &root,
        "bob@example.test",
        "INBOX",
        &campaign_message(2, "bob@example.test"),
    );
    // Carol's message is an ordinary one.
    let carol_copy = drop_message(
        &root,
        "carol@example.test",
        "INBOX",
        &newsletter(1, "carol@example.test"),
    );

    report_copy(&root, "alice@example.test", &alice_copy);
    report_copy(&root, "carol@example.test", &carol_copy);
    let round = intake::process(&app.state, &IntakeConfig::new(PHISH))
        .await
        .unwrap();
    assert_eq!(round.started, 2, "{round:?}");

    // Carol's ends at once: no threats found.
    let first = smtp.until(1).await;
    let (to, subject, _, _) = read_mail(&first[0]);
    assert_eq!(to, "carol@example.test");
    assert!(subject.contains("no threats found"), "{subject}");

    // Alice's waits for approval; approved and carried out, it ends Remediated.
    let alice_investigation: String = airdesk_core::db::query(
        "SELECT investigation_id FROM reports WHERE reported_by = 'alice@example.test'",
    )
    .scalar(&app.db)
    .await
    .unwrap();
    let investigation = app.investigation(&analyst, &alice_investigation).await;
    let pending: Vec<String> = investigation["actions"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["status"] == "pending")
        .map(|a| a["id"].as_str().unwrap().to_string())
        .collect();
    assert!(!pending.is_empty(), "{investigation}");
    for id in &pending {
        let decided = crate::helpers::approve_at(&app.client, &app.address, &analyst, id).await;
        // The campaign's other clusters hold the same copies: duplicates of the first.
        if decided["status"] == "approved" {
            app.settled(&analyst, id).await;
        }
    }
    let both = smtp.until(2).await;
    let (_, subject, from, text) = both
        .iter()
        .map(|m| read_mail(m))
        .find(|(to, ..)| to == "alice@example.test")
        .expect("alice is told");
    assert_eq!(
        subject,
        "Your report: \"Invoice 1007 overdue\" was malicious and has been removed"
    );
    assert!(text.contains("removed it from 2 mailbox(es)"), "{text}");
    assert!(
        text.contains(&format!(
            "https://airdesk.example.test/investigations/{alice_investigation}"
        )),
        "{text}"
    );
    assert_eq!(from, "airdesk <airdesk@example.test>");

    // Nothing more: a notification per reporter per investigation, recorded as sent.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(smtp.received().len(), 2);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM notifications WHERE status = 'sent'")
            .await,
        2
    );
}

#[tokio::test]
async fn a_restart_tells_no_one_twice() {
    let smtp = Smtp::start();
    let dir = tempfile::tempdir().unwrap();
    let keep = dir.path().to_path_buf();
    let first = app_telling(&smtp, Some(keep.clone())).await;
    let copy = drop_message(
        &keep.join("mail"),
        "carol@example.test",
        "INBOX",
        &newsletter(3, "carol@example.test"),
    );
    drop_report(
        &keep.join("mail"),
        "carol",
        &report(
            "carol@example.test",
            &std::fs::read_to_string(&copy).unwrap(),
        ),
    );
    intake::process(&first.state, &IntakeConfig::new(PHISH))
        .await
        .unwrap();
    smtp.until(1).await;

    // The same database and mail, a new process's worth of state: the cursor and the sent
    // row hold; nothing is read or sent again.
    let second = app_telling(&smtp, Some(keep)).await;
    let round = intake::process(&second.state, &IntakeConfig::new(PHISH))
        .await
        .unwrap();
    assert_eq!(round, intake::Round::default());
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(smtp.received().len(), 1);
    drop(first);
}

/// Carol reports an ordinary message: her investigation ends at once, with no threats found,
/// and she is to be told.
async fn carol_reports_a_newsletter(app: &TestApp) {
    let root = app.mail_root();
    let copy = drop_message(
        &root,
        "carol@example.test",
        "INBOX",
        &newsletter(1, "carol@example.test"),
    );
    report_copy(&root, "carol@example.test", &copy);
    let round = intake::process(&app.state, &IntakeConfig::new(PHISH))
        .await
        .unwrap();
    assert_eq!(round.started, 1, "{round:?}");
}

#[tokio::test]
async fn the_relay_is_reached_over_starttls_and_its_certificate_verified() {
    let ca = crate::certs::TestCa::new("airdesk relay CA");
    let smtp = Smtp::start_with(Some(&ca.server_cert(crate::certs::Kind::Valid)));
    let dir = tempfile::tempdir().unwrap();
    let relay = |ca_file| {
        let mut config = notify_config(&smtp);
        config.relay =
            Relay::parse(&format!("smtp://{}?starttls=required", smtp.address), None).unwrap();
        config.relay.tls = mail::tls::TlsSettings {
            ca_file: Some(ca_file),
            insecure: false,
        };
        config
    };

    // A relay whose certificate chains to another CA is never given the message.
    let stranger_dir = tempfile::tempdir().unwrap();
    let stranger = crate::certs::TestCa::new("someone else's CA").write(stranger_dir.path());
    let app = app_with(relay(stranger), None).await;
    carol_reports_a_newsletter(&app).await;
    let deadline = Instant::now() + Duration::from_secs(20);
    let error: String = loop {
        let errors: Vec<String> = airdesk_core::db::query(
            "SELECT last_error FROM notifications WHERE last_error IS NOT NULL",
        )
        .scalars(&app.db)
        .await
        .unwrap();
        if let Some(error) = errors.into_iter().next() {
            break error;
        }
        assert!(Instant::now() < deadline, "no failed delivery recorded");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(error.to_lowercase().contains("certificate"), "{error}");
    assert!(smtp.received().is_empty(), "sent to an unverified relay");
    drop(app);

    // Trusting the relay's CA, the message goes through STARTTLS.
    let app = app_with(relay(ca.write(dir.path())), None).await;
    carol_reports_a_newsletter(&app).await;
    let got = smtp.until(1).await;
    let (to, subject, _, _) = read_mail(&got[0]);
    assert_eq!(to, "carol@example.test");
    assert!(subject.contains("no threats found"), "{subject}");
}

#[tokio::test]
async fn a_reporter_who_joins_an_investigation_that_has_ended_is_told_too() {
    let smtp = Smtp::start();
    let config = notify_config(&smtp);
    // Three reporters before a campaign counts as suspicious: dave's report joins carol's.
    let app = spawn_app_with(move |settings| {
        settings.notify = Some(config);
        settings.playbook.reports_for_suspicious = 3;
    })
    .await;
    let root = app.mail_root();
    let dave_copy = drop_message(
        &root,
        "dave@example.test",
        "INBOX",
        &newsletter(2, "dave@example.test"),
    );
    carol_reports_a_newsletter(&app).await;
    let first = smtp.until(1).await;
    assert_eq!(read_mail(&first[0]).0, "carol@example.test");

    // Carol's investigation is over; dave reports his own copy of the newsletter later.
    report_copy(&root, "dave@example.test", &dave_copy);
    let round = intake::process(&app.state, &IntakeConfig::new(PHISH))
        .await
        .unwrap();
    assert_eq!((round.started, round.joined), (0, 1), "{round:?}");
    let both = smtp.until(2).await;
    let (_, subject, _, text) = both
        .iter()
        .map(|m| read_mail(m))
        .find(|(to, ..)| to == "dave@example.test")
        .expect("dave is told");
    assert!(subject.contains("no threats found"), "{subject}");
    let investigation: String = airdesk_core::db::query("SELECT id FROM investigations")
        .scalar(&app.db)
        .await
        .unwrap();
    assert!(text.contains(&investigation), "{text}");
    // Carol is not told again.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(smtp.received().len(), 2);
}
