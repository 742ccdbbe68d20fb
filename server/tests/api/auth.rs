//! Credentials and roles on every endpoint; sessions and CSRF for browsers.

use model::Role;
use reqwest::Method;

use crate::helpers::{api_md_example, assert_problem, spawn_app, PASSWORD};

const READ_ENDPOINTS: [&str; 6] = [
    "/api/v1/investigations",
    "/api/v1/investigations/01a00000-0000-7000-8000-000000000000",
    "/api/v1/actions",
    "/api/v1/actions?status=pending",
    "/api/v1/actions/01a00000-0000-7000-8000-000000000000",
    "/api/v1/audit",
];

#[tokio::test]
async fn every_endpoint_refuses_a_caller_without_credentials() {
    let app = spawn_app().await;
    for path in READ_ENDPOINTS {
        let response = app.client.get(app.url(path)).send().await.unwrap();
        assert_eq!(
            response.headers()["www-authenticate"],
            "Bearer realm=\"airdesk\"",
            "{path}"
        );
        assert_problem(response, 401).await;
    }
    let response = app
        .client
        .post(app.url("/api/v1/investigations"))
        .json(&api_md_example())
        .send()
        .await
        .unwrap();
    assert_problem(response, 401).await;
    assert_eq!(app.count("SELECT COUNT(*) FROM investigations").await, 0);
}

#[tokio::test]
async fn a_wrong_or_malformed_token_is_refused() {
    let app = spawn_app().await;
    app.token("analyst", Role::SearchAndPurge).await;
    for header in [
        "Bearer adk_0000",
        "Bearer nonsense",
        "Basic YWxpY2U6c2VjcmV0",
        "Bearer ",
    ] {
        let response = app
            .client
            .get(app.url("/api/v1/actions"))
            .header("Authorization", header)
            .send()
            .await
            .unwrap();
        assert_problem(response, 401).await;
    }
}

#[tokio::test]
async fn a_reader_reads_everything_but_cannot_ingest() {
    let app = spawn_app().await;
    let reader = app.token("reader", Role::Reader).await;
    for path in ["/api/v1/investigations", "/api/v1/actions", "/api/v1/audit"] {
        assert_eq!(app.get(path, &reader).await.status(), 200, "{path}");
    }
    let problem = assert_problem(app.ingest(&reader, &api_md_example()).await, 403).await;
    assert!(problem["detail"]
        .as_str()
        .unwrap()
        .contains("Search and purge"));
    assert_eq!(app.count("SELECT COUNT(*) FROM investigations").await, 0);
}

#[tokio::test]
async fn a_reader_is_refused_before_their_body_is_read() {
    let app = spawn_app().await;
    let reader = app.token("reader", Role::Reader).await;
    let response = app
        .client
        .post(app.url("/api/v1/investigations"))
        .bearer_auth(&reader)
        .header("Content-Type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_problem(response, 403).await;
}

#[tokio::test]
async fn search_and_purge_and_admin_may_ingest() {
    let app = spawn_app().await;
    for (name, role) in [("analyst", Role::SearchAndPurge), ("admin", Role::Admin)] {
        let token = app.token(name, role).await;
        assert_eq!(
            app.ingest(&token, &api_md_example()).await.status(),
            201,
            "{name}"
        );
    }
}

#[tokio::test]
async fn unknown_ids_are_404() {
    let app = spawn_app().await;
    let token = app.token("reader", Role::Reader).await;
    assert_problem(
        app.get("/api/v1/investigations/no-such-id", &token).await,
        404,
    )
    .await;
    assert_problem(app.get("/api/v1/actions/no-such-id", &token).await, 404).await;
    assert_problem(app.get("/api/v1/no-such-endpoint", &token).await, 404).await;
}

#[tokio::test]
async fn a_browser_signs_in_uses_the_api_and_signs_out() {
    let app = spawn_app().await;
    app.user("analyst", Role::SearchAndPurge).await;

    let response = app.sign_in("analyst", PASSWORD).await;
    assert!(response.status().is_success() || response.status().is_redirection());
    let cookie = response.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(cookie.starts_with("airdesk_session="), "{cookie}");
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"),
        "{cookie}"
    );

    let listed = app
        .browser
        .get(app.url("/api/v1/actions"))
        .send()
        .await
        .unwrap();
    assert_eq!(listed.status(), 200);
    let page = app.browser.get(app.url("/incidents")).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    // The heading, whatever hydration marker follows its text.
    assert!(html.contains("<h1>Incidents<"), "{html}");

    let out = app
        .browser
        .post(app.url("/rpc/logout"))
        .header("Origin", &app.address)
        .send()
        .await
        .unwrap();
    assert!(out.status().is_success() || out.status().is_redirection());
    let after = app
        .browser
        .get(app.url("/api/v1/actions"))
        .send()
        .await
        .unwrap();
    assert_problem(after, 401).await;
}

