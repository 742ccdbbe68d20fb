//! The role matrix: every REST endpoint and server function, called as anonymous, Reader,
//! Search and purge and Admin, with the status each must answer.

use model::Role;
use reqwest::{Client, Method};
use serde_json::{json, Value};

use crate::helpers::{api_md_example, signed_in, spawn_app, TestApp};

#[derive(Clone, Copy, Debug, PartialEq)]
enum Who {
    Anonymous,
    Reader,
    Analyst,
    Admin,
}

/// A fresh pending action for a decision to act on, so every allowed call can succeed.
async fn pending(app: &TestApp, token: &str) -> String {
    let mut body = api_md_example();
    body["clusters"][0]["cluster_value"] =
        json!(format!("http://{}.evil.test/", airdesk_core::new_id()));
    let created: Value = app.ingest(token, &body).await.json().await.unwrap();
    created["actions"][0]["id"].as_str().unwrap().to_string()
}

/// A fresh completed email action, for changes: its own copy, delivered for it (an earlier
/// approval of the same copy would make it a duplicate, which never runs).
async fn completed(app: &TestApp, token: &str) -> String {
    let message_id = format!("<{}@evil.test>", airdesk_core::new_id());
    app.deliver("alice@example.test", &message_id, "INBOX");
    let mut body = api_md_example();
    body["clusters"][0]["cluster_value"] =
        json!(format!("http://{}.evil.test/", airdesk_core::new_id()));
    body["clusters"][0]["messages"][0]["internet_message_id"] = json!(message_id);
    let created: Value = app.ingest(token, &body).await.json().await.unwrap();
    let id = created["actions"][0]["id"].as_str().unwrap().to_string();
    app.decide(token, &id, "approve", None).await;
    assert_eq!(app.settled(token, &id).await["status"], "completed");
    id
}

