//! The portal's administration through its server functions, as the admin pages call them:
//! sessions listed and revoked, signing out everywhere, a password changed, tokens made
//! (the secret once) and revoked, users added and unlocked, and the settings read.

use model::Role;
use reqwest::{Client, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{spawn_app, TestApp, PASSWORD};

/// A browser of its own, signed in as `name`.
async fn browser(app: &TestApp, name: &str, password: &str) -> Client {
    let browser = Client::builder().cookie_store(true).build().unwrap();
    let answer = browser
        .post(app.url("/rpc/login"))
        .header("Origin", &app.address)
        .form(&[("username", name), ("password", password), ("next", "/")])
        .send()
        .await
        .unwrap();
    assert!(
        answer.status().is_success() || answer.status().is_redirection(),
        "{name} signs in"
    );
    browser
}

async fn rpc(app: &TestApp, browser: &Client, name: &str, body: Value) -> (StatusCode, Value) {
    let answer = browser
        .post(app.url(&format!("/rpc/{name}")))
        .header("Origin", &app.address)
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = answer.status();
    (status, answer.json().await.unwrap_or(Value::Null))
}

async fn form(app: &TestApp, browser: &Client, name: &str, fields: &[(&str, &str)]) -> StatusCode {
    browser
        .post(app.url(&format!("/rpc/{name}")))
        .header("Origin", &app.address)
        .form(fields)
        .send()
        .await
        .unwrap()
        .status()
}

async fn signed_in(app: &TestApp, browser: &Client) -> bool {
    rpc(app, browser, "my_account", json!({})).await.0 == StatusCode::OK
}

#[tokio::test]
async fn sessions_are_listed_revoked_and_ended_everywhere() {
    let app = spawn_app().await;
    app.user("root", Role::Admin).await;
    app.user("dana", Role::Reader).await;
    let admin = browser(&app, "root", PASSWORD).await;
    let dana_laptop = browser(&app, "dana", PASSWORD).await;
    let dana_phone = browser(&app, "dana", PASSWORD).await;

    let (status, mine) = rpc(
        &app,
        &dana_laptop,
        "list_sessions",
        json!({"everyone": false}),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let mine = mine.as_array().unwrap().clone();
    assert_eq!(mine.len(), 2, "her two sessions, none of the admin's");
    assert_eq!(
        mine.iter().filter(|s| s["current"] == json!(true)).count(),
        1
    );
    assert!(mine
        .iter()
        .all(|s| s["username"] == "dana" && s["method"] == "password"));
    let phone = mine.iter().find(|s| s["current"] == json!(false)).unwrap()["id"].clone();

    // Dana cannot touch the admin's session: it is "not found" to her.
    let (_, all) = rpc(&app, &admin, "list_sessions", json!({"everyone": true})).await;
    let all = all.as_array().unwrap().clone();
    assert_eq!(all.len(), 3);
    let admins = all.iter().find(|s| s["username"] == "root").unwrap()["id"].clone();
    let (status, _) = rpc(&app, &dana_laptop, "revoke_session", json!({"id": admins})).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(signed_in(&app, &admin).await);

    // The admin revokes her phone's session: refused at its next request, the laptop goes on.
    let (status, _) = rpc(&app, &admin, "revoke_session", json!({"id": phone})).await;
    assert_eq!(status, StatusCode::OK);
    assert!(!signed_in(&app, &dana_phone).await);
    assert!(signed_in(&app, &dana_laptop).await);
    let (status, _) = rpc(&app, &admin, "revoke_session", json!({"id": phone})).await;
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "revoking twice is not reported as done"
    );

    // Sign out everywhere: every session of hers ends, the admin's does not.
    let dana_phone = browser(&app, "dana", PASSWORD).await;
    assert!(form(&app, &dana_laptop, "sign_out_everywhere", &[])
        .await
        .is_success());
    assert!(!signed_in(&app, &dana_laptop).await);
    assert!(!signed_in(&app, &dana_phone).await);
    assert!(signed_in(&app, &admin).await);
    let audited = app
        .count(
            "SELECT COUNT(*) FROM audit_events WHERE event IN ('session_revoked', 'sessions_revoked')",
        )
        .await;
    assert_eq!(audited, 2);
}

#[tokio::test]
async fn a_changed_password_ends_the_other_sessions_and_the_old_password() {
    let app = spawn_app().await;
    app.user("erin", Role::SearchAndPurge).await;
    let here = browser(&app, "erin", PASSWORD).await;
    let there = browser(&app, "erin", PASSWORD).await;
    let new = "a completely new passphrase";
    let wrong = form(
        &app,
        &here,
        "change_password",
        &[("current", "not it at all"), ("new", new)],
    )
    .await;
    assert_eq!(wrong, StatusCode::UNPROCESSABLE_ENTITY);
    let short = form(
        &app,
        &here,
        "change_password",
        &[("current", PASSWORD), ("new", "short")],
    )
    .await;
    assert_eq!(short, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        signed_in(&app, &there).await,
        "a refused change changes nothing"
    );
    let done = form(
        &app,
        &here,
        "change_password",
        &[("current", PASSWORD), ("new", new)],
    )
    .await;
    assert_eq!(done, StatusCode::OK);
    assert!(signed_in(&app, &here).await);
    assert!(!signed_in(&app, &there).await);
    assert_eq!(
        app.sign_in("erin", PASSWORD).await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert!(signed_in(&app, &browser(&app, "erin", new).await).await);
}

#[tokio::test]
async fn an_admin_makes_and_revokes_tokens_adds_and_unlocks_users_and_reads_the_settings() {
    let app = spawn_app().await;
    app.user("root", Role::Admin).await;
    let admin = browser(&app, "root", PASSWORD).await;

    let (status, made) = rpc(
        &app,
        &admin,
        "create_token",
        json!({"username": "root", "label": "siem", "scopes": "read", "expires_days": 30}),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let secret = made["secret"].as_str().unwrap().to_string();
    let api = |secret: String| {
        let app = &app;
        async move {
            app.client
                .get(app.url("/api/v1/incidents"))
                .bearer_auth(secret)
                .send()
                .await
                .unwrap()
                .status()
        }
    };
    assert_eq!(api(secret.clone()).await, StatusCode::OK);
    // The use is recorded off the request's path: wait for it, for a while.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let (listed, list) = loop {
        let (_, list) = rpc(&app, &admin, "list_tokens", json!({})).await;
        let listed = list
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["label"] == "siem")
            .unwrap()
            .clone();
        if listed["last_used_at"].is_string() || std::time::Instant::now() > deadline {
            break (listed, list);
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    };
    assert_eq!(listed["scopes"], "read");
    assert!(
        listed["last_used_at"].is_string(),
        "its use is recorded: {listed}"
    );
    assert!(
        !list.to_string().contains(&secret),
        "the list never carries a secret"
    );
    for bad in [
        json!({"username": "root", "label": "x", "scopes": "root", "expires_days": null}),
        json!({"username": "root", "label": " ", "scopes": "read", "expires_days": null}),
        json!({"username": "root", "label": "x", "scopes": "read", "expires_days": 99999}),
    ] {
        let (status, _) = rpc(&app, &admin, "create_token", bad.clone()).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
    }
    let (status, _) = rpc(&app, &admin, "revoke_token", json!({"id": made["id"]})).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(api(secret).await, StatusCode::UNAUTHORIZED);

    // A local user added on the Users page signs in; a short password or a taken name is refused.
    let add = |name: &str, password: &str| json!({"username": name, "password": password, "role": "reader"});
    assert_eq!(
        rpc(&app, &admin, "add_user", add("fay", PASSWORD)).await.0,
        StatusCode::OK
    );
    assert_eq!(
        rpc(&app, &admin, "add_user", add("fay", PASSWORD)).await.0,
        StatusCode::CONFLICT
    );
    assert_eq!(
        rpc(&app, &admin, "add_user", add("gus", "short")).await.0,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    assert_eq!(
        rpc(&app, &admin, "add_user", add("<b>x</b>", PASSWORD))
            .await
            .0,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    assert!(signed_in(&app, &browser(&app, "fay", PASSWORD).await).await);

    // Unlock lifts a backoff after failed passwords.
    for _ in 0..6 {
        app.sign_in("fay", "wrong password, again").await;
    }
    assert_eq!(
        app.sign_in("fay", PASSWORD).await.status(),
        StatusCode::TOO_MANY_REQUESTS
    );
    let (status, _) = rpc(
        &app,
        &admin,
        "change_user",
        json!({"username": "fay", "change": "Unlock"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(app.sign_in("fay", PASSWORD).await.status().is_success());

    let (status, settings) = rpc(&app, &admin, "get_settings", json!({})).await;
    assert_eq!(status, StatusCode::OK);
    let text = settings.to_string();
    for expected in [
        "Duplicate window",
        "Pending actions expire after",
        "Local passwords",
        "Approval policy",
        "SHA-256",
    ] {
        assert!(text.contains(expected), "{expected} in {text}");
    }
}
