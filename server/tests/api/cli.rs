//! The `airdesk` command line, run as a process.

use std::io::Write;
use std::process::{Command, Output, Stdio};

use tempfile::TempDir;

use crate::helpers::{api_md_example, PASSWORD};

fn airdesk(dir: &TempDir, args: &[&str], stdin: Option<&str>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_airdesk"))
        .args(args)
        .env(
            "AIRDESK_DATABASE_URL",
            crate::helpers::database_url(dir.path()),
        )
        .env("AIRDESK_MAIL_ROOT", dir.path().join("mail"))
        .env("AIRDESK_LOG", "warn")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("airdesk runs");
    if let Some(text) = stdin {
        child
            .stdin
            .take()
            .unwrap()
            .write_all(text.as_bytes())
            .unwrap();
    }
    child.wait_with_output().unwrap()
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).to_string()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).to_string()
}

#[tokio::test]
async fn migrate_creates_the_database() {
    let dir = tempfile::tempdir().unwrap();
    let url = crate::helpers::database_url(dir.path());
    if crate::helpers::postgres_server().is_some() {
        let db = airdesk_core::db::Db::connect(&url).await.unwrap();
        assert!(!db.is_migrated().await.unwrap_or(false), "a fresh database");
    }
    let output = airdesk(&dir, &["migrate"], None);
    assert!(output.status.success(), "{}", stderr(&output));
    let db = airdesk_core::db::Db::connect(&url).await.unwrap();
    assert!(db.is_migrated().await.unwrap());
    if crate::helpers::postgres_server().is_none() {
        assert!(dir.path().join("airdesk.db").exists());
    }
}