#[tokio::test]
async fn every_endpoint_and_server_function_answers_each_role_as_designed() {
    let app = spawn_app().await;
    app.deliver_example();
    let setup = app.token("setup", Role::Admin).await;
    let tokens = [
        (Who::Reader, app.token("reader", Role::Reader).await),
        (
            Who::Analyst,
            app.token("analyst", Role::SearchAndPurge).await,
        ),
        (Who::Admin, app.token("boss", Role::Admin).await),
    ];
    let sessions = [
        (Who::Reader, signed_in(&app, "reader").await),
        (Who::Analyst, signed_in(&app, "analyst").await),
        (Who::Admin, signed_in(&app, "boss").await),
    ];
    let some_investigation: Value = app
        .ingest(&setup, &api_md_example())
        .await
        .json()
        .await
        .unwrap();
    let investigation_id = some_investigation["id"].as_str().unwrap().to_string();

    for who in [Who::Anonymous, Who::Reader, Who::Analyst, Who::Admin] {
        let token = tokens
            .iter()
            .find(|(w, _)| *w == who)
            .map(|(_, t)| t.clone());
        let session = sessions
            .iter()
            .find(|(w, _)| *w == who)
            .map(|(_, c)| c.clone())
            .unwrap_or_else(Client::new);
        let read = if who == Who::Anonymous { 401 } else { 200 };
        let write = |ok: u16| match who {
            Who::Anonymous => 401,
            Who::Reader => 403,
            _ => ok,
        };

        // REST, with a bearer token.
        let calls: Vec<(Method, String, Option<Value>, u16)> = vec![
            (Method::GET, "/api/v1/investigations".into(), None, read),
            (
                Method::GET,
                format!("/api/v1/investigations/{investigation_id}"),
                None,
                read,
            ),
            (
                Method::GET,
                "/api/v1/actions?status=pending".into(),
                None,
                read,
            ),
            (
                Method::GET,
                format!("/api/v1/actions/{}", pending(&app, &setup).await),
                None,
                read,
            ),
            (Method::GET, "/api/v1/audit".into(), None, read),
            (Method::GET, "/api/v1/indicators".into(), None, read),
            (
                Method::GET,
                "/api/v1/incidents?sort=severity".into(),
                None,
                read,
            ),
            (Method::GET, "/api/v1/messages".into(), None, read),
            (
                Method::POST,
                "/api/v1/indicators".into(),
                Some(
                    json!({"kind": "sender", "value": "nobody@nowhere.test", "verdict": "suspicious"}),
                ),
                write(201),
            ),
            (
                Method::DELETE,
                "/api/v1/indicators/no-such-indicator".into(),
                None,
                write(404),
            ),
            // Any signed-in user may report; this message is not in the index.
            (
                Method::POST,
                "/api/v1/reports".into(),
                Some(
                    json!({"mailbox": "alice@example.test", "internet_message_id": "<none@x.test>"}),
                ),
                if who == Who::Anonymous { 401 } else { 404 },
            ),
            (Method::GET, "/api/v1/actions/export.csv".into(), None, read),
            (
                Method::POST,
                "/api/v1/investigations".into(),
                Some(api_md_example()),
                write(201),
            ),
            (
                Method::POST,
                format!("/api/v1/actions/{}/approve", pending(&app, &setup).await),
                None,
                write(200),
            ),
            (
                Method::POST,
                format!("/api/v1/actions/{}/reject", pending(&app, &setup).await),
                None,
                write(200),
            ),
            (
                Method::POST,
                "/api/v1/actions/bulk".into(),
                Some(json!({"decision": "reject", "ids": [pending(&app, &setup).await]})),
                write(200),
            ),
            (
                Method::POST,
                format!("/api/v1/actions/{}/change", completed(&app, &setup).await),
                Some(json!({"to": "move_to_junk"})),
                write(201),
            ),
        ];
        for (method, path, body, expected) in calls {
            let mut request = app.client.request(method.clone(), app.url(&path));
            if let Some(token) = &token {
                request = request.bearer_auth(token);
            }
            if let Some(body) = body {
                request = request.json(&body);
            }
            let status = request.send().await.unwrap().status().as_u16();
            assert_eq!(status, expected, "{who:?} {method} {path}");
        }

        // Server functions, with a browser session.
        let rpc: Vec<(&str, Value, u16)> = vec![
            ("list_incidents", json!({"query": {}}), read),
            (
                "list_actions",
                json!({"query": {"status": "pending"}}),
                read,
            ),
            ("list_investigations", json!({"query": {}}), read),
            ("get_investigation", json!({"id": investigation_id}), read),
            (
                "decide_action",
                json!({"request": {"id": pending(&app, &setup).await, "approve": true}}),
                write(200),
            ),
            (
                "decide_action",
                json!({"request": {"id": pending(&app, &setup).await, "approve": false}}),
                write(200),
            ),
            (
                "change_action",
                json!({"request": {"id": completed(&app, &setup).await, "to": "soft_delete"}}),
                write(200),
            ),
        ];
        // A mailbox-wide hunt: Search and purge and Admin, as indicators.
        let hunters = match who {
            Who::Anonymous => 401,
            Who::Reader => 403,
            Who::Analyst | Who::Admin => 200,
        };
        let mut rpc = rpc;
        rpc.push((
            "start_investigation",
            json!({"by": "sender", "value": "nobody@nowhere.test"}),
            hunters,
        ));
        // Hunters pass the role check and meet the unknown message.
        rpc.push((
            "investigate_message",
            json!({"mailbox": "alice@example.test", "internet_message_id": "<none@x.test>"}),
            match who {
                Who::Anonymous => 401,
                Who::Reader => 403,
                Who::Analyst | Who::Admin => 404,
            },
        ));
        rpc.push((
            "report_message",
            json!({"mailbox": "alice@example.test", "internet_message_id": "<none@x.test>"}),
            if who == Who::Anonymous { 401 } else { 404 },
        ));
        // The Users page: Admin only; an admin changing a user who does not exist meets 404.
        let admin_only = |ok: u16| match who {
            Who::Anonymous => 401,
            Who::Reader | Who::Analyst => 403,
            Who::Admin => ok,
        };
        rpc.push(("list_users", json!({}), admin_only(200)));
        rpc.push((
            "change_user",
            json!({"username": "nobody", "change": {"Disabled": true}}),
            admin_only(404),
        ));
        rpc.push((
            "change_user",
            json!({"username": "nobody", "change": {"Role": "admin"}}),
            admin_only(404),
        ));
        // API tokens, everyone's sessions and the settings: Admin only. One's own sessions
        // and account: anyone signed in.
        rpc.push(("list_tokens", json!({}), admin_only(200)));
        rpc.push((
            "create_token",
            json!({"username": "nobody", "label": "x", "scopes": "read", "expires_days": null}),
            admin_only(404),
        ));
        rpc.push(("revoke_token", json!({"id": "nope"}), admin_only(404)));
        rpc.push(("list_sessions", json!({"everyone": true}), admin_only(200)));
        rpc.push(("get_settings", json!({}), admin_only(200)));
        let anyone = if who == Who::Anonymous { 401 } else { 200 };
        rpc.push(("list_sessions", json!({"everyone": false}), anyone));
        rpc.push(("my_account", json!({}), anyone));
        rpc.push((
            "revoke_session",
            json!({"id": "nope"}),
            if who == Who::Anonymous { 401 } else { 404 },
        ));
        for (name, body, expected) in rpc {
            let status = session
                .post(app.url(&format!("/rpc/{name}")))
                .header("Origin", &app.address)
                .json(&body)
                .send()
                .await
                .unwrap()
                .status()
                .as_u16();
            assert_eq!(status, expected, "{who:?} /rpc/{name}");
        }
    }
}
