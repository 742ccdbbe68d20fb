//! What the OpenAPI document promises is what the server does (issue 15, item 7): the cases
//! Schemathesis found where the two disagreed, each pinned down.

use model::Role;
use serde_json::{json, Value};

use crate::helpers::{api_md_example, spawn_app, TestApp};

async fn document(app: &TestApp) -> Value {
    app.client
        .get(app.url("/api/v1/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// The schema of a query parameter of `GET path`.
fn query_schema<'a>(doc: &'a Value, path: &str, name: &str) -> &'a Value {
    doc["paths"][path]["get"]["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == name && p["in"] == "query")
        .map(|p| &p["schema"])
        .unwrap_or_else(|| panic!("{path} has no query parameter {name}"))
}

fn pattern(schema: &Value) -> regex::Regex {
    regex::Regex::new(schema["pattern"].as_str().expect("a pattern")).unwrap()
}

#[tokio::test]
async fn filters_list_their_words_and_the_blank_that_means_none() {
    let app = spawn_app().await;
    let reader = app.token("reader", Role::Reader).await;
    let doc = document(&app).await;
    for (path, name, word) in [
        ("/api/v1/actions", "status", "pending"),
        ("/api/v1/actions", "type", "soft_delete_cluster"),
        ("/api/v1/actions/export.csv", "status", "completed"),
        (
            "/api/v1/investigations",
            "investigation_type",
            "user_reported",
        ),
        ("/api/v1/incidents", "sort", "severity"),
        ("/api/v1/incidents", "state", "pending_action"),
    ] {
        let words = query_schema(&doc, path, name)["enum"]
            .as_array()
            .unwrap_or_else(|| panic!("{path} {name} lists no words"))
            .clone();
        assert!(words.contains(&json!("")), "{path} {name}");
        assert!(words.contains(&json!(word)), "{path} {name}");
        for value in [String::new(), word.to_string()] {
            let response = app.get(&format!("{path}?{name}={value}"), &reader).await;
            assert_eq!(response.status(), 200, "{path}?{name}={value}");
        }
        let response = app.get(&format!("{path}?{name}=nonsense"), &reader).await;
        assert_eq!(response.status(), 422, "{path}?{name}=nonsense");
    }
    let order = pattern(query_schema(&doc, "/api/v1/incidents", "order"));
    for (value, status) in [("", 200), ("asc", 200), ("desc", 200), ("up", 422)] {
        assert_eq!(order.is_match(value), status == 200);
        let response = app
            .get(&format!("/api/v1/incidents?order={value}"), &reader)
            .await;
        assert_eq!(response.status(), status, "order={value}");
    }
}

#[tokio::test]
async fn an_indicator_the_document_allows_is_taken_and_one_it_forbids_is_not() {
    let app = spawn_app().await;
    let analyst = app.token("analyst", Role::SearchAndPurge).await;
    let doc = document(&app).await;
    let request = &doc["paths"]["/api/v1/indicators"]["post"]["requestBody"]["content"]
        ["application/json"]["schema"]["$ref"];
    assert_eq!(request, "#/components/schemas/NewIndicator");
    let kinds = doc["components"]["schemas"]["NewIndicator"]["oneOf"]
        .as_array()
        .unwrap();
    let url = pattern(&kinds[0]["properties"]["value"]);
    let domain = pattern(&kinds[1]["properties"]["value"]);
    let add = |kind: &str, value: &str, expires_at: Value| {
        app.client
            .post(app.url("/api/v1/indicators"))
            .bearer_auth(&analyst)
            .json(&json!({"kind": kind, "value": value, "verdict": "malicious", "expires_at": expires_at}))
            .send()
    };
    // Found by Schemathesis: a host whose last label is a number is read as an IPv4 address
    // (and refused), so the document wants a letter there; a path of 2,000 characters of
    // `"` would be percent-encoded past the 2,048 kept.
    for (value, allowed) in [
        ("http://invoice.evil.test/pay?x=1", true),
        ("https://A-B.test:8443", true),
        ("http://k.v.9:008", false),
        ("http://xn--a.test/", false),
        ("http://evil.test/\"quoted\"", false),
    ] {
        assert_eq!(url.is_match(value), allowed, "{value}");
        let status = add("url", value, Value::Null).await.unwrap().status();
        if allowed {
            assert_eq!(status, 201, "{value}");
        }
    }
    let long = format!("http://evil.test/{}", "%".repeat(1983));
    assert!(url.is_match(&long) && long.len() == 2000);
    assert_eq!(add("url", &long, Value::Null).await.unwrap().status(), 201);
    // U+0085 is space to the server (and not to ECMA-262's \s): the document agrees.
    let spaced = "\u{85}evil.test";
    assert!(domain.is_match(spaced));
    assert_eq!(
        add("domain", spaced, json!("")).await.unwrap().status(),
        201
    );
    assert!(!domain.is_match("evil\u{85}.test"));
    assert_eq!(
        add("domain", "evil\u{85}.test", Value::Null)
            .await
            .unwrap()
            .status(),
        422
    );
    let listed: Value = app
        .get("/api/v1/indicators", &analyst)
        .await
        .json()
        .await
        .unwrap();
    let kept = listed
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["value"] == "evil.test")
        .expect("the spaced domain, trimmed");
    assert_eq!(kept["expires_at"], Value::Null, "an empty expiry is none");
    assert_eq!(
        add("domain", "evil.test", json!("tomorrow"))
            .await
            .unwrap()
            .status(),
        422
    );
}

#[tokio::test]
async fn a_bulk_decision_with_an_overlong_comment_is_refused_whole() {
    let app = spawn_app().await;
    let token = app.token("analyst", Role::SearchAndPurge).await;
    let created: Value = app
        .ingest(&token, &api_md_example())
        .await
        .json()
        .await
        .unwrap();
    let ids: Vec<Value> = created["actions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["id"].clone())
        .collect();
    let doc = document(&app).await;
    let most = doc["components"]["schemas"]["BulkBody"]["properties"]["comment"]["maxLength"]
        .as_u64()
        .unwrap() as usize;
    for (comment, status) in [(" ".repeat(most + 1), 422), ("x".repeat(most), 200)] {
        let response = app
            .client
            .post(app.url("/api/v1/actions/bulk"))
            .bearer_auth(&token)
            .json(&json!({"decision": "reject", "ids": ids, "comment": comment}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), status);
        if status == 422 {
            let pending = app
                .count("SELECT COUNT(*) FROM actions WHERE status = 'pending'")
                .await;
            assert_eq!(pending, ids.len() as i64, "nothing was decided");
        }
    }
}

/// serde reads a struct from an array of its fields as well; the document allows objects only,
/// and Schemathesis found `[null]` taken as a reject with no comment.
#[tokio::test]
async fn a_body_written_as_an_array_is_refused_and_decides_nothing() {
    let app = spawn_app().await;
    let token = app.token("analyst", Role::SearchAndPurge).await;
    let created: Value = app
        .ingest(&token, &api_md_example())
        .await
        .json()
        .await
        .unwrap();
    let id = created["actions"][0]["id"].as_str().unwrap().to_owned();
    for decision in ["approve", "reject"] {
        for body in [json!([null]), json!(["x"]), json!([])] {
            let response = app.decide(&token, &id, decision, Some(body.clone())).await;
            assert_eq!(response.status(), 422, "{decision} {body}");
            let problem: Value = response.json().await.unwrap();
            assert!(
                problem["detail"].as_str().unwrap().contains("sequence"),
                "{problem}"
            );
        }
    }
    let pending = app
        .count("SELECT COUNT(*) FROM actions WHERE status = 'pending'")
        .await;
    assert_eq!(pending, 2, "nothing was decided");

    // The same investigation as an array of its fields, or with its alert as one.
    let example = api_md_example();
    let fields: Vec<Value> = [
        "title",
        "investigation_type",
        "alert",
        "clusters",
        "forwarding",
    ]
    .iter()
    .map(|f| example[*f].clone())
    .collect();
    let mut alert_as_array = api_md_example();
    alert_as_array["alert"] = json!(["Email reported by user as phish", "high"]);
    for body in [Value::Array(fields), alert_as_array] {
        assert_eq!(app.ingest(&token, &body).await.status(), 422, "{body}");
    }
    let investigations = app.count("SELECT COUNT(*) FROM investigations").await;
    assert_eq!(investigations, 1, "nothing was ingested");

    // JSON null is still a decision with no comment.
    let response = app.decide(&token, &id, "reject", Some(json!(null))).await;
    assert_eq!(response.status(), 200);
}

#[tokio::test]
async fn ingested_addresses_and_message_ids_follow_the_documented_patterns() {
    let app = spawn_app().await;
    let token = app.token("analyst", Role::SearchAndPurge).await;
    let doc = document(&app).await;
    let schemas = &doc["components"]["schemas"];
    let message = &schemas["IngestMessage"]["properties"];
    assert_eq!(
        message["internet_message_id"]["$ref"],
        "#/components/schemas/InternetMessageId"
    );
    let id_pattern = pattern(&schemas["InternetMessageId"]);
    let address_pattern = pattern(&schemas["EmailAddress"]);
    for (id, mailbox) in [
        ("__main__", "alice@example.test"),
        ("<c1@evil.test>", "alice@example.test"),
        ("<c2@evil.test>", "alice@"),
        ("<c3@evil.test>", " Alice@Example.Test\u{2003}"),
    ] {
        let allowed = id_pattern.is_match(id) && address_pattern.is_match(mailbox);
        let mut body = api_md_example();
        body["clusters"][0]["messages"][0]["internet_message_id"] = json!(id);
        body["clusters"][0]["messages"][0]["mailbox"] = json!(mailbox);
        let status = app.ingest(&token, &body).await.status();
        assert_eq!(status == 201, allowed, "{id} {mailbox}: {status}");
    }
}

#[tokio::test]
async fn an_idempotency_key_is_visible_ascii_without_spaces() {
    let app = spawn_app().await;
    let token = app.token("analyst", Role::SearchAndPurge).await;
    let doc = document(&app).await;
    let key_schema = doc["paths"]["/api/v1/investigations"]["post"]["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "Idempotency-Key")
        .map(|p| &p["schema"])
        .unwrap();
    let key_pattern = pattern(key_schema);
    for (key, status) in [
        ("retry-1", 201),
        ("  retry-2\t", 201), // HTTP drops the blanks around a value
        ("retry 3", 400),
        ("retry\t4", 400),
    ] {
        assert_eq!(key_pattern.is_match(key), status == 201, "{key:?}");
        let mut body = api_md_example();
        body["clusters"][0]["cluster_value"] = json!(format!("http://key{status}.evil.test/"));
        let response = app
            .client
            .post(app.url("/api/v1/investigations"))
            .bearer_auth(&token)
            .header("Idempotency-Key", key)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), status, "{key:?}");
    }
    let long = "k".repeat(256);
    assert!(!key_pattern.is_match(&long));
}

/// PostgreSQL text cannot hold NUL: a filter or id carrying one is answered (found nothing, or
/// 422), never a server error, on either engine.
#[tokio::test]
async fn a_nul_in_a_filter_or_an_id_is_answered_not_a_server_error() {
    let app = spawn_app().await;
    let reader = app.token("reader", Role::Reader).await;
    for path in [
        "/api/v1/messages?sender=a%00b",
        "/api/v1/messages?mailbox=a%00b&internet_message_id=%3Ca%00b%3E",
        "/api/v1/actions?investigation_id=a%00b",
        "/api/v1/actions/export.csv?decided_by=a%00b",
        "/api/v1/actions/a%00b",
        "/api/v1/investigations/a%00b",
    ] {
        let status = app.get(path, &reader).await.status().as_u16();
        assert!([200, 404, 422].contains(&status), "{path}: {status}");
    }
}

/// A sender writes the Message-ID: one with a NUL and other control characters inside is
/// indexed on either engine (PostgreSQL text cannot hold NUL, and a failed write would stop
/// the index for everyone), and a report naming it as the header had it still finds it.
#[tokio::test]
async fn a_message_id_with_control_characters_is_indexed_and_reportable() {
    let app = spawn_app().await;
    let reader = app.token("reader", Role::Reader).await;
    app.deliver(
        "alice@example.test",
        "<pay\u{0}\u{1b}[2Jnow@evil.test>",
        "INBOX",
    );
    app.deliver("alice@example.test", "<plain@evil.test>", "INBOX");
    let response = app
        .client
        .post(app.url("/api/v1/reports"))
        .bearer_auth(&reader)
        .json(&json!({"mailbox": "alice@example.test",
                      "internet_message_id": "<pay\u{0}\u{1b}[2Jnow@evil.test>"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 202, "{}", response.text().await.unwrap());
    let rows: Vec<(String,)> = airdesk_core::db::query(
        "SELECT internet_message_id FROM messages WHERE mailbox = 'alice@example.test' ORDER BY 1",
    )
    .fetch_all(&app.db)
    .await
    .unwrap();
    let ids: Vec<String> = rows.into_iter().map(|(id,)| id).collect();
    assert_eq!(ids, ["<pay[2Jnow@evil.test>", "<plain@evil.test>"]);
}
