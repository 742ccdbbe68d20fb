//! Scoped, expiring, revocable bearer tokens: each scope lets through exactly what it names,
//! a token never does more than its user's role, and an expired or revoked token is 401.

use std::time::Duration;

use model::{Role, Scope};
use serde_json::Value;

use crate::helpers::{api_md_example, assert_problem, spawn_app, TestApp};

/// Ingests the example with `token`; returns the first pending action's id.
async fn ingested_action(app: &TestApp, token: &str) -> String {
    let response = app.ingest(token, &api_md_example()).await;
    assert_eq!(response.status(), 201);
    let created: Value = response.json().await.unwrap();
    created["actions"][0]["id"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn an_ingest_only_token_ingests_but_can_neither_decide_nor_read() {
    let app = spawn_app().await;
    let (_, ingest) = app
        .scoped_token("gateway", Role::Admin, &[Scope::Ingest], None)
        .await;
    let analyst = app.token("analyst", Role::SearchAndPurge).await;
    let id = ingested_action(&app, &ingest).await;

    let refused = assert_problem(app.decide(&ingest, &id, "approve", None).await, 403).await;
    assert!(
        refused["detail"].as_str().unwrap().contains("decide scope"),
        "{refused}"
    );
    let bulk = app
        .client
        .post(app.url("/api/v1/actions/bulk"))
        .bearer_auth(&ingest)
        .json(&serde_json::json!({"ids": [id], "decision": "approve"}))
        .send()
        .await
        .unwrap();
    assert_problem(bulk, 403).await;
    let change = app.change(&ingest, &id, "move_to_junk").await;
    assert_problem(change, 403).await;
    for path in [
        format!("/api/v1/actions/{id}"),
        "/api/v1/actions".to_string(),
        "/api/v1/audit".to_string(),
    ] {
        assert_problem(app.get(&path, &ingest).await, 403).await;
    }

    // Nothing was decided by any of it.
    let action: Value = app
        .get(&format!("/api/v1/actions/{id}"), &analyst)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(action["status"], "pending");
    assert!(action["approvals"].as_array().unwrap().is_empty());
}

#[tokio::test]
async fn a_decide_token_decides_and_reads_but_cannot_ingest() {
    let app = spawn_app().await;
    let siem = app.token("siem", Role::SearchAndPurge).await;
    let (_, decide) = app
        .scoped_token("responder", Role::SearchAndPurge, &[Scope::Decide], None)
        .await;
    assert_problem(app.ingest(&decide, &api_md_example()).await, 403).await;
    let id = ingested_action(&app, &siem).await;
    let listed = app.get("/api/v1/actions?status=pending", &decide).await;
    assert_eq!(listed.status(), 200);
    let approved: Value = app
        .decide(&decide, &id, "approve", None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(approved["status"], "approved", "{approved}");
    assert_eq!(approved["decided_by"], "responder");
}

#[tokio::test]
async fn scopes_never_widen_a_role() {
    let app = spawn_app().await;
    let siem = app.token("siem", Role::SearchAndPurge).await;
    let (_, reader) = app
        .scoped_token("viewer", Role::Reader, &[Scope::Admin], None)
        .await;
    let id = ingested_action(&app, &siem).await;
    let refused = assert_problem(app.decide(&reader, &id, "approve", None).await, 403).await;
    assert!(
        refused["detail"]
            .as_str()
            .unwrap()
            .contains("Search and purge"),
        "{refused}"
    );
    assert_problem(app.ingest(&reader, &api_md_example()).await, 403).await;
    assert_eq!(app.get("/api/v1/actions", &reader).await.status(), 200);
}

#[tokio::test]
async fn expired_and_revoked_tokens_are_refused_with_401() {
    let app = spawn_app().await;
    let soon = chrono::Utc::now() + chrono::Duration::milliseconds(1500);
    let (_, expiring) = app
        .scoped_token("temp", Role::SearchAndPurge, &[Scope::Read], Some(soon))
        .await;
    let (revoked_id, revoked) = app
        .scoped_token("leaked", Role::SearchAndPurge, &[Scope::Read], None)
        .await;
    assert_eq!(app.get("/api/v1/actions", &expiring).await.status(), 200);
    assert_eq!(app.get("/api/v1/actions", &revoked).await.status(), 200);

    airdesk_core::tokens::revoke(&app.db, &crate::helpers::tester(), &revoked_id)
        .await
        .unwrap();
    assert_problem(app.get("/api/v1/actions", &revoked).await, 401).await;
    let again = airdesk_core::tokens::revoke(&app.db, &crate::helpers::tester(), &revoked_id).await;
    assert!(
        matches!(again, Err(model::AppError::Conflict(_))),
        "{again:?}"
    );
    let unknown = airdesk_core::tokens::revoke(&app.db, &crate::helpers::tester(), "nope").await;
    assert!(matches!(unknown, Err(model::AppError::NotFound(_))));

    tokio::time::sleep(Duration::from_millis(1600)).await;
    assert_problem(app.get("/api/v1/actions", &expiring).await, 401).await;

    let events = app
        .count("SELECT COUNT(*) FROM audit_events WHERE event = 'token_revoked'")
        .await;
    assert_eq!(events, 1);
}

#[tokio::test]
async fn a_token_made_before_scopes_keeps_its_full_power_and_records_its_last_use() {
    let app = spawn_app().await;
    let legacy = app.token("siem", Role::SearchAndPurge).await;
    let analyst = app.token("analyst", Role::SearchAndPurge).await;
    // As migration 0011 leaves every older token: no scopes recorded.
    airdesk_core::db::query("UPDATE api_tokens SET scopes = NULL")
        .execute(&app.db)
        .await
        .unwrap();
    let id = ingested_action(&app, &legacy).await;
    let other = ingested_action(&app, &analyst).await;
    let approved = app.decide(&legacy, &other, "approve", None).await;
    assert_eq!(approved.status(), 200);
    assert_eq!(
        app.get(&format!("/api/v1/actions/{id}"), &legacy)
            .await
            .status(),
        200
    );

    // Last use is written off the request path; wait for it.
    let mut recorded = 0;
    for _ in 0..50 {
        recorded = app
            .count("SELECT COUNT(*) FROM api_tokens WHERE last_used_at IS NOT NULL")
            .await;
        if recorded == 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(recorded, 2);
    let listed = airdesk_core::tokens::list(&app.db).await.unwrap();
    assert!(listed
        .iter()
        .all(|t| t.scopes.is_none() && t.last_used_at.is_some()));
}
