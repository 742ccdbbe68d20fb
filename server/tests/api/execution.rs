//! Approved actions carried out on real Maildir files by the server's own workers.

use std::path::{Path, PathBuf};

use model::Role;
use serde_json::{json, Value};

use crate::helpers::{spawn_app, spawn_app_with, TestApp};

/// Every message file under a folder's `cur/` and `new/`.
fn files_in(folder: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for sub in ["cur", "new"] {
        if let Ok(entries) = std::fs::read_dir(folder.join(sub)) {
            files.extend(entries.map(|e| e.unwrap().path()));
        }
    }
    files.sort();
    files
}

/// Compiles a Sieve script with Dovecot's `sievec`: the test's proof that it is valid.
pub fn assert_valid_sieve(path: &Path) {
    let out = tempfile::tempdir().unwrap();
    let compiled = std::process::Command::new("sievec")
        .arg(path)
        .arg(out.path().join("script.svbin"))
        .output()
        .expect("sievec (dovecot-sieve) is installed");
    assert!(
        compiled.status.success(),
        "sievec refused {}: {}{}",
        path.display(),
        String::from_utf8_lossy(&compiled.stdout),
        String::from_utf8_lossy(&compiled.stderr)
    );
}

/// One cluster of these (mailbox, message id) pairs, as a fresh investigation.
async fn ingest_cluster(app: &TestApp, token: &str, messages: &[(&str, &str)]) -> String {
    let messages: Vec<Value> = messages
        .iter()
        .map(|(mailbox, id)| {
            json!({"mailbox": mailbox, "internet_message_id": id, "sender": "billing@evil.test",
                   "subject": "Invoice overdue", "received_at": "2026-11-20T09:00:00Z"})
        })
        .collect();
    let mut body = crate::helpers::api_md_example();
    body["clusters"][0]["messages"] = json!(messages);
    body["forwarding"] = json!([]);
    let created: Value = app.ingest(token, &body).await.json().await.unwrap();
    created["actions"][0]["id"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn an_approved_soft_delete_moves_the_files_and_a_change_brings_them_back() {
    let app = spawn_app().await;
    let token = app.token("analyst", Role::SearchAndPurge).await;
    let alice = app.deliver("alice@example.test", "<c1-1@evil.test>", "INBOX");
    let bob = app.deliver("bob@example.test", "<c1-1@evil.test>", "INBOX");
    let id = ingest_cluster(
        &app,
        &token,
        &[
            ("alice@example.test", "<c1-1@evil.test>"),
            ("bob@example.test", "<c1-1@evil.test>"),
        ],
    )
    .await;

    app.decide(&token, &id, "approve", None).await;
    let action = app.settled(&token, &id).await;

    assert_eq!(action["status"], "completed");
    assert_eq!(action["results"].as_array().unwrap().len(), 2);
    assert!(action["results"]
        .as_array()
        .unwrap()
        .iter()
        .all(|r| r["result"] == "success" && r["location"] == "recoverable_items"));
    let root = app.mail_root();
    for (mailbox, original) in [("alice@example.test", &alice), ("bob@example.test", &bob)] {
        assert!(!original.exists(), "the inbox copy is gone");
        let moved = files_in(&root.join(mailbox).join(".Recoverable Items"));
        assert_eq!(moved.len(), 1);
        assert_eq!(
            moved[0].file_name(),
            original.file_name(),
            "same name, flags (:2,S) kept"
        );
    }
    let investigation = app
        .investigation(&token, action["investigation_id"].as_str().unwrap())
        .await;
    assert_eq!(investigation["status"], "remediated");
    assert_eq!(
        investigation["clusters"][0]["messages"][0]["location"], "recoverable_items",
        "the investigation shows where each message is now"
    );
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(*) FROM audit_events WHERE entity_id = '{id}' AND event IN ('action_started', 'action_completed')"
        ))
        .await,
        2
    );

    let undo: Value = app
        .change(&token, &id, "move_to_inbox")
        .await
        .json()
        .await
        .unwrap();
    let undone = app.settled(&token, undo["id"].as_str().unwrap()).await;

    assert_eq!(undone["status"], "completed");
    assert!(
        alice.exists() && bob.exists(),
        "back in the inbox under the same names"
    );
    assert!(files_in(&root.join("alice@example.test/.Recoverable Items")).is_empty());
}