// Multi-threaded: the test body blocks while a command runs, and the server must keep going
// (and finish the transactions it has begun) meanwhile, as it would in its own process.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_made_listed_and_revoked_on_the_command_line_hold_against_the_server() {
    let dir = tempfile::tempdir().unwrap();
    let added = airdesk(
        &dir,
        &[
            "user",
            "add",
            "carol",
            "--role",
            "search-and-purge",
            "--password-stdin",
        ],
        Some(&format!("{PASSWORD}\n")),
    );
    assert!(added.status.success(), "{}", stderr(&added));
    assert!(stdout(&added).contains("Search and purge"));
    // Without --scope, as before scopes existed: the role's full power, and a warning.
    let unscoped = airdesk(&dir, &["token", "create", "carol"], None);
    assert!(unscoped.status.success(), "{}", stderr(&unscoped));
    assert!(stderr(&unscoped).contains("warning: no --scope given"));
    let created = airdesk(
        &dir,
        &[
            "token",
            "create",
            "carol",
            "--scope",
            "ingest",
            "--label",
            "gateway\tA",
            "--expires",
            "30d",
        ],
        None,
    );
    assert!(created.status.success(), "{}", stderr(&created));
    let token = stdout(&created).trim().to_string();
    assert!(token.starts_with("adk_") && token.len() > 40);
    let id = stderr(&created)
        .split_whitespace()
        .nth(1)
        .expect("the token's id on stderr")
        .to_string();

    // The token is stored hashed, never as given.
    let settings = crate::helpers::settings_in(&dir);
    let app = server::startup::Application::build(&settings)
        .await
        .unwrap();
    let stored: String = airdesk_core::db::query("SELECT token_sha256 FROM api_tokens")
        .scalar(&app.state().db)
        .await
        .unwrap();
    assert_ne!(stored, token);
    let address = format!("http://{}", app.local_addr());
    tokio::spawn(app.run_until(std::future::pending()));
    let client = reqwest::Client::new();
    let ingest = |token: String| {
        client
            .post(format!("{address}/api/v1/investigations"))
            .bearer_auth(token)
            .json(&api_md_example())
            .send()
    };
    assert_eq!(ingest(token.clone()).await.unwrap().status(), 201);
    let read = client
        .get(format!("{address}/api/v1/actions"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(read.status(), 403, "an ingest token does not read");

    let listed = stdout(&airdesk(&dir, &["token", "list"], None));
    let row = listed
        .lines()
        .find(|line| line.starts_with(&id))
        .unwrap_or_else(|| panic!("{listed}"));
    let columns: Vec<&str> = row.split('\t').collect();
    assert_eq!(
        columns.len(),
        8,
        "a tab in the label stays inside its column: {row}"
    );
    assert_eq!(columns[1..4], ["carol", "gateway A", "ingest"]);
    assert!(
        columns[5] > columns[4],
        "expires after it was created: {row}"
    );
    assert_eq!(columns[7], "active");
    assert!(
        listed.contains("\tread,ingest,decide,admin\t"),
        "the unscoped token holds every scope: {listed}"
    );

    let revoked = airdesk(&dir, &["token", "revoke", &id], None);
    assert!(revoked.status.success(), "{}", stderr(&revoked));
    assert_eq!(ingest(token.clone()).await.unwrap().status(), 401);
    let again = airdesk(&dir, &["token", "revoke", &id], None);
    assert!(!again.status.success());
    assert!(
        stderr(&again).contains("already revoked"),
        "{}",
        stderr(&again)
    );
    let listed = stdout(&airdesk(&dir, &["token", "list"], None));
    assert!(
        listed
            .lines()
            .any(|l| l.starts_with(&id) && l.ends_with("\trevoked")),
        "{listed}"
    );
}

// Multi-threaded for the same reason as the tokens' test.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_role_change_or_a_disabled_user_on_the_command_line_holds_at_the_next_request() {
    let dir = tempfile::tempdir().unwrap();
    for (name, role) in [("root", "admin"), ("carol", "search-and-purge")] {
        let added = airdesk(
            &dir,
            &["user", "add", name, "--role", role, "--password-stdin"],
            Some(&format!("{PASSWORD}\n")),
        );
        assert!(added.status.success(), "{}", stderr(&added));
    }
    let created = airdesk(
        &dir,
        &["token", "create", "carol", "--scope", "admin"],
        None,
    );
    assert!(created.status.success(), "{}", stderr(&created));
    let token = stdout(&created).trim().to_string();
    let settings = crate::helpers::settings_in(&dir);
    let app = server::startup::Application::build(&settings)
        .await
        .unwrap();
    let db = app.state().db.clone();
    let address = format!("http://{}", app.local_addr());
    tokio::spawn(app.run_until(std::future::pending()));
    let session = reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .unwrap();
    let sign_in = || {
        session
            .post(format!("{address}/rpc/login"))
            .header("Origin", &address)
            .form(&[("username", "carol"), ("password", PASSWORD)])
            .send()
    };
    sign_in().await.unwrap();
    // What carol's open session and her token may do now: (hunt, read) by session, read by
    // token.
    let can = || async {
        let rpc = |name: &'static str, body: serde_json::Value| {
            session
                .post(format!("{address}/rpc/{name}"))
                .header("Origin", &address)
                .json(&body)
                .send()
        };
        let hunt = rpc(
            "start_investigation",
            serde_json::json!({"by": "sender", "value": "nobody@nowhere.test"}),
        );
        let read = rpc("list_incidents", serde_json::json!({"query": {}}));
        let by_token = reqwest::Client::new()
            .get(format!("{address}/api/v1/actions"))
            .bearer_auth(&token)
            .send();
        (
            hunt.await.unwrap().status().as_u16(),
            read.await.unwrap().status().as_u16(),
            by_token.await.unwrap().status().as_u16(),
        )
    };
    assert_eq!(can().await, (200, 200, 200));

    let demoted = airdesk(&dir, &["user", "role", "carol", "reader"], None);
    assert!(demoted.status.success(), "{}", stderr(&demoted));
    assert!(stdout(&demoted).contains("Reader"), "{}", stdout(&demoted));
    assert_eq!(
        can().await,
        (403, 200, 200),
        "a Reader now, in the same session"
    );

    let disabled = airdesk(&dir, &["user", "disable", "carol"], None);
    assert!(disabled.status.success(), "{}", stderr(&disabled));
    assert_eq!(can().await, (401, 401, 401), "refused at the next request");
    sign_in().await.unwrap();
    assert_eq!(can().await, (401, 401, 401), "and cannot sign in again");

    // Refusals, each one clear line and nothing changed.
    for (args, words) in [
        (&["user", "disable", "carol"][..], "already disabled"),
        (
            &["user", "role", "carol", "reader"][..],
            "already has the role",
        ),
        (&["user", "disable", "root"][..], "last enabled admin"),
        (
            &["user", "role", "root", "reader"][..],
            "last enabled admin",
        ),
        (&["user", "disable", "nobody"][..], "\"nobody\""),
    ] {
        let refused = airdesk(&dir, args, None);
        assert!(!refused.status.success(), "{args:?}");
        assert!(
            stderr(&refused).contains(words),
            "{args:?}: {}",
            stderr(&refused)
        );
        assert_eq!(
            stderr(&refused).trim().lines().count(),
            1,
            "{}",
            stderr(&refused)
        );
    }
    let listed = stdout(&airdesk(&dir, &["user", "list"], None));
    let rows: Vec<Vec<&str>> = listed
        .lines()
        .skip(1)
        .map(|l| l.split('\t').collect())
        .collect();
    assert_eq!(rows.len(), 2, "{listed}");
    assert_eq!(rows[0][..3], ["carol", "Reader", "disabled"]);
    assert_eq!(rows[1][..3], ["root", "Admin", "enabled"]);
    assert_eq!(
        rows[1][4], "password",
        "a local user signs in with a password"
    );

    let enabled = airdesk(&dir, &["user", "enable", "carol"], None);
    assert!(enabled.status.success(), "{}", stderr(&enabled));
    sign_in().await.unwrap();
    assert_eq!(
        can().await,
        (403, 200, 200),
        "back, as a Reader, token and all"
    );
    let audited: i64 = airdesk_core::db::query(
        "SELECT COUNT(*) FROM audit_events WHERE event IN ('user_role_changed', 'user_disabled', 'user_enabled')",
    )
    .scalar(&db)
    .await
    .unwrap();
    assert_eq!(audited, 3);
}

