//! `airdesk mail check` and `--mail-store`, run as a process: against Dovecot over TLS with a CA
//! made for the test, against JMAP on Cyrus, and against a Maildir tree. It reports how it connected and what the
//! server offers, fails with the reason when it cannot verify or open a mailbox, never prints
//! the password, and changes nothing.

use std::process::{Command, Output};

use crate::certs::{Kind, TestCa};
use crate::dovecot::{Dovecot, MASTER_PASSWORD, MASTER_USER};

const ALICE: &str = "alice@example.test";
const BOB: &str = "bob@example.test";

fn airdesk(dir: &std::path::Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_airdesk"))
        .args(args)
        .env(
            "AIRDESK_DATABASE_URL",
            format!("sqlite://{}", dir.join("unused.db").display()),
        )
        .env("AIRDESK_LOG", "warn")
        .output()
        .expect("airdesk runs")
}

fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

#[test]
fn mail_check_over_tls_reports_transport_capabilities_and_folders_and_refuses_a_stranger() {
    let ca = TestCa::new("airdesk test CA");
    let dovecot = Dovecot::start_with(&[ALICE, BOB], Some(&ca.server_cert(Kind::Valid)));
    let dir = tempfile::tempdir().unwrap();
    let ca_file = ca.write(dir.path());
    let password_file = dir.path().join("imap.password");
    std::fs::write(&password_file, format!("{MASTER_PASSWORD}\n")).unwrap();
    let stranger_dir = tempfile::tempdir().unwrap();
    let stranger = TestCa::new("someone else's CA").write(stranger_dir.path());
    let store = format!("imaps://127.0.0.1:{}", dovecot.imaps_port);
    let sieve = format!("sieve://127.0.0.1:{}?starttls=required", dovecot.sieve_port);
    let check = |ca: &std::path::Path, mailboxes: &[&str]| {
        let mut args = vec![
            "--mail-store",
            &store,
            "--imap-user",
            MASTER_USER,
            "--imap-password-file",
            password_file.to_str().unwrap(),
            "--managesieve-url",
            &sieve,
            "--mail-ca-file",
            ca.to_str().unwrap(),
            "mail",
            "check",
        ];
        args.extend_from_slice(mailboxes);
        airdesk(dir.path(), &args)
    };

    let output = check(&ca_file, &[ALICE, BOB]);
    let said = text(&output);
    assert!(output.status.success(), "{said}");
    assert!(
        said.contains(&format!("mail store: {store} as {MASTER_USER}")),
        "{said}"
    );
    assert!(said.contains("transport     TLS TLSv1_"), "{said}");
    assert!(
        said.contains(" MOVE") && said.contains(" UIDPLUS"),
        "{said}"
    );
    assert!(said.contains("folders       INBOX"), "{said}");
    assert!(said.contains("sieve         transport TLS"), "{said}");
    assert!(said.contains("IMPLEMENTATION"), "{said}");
    assert!(said.contains("2 mailboxes checked"), "{said}");
    assert!(
        !said.contains(MASTER_PASSWORD),
        "the password is never printed: {said}"
    );

    let output = check(&stranger, &[ALICE]);
    let said = text(&output);
    assert!(!output.status.success(), "{said}");
    assert!(
        said.contains("FAILED") && said.contains("UnknownIssuer"),
        "{said}"
    );
    assert!(said.contains("1 of 1 mailboxes failed the check"), "{said}");

    // Nothing was written: no folder was created, no script stored or activated (Pigeonhole
    // makes an empty sieve/ folder of its own when a session opens).
    for mailbox in [ALICE, BOB] {
        let dir = dovecot.mail_root().join(mailbox);
        let folders: Vec<String> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|name| name.starts_with('.'))
            .collect();
        assert!(folders.is_empty(), "{mailbox}: {folders:?}");
        let scripts: Vec<_> = walk(&dir.join("sieve"))
            .into_iter()
            .filter(|path| path.extension().is_some_and(|e| e == "sieve"))
            .collect();
        assert!(scripts.is_empty(), "{mailbox}: {scripts:?}");
    }
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    entries
        .flat_map(|entry| {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(&path)
            } else {
                vec![path]
            }
        })
        .collect()
}

