//! Approve and reject over the API: exactly once, duplicates within the window, roles.

use model::Role;
use serde_json::{json, Value};

use crate::helpers::{assert_problem, spawn_app, spawn_app_with};

#[tokio::test]
async fn approving_queues_execution_records_who_and_moves_the_investigation_on() {
    // No workers: the job stays queued for the test to see.
    let app = spawn_app_with(|s| s.execution.workers = 0).await;
    let token = app.token("analyst", Role::SearchAndPurge).await;
    let id = app.same_cluster_actions(&token, 1).await.remove(0);

    let response = app
        .decide(
            &token,
            &id,
            "approve",
            Some(json!({"comment": "confirmed phish"})),
        )
        .await;

    assert_eq!(response.status(), 200);
    let action: Value = response.json().await.unwrap();
    assert_eq!(action["status"], "approved");
    assert_eq!(action["decided_by"], "analyst");
    assert_eq!(action["comment"], "confirmed phish");
    assert!(action["decided_at"].is_string());
    assert_eq!(
        app.count("SELECT COUNT(*) FROM jobs WHERE status = 'queued'")
            .await,
        1
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM audit_events WHERE event = 'action_approved'")
            .await,
        1
    );
    let investigation: Value = app
        .get(
            &format!(
                "/api/v1/investigations/{}",
                action["investigation_id"].as_str().unwrap()
            ),
            &token,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(investigation["status"], "running");
    assert_eq!(
        app.count("SELECT pending_action_count FROM incidents")
            .await,
        0
    );
}

#[tokio::test]
async fn rejecting_executes_nothing_and_a_second_decision_names_the_first() {
    let app = spawn_app().await;
    let token = app.token("analyst", Role::SearchAndPurge).await;
    let id = app.same_cluster_actions(&token, 1).await.remove(0);

    let rejected: Value = app
        .decide(&token, &id, "reject", None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(rejected["status"], "rejected");
    assert_eq!(app.count("SELECT COUNT(*) FROM jobs").await, 0);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM investigations WHERE status = 'remediated'")
            .await,
        1
    );

    let problem = assert_problem(app.decide(&token, &id, "approve", None).await, 409).await;
    let detail = problem["detail"].as_str().unwrap();
    assert!(detail.contains("rejected by analyst at "), "{detail}");
    assert_eq!(app.count("SELECT COUNT(*) FROM jobs").await, 0);
}

#[tokio::test]
async fn fifty_concurrent_approvals_of_one_action_decide_it_once() {
    let app = spawn_app().await;
    let token = app.token("analyst", Role::SearchAndPurge).await;
    let id = app.same_cluster_actions(&token, 1).await.remove(0);

    let approvals = (0..50)
        .map(|_| (format!("/api/v1/actions/{id}/approve"), None))
        .collect();
    let statuses: Vec<u16> = app
        .post_concurrently(&token, approvals)
        .await
        .into_iter()
        .map(|(s, _)| s)
        .collect();

    assert_eq!(
        statuses.iter().filter(|s| **s == 200).count(),
        1,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == 409).count(),
        49,
        "{statuses:?}"
    );
    assert_eq!(app.count("SELECT COUNT(*) FROM jobs").await, 1);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM audit_events WHERE event = 'action_approved'")
            .await,
        1
    );
}

#[tokio::test]
async fn twenty_concurrent_approvals_on_one_cluster_execute_once_and_link_the_rest() {
    // No workers: the first approval must stay an approval while the others are decided. (Its
    // mail is not on disk, so executed it would fail, and a failed approval rightly does not
    // make a later one a duplicate.)
    let app = spawn_app_with(|s| s.execution.workers = 0).await;
    let token = app.token("analyst", Role::SearchAndPurge).await;
    let ids = app.same_cluster_actions(&token, 20).await;

    let approvals = ids
        .iter()
        .map(|id| (format!("/api/v1/actions/{id}/approve"), None))
        .collect();
    let answers = app.post_concurrently(&token, approvals).await;
    let actions: Vec<Value> = answers.iter().map(|(_, a)| a.clone()).collect();

    let approved: Vec<&Value> = actions
        .iter()
        .filter(|a| a["status"] == "approved")
        .collect();
    assert_eq!(approved.len(), 1, "exactly one executes: {answers:?}");
    let first = approved[0]["id"].as_str().unwrap();
    let duplicates: Vec<&Value> = actions
        .iter()
        .filter(|a| a["status"] == "duplicate")
        .collect();
    assert_eq!(duplicates.len(), 19);
    for duplicate in duplicates {
        assert_eq!(duplicate["duplicate_of"], first);
        let details = duplicate["details"].as_str().unwrap();
        assert!(
            details.starts_with("De-duplicated: its copy was approved at "),
            "{details}"
        );
        assert!(
            details.ends_with(&format!("by analyst (action {first})")),
            "{details}"
        );
    }
    assert_eq!(app.count("SELECT COUNT(*) FROM jobs").await, 1);
    // Investigations and evidence are never removed by de-duplication.
    assert_eq!(app.count("SELECT COUNT(*) FROM investigations").await, 20);
    assert_eq!(app.count("SELECT COUNT(*) FROM evidence").await, 20);
}