#[tokio::test]
async fn messages_already_moved_or_gone_are_reported_as_such() {
    let app = spawn_app().await;
    let token = app.token("analyst", Role::SearchAndPurge).await;
    app.deliver("alice@example.test", "<here@evil.test>", "INBOX");
    app.deliver(
        "alice@example.test",
        "<done@evil.test>",
        "Recoverable Items",
    );
    app.deliver("alice@example.test", "<junked@evil.test>", "Junk");
    let id = ingest_cluster(
        &app,
        &token,
        &[
            ("alice@example.test", "<here@evil.test>"),
            ("alice@example.test", "<done@evil.test>"),
            ("alice@example.test", "<junked@evil.test>"),
            ("alice@example.test", "<gone@evil.test>"),
        ],
    )
    .await;

    app.decide(&token, &id, "approve", None).await;
    let action = app.settled(&token, &id).await;

    let result_of = |message: &str| {
        action["results"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["internet_message_id"] == message)
            .unwrap_or_else(|| panic!("a result for {message}"))["result"]
            .clone()
    };
    assert_eq!(result_of("<here@evil.test>"), "success");
    assert_eq!(result_of("<junked@evil.test>"), "success");
    assert_eq!(result_of("<done@evil.test>"), "already_in_destination");
    assert_eq!(result_of("<gone@evil.test>"), "not_found");
    // A copy nobody can find is not a success: nothing proves it gone.
    assert_eq!(action["status"], "partially_completed");
    assert_eq!(
        action["details"],
        "2 succeeded, 1 already in destination, 1 not found"
    );
    let gone = action["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["internet_message_id"] == "<gone@evil.test>")
        .unwrap();
    assert!(
        gone["detail"]
            .as_str()
            .unwrap()
            .contains("the index holds no copy of <gone@evil.test> in alice@example.test with the sender and subject named"),
        "{gone}"
    );
    let investigation = app
        .investigation(&token, action["investigation_id"].as_str().unwrap())
        .await;
    assert_eq!(investigation["status"], "partially_remediated");
    let log = investigation["log"].as_array().unwrap();
    assert!(
        log.iter()
            .any(|l| l["detail"].as_str().unwrap().contains(
                "partially completed: 2 succeeded, 1 already in destination, 1 not found"
            )),
        "{log:?}"
    );
    assert_eq!(
        files_in(
            &app.mail_root()
                .join("alice@example.test/.Recoverable Items")
        )
        .len(),
        3
    );
}

#[tokio::test]
async fn hard_delete_removes_the_files_for_good() {
    let app = spawn_app().await;
    let token = app.token("analyst", Role::SearchAndPurge).await;
    let file = app.deliver("alice@example.test", "<c1-1@evil.test>", "INBOX");
    let id = ingest_cluster(&app, &token, &[("alice@example.test", "<c1-1@evil.test>")]).await;
    app.decide(&token, &id, "approve", None).await;
    app.settled(&token, &id).await;

    let hard: Value = app
        .change(&token, &id, "hard_delete")
        .await
        .json()
        .await
        .unwrap();
    let done = app.settled(&token, hard["id"].as_str().unwrap()).await;

    assert_eq!(done["status"], "completed");
    assert_eq!(done["results"][0]["location"], "purged");
    assert!(!file.exists());
    let mailbox = app.mail_root().join("alice@example.test");
    assert!(files_in(&mailbox).is_empty());
    assert!(files_in(&mailbox.join(".Recoverable Items")).is_empty());
}

#[tokio::test]
async fn turning_off_forwarding_keeps_the_other_rules_and_the_original() {
    let app = spawn_app().await;
    app.deliver_example();
    let bob = app.mail_root().join("bob@example.test");
    std::fs::write(
        bob.join("sieve/rules.sieve"),
        r#"require ["fileinto", "copy"];
# Forward the boss's mail, keep a copy.
if address :is "from" "boss@example.test" {
    redirect :copy "bob@elsewhere.test";
    fileinto "Junk";
} elsif header :contains "subject" ["[team]", "redirect"] {
    redirect "team@example.test";
}
redirect "bob.private@elsewhere.test";
"#,
    )
    .unwrap();
    let original = std::fs::read_to_string(bob.join("sieve/rules.sieve")).unwrap();
    let token = app.token("analyst", Role::SearchAndPurge).await;
    let created: Value = app
        .ingest(&token, &crate::helpers::api_md_example())
        .await
        .json()
        .await
        .unwrap();
    let forwarding = created["actions"][1]["id"].as_str().unwrap();

    app.decide(&token, forwarding, "approve", None).await;
    let action = app.settled(&token, forwarding).await;

    assert_eq!(action["status"], "completed", "{action}");
    let detail = action["results"][0]["detail"].as_str().unwrap();
    assert!(
        detail.contains("turned off bob@elsewhere.test (redirect in the Sieve script \"rules\"), bob.private@elsewhere.test (redirect in the Sieve script \"rules\")"),
        "{detail}"
    );
    let active = std::fs::read_link(bob.join(".dovecot.sieve")).unwrap();
    assert_eq!(active, Path::new("sieve/airdesk-no-forwarding.sieve"));
    let script = std::fs::read_to_string(bob.join(".dovecot.sieve")).unwrap();
    assert!(
        script.contains("redirect \"team@example.test\";"),
        "internal kept"
    );
    assert!(script.contains("fileinto \"Junk\";"), "other rules kept");
    assert!(!script.contains("redirect :copy"));
    assert!(!script.contains("redirect \"bob.private"));
    assert_valid_sieve(&bob.join(".dovecot.sieve"));
    assert_eq!(
        std::fs::read_to_string(bob.join("sieve/rules.sieve")).unwrap(),
        original,
        "the original is kept untouched for undo"
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM forwarding_changes WHERE original_script = 'rules'")
            .await,
        1
    );

    // Undo: the original script is active again, byte for byte.
    let wrong = app.change(&token, forwarding, "move_to_inbox").await;
    assert_eq!(wrong.status(), 409);
    let undo: Value = app
        .change(&token, forwarding, "restore_forwarding")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(undo["type"], "restore_forwarding");
    let restored = app.settled(&token, undo["id"].as_str().unwrap()).await;

    assert_eq!(restored["status"], "completed", "{restored}");
    assert_eq!(
        std::fs::read_link(bob.join(".dovecot.sieve")).unwrap(),
        Path::new("sieve/rules.sieve")
    );
    assert_eq!(
        std::fs::read_to_string(bob.join(".dovecot.sieve")).unwrap(),
        original
    );
    let email = created["actions"][0]["id"].as_str().unwrap();
    app.decide(&token, email, "approve", None).await;
    app.settled(&token, email).await;
    assert_eq!(
        app.change(&token, email, "restore_forwarding")
            .await
            .status(),
        409,
        "restore_forwarding undoes forwarding only"
    );
}

#[tokio::test]
async fn an_unreachable_store_is_retried_then_the_action_fails_with_the_reason() {
    let app = spawn_app_with(|s| s.execution.attempts = 3).await;
    let token = app.token("analyst", Role::SearchAndPurge).await;
    app.deliver("alice@example.test", "<c1-1@evil.test>", "INBOX");
    // A mailbox the store cannot read: its folder is a file (as root, permissions would not do).
    let mailbox = app.mail_root().join("alice@example.test");
    let aside = app.mail_root().join("alice-aside");
    std::fs::rename(&mailbox, &aside).unwrap();
    std::fs::write(&mailbox, b"not a folder").unwrap();
    let id = ingest_cluster(&app, &token, &[("alice@example.test", "<c1-1@evil.test>")]).await;

    app.decide(&token, &id, "approve", None).await;
    let action = app.settled(&token, &id).await;

    assert_eq!(action["status"], "failed");
    let details = action["details"].as_str().unwrap();
    assert!(
        details.starts_with("Failed after 3 tries: mail store unavailable"),
        "{details}"
    );
    assert_eq!(
        app.count(&format!(
            "SELECT attempts FROM jobs WHERE action_id = '{id}'"
        ))
        .await,
        3
    );
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(*) FROM action_results WHERE action_id = '{id}'"
        ))
        .await,
        0,
        "nothing was recorded as done"
    );

    // The store is back: the next job succeeds, and the message was never touched.
    std::fs::remove_file(&mailbox).unwrap();
    std::fs::rename(&aside, &mailbox).unwrap();
    let next = ingest_cluster(&app, &token, &[("alice@example.test", "<c1-1@evil.test>")]).await;
    app.decide(&token, &next, "approve", None).await;
    assert_eq!(app.settled(&token, &next).await["status"], "completed");
    assert_eq!(files_in(&mailbox.join(".Recoverable Items")).len(), 1);
}