#[test]
fn a_duplicate_user_or_short_password_or_bad_role_is_one_clear_line() {
    let dir = tempfile::tempdir().unwrap();
    let ok = airdesk(
        &dir,
        &[
            "user",
            "add",
            "dave",
            "--role",
            "reader",
            "--password-stdin",
        ],
        Some(PASSWORD),
    );
    assert!(ok.status.success());
    for (args, input, expected) in [
        (
            vec![
                "user",
                "add",
                "dave",
                "--role",
                "reader",
                "--password-stdin",
            ],
            PASSWORD,
            "already exists",
        ),
        (
            vec![
                "user",
                "add",
                "erin",
                "--role",
                "reader",
                "--password-stdin",
            ],
            "short",
            "at least 12",
        ),
        (
            vec!["user", "add", "erin", "--role", "owner", "--password-stdin"],
            PASSWORD,
            "invalid value 'owner'",
        ),
        (
            vec!["user", "add", "erin", "--role", "reader"],
            PASSWORD,
            "--password-stdin",
        ),
        (
            vec!["token", "create", "nobody", "--scope", "read"],
            "",
            "not found",
        ),
    ] {
        let output = airdesk(&dir, &args, Some(input));
        assert!(!output.status.success(), "{args:?}");
        let err = stderr(&output);
        assert_eq!(err.trim().lines().count(), 1, "{args:?}: {err}");
        assert!(
            err.starts_with("airdesk: ") && err.contains(expected),
            "{args:?}: {err}"
        );
    }
}

#[test]
fn bad_flags_exit_two_with_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let output = airdesk(&dir, &["serve", "--listen", "not-an-address"], None);
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(
        stderr(&output).trim().lines().count(),
        1,
        "{}",
        stderr(&output)
    );
    let output = airdesk(&dir, &["frobnicate"], None);
    assert_eq!(output.status.code(), Some(2));
}

