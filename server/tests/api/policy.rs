//! The approval policy over the API: automation levels, rules, four eyes, separation of
//! duties, reloading — each checked in the responses, the database, the mail and the audit
//! trail.

use std::path::PathBuf;
use std::time::Duration;

use model::Role;
use serde_json::{json, Value};

use crate::helpers::{api_md_example, assert_problem, spawn_app_with, TestApp};

/// Starts the application on this policy text (None: no file, the built-in defaults).
async fn app_with_policy(policy: Option<&str>) -> TestApp {
    let text = policy.map(str::to_owned);
    spawn_app_with(move |settings| {
        let dir = settings.mail_root().unwrap().parent().unwrap().to_owned();
        settings.policy = text.map(|text| {
            let path = dir.join("policy.toml");
            std::fs::write(&path, text).unwrap();
            path
        });
    })
    .await
}

/// The example investigation without its forwarding: one Soft delete email cluster of one
/// copy in alice's inbox. Returns the action.
async fn ingest_cluster(app: &TestApp, token: &str) -> Value {
    let mut body = api_md_example();
    body["forwarding"] = json!([]);
    let response = app.ingest(token, &body).await;
    assert_eq!(response.status(), 201);
    let created: Value = response.json().await.unwrap();
    created["actions"][0].clone()
}

async fn action_json(app: &TestApp, token: &str, id: &str) -> Value {
    app.get(&format!("/api/v1/actions/{id}"), token)
        .await
        .json()
        .await
        .unwrap()
}

async fn audit(app: &TestApp, token: &str) -> Vec<Value> {
    let page: Value = app
        .get("/api/v1/audit?limit=500", token)
        .await
        .json()
        .await
        .unwrap();
    page["items"].as_array().unwrap().clone()
}