pub use crate::helpers::Process;

/// The binary as a process on the test's database and mail root, these global flags first.
pub fn start(dir: &Path, extra: &[&str]) -> Process {
    crate::helpers::serve_process(dir, extra, "warn", std::process::Stdio::inherit())
}

#[tokio::test]
async fn a_job_killed_mid_cluster_resumes_and_handles_every_message_exactly_once() {
    const MAILBOXES: usize = 100;
    const PER_MAILBOX: usize = 100;
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("mail");
    let mut messages = Vec::new();
    for m in 0..MAILBOXES {
        let mailbox = format!("user{m:03}@example.test");
        for n in 0..PER_MAILBOX {
            let id = format!("<campaign-{n}@evil.test>");
            crate::helpers::deliver(&root, &mailbox, &id, "INBOX");
            messages.push(json!({"mailbox": mailbox, "internet_message_id": id,
                "sender": "billing@evil.test", "subject": "Invoice overdue",
                "received_at": "2026-11-20T09:00:00Z"}));
        }
    }
    let (db, token) = crate::helpers::prepared_database(dir.path()).await;
    let client = reqwest::Client::new();

    let mut first = start(dir.path(), &[]);
    let mut body = crate::helpers::api_md_example();
    body["clusters"][0]["messages"] = json!(messages);
    body["forwarding"] = json!([]);
    let created: Value = client
        .post(format!("{}/api/v1/investigations", first.base))
        .bearer_auth(&token)
        .json(&body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = created["actions"][0]["id"].as_str().unwrap().to_string();
    crate::helpers::approve_at(&client, &first.base, &token, &id).await;
    let results = |db: airdesk_core::db::Db, id: String| async move {
        airdesk_core::db::query("SELECT COUNT(*) FROM action_results WHERE action_id = $1")
            .bind(id)
            .scalar::<i64>(&db)
            .await
            .unwrap()
    };
    while results(db.clone(), id.clone()).await < 500 {
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    first.child.kill().unwrap(); // SIGKILL
    first.child.wait().unwrap();
    let at_kill = results(db.clone(), id.clone()).await;
    eprintln!("killed with {at_kill} of 10000 results recorded");
    assert!(
        at_kill < 10_000,
        "the job must still be running when the server is killed ({at_kill} done)"
    );

    let mut second = start(dir.path(), &[]);
    let action = crate::helpers::settled(&client, &second.base, &token, &id).await;
    assert_eq!(action["status"], "completed", "{action}");
    second.child.kill().unwrap();
    second.child.wait().unwrap();

    assert_eq!(
        action["results"].as_array().unwrap().len(),
        1_000,
        "the first thousand shown"
    );
    assert_eq!(results(db.clone(), id.clone()).await, 10_000);
    let distinct: i64 = airdesk_core::db::query(
        "SELECT COUNT(*) FROM (SELECT DISTINCT member FROM action_results WHERE action_id = $1) AS d",
    )
    .bind(&id)
    .scalar(&db)
    .await
    .unwrap();
    assert_eq!(distinct, 10_000, "one result per message");
    let redone: i64 = airdesk_core::db::query(
        "SELECT COUNT(*) FROM action_results WHERE action_id = $1 AND result <> 'success'",
    )
    .bind(&id)
    .scalar(&db)
    .await
    .unwrap();
    // Each claim after the first — the kill's, and any the 2 s lease lost under a loaded
    // machine — may find the batches in flight then (4 mailboxes of 50) moved but unrecorded.
    let attempts: i64 = airdesk_core::db::query("SELECT attempts FROM jobs WHERE action_id = $1")
        .bind(&id)
        .scalar(&db)
        .await
        .unwrap();
    let not_success: Vec<String> = airdesk_core::db::query(
        "SELECT DISTINCT result FROM action_results WHERE action_id = $1 AND result <> 'success'",
    )
    .bind(&id)
    .scalars(&db)
    .await
    .unwrap();
    assert!(
        not_success.iter().all(|r| r == "already_in_destination"),
        "{not_success:?}"
    );
    assert!(
        redone <= 4 * 50 * (attempts - 1).max(1),
        "only batches in flight at a takeover are found already moved: {redone} after {attempts} claims"
    );
    let (mut inbox, mut recoverable) = (0, 0);
    for m in 0..MAILBOXES {
        let mailbox = root.join(format!("user{m:03}@example.test"));
        inbox += files_in(&mailbox).len();
        recoverable += files_in(&mailbox.join(".Recoverable Items")).len();
    }
    assert_eq!(
        (inbox, recoverable),
        (0, 10_000),
        "every message moved once, none lost"
    );
    let completions: i64 = airdesk_core::db::query(
        "SELECT COUNT(*) FROM audit_events WHERE entity_id = $1 AND event = 'action_completed'",
    )
    .bind(&id)
    .scalar(&db)
    .await
    .unwrap();
    assert_eq!(completions, 1);
}

#[tokio::test]
async fn approving_every_demo_action_moves_the_demo_mail_and_turns_its_forwarding_off() {
    let dir = tempfile::tempdir().unwrap();
    let settings = crate::helpers::settings_in(&dir);
    let application = server::startup::Application::build(&settings)
        .await
        .unwrap();
    server::demo::seed_if_empty(
        application.state(),
        settings.mail_root().unwrap(),
        Some("demo-password-1".into()),
    )
    .await
    .unwrap()
    .expect("seeded");
    let base = format!("http://{}", application.local_addr());
    let db = application.state().db.clone();
    tokio::spawn(application.run_until(std::future::pending()));
    let token = airdesk_core::tokens::create(
        &db,
        &crate::helpers::tester(),
        "analyst",
        &airdesk_core::tokens::Grant::full("test"),
    )
    .await
    .unwrap()
    .secret;
    let client = reqwest::Client::new();
    let pending: Value = client
        .get(format!("{base}/api/v1/actions?status=pending&limit=100"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();

    let mut approved = Vec::new();
    for action in pending["items"].as_array().unwrap() {
        let id = action["id"].as_str().unwrap();
        let decided = crate::helpers::approve_at(&client, &base, &token, id).await;
        if decided["status"] == "approved" {
            approved.push(id.to_string());
        }
    }
    assert!(approved.len() >= 4, "{approved:?}");
    for id in &approved {
        let action = crate::helpers::settled(&client, &base, &token, id).await;
        assert_eq!(action["status"], "completed", "{action}");
    }

    let alice = settings.mail_root().unwrap().join("alice@example.test");
    assert!(
        files_in(&alice).is_empty(),
        "the invoice left alice's inbox"
    );
    assert_eq!(files_in(&alice.join(".Recoverable Items")).len(), 1);
    for mailbox in ["bob@example.test", "erin@example.test"] {
        let home = settings.mail_root().unwrap().join(mailbox);
        assert_eq!(
            std::fs::read_link(home.join(".dovecot.sieve")).unwrap(),
            Path::new("sieve/airdesk-no-forwarding.sieve")
        );
        assert_valid_sieve(&home.join(".dovecot.sieve"));
        assert_valid_sieve(&home.join("sieve/roundcube.sieve"));
    }
}

/// Idle workers poll for jobs; an approval on this instance wakes them at once. With a poll of
/// an hour, only that wake can carry out the action within the test's time.
#[tokio::test]
async fn an_approval_starts_execution_at_once_not_at_the_next_poll() {
    let app = spawn_app_with(|s| s.execution.poll = std::time::Duration::from_secs(3600)).await;
    let token = app.token("analyst", Role::SearchAndPurge).await;
    let alice = app.deliver("alice@example.test", "<c1-1@evil.test>", "INBOX");
    let id = ingest_cluster(&app, &token, &[("alice@example.test", "<c1-1@evil.test>")]).await;
    // The workers have looked once at start-up and found nothing: they are asleep now.
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;

    app.decide(&token, &id, "approve", None).await;
    let action = tokio::time::timeout(std::time::Duration::from_secs(20), app.settled(&token, &id))
        .await
        .expect("executed well before the next poll");

    assert_eq!(action["status"], "completed");
    assert!(!alice.exists(), "the inbox copy is gone");
}