#[tokio::test]
async fn a_wrong_password_starts_no_session() {
    let app = spawn_app().await;
    app.user("analyst", Role::SearchAndPurge).await;
    let response = app.sign_in("analyst", "wrong password!").await;
    assert_eq!(response.status(), 401);
    assert!(response.text().await.unwrap().contains("BadCredentials"));
    assert_problem(
        app.browser
            .get(app.url("/api/v1/actions"))
            .send()
            .await
            .unwrap(),
        401,
    )
    .await;
    let response = app.sign_in("nobody", PASSWORD).await;
    assert_eq!(response.status(), 401);
}

#[tokio::test]
async fn a_signed_out_browser_is_sent_to_the_login_page() {
    let app = spawn_app().await;
    let no_redirects = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    for page in ["/", "/incidents", "/action-center?tab=history"] {
        let response = no_redirects.get(app.url(page)).send().await.unwrap();
        assert_eq!(response.status(), 303, "{page}");
        let location = response.headers()["location"].to_str().unwrap();
        assert!(location.starts_with("/login?next=%2F"), "{location}");
    }
    let login = no_redirects.get(app.url("/login")).send().await.unwrap();
    assert_eq!(login.status(), 200);
    let html = login.text().await.unwrap();
    assert!(
        html.contains(">Username<") && html.contains(">Password<") && html.contains(">Sign in<")
    );
}

#[tokio::test]
async fn cross_site_state_changes_are_refused() {
    let app = spawn_app().await;
    app.user("analyst", Role::SearchAndPurge).await;
    app.sign_in("analyst", PASSWORD).await;
    let forged = app
        .browser
        .request(Method::POST, app.url("/api/v1/investigations"))
        .header("Origin", "http://evil.test")
        .header("Sec-Fetch-Site", "cross-site")
        .json(&api_md_example())
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 403);
    let forged_logout = app
        .browser
        .post(app.url("/rpc/logout"))
        .header("Origin", "http://evil.test")
        .header("Sec-Fetch-Site", "cross-site")
        .send()
        .await
        .unwrap();
    assert_eq!(forged_logout.status(), 403);
    assert_eq!(app.count("SELECT COUNT(*) FROM investigations").await, 0);
    // The session survived the forged sign-out.
    assert_eq!(
        app.browser
            .get(app.url("/api/v1/actions"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    // The same request from the portal's own origin goes through.
    let own = app
        .browser
        .post(app.url("/api/v1/investigations"))
        .header("Origin", &app.address)
        .header("Sec-Fetch-Site", "same-origin")
        .json(&api_md_example())
        .send()
        .await
        .unwrap();
    assert_eq!(own.status(), 201);
}

#[tokio::test]
async fn server_rendered_pages_escape_attacker_controlled_subjects() {
    let app = spawn_app().await;
    let token = app.token("analyst", Role::SearchAndPurge).await;
    let mut body = api_md_example();
    body["clusters"][0]["messages"][0]["subject"] =
        serde_json::json!("<img src=x onerror=alert(1)>Pay now");
    body["clusters"][0]["messages"][0]["sender"] =
        serde_json::json!("\"><script>alert(2)</script>");
    let created: serde_json::Value = app.ingest(&token, &body).await.json().await.unwrap();
    app.sign_in("analyst", PASSWORD).await;

    let page = app
        .browser
        .get(app.url(&format!(
            "/investigations/{}",
            created["id"].as_str().unwrap()
        )))
        .send()
        .await
        .unwrap();

    let html = page.text().await.unwrap();
    assert!(
        html.contains("&lt;img src=x onerror=alert(1)&gt;Pay now"),
        "subject escaped"
    );
    assert!(!html.contains("<img src=x"), "no live tag from the subject");
    assert!(
        !html.contains("<script>alert(2)"),
        "no live tag from the sender"
    );
}