#[test]
fn mail_store_urls_choose_the_backend_and_a_wrong_one_is_one_clear_line() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("mail");
    for mailbox in [ALICE, BOB] {
        for sub in ["cur", "new", "tmp", ".Junk/cur", ".Junk/new", ".Junk/tmp"] {
            std::fs::create_dir_all(root.join(mailbox).join(sub)).unwrap();
        }
    }
    let store = format!("maildir://{}", root.display());
    let output = airdesk(dir.path(), &["--mail-store", &store, "mail", "check"]);
    let said = text(&output);
    assert!(output.status.success(), "{said}");
    assert!(said.contains(&format!("mail store: {store}")), "{said}");
    assert!(
        said.contains(ALICE) && said.contains(BOB),
        "every mailbox of the tree: {said}"
    );
    assert!(said.contains("folders       INBOX, Junk"), "{said}");
    assert!(said.contains("no active script"), "{said}");

    let output = airdesk(
        dir.path(),
        &["--mail-store", &store, "mail", "check", "eve@example.test"],
    );
    assert!(!output.status.success());
    assert!(text(&output).contains("FAILED"), "{}", text(&output));

    // Trusting one CA and none at all cannot both be meant.
    let output = airdesk(
        dir.path(),
        &[
            "--mail-store",
            &store,
            "--mail-tls-insecure",
            "--mail-ca-file",
            "ca.pem",
            "mail",
            "check",
        ],
    );
    assert_eq!(output.status.code(), Some(2), "{}", text(&output));
    assert!(
        text(&output).contains("cannot be used with"),
        "{}",
        text(&output)
    );

    for (url, words) in [
        (
            "pop3://mail.example.test",
            "is not maildir://, imap://, imaps://, jmap://",
        ),
        ("jmap+http://mail.example.test", "only for this machine"),
        (
            "jmap://admin:secret@mail.example.test",
            "must not hold credentials",
        ),
        (
            "imap://admin:secret@mail.example.test",
            "no credentials in the URL",
        ),
        (
            "imaps://mail.example.test?starttls=off",
            "unknown parameter",
        ),
    ] {
        let output = airdesk(
            dir.path(),
            &["--mail-store", url, "--imap-user", "admin", "mail", "check"],
        );
        let said = text(&output);
        assert!(!output.status.success(), "{url}: {said}");
        assert!(said.contains(words), "{url}: {said}");
        assert!(!said.contains("secret"), "{said}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn mail_check_signs_in_with_oauth2_client_credentials_and_prints_no_secret() {
    use crate::idp::{Idp, CLIENT_ID, CLIENT_SECRET, PRINCIPAL};
    let idp = Idp::start(std::time::Duration::from_secs(600)).await;
    let dovecot = Dovecot::start_oauth2(&[ALICE], &idp.introspection_url());
    let dir = tempfile::tempdir().unwrap();
    let secret = dir.path().join("client.secret");
    std::fs::write(&secret, format!("{CLIENT_SECRET}\n")).unwrap();
    let args: Vec<String> = [
        "--mail-store".to_string(),
        format!("imap://127.0.0.1:{}", dovecot.imap_port),
        "--managesieve-url".into(),
        format!("sieve://127.0.0.1:{}", dovecot.sieve_port),
        "--imap-user".into(),
        PRINCIPAL.into(),
        "--imap-oauth2-token-url".into(),
        idp.token_url(),
        "--imap-oauth2-client-id".into(),
        CLIENT_ID.into(),
        "--imap-oauth2-client-secret-file".into(),
        secret.display().to_string(),
        "--imap-sasl".into(),
        "oauthbearer".into(),
        "mail".into(),
        "check".into(),
        ALICE.into(),
    ]
    .to_vec();
    let root = dir.path().to_path_buf();
    let output = tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        airdesk(&root, &args)
    })
    .await
    .unwrap();
    let said = text(&output);
    assert!(output.status.success(), "{said}");
    assert!(said.contains("1 mailboxes checked"), "{said}");
    assert_eq!(idp.grants(), 1, "{said}");
    assert!(!said.contains(CLIENT_SECRET), "{said}");
    assert!(
        dovecot
            .log()
            .contains(&format!("Login: user=<{ALICE}>, method=OAUTHBEARER")),
        "{}",
        dovecot.log()
    );
}

#[test]
fn mail_check_over_jmap_lists_capabilities_and_folders_and_changes_nothing() {
    let cyrus = crate::cyrus::Cyrus::start(&[ALICE]);
    let dir = tempfile::tempdir().unwrap();
    let password = dir.path().join("password");
    std::fs::write(&password, format!("{}\n", crate::cyrus::PASSWORD)).unwrap();
    let store = format!("jmap+http://127.0.0.1:{}", cyrus.http_port);
    let sieve = format!("sieve://127.0.0.1:{}?starttls=off", cyrus.sieve_port);
    let check = |mailbox: &str| {
        airdesk(
            dir.path(),
            &[
                "--mail-store",
                &store,
                "--mail-user",
                crate::cyrus::SERVICE,
                "--mail-password-file",
                password.to_str().unwrap(),
                "--managesieve-url",
                &sieve,
                "mail",
                "check",
                mailbox,
            ],
        )
    };
    let output = check(ALICE);
    let said = text(&output);
    assert!(output.status.success(), "{said}");
    assert!(said.contains("/.well-known/jmap as airdesk"), "{said}");
    assert!(said.contains("urn:ietf:params:jmap:mail"), "{said}");
    assert!(said.contains("clear text (loopback)"), "{said}");
    assert!(
        said.contains("Deleted Items") && said.contains("INBOX") && said.contains("Junk"),
        "the role folders under airdesk's names: {said}"
    );
    assert!(!said.contains(crate::cyrus::PASSWORD), "{said}");
    // Read only: no Recoverable Items folder was made.
    let folders = cyrus.as_owner(ALICE, |imap| imap.ok("LIST \"\" \"*\""));
    assert!(
        !folders.iter().any(|l| l.contains("Recoverable")),
        "{folders:?}"
    );

    // A mailbox the service account may not open fails the check with the reason.
    let output = check("mallory@example.test");
    let said = text(&output);
    assert!(!output.status.success(), "{said}");
    assert!(said.contains("FAILED"), "{said}");
}
