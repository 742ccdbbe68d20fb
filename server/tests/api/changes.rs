//! Change or undo a completed email action, and expiry of undecided ones.

use model::Role;
use serde_json::{json, Value};

use crate::helpers::{assert_problem, spawn_app, spawn_app_with, TestApp};

/// Waits for the execution worker to carry an action out, and checks it completed.
async fn completed(app: &TestApp, token: &str, id: &str) {
    let action = app.settled(token, id).await;
    assert_eq!(action["status"], "completed", "{action}");
}

#[tokio::test]
async fn a_completed_action_changes_into_a_new_approved_action_linked_to_it() {
    let app = spawn_app().await;
    let token = app.token("analyst", Role::SearchAndPurge).await;
    app.deliver_example();
    let id = app.same_cluster_actions(&token, 1).await.remove(0);
    app.decide(&token, &id, "approve", None).await;
    completed(&app, &token, &id).await;

    let response = app.change(&token, &id, "move_to_inbox").await;

    assert_eq!(response.status(), 201);
    let new: Value = response.json().await.unwrap();
    assert_eq!(new["type"], "move_to_inbox");
    assert_eq!(new["status"], "approved");
    assert_eq!(new["changed_from"], id);
    assert_eq!(new["decided_by"], "analyst");
    assert_eq!(new["source"], "manual");
    assert_eq!(
        new["target"]["cluster_value"],
        "http://invoice.evil.test/pay"
    );
    assert_eq!(app.count("SELECT COUNT(*) FROM jobs").await, 2);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM audit_events WHERE event = 'action_changed'")
            .await,
        1
    );
    // Changing the same original again would act on mail the change already moved.
    let again = assert_problem(app.change(&token, &id, "move_to_junk").await, 409).await;
    assert!(again["detail"]
        .as_str()
        .unwrap()
        .contains(new["id"].as_str().unwrap()));
}

#[tokio::test]
async fn only_completed_email_actions_that_were_not_hard_deleted_can_change() {
    let app = spawn_app().await;
    app.deliver_example();
    let token = app.token("analyst", Role::SearchAndPurge).await;
    let created: Value = app
        .ingest(&token, &crate::helpers::api_md_example())
        .await
        .json()
        .await
        .unwrap();
    let cluster = created["actions"][0]["id"].as_str().unwrap().to_string();
    let forwarding = created["actions"][1]["id"].as_str().unwrap().to_string();

    assert_problem(app.change(&token, &cluster, "soft_delete").await, 409).await; // still pending
    app.decide(&token, &forwarding, "approve", None).await;
    completed(&app, &token, &forwarding).await;
    assert_problem(app.change(&token, &forwarding, "move_to_inbox").await, 409).await; // not an email action

    app.decide(&token, &cluster, "approve", None).await;
    completed(&app, &token, &cluster).await;
    assert_problem(
        app.change(&token, &cluster, "soft_delete_cluster").await,
        422,
    )
    .await;
    assert_problem(app.change(&token, &cluster, "explode").await, 422).await;
    let reader = app.token("reader", Role::Reader).await;
    assert_problem(app.change(&reader, &cluster, "hard_delete").await, 403).await;
    assert_problem(app.change(&token, "missing", "hard_delete").await, 404).await;

    let hard: Value = app
        .change(&token, &cluster, "hard_delete")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(hard["type"], "hard_delete");
    let hard_id = hard["id"].as_str().unwrap();
    completed(&app, &token, hard_id).await;
    let problem = assert_problem(app.change(&token, hard_id, "move_to_inbox").await, 409).await;
    assert!(problem["detail"].as_str().unwrap().contains("hard-deleted"));
}

#[tokio::test]
async fn undecided_actions_expire_and_their_investigation_is_terminated_by_system() {
    let app =
        spawn_app_with(|s| s.rules.pending_expiry = std::time::Duration::from_millis(800)).await;
    let token = app.token("analyst", Role::SearchAndPurge).await;
    let first: Value = app
        .ingest(&token, &crate::helpers::api_md_example())
        .await
        .json()
        .await
        .unwrap();
    let mut other = crate::helpers::api_md_example();
    other["clusters"][0]["cluster_value"] = json!("http://other.evil.test/");
    let second: Value = app.ingest(&token, &other).await.json().await.unwrap();
    let decided = second["actions"][0]["id"].as_str().unwrap();
    app.decide(&token, decided, "approve", None).await;

    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while app
        .count("SELECT COUNT(*) FROM actions WHERE status = 'pending'")
        .await
        > 0
    {
        assert!(
            std::time::Instant::now() < deadline,
            "pending actions never expired"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }

    let investigation: Value = app
        .get(
            &format!("/api/v1/investigations/{}", first["id"].as_str().unwrap()),
            &token,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(investigation["status"], "terminated_by_system");
    assert!(investigation["actions"]
        .as_array()
        .unwrap()
        .iter()
        .all(|a| a["status"] == "expired"));
    let approved: Value = app
        .get(&format!("/api/v1/actions/{decided}"), &token)
        .await
        .json()
        .await
        .unwrap();
    assert_ne!(
        approved["status"], "expired",
        "a decided action never expires"
    );
    assert_eq!(
        app.count(
            "SELECT COUNT(*) FROM audit_events WHERE event = 'action_expired' AND actor = 'system'"
        )
        .await,
        3
    );
    assert_eq!(
        app.count("SELECT CAST(SUM(pending_action_count) AS BIGINT) FROM incidents")
            .await,
        0
    );
    let late = assert_problem(
        app.decide(
            &token,
            first["actions"][0]["id"].as_str().unwrap(),
            "approve",
            None,
        )
        .await,
        409,
    )
    .await;
    assert!(late["detail"].as_str().unwrap().contains("Expired"));
}

#[tokio::test]
async fn an_executed_action_reports_its_per_message_results() {
    let app = spawn_app().await;
    app.deliver_example();
    let token = app.token("analyst", Role::SearchAndPurge).await;
    let id = app.same_cluster_actions(&token, 1).await.remove(0);
    app.decide(&token, &id, "approve", None).await;
    let action = app.settled(&token, &id).await;

    let listed: Value = app
        .get("/api/v1/actions?status=completed", &token)
        .await
        .json()
        .await
        .unwrap();

    let expected = json!([{"mailbox": "alice@example.test", "internet_message_id": "<c1-1@evil.test>",
                           "result": "success", "location": "recoverable_items", "detail": null}]);
    assert_eq!(action["results"], expected);
    assert_eq!(action["details"], "1 succeeded");
    assert_eq!(listed["items"][0]["results"], expected);
}
