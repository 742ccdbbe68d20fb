//! Bad input gets a clear problem and loses nothing.

use model::Role;
use serde_json::json;

use crate::helpers::{api_md_example, assert_problem, spawn_app};

#[tokio::test]
async fn unreadable_json_is_400() {
    let app = spawn_app().await;
    let token = app.token("analyst", Role::SearchAndPurge).await;
    for body in ["{", "not json", "{\"title\": \"x\"} trailing", ""] {
        let response = app
            .client
            .post(app.url("/api/v1/investigations"))
            .bearer_auth(&token)
            .header("Content-Type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        assert_problem(response, 400).await;
    }
}

#[tokio::test]
async fn a_decision_body_of_whitespace_is_400_and_no_body_is_no_comment() {
    let app = spawn_app().await;
    let token = app.token("analyst", Role::SearchAndPurge).await;
    let ids = app.same_cluster_actions(&token, 1).await;
    for body in ["\n", " ", "\r\n\t"] {
        let response = app
            .client
            .post(app.url(&format!("/api/v1/actions/{}/reject", ids[0])))
            .bearer_auth(&token)
            .header("Content-Type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        assert_problem(response, 400).await;
    }
    let action: serde_json::Value = app
        .get(&format!("/api/v1/actions/{}", ids[0]), &token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        action["status"], "pending",
        "nothing decided by a refused body"
    );
    let response = app
        .client
        .post(app.url(&format!("/api/v1/actions/{}/reject", ids[0])))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
}

#[tokio::test]
async fn a_body_not_declared_as_json_is_400() {
    let app = spawn_app().await;
    let token = app.token("analyst", Role::SearchAndPurge).await;
    let response = app
        .client
        .post(app.url("/api/v1/investigations"))
        .bearer_auth(&token)
        .header("Content-Type", "text/plain")
        .body(api_md_example().to_string())
        .send()
        .await
        .unwrap();
    let problem = assert_problem(response, 400).await;
    assert!(problem["detail"]
        .as_str()
        .unwrap()
        .contains("application/json"));
}

#[tokio::test]
async fn well_formed_but_invalid_bodies_are_422_and_write_nothing() {
    let app = spawn_app().await;
    let token = app.token("analyst", Role::SearchAndPurge).await;
    let mut cases = Vec::new();
    let mut missing = api_md_example();
    missing.as_object_mut().unwrap().remove("alert");
    cases.push(missing);
    let mut bad_type = api_md_example();
    bad_type["investigation_type"] = json!("hunch");
    cases.push(bad_type);
    let mut bad_mailbox = api_md_example();
    bad_mailbox["clusters"][0]["messages"][0]["mailbox"] = json!("not an address");
    cases.push(bad_mailbox);
    let mut bad_id = api_md_example();
    bad_id["clusters"][0]["messages"][0]["internet_message_id"] = json!("no-brackets@x");
    cases.push(bad_id);
    let mut blank_title = api_md_example();
    blank_title["title"] = json!("  ");
    cases.push(blank_title);
    let mut unknown_field = api_md_example();
    unknown_field["surprise"] = json!(true);
    cases.push(unknown_field);
    let mut bad_time = api_md_example();
    bad_time["clusters"][0]["messages"][0]["received_at"] = json!("yesterday");
    cases.push(bad_time);

    for body in cases {
        assert_problem(app.ingest(&token, &body).await, 422).await;
    }
    assert_eq!(app.count("SELECT COUNT(*) FROM investigations").await, 0);
    assert_eq!(app.count("SELECT COUNT(*) FROM incidents").await, 0);
}

#[tokio::test]
async fn a_ten_megabyte_body_is_413_and_the_server_stays_up() {
    let app = spawn_app().await;
    let token = app.token("analyst", Role::SearchAndPurge).await;
    let huge = format!("{{\"title\": \"{}\"}}", "x".repeat(10 * 1024 * 1024));
    let response = app
        .client
        .post(app.url("/api/v1/investigations"))
        .bearer_auth(&token)
        .header("Content-Type", "application/json")
        .body(huge)
        .send()
        .await
        .unwrap();
    assert_problem(response, 413).await;
    assert_eq!(
        app.client
            .get(app.url("/healthz"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    assert_eq!(app.ingest(&token, &api_md_example()).await.status(), 201);
}

#[tokio::test]
async fn hostile_text_is_stored_as_given_and_returned_as_json_text() {
    let app = spawn_app().await;
    let token = app.token("analyst", Role::SearchAndPurge).await;
    let mut body = api_md_example();
    let subject = "<script>alert('x')</script>\"; DROP TABLE actions; --";
    body["clusters"][0]["messages"][0]["subject"] = json!(subject);
    let created: serde_json::Value = app.ingest(&token, &body).await.json().await.unwrap();
    let id = created["id"].as_str().unwrap();
    let read: serde_json::Value = app
        .get(&format!("/api/v1/investigations/{id}"), &token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(read["clusters"][0]["messages"][0]["subject"], subject);
    assert_eq!(app.count("SELECT COUNT(*) FROM actions").await, 2);
}

#[tokio::test]
async fn health_and_readiness_answer() {
    let app = spawn_app().await;
    let health: serde_json::Value = app
        .client
        .get(app.url("/healthz"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(health["status"], "ok");
    let ready = app.client.get(app.url("/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), 200);
    let ready: serde_json::Value = ready.json().await.unwrap();
    assert_eq!(ready["migrations"], "applied");
    let engine = if app.db.is_postgres() {
        "PostgreSQL "
    } else {
        "SQLite "
    };
    assert!(
        ready["database"].as_str().unwrap().starts_with(engine),
        "{ready}"
    );
    // Closing the pool makes the database unreachable: readiness must say so.
    app.db.close().await;
    assert_eq!(
        app.client
            .get(app.url("/readyz"))
            .send()
            .await
            .unwrap()
            .status(),
        503
    );
}