#[tokio::test]
async fn an_approval_outside_the_window_executes_again() {
    let app =
        spawn_app_with(|s| s.rules.dedup_window = std::time::Duration::from_millis(300)).await;
    let token = app.token("analyst", Role::SearchAndPurge).await;
    let ids = app.same_cluster_actions(&token, 3).await;

    let first: Value = app
        .decide(&token, &ids[0], "approve", None)
        .await
        .json()
        .await
        .unwrap();
    let inside: Value = app
        .decide(&token, &ids[1], "approve", None)
        .await
        .json()
        .await
        .unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(400)).await;
    let outside: Value = app
        .decide(&token, &ids[2], "approve", None)
        .await
        .json()
        .await
        .unwrap();

    assert_eq!(first["status"], "approved");
    assert_eq!(inside["status"], "duplicate");
    assert_eq!(outside["status"], "approved");
    assert_eq!(outside["duplicate_of"], Value::Null);
    assert_eq!(app.count("SELECT COUNT(*) FROM jobs").await, 2);
}

#[tokio::test]
async fn a_rejection_does_not_count_as_an_approval_for_duplicates() {
    let app = spawn_app().await;
    let token = app.token("analyst", Role::SearchAndPurge).await;
    let ids = app.same_cluster_actions(&token, 2).await;
    app.decide(&token, &ids[0], "reject", None).await;
    let second: Value = app
        .decide(&token, &ids[1], "approve", None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(second["status"], "approved");
}

#[tokio::test]
async fn roles_unknown_ids_and_bad_bodies_are_refused_without_deciding() {
    let app = spawn_app().await;
    let analyst = app.token("analyst", Role::SearchAndPurge).await;
    let reader = app.token("reader", Role::Reader).await;
    let id = app.same_cluster_actions(&analyst, 1).await.remove(0);

    for decision in ["approve", "reject"] {
        let anonymous = app
            .client
            .post(app.url(&format!("/api/v1/actions/{id}/{decision}")))
            .send()
            .await
            .unwrap();
        assert_problem(anonymous, 401).await;
        assert_problem(app.decide(&reader, &id, decision, None).await, 403).await;
    }
    assert_problem(
        app.decide(&analyst, "no-such-action", "approve", None)
            .await,
        404,
    )
    .await;
    assert_problem(
        app.decide(
            &analyst,
            &id,
            "approve",
            Some(json!({"comment": "x".repeat(2001)})),
        )
        .await,
        422,
    )
    .await;
    assert_problem(
        app.decide(&analyst, &id, "approve", Some(json!({"note": "typo"})))
            .await,
        422,
    )
    .await;
    let garbage = app
        .client
        .post(app.url(&format!("/api/v1/actions/{id}/approve")))
        .bearer_auth(&analyst)
        .header("Content-Type", "application/json")
        .body("{")
        .send()
        .await
        .unwrap();
    assert_problem(garbage, 400).await;

    assert_eq!(
        app.count("SELECT COUNT(*) FROM actions WHERE status = 'pending'")
            .await,
        1
    );
    let admin = app.token("admin", Role::Admin).await;
    assert_eq!(app.decide(&admin, &id, "approve", None).await.status(), 200);
}

#[tokio::test]
async fn bulk_decides_each_action_and_reports_each() {
    let app = spawn_app().await;
    let token = app.token("analyst", Role::SearchAndPurge).await;
    let mut body = crate::helpers::api_md_example();
    body["clusters"][0]["cluster_value"] = json!("http://other.evil.test/");
    let other: Value = app.ingest(&token, &body).await.json().await.unwrap();
    let ids = app.same_cluster_actions(&token, 2).await;
    let forwarding = other["actions"][1]["id"].as_str().unwrap().to_string();
    app.decide(&token, &forwarding, "reject", None).await;

    let response = app
        .client
        .post(app.url("/api/v1/actions/bulk"))
        .bearer_auth(&token)
        // Refusals first: one decision failing must not take the rest of its batch with it.
        // The same action named twice is decided once; the second is told who decided it.
        .json(&json!({"decision": "approve", "ids": ["missing", forwarding, ids[0], ids[1], ids[0]], "comment": "campaign"}))
        .send()
        .await
        .unwrap();

    assert_eq!(response.status(), 200);
    let results: Value = response.json().await.unwrap();
    let results = results["results"].as_array().unwrap();
    assert_eq!(results.len(), 5);
    assert_eq!(results[0]["error"]["status"], 404);
    assert_eq!(results[1]["error"]["status"], 409);
    assert_eq!(results[2]["status"], "approved");
    assert_eq!(results[3]["status"], "duplicate");
    assert_eq!(results[2]["error"], Value::Null);
    assert_eq!(results[4]["error"]["status"], 409);
    let named = results[4]["error"]["detail"].as_str().unwrap();
    assert!(named.contains("approved by analyst"), "{named}");
    let second = app
        .get(&format!("/api/v1/actions/{}", ids[1]), &token)
        .await;
    let second: Value = second.json().await.unwrap();
    assert_eq!(second["duplicate_of"], json!(ids[0]));
    assert_eq!(
        // Decided, whatever execution has made of them since (the approved one may already be
        // running or completed): counting only 'approved' made this test race execution.
        app.count("SELECT COUNT(*) FROM actions WHERE status <> 'pending' AND decided_by = 'analyst' AND comment = 'campaign'")
            .await,
        2
    );

    let reader = app.token("reader", Role::Reader).await;
    let refused = app
        .client
        .post(app.url("/api/v1/actions/bulk"))
        .bearer_auth(&reader)
        .json(&json!({"decision": "reject", "ids": [ids[0]]}))
        .send()
        .await
        .unwrap();
    assert_problem(refused, 403).await;
    let empty = app
        .client
        .post(app.url("/api/v1/actions/bulk"))
        .bearer_auth(&token)
        .json(&json!({"decision": "approve", "ids": []}))
        .send()
        .await
        .unwrap();
    assert_problem(empty, 422).await;
}

#[tokio::test]
async fn a_retried_approval_with_its_idempotency_key_replays_the_first_answer() {
    let app = spawn_app().await;
    let token = app.token("analyst", Role::SearchAndPurge).await;
    let id = app.same_cluster_actions(&token, 1).await.remove(0);
    let send = || {
        app.client
            .post(app.url(&format!("/api/v1/actions/{id}/approve")))
            .bearer_auth(&token)
            .header("Idempotency-Key", "approve-once")
            .send()
    };
    let first = send().await.unwrap();
    assert_eq!(first.status(), 200);
    let retry = send().await.unwrap();
    assert_eq!(retry.status(), 200, "a retry is not a conflict");
    assert_eq!(retry.headers()["idempotent-replayed"], "true");
    assert_eq!(
        app.count("SELECT COUNT(*) FROM audit_events WHERE event = 'action_approved'")
            .await,
        1
    );
}

#[tokio::test]
async fn history_exports_as_csv_with_formulas_neutralised() {
    let app = spawn_app_with(|s| s.execution.workers = 0).await;
    let token = app.token("analyst", Role::SearchAndPurge).await;
    let ids = app.same_cluster_actions(&token, 2).await;
    app.decide(
        &token,
        &ids[0],
        "reject",
        Some(json!({"comment": "=HYPERLINK(\"http://evil.test\")"})),
    )
    .await;

    let response = app
        .get("/api/v1/actions/export.csv?status=rejected", &token)
        .await;

    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["content-type"],
        "text/csv; charset=utf-8"
    );
    let text = response.text().await.unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines.len(),
        2,
        "a header and the one rejected action: {text}"
    );
    assert!(lines[0].starts_with("id,type,status,entity"));
    assert!(lines[1].starts_with(&format!("{},soft_delete_cluster,rejected,", ids[0])));
    assert!(
        lines[1].contains("\"'=HYPERLINK(\"\"http://evil.test\"\")\""),
        "{}",
        lines[1]
    );
    assert!(!text.contains(&ids[1]), "pending actions are not History");
    let anonymous = app
        .client
        .get(app.url("/api/v1/actions/export.csv"))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 401);
}