#[test]
fn an_unreachable_database_is_one_clear_line() {
    let dir = tempfile::tempdir().unwrap();
    let output = airdesk(
        &dir,
        &[
            "--database-url",
            "sqlite:///no/such/folder/airdesk.db",
            "migrate",
        ],
        None,
    );
    assert_eq!(output.status.code(), Some(1));
    let err = stderr(&output);
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(err.contains("cannot open database"), "{err}");
}

#[test]
fn an_unwritable_mail_root_is_one_clear_line() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("a-file");
    std::fs::write(&file, b"").unwrap();
    let root = file.join("mail");
    let output = airdesk(
        &dir,
        &[
            "--mail-root",
            root.to_str().unwrap(),
            "serve",
            "--listen",
            "127.0.0.1:0",
        ],
        None,
    );
    assert_eq!(output.status.code(), Some(1));
    let err = stderr(&output);
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(err.contains("mail root"), "{err}");
}

#[test]
fn demo_seed_prints_logins_writes_maildir_messages_and_refuses_a_second_time() {
    let dir = tempfile::tempdir().unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_airdesk"))
        .args(["demo", "seed"])
        .env(
            "AIRDESK_DATABASE_URL",
            crate::helpers::database_url(dir.path()),
        )
        .env("AIRDESK_MAIL_ROOT", dir.path().join("mail"))
        .env("AIRDESK_DEMO_PASSWORD", "demo-password-123")
        .env("AIRDESK_LOG", "warn")
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    let out = stdout(&output);
    for user in ["admin", "analyst", "reader"] {
        assert!(out.contains(user), "{out}");
    }
    assert!(out.contains("demo-password-123"));
    let alice_inbox = dir.path().join("mail/alice@example.test/cur");
    let messages: Vec<_> = std::fs::read_dir(&alice_inbox).unwrap().collect();
    assert!(!messages.is_empty());
    let text = std::fs::read_to_string(messages[0].as_ref().unwrap().path()).unwrap();
    assert!(text.contains("Message-ID: <invoice-20261120@evil.test>"));
    assert!(dir.path().join("mail/bob@example.test/.Junk/cur").is_dir());

    let again = airdesk(&dir, &["demo", "seed"], None);
    assert!(!again.status.success());
    assert!(stderr(&again).contains("already has users"));
}

#[test]
fn audit_verify_reports_an_intact_chain() {
    let dir = tempfile::tempdir().unwrap();
    airdesk(
        &dir,
        &["user", "add", "amy", "--role", "admin", "--password-stdin"],
        Some(PASSWORD),
    );
    let output = airdesk(&dir, &["audit", "verify"], None);
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(stdout(&output).contains("intact"));
}

#[test]
fn serve_stops_cleanly_on_sigterm() {
    use std::io::BufRead;
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_airdesk"))
        .args(["serve", "--listen", "127.0.0.1:0"])
        .env(
            "AIRDESK_DATABASE_URL",
            crate::helpers::database_url(dir.path()),
        )
        .env("AIRDESK_MAIL_ROOT", dir.path().join("mail"))
        .env("AIRDESK_LOG", "warn")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert!(
        line.starts_with("airdesk listening on http://127.0.0.1:"),
        "{line}"
    );

    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let started = std::time::Instant::now();
    let status = child.wait().unwrap();
    assert!(status.success(), "exit status {status:?}");
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
}

#[test]
fn demo_seed_delivers_each_message_once_per_mailbox() {
    let dir = tempfile::tempdir().unwrap();
    let output = airdesk(&dir, &["demo", "seed"], None);
    assert!(output.status.success(), "{}", stderr(&output));
    // alice got the invoice (investigated twice) and nothing else.
    let inbox = dir.path().join("mail/alice@example.test/cur");
    assert_eq!(std::fs::read_dir(inbox).unwrap().count(), 1);
    let dave = dir.path().join("mail/dave@example.test/cur");
    assert_eq!(
        std::fs::read_dir(dave).unwrap().count(),
        2,
        "payroll and quota"
    );
}