#[tokio::test]
async fn without_a_file_whoever_ingested_an_action_over_the_api_cannot_approve_it() {
    let app = app_with_policy(None).await;
    let siem = app.token("siem", Role::SearchAndPurge).await;
    let analyst = app.token("analyst", Role::SearchAndPurge).await;
    let action = ingest_cluster(&app, &siem).await;
    let id = action["id"].as_str().unwrap();
    assert_eq!(action["source"], "api");
    assert_eq!(action["proposed_by"], "siem");

    let refused = assert_problem(app.decide(&siem, id, "approve", None).await, 403).await;
    assert!(
        refused["detail"]
            .as_str()
            .unwrap()
            .contains("separation of duties"),
        "{refused}"
    );
    let still: Value = action_json(&app, &siem, id).await;
    assert_eq!(still["status"], "pending");

    let approved: Value = app
        .decide(&analyst, id, "approve", None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(approved["status"], "approved");
    assert_eq!(approved["decided_by"], "analyst");
    // Rejecting what one ingested is not approving it: allowed.
    let other = ingest_cluster(&app, &siem).await;
    let rejected = app
        .decide(&siem, other["id"].as_str().unwrap(), "reject", None)
        .await;
    assert_eq!(rejected.status(), 200);
}

const FOUR_EYES: &str = r#"
[[rules]]
name = "two-for-everything"
when = 'true'
then = "require_two_approvals"
"#;

#[tokio::test]
async fn four_eyes_keeps_the_first_approval_pending_refuses_the_same_person_and_runs_on_the_second()
{
    let app = app_with_policy(Some(FOUR_EYES)).await;
    app.deliver_example();
    let siem = app.token("siem", Role::SearchAndPurge).await;
    let alice = app.token("alice-analyst", Role::SearchAndPurge).await;
    let bob = app.token("bob-analyst", Role::SearchAndPurge).await;
    let action = ingest_cluster(&app, &siem).await;
    let id = action["id"].as_str().unwrap();
    assert_eq!(action["approvals_required"], 2);
    assert_eq!(action["policy_rule"], "two-for-everything");

    let first: Value = app
        .decide(&alice, id, "approve", Some(json!({"comment": "looks bad"})))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(first["status"], "pending", "{first}");
    assert_eq!(first["approvals"][0]["by"], "alice-analyst");
    assert_eq!(first["approvals"][0]["comment"], "looks bad");
    assert!(first["decided_by"].is_null());
    assert_eq!(app.count("SELECT COUNT(*) FROM jobs").await, 0);

    let again = assert_problem(app.decide(&alice, id, "approve", None).await, 409).await;
    assert!(
        again["detail"]
            .as_str()
            .unwrap()
            .contains("already approved"),
        "{again}"
    );

    let second: Value = app
        .decide(&bob, id, "approve", None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(second["status"], "approved", "{second}");
    assert_eq!(second["decided_by"], "bob-analyst");
    let by: Vec<&str> = second["approvals"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["by"].as_str().unwrap())
        .collect();
    assert_eq!(by, ["alice-analyst", "bob-analyst"]);
    let done = app.settled(&siem, id).await;
    assert_eq!(done["status"], "completed", "{done}");
    let inbox = app.mail_root().join("alice@example.test/cur");
    assert_eq!(
        std::fs::read_dir(inbox).unwrap().count(),
        0,
        "the phish left the inbox"
    );
    let events = audit(&app, &siem).await;
    assert_eq!(
        events
            .iter()
            .filter(|e| e["event"] == "action_approval_counted")
            .count(),
        1
    );
}

#[tokio::test]
async fn a_rejection_by_either_person_ends_an_action_that_needs_two() {
    let app = app_with_policy(Some(FOUR_EYES)).await;
    let siem = app.token("siem", Role::SearchAndPurge).await;
    let alice = app.token("alice-analyst", Role::SearchAndPurge).await;
    let bob = app.token("bob-analyst", Role::SearchAndPurge).await;
    let id = ingest_cluster(&app, &siem).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    app.decide(&alice, &id, "approve", None).await;
    let rejected: Value = app
        .decide(&bob, &id, "reject", None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(rejected["status"], "rejected");
    assert_problem(app.decide(&siem, &id, "approve", None).await, 409).await;
}

#[tokio::test]
async fn twenty_concurrent_second_approvals_execute_once() {
    let app = app_with_policy(Some(FOUR_EYES)).await;
    app.deliver_example();
    let siem = app.token("siem", Role::SearchAndPurge).await;
    let first = app.token("first", Role::SearchAndPurge).await;
    let id = ingest_cluster(&app, &siem).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let pending: Value = app
        .decide(&first, &id, "approve", None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(pending["status"], "pending");

    let mut tokens = Vec::new();
    for n in 0..20 {
        tokens.push(
            app.token(&format!("second-{n}"), Role::SearchAndPurge)
                .await,
        );
    }
    let tasks: Vec<_> = tokens
        .into_iter()
        .map(|token| {
            let request = app
                .client
                .post(app.url(&format!("/api/v1/actions/{id}/approve")))
                .bearer_auth(token);
            tokio::spawn(async move { request.send().await.unwrap().status().as_u16() })
        })
        .collect();
    let mut statuses = Vec::new();
    for task in tasks {
        statuses.push(task.await.unwrap());
    }
    assert_eq!(
        statuses.iter().filter(|s| **s == 200).count(),
        1,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == 409).count(),
        19,
        "{statuses:?}"
    );
    assert_eq!(app.count("SELECT COUNT(*) FROM jobs").await, 1);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM audit_events WHERE event = 'action_approved'")
            .await,
        1
    );
    assert_eq!(app.count("SELECT COUNT(*) FROM action_approvals").await, 2);
    assert_eq!(app.settled(&siem, &id).await["status"], "completed");
}

const FULL_AUTOMATION: &str = r#"
[[groups]]
name = "executives"
addresses = ["ceo@example.test"]
level = "semi"

[[groups]]
name = "everyone"
globs = ["*@example.test"]
level = "full"

[[rules]]
name = "small-malicious-clusters"
when = 'verdict == "malicious" && action_type == "soft_delete_cluster" && copies <= 10'
then = "approve"
"#;

#[tokio::test]
async fn full_automation_executes_a_matching_action_with_no_person_and_audits_it_as_the_rule() {
    let app = app_with_policy(Some(FULL_AUTOMATION)).await;
    app.deliver_example();
    let siem = app.token("siem", Role::SearchAndPurge).await;
    let action = ingest_cluster(&app, &siem).await;
    let id = action["id"].as_str().unwrap();

    let done = app.settled(&siem, id).await;
    assert_eq!(done["status"], "completed", "{done}");
    assert_eq!(done["decided_by"], "policy:small-malicious-clusters");
    let inbox = app.mail_root().join("alice@example.test/cur");
    assert_eq!(std::fs::read_dir(inbox).unwrap().count(), 0);

    let policy: Value = app.get("/api/v1/policy", &siem).await.json().await.unwrap();
    let hash = policy["hash"].as_str().unwrap();
    let events = audit(&app, &siem).await;
    let approved = events
        .iter()
        .find(|e| e["event"] == "action_approved" && e["entity_id"] == id)
        .expect("an approval event");
    assert_eq!(approved["actor"], "policy:small-malicious-clusters");
    assert!(
        approved["after"].as_str().unwrap().contains(hash),
        "{approved}"
    );
    assert!(events
        .iter()
        .any(|e| e["event"] == "policy_loaded" && e["after"].as_str().unwrap().contains(hash)));
}

#[tokio::test]
async fn an_approving_rule_waits_for_a_person_where_a_mailbox_is_in_a_semi_group() {
    let app = app_with_policy(Some(FULL_AUTOMATION)).await;
    let siem = app.token("siem", Role::SearchAndPurge).await;
    let mut body = api_md_example();
    body["forwarding"] = json!([]);
    body["clusters"][0]["messages"][0]["mailbox"] = json!("ceo@example.test");
    let created: Value = app.ingest(&siem, &body).await.json().await.unwrap();
    let id = created["actions"][0]["id"].as_str().unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let action: Value = action_json(&app, &siem, id).await;
    assert_eq!(action["status"], "pending");
    assert!(action["decided_by"].is_null());
}

#[tokio::test]
async fn a_group_automated_none_gets_no_proposal_and_the_investigation_says_so() {
    let app = app_with_policy(Some(
        "[[groups]]\nname = \"everyone\"\nglobs = [\"*\"]\nlevel = \"none\"\n",
    ))
    .await;
    let siem = app.token("siem", Role::SearchAndPurge).await;
    let response = app.ingest(&siem, &api_md_example()).await;
    assert_eq!(response.status(), 201);
    let created: Value = response.json().await.unwrap();
    assert_eq!(created["actions"], json!([]));
    assert_eq!(app.count("SELECT COUNT(*) FROM actions").await, 0);
    let investigation = app
        .investigation(&siem, created["id"].as_str().unwrap())
        .await;
    assert_eq!(investigation["status"], "partially_remediated");
    let log = investigation["log"].to_string();
    assert!(log.contains("automated none"), "{log}");
}

#[tokio::test]
async fn a_forbidden_action_is_refused_with_the_rules_reason() {
    let app = app_with_policy(Some(
        r#"[[rules]]
name = "no-forwarding-changes"
when = 'action_type == "turn_off_forwarding"'
then = "forbid"
reason = "the mail team handles forwarding"
"#,
    ))
    .await;
    let siem = app.token("siem", Role::SearchAndPurge).await;
    let analyst = app.token("analyst", Role::SearchAndPurge).await;
    let created: Value = app
        .ingest(&siem, &api_md_example())
        .await
        .json()
        .await
        .unwrap();
    let forwarding = created["actions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["type"] == "turn_off_forwarding")
        .unwrap();
    let id = forwarding["id"].as_str().unwrap();
    let refused = assert_problem(app.decide(&analyst, id, "approve", None).await, 403).await;
    let detail = refused["detail"].as_str().unwrap();
    assert!(
        detail.contains("no-forwarding-changes") && detail.contains("mail team"),
        "{detail}"
    );
    assert_eq!(app.count("SELECT COUNT(*) FROM jobs").await, 0);
}

#[tokio::test]
async fn an_invalid_policy_is_refused_at_reload_and_the_previous_one_stays_in_force() {
    let app = app_with_policy(Some(FOUR_EYES)).await;
    let siem = app.token("siem", Role::SearchAndPurge).await;
    let path = PathBuf::from(app.dir.path()).join("policy.toml");
    let before: Value = app.get("/api/v1/policy", &siem).await.json().await.unwrap();
    assert_eq!(before["rules"][0]["name"], "two-for-everything");

    std::fs::write(
        &path,
        "[[rules]]\nname = \"broken\"\nwhen = 'copies >'\nthen = \"approve\"\n",
    )
    .unwrap();
    let refused = wait_for_event(&app, &siem, "policy_refused").await;
    assert!(
        refused["after"].as_str().unwrap().contains("line 3"),
        "{refused}"
    );
    let during: Value = app.get("/api/v1/policy", &siem).await.json().await.unwrap();
    assert_eq!(during["hash"], before["hash"]);
    let id = ingest_cluster(&app, &siem).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let held: Value = action_json(&app, &siem, &id).await;
    assert_eq!(held["approvals_required"], 2, "the old policy still holds");

    std::fs::write(&path, "[defaults]\nseparation_of_duties = []\n").unwrap();
    wait_for_event(&app, &siem, "policy_reloaded").await;
    let after: Value = app.get("/api/v1/policy", &siem).await.json().await.unwrap();
    assert_ne!(after["hash"], before["hash"]);
    assert_eq!(after["rules"], json!([]));
}

async fn wait_for_event(app: &TestApp, token: &str, event: &str) -> Value {
    for _ in 0..100 {
        if let Some(found) = audit(app, token)
            .await
            .into_iter()
            .find(|e| e["event"] == event)
        {
            return found;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("no {event} event within 10 s");
}

#[tokio::test]
async fn an_instance_does_not_start_on_an_invalid_policy_file() {
    let dir = tempfile::tempdir().unwrap();
    let mut settings = crate::helpers::settings_in(&dir);
    let path = dir.path().join("bad.toml");
    std::fs::write(
        &path,
        "\n[[rules]]\nname = \"x\"\nwhen = 'nonsense_variable'\nthen = \"approve\"\n",
    )
    .unwrap();
    settings.policy = Some(path);
    let error = match server::startup::Application::build(&settings).await {
        Ok(_) => panic!("started on an invalid policy"),
        Err(error) => error.to_string(),
    };
    assert!(
        error.contains("line 3") && error.contains("nonsense_variable"),
        "{error}"
    );
}

#[tokio::test]
async fn a_pending_action_shows_what_it_would_touch_now_and_which_rule_applies() {
    let app = app_with_policy(Some(FOUR_EYES)).await;
    let siem = app.token("siem", Role::SearchAndPurge).await;
    let mut body = api_md_example();
    body["forwarding"] = json!([]);
    let second = body["clusters"][0]["messages"][0].clone();
    let mut second = second.as_object().unwrap().clone();
    second.insert("mailbox".into(), json!("carol@example.test"));
    body["clusters"][0]["messages"]
        .as_array_mut()
        .unwrap()
        .push(Value::Object(second));
    let created: Value = app.ingest(&siem, &body).await.json().await.unwrap();
    let id = created["actions"][0]["id"].as_str().unwrap();

    let action: Value = action_json(&app, &siem, id).await;
    let impact = &action["impact"];
    assert_eq!(impact["copies"], 2, "{action}");
    assert_eq!(impact["mailboxes"], 2);
    assert_eq!(impact["policy_rule"], "two-for-everything");
    assert_eq!(impact["then"], "require_two_approvals");
    assert_eq!(impact["approvals_required"], 2);
    // Lists stay lean: the impact is counted for one action asked for.
    let list: Value = app
        .get("/api/v1/actions?status=pending", &siem)
        .await
        .json()
        .await
        .unwrap();
    assert!(list["items"][0].get("impact").is_none());
}

#[tokio::test]
async fn policy_test_replays_the_recorded_decisions_and_names_its_disagreements() {
    // Four actions decided by people under the lenient test policy: two approved, two rejected.
    let app = crate::helpers::spawn_app_with(|s| s.execution.workers = 0).await;
    let analyst = app.token("analyst", Role::SearchAndPurge).await;
    let ids = app.same_cluster_actions(&analyst, 4).await;
    for (n, id) in ids.iter().enumerate() {
        let decision = if n < 2 { "approve" } else { "reject" };
        assert_eq!(app.decide(&analyst, id, decision, None).await.status(), 200);
    }
    let file = app.dir.path().join("candidate.toml");
    std::fs::write(
        &file,
        "[defaults]\nlevel = \"full\"\n[[rules]]\nname = \"auto-clusters\"\nwhen = 'action_type == \"soft_delete_cluster\"'\nthen = \"approve\"\n",
    )
    .unwrap();
    let before = app.count("SELECT COUNT(*) FROM audit_events").await;

    let output = std::process::Command::new(env!("CARGO_BIN_EXE_airdesk"))
        .args(["policy", "test"])
        .arg(&file)
        .env(
            "AIRDESK_DATABASE_URL",
            crate::helpers::database_url(app.dir.path()),
        )
        .env("AIRDESK_LOG", "warn")
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{out}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        out.contains("4 actions replayed (4 decided by people)"),
        "{out}"
    );
    let line = out
        .lines()
        .find(|l| l.starts_with("auto-clusters"))
        .expect(&out);
    let numbers: Vec<&str> = line.split_whitespace().skip(1).take(4).collect();
    assert_eq!(numbers, ["4", "0", "0", "0"], "{line}");
    assert!(line.contains("2 approved that people rejected"), "{line}");
    assert_eq!(
        app.count("SELECT COUNT(*) FROM audit_events").await,
        before,
        "nothing written"
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM actions WHERE status = 'rejected'")
            .await,
        2
    );

    // A file that does not hold is refused with its line.
    std::fs::write(
        &file,
        "[[rules]]\nname = \"x\"\nwhen = 'copies >'\nthen = \"approve\"\n",
    )
    .unwrap();
    let refused = std::process::Command::new(env!("CARGO_BIN_EXE_airdesk"))
        .args(["policy", "test"])
        .arg(&file)
        .env(
            "AIRDESK_DATABASE_URL",
            crate::helpers::database_url(app.dir.path()),
        )
        .output()
        .unwrap();
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("line 3"));
}
