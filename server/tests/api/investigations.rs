//! Ingest and the read endpoints: rows written, actions proposed, pages that hold together.

use model::Role;
use serde_json::{json, Value};

use crate::helpers::{
    api_md_example, assert_problem, signed_in, spawn_app, spawn_app_with, TestApp,
};

#[tokio::test]
async fn the_api_md_example_creates_an_incident_and_two_pending_actions() {
    let app = spawn_app().await;
    let token = app.token("analyst", Role::SearchAndPurge).await;

    let response = app.ingest(&token, &api_md_example()).await;

    assert_eq!(response.status(), 201);
    let created: Value = response.json().await.unwrap();
    assert_eq!(created["status"], "pending_action");
    let actions = created["actions"].as_array().unwrap();
    let types: Vec<&str> = actions
        .iter()
        .map(|a| a["type"].as_str().unwrap())
        .collect();
    assert_eq!(types, ["soft_delete_cluster", "turn_off_forwarding"]);
    assert!(actions
        .iter()
        .all(|a| a["status"] == "pending" && a["source"] == "api"));
    assert_eq!(
        actions[0]["target"]["cluster_value"],
        "http://invoice.evil.test/pay"
    );
    assert_eq!(actions[1]["target"]["mailbox"], "bob@example.test");

    assert_eq!(app.count("SELECT COUNT(*) FROM incidents").await, 1);
    assert_eq!(app.count("SELECT COUNT(*) FROM alerts").await, 1);
    assert_eq!(app.count("SELECT COUNT(*) FROM cluster_messages").await, 1);
    assert_eq!(app.count("SELECT COUNT(*) FROM evidence").await, 2);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM actions WHERE status = 'pending'")
            .await,
        2
    );
    assert_eq!(
        app.count("SELECT pending_action_count FROM incidents")
            .await,
        2
    );
    // One audit event for the investigation and one per proposed action.
    assert_eq!(
        app.count(
            "SELECT COUNT(*) FROM audit_events WHERE entity_kind IN ('investigation', 'action')"
        )
        .await,
        3
    );
}

#[tokio::test]
async fn the_created_investigation_reads_back_whole() {
    let app = spawn_app().await;
    let token = app.token("analyst", Role::SearchAndPurge).await;
    let created: Value = app
        .ingest(&token, &api_md_example())
        .await
        .json()
        .await
        .unwrap();
    let id = created["id"].as_str().unwrap();

    let investigation: Value = app
        .get(&format!("/api/v1/investigations/{id}"), &token)
        .await
        .json()
        .await
        .unwrap();

    assert_eq!(
        investigation["title"],
        "User-reported phish: Invoice overdue"
    );
    assert_eq!(investigation["investigation_type"], "user_reported");
    assert_eq!(investigation["incident_id"], created["incident_id"]);
    let cluster = &investigation["clusters"][0];
    assert_eq!(cluster["email_count"], 1);
    assert_eq!(cluster["verdict"], "malicious");
    assert_eq!(
        cluster["messages"][0]["internet_message_id"],
        "<c1-1@evil.test>"
    );
    assert_eq!(cluster["messages"][0]["location"], "inbox");
    assert_eq!(
        investigation["forwarding"][0]["forward_to"],
        "bob@elsewhere.test"
    );
    assert_eq!(investigation["actions"].as_array().unwrap().len(), 2);
    assert!(investigation["log"].as_array().unwrap().len() >= 3);

    let action_id = created["actions"][0]["id"].as_str().unwrap();
    let action: Value = app
        .get(&format!("/api/v1/actions/{action_id}"), &token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(action["investigation_id"], id);
    assert_eq!(action["duplicate_of"], Value::Null);
    assert_eq!(action["results"], json!([]));
}

#[tokio::test]
async fn forwarding_inside_the_organisation_and_clean_clusters_propose_nothing() {
    let app = spawn_app().await;
    let token = app.token("analyst", Role::SearchAndPurge).await;
    let mut body = api_md_example();
    body["clusters"][0]["verdict"] = json!("clean");
    body["forwarding"][0]["forward_to"] = json!("bob@mail.example.test");

    let created: Value = app.ingest(&token, &body).await.json().await.unwrap();

    assert_eq!(created["status"], "no_threats_found");
    assert_eq!(created["actions"], json!([]));
    assert_eq!(app.count("SELECT COUNT(*) FROM actions").await, 0);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM mailbox_forwarding WHERE NOT external")
            .await,
        1
    );
}

#[tokio::test]
async fn a_second_investigation_of_the_same_cluster_joins_its_incident_with_the_same_key() {
    let app = spawn_app().await;
    let token = app.token("analyst", Role::SearchAndPurge).await;
    let first: Value = app
        .ingest(&token, &api_md_example())
        .await
        .json()
        .await
        .unwrap();
    let mut again = api_md_example();
    again["investigation_type"] = json!("url_verdict_change");
    again["forwarding"] = json!([]);

    let second: Value = app.ingest(&token, &again).await.json().await.unwrap();

    assert_ne!(first["id"], second["id"]);
    assert_eq!(first["incident_id"], second["incident_id"]);
    assert_eq!(
        app.count("SELECT COUNT(DISTINCT cluster_key) FROM email_clusters")
            .await,
        1
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM actions WHERE action_type = 'soft_delete_cluster'")
            .await,
        2
    );
    assert_eq!(
        app.count("SELECT investigation_count FROM incidents").await,
        2
    );
}

#[tokio::test]
async fn pending_actions_page_oldest_first_without_gaps_or_repeats() {
    let app = spawn_app().await;
    let token = app.token("analyst", Role::SearchAndPurge).await;
    for n in 0..3 {
        let mut body = api_md_example();
        body["clusters"][0]["cluster_value"] = json!(format!("http://evil{n}.test/"));
        app.ingest(&token, &body).await;
    }
    let mut seen = Vec::new();
    let mut path = "/api/v1/actions?status=pending&limit=4".to_string();
    loop {
        let page: Value = app.get(&path, &token).await.json().await.unwrap();
        for item in page["items"].as_array().unwrap() {
            // Compared as times, not as text: a time on a whole millisecond is written without
            // its trailing zeros, and "…11.054Z" sorts after "…11.054209Z" as text.
            let created_at = item["created_at"].as_str().unwrap();
            seen.push((
                chrono::DateTime::parse_from_rfc3339(created_at)
                    .unwrap()
                    .to_utc(),
                item["id"].as_str().unwrap().to_string(),
            ));
        }
        match page["next"].as_str() {
            Some(cursor) => {
                path = format!(
                    "/api/v1/actions?status=pending&limit=4&cursor={}",
                    model::urlencode(cursor)
                )
            }
            None => break,
        }
    }
    assert_eq!(seen.len(), 6);
    let mut sorted = seen.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(seen, sorted, "oldest first, each once");
}

#[tokio::test]
async fn list_filters_and_page_sizes_are_checked() {
    let app = spawn_app().await;
    let token = app.token("reader", Role::Reader).await;
    assert_problem(app.get("/api/v1/actions?limit=0", &token).await, 422).await;
    assert_problem(app.get("/api/v1/actions?limit=501", &token).await, 422).await;
    assert_problem(app.get("/api/v1/actions?limit=ten", &token).await, 400).await;
    assert_problem(app.get("/api/v1/actions?status=done", &token).await, 422).await;
    assert_problem(app.get("/api/v1/actions?type=explode", &token).await, 422).await;
    assert_problem(app.get("/api/v1/actions?cursor=garbage", &token).await, 422).await;
    assert_problem(
        app.get("/api/v1/investigations?status=done", &token).await,
        422,
    )
    .await;
    let empty: Value = app
        .get("/api/v1/actions?status=pending&type=hard_delete", &token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(empty, json!({"items": [], "next": null}));
}

#[tokio::test]
async fn a_retry_with_the_same_idempotency_key_changes_nothing() {
    let app = spawn_app().await;
    let token = app.token("analyst", Role::SearchAndPurge).await;
    let send = |body: Value| {
        app.client
            .post(app.url("/api/v1/investigations"))
            .bearer_auth(&token)
            .header("Idempotency-Key", "retry-1")
            .json(&body)
            .send()
    };
    let first = send(api_md_example()).await.unwrap();
    assert_eq!(first.status(), 201);
    let first: Value = first.json().await.unwrap();

    let retry = send(api_md_example()).await.unwrap();
    assert_eq!(retry.status(), 201);
    assert_eq!(retry.headers()["idempotent-replayed"], "true");
    let retry: Value = retry.json().await.unwrap();
    assert_eq!(retry, first);
    assert_eq!(app.count("SELECT COUNT(*) FROM investigations").await, 1);

    let mut other = api_md_example();
    other["title"] = json!("Something else");
    assert_problem(send(other).await.unwrap(), 422).await;
    assert_eq!(app.count("SELECT COUNT(*) FROM investigations").await, 1);
}

#[tokio::test]
async fn the_openapi_document_describes_the_endpoints() {
    let app = spawn_app().await;
    let doc: Value = app
        .client
        .get(app.url("/api/v1/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    for path in [
        "/api/v1/investigations",
        "/api/v1/investigations/{id}",
        "/api/v1/actions",
        "/api/v1/actions/{id}",
        "/api/v1/audit",
    ] {
        assert!(doc["paths"][path].is_object(), "{path} missing");
    }
    assert!(doc["paths"]["/api/v1/investigations"]["post"]["responses"]["422"].is_object());
    assert!(doc["components"]["schemas"]["IngestInvestigation"].is_object());
    assert!(doc["components"]["securitySchemes"]["bearer"].is_object());
}

#[tokio::test]
async fn concurrent_ingests_all_succeed_and_keep_one_audit_chain() {
    let app = spawn_app().await;
    let token = app.token("analyst", Role::SearchAndPurge).await;
    let ingests = (0..16)
        .map(|n| {
            let mut body = api_md_example();
            body["clusters"][0]["cluster_value"] = json!(format!("http://wave{n}.evil.test/"));
            ("/api/v1/investigations".to_string(), Some(body))
        })
        .collect();
    for (status, _) in app.post_concurrently(&token, ingests).await {
        assert_eq!(status, 201);
    }
    assert_eq!(app.count("SELECT COUNT(*) FROM investigations").await, 16);
    assert_eq!(app.count("SELECT COUNT(*) FROM actions").await, 32);
    assert_eq!(airdesk_core::audit::verify(&app.db).await.unwrap(), None);
}

/// Every sort of the incidents queue pages through all incidents once each, in order, by
/// keyset — including across pages whose boundary falls inside a run of equal keys.
#[tokio::test]
async fn the_incidents_queue_sorts_by_each_column_and_pages_without_gaps() {
    let app = spawn_app().await;
    let token = app.token("analyst", Role::SearchAndPurge).await;
    app.user("reader", Role::Reader).await;
    let severities = ["high", "low", "medium", "informational"];
    for n in 0..11 {
        let mut body = api_md_example();
        body["alert"]["severity"] = json!(severities[n % 4]);
        body["clusters"][0]["cluster_value"] = json!(format!("http://sort-{n}.evil.test/"));
        if n % 3 == 0 {
            body["forwarding"] = json!([]); // one pending action instead of two
        }
        assert_eq!(app.ingest(&token, &body).await.status(), 201);
    }
    let session = signed_in(&app, "reader").await;
    let rank = |s: &str| {
        ["informational", "low", "medium", "high"]
            .iter()
            .position(|w| *w == s)
    };

    for (sort, ascending) in [
        ("severity", false),
        ("severity", true),
        ("pending_actions", false),
        ("first_activity", true),
        ("last_activity", false),
    ] {
        let mut seen: Vec<Value> = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let page: Value = session
                .post(app.url("/rpc/list_incidents"))
                .header("Origin", &app.address)
                .json(&json!({"query": {"sort": sort, "ascending": ascending, "limit": 3, "cursor": cursor}}))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            seen.extend(page["items"].as_array().unwrap().iter().cloned());
            match page["next"].as_str() {
                Some(next) => cursor = Some(next.to_string()),
                None => break,
            }
        }
        let ids: std::collections::BTreeSet<&str> =
            seen.iter().map(|i| i["id"].as_str().unwrap()).collect();
        assert_eq!(
            (seen.len(), ids.len()),
            (11, 11),
            "{sort}: each incident once"
        );
        let key = |i: &Value| -> (String, String) {
            let k = match sort {
                "severity" => format!("{}", rank(i["severity"].as_str().unwrap()).unwrap()),
                "pending_actions" => format!("{:03}", i["pending_action_count"].as_i64().unwrap()),
                "first_activity" => fixed_width(i["first_activity_at"].as_str().unwrap()),
                _ => fixed_width(i["last_activity_at"].as_str().unwrap()),
            };
            (k, i["id"].as_str().unwrap().to_string())
        };
        let keys: Vec<_> = seen.iter().map(key).collect();
        let mut expected = keys.clone();
        expected.sort();
        if !ascending {
            expected.reverse();
        }
        assert_eq!(keys, expected, "{sort} ascending={ascending}");
    }
    assert_eq!(
        seen_first_severity(&session, &app).await,
        "high",
        "the most severe comes first by default"
    );
}

async fn seen_first_severity(session: &reqwest::Client, app: &crate::helpers::TestApp) -> String {
    let page: Value = session
        .post(app.url("/rpc/list_incidents"))
        .header("Origin", &app.address)
        .json(&json!({"query": {"sort": "severity"}}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    page["items"][0]["severity"].as_str().unwrap().to_string()
}

/// The incident page reads every investigation of an incident in a few set queries and lists
/// their evidence: each piece belongs to the investigation that found it and carries the
/// action answering it, never another investigation's.
/// Moves an ingested investigation into this incident, as a merge of incidents leaves it.
async fn gather(app: &TestApp, incident: &str, created: &Value) {
    airdesk_core::db::query("UPDATE investigations SET incident_id = $1 WHERE id = $2")
        .bind(incident)
        .bind(created["id"].as_str().unwrap())
        .execute(&app.db)
        .await
        .unwrap();
}

/// The incident page's data as the portal asks for it, signed in as the analyst.
async fn incident_page(app: &TestApp, incident: &str) -> reqwest::Response {
    app.sign_in("analyst", crate::helpers::PASSWORD).await;
    let response = app
        .browser
        .post(app.url("/rpc/get_incident"))
        .header("Origin", &app.address)
        .json(&json!({ "id": incident }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    response
}

#[tokio::test]
async fn the_incident_page_gives_each_investigation_its_own_evidence_and_actions() {
    let app = spawn_app().await;
    let token = app.token("analyst", Role::SearchAndPurge).await;
    let mut second = api_md_example();
    second["title"] = json!("Second wave");
    second["clusters"][0]["cluster_value"] = json!("http://second.evil.test/pay");
    second["forwarding"][0]["mailbox"] = json!("carol@example.test");
    let first: Value = app
        .ingest(&token, &api_md_example())
        .await
        .json()
        .await
        .unwrap();
    let other: Value = app.ingest(&token, &second).await.json().await.unwrap();
    let incident = first["incident_id"].as_str().unwrap();
    gather(&app, incident, &other).await;

    let response = incident_page(&app, incident).await;
    let detail: Value = response.json().await.unwrap();
    let investigations = detail["investigations"].as_array().unwrap();
    let titles: Vec<&str> = investigations
        .iter()
        .map(|i| i["title"].as_str().unwrap())
        .collect();
    assert_eq!(
        titles,
        ["User-reported phish: Invoice overdue", "Second wave"]
    );
    let evidence = detail["evidence"].as_array().unwrap();
    assert_eq!(evidence.len(), 4, "{evidence:?}");
    for (created, (url, mailbox)) in [&first, &other].into_iter().zip([
        ("http://invoice.evil.test/pay", "bob@example.test"),
        ("http://second.evil.test/pay", "carol@example.test"),
    ]) {
        let id = created["id"].as_str().unwrap();
        let actions = created["actions"].as_array().unwrap();
        let mine: Vec<&Value> = evidence
            .iter()
            .filter(|e| e["investigation_id"] == id)
            .collect();
        assert_eq!(mine.len(), 2, "{evidence:?}");
        assert_eq!(mine[0]["kind"], "email_cluster");
        assert_eq!(mine[0]["entity"], format!("URL: {url}"));
        assert_eq!(mine[0]["action"]["id"], actions[0]["id"]);
        assert_eq!(mine[0]["action"]["status"], "pending");
        assert_eq!(mine[1]["kind"], "mailbox");
        assert_eq!(
            mine[1]["entity"],
            format!("{mailbox} forwards to bob@elsewhere.test")
        );
        assert_eq!(mine[1]["action"]["id"], actions[1]["id"]);
        assert_eq!(mine[1]["action"]["action_type"], "turn_off_forwarding");
        let brief = investigations.iter().find(|i| i["id"] == id).unwrap();
        assert_eq!(brief["alert"]["investigation_id"], id);
    }
}

/// The incident page reads evidence and answering actions in its own queries; each
/// investigation's page makes the same rows from the investigation read whole. They must
/// agree on everything a row and its flyout show: a duplicate's details, who a four-eyes
/// action still waits for, one turn-off answering a mailbox that forwards two ways.
#[tokio::test]
async fn the_incident_page_shows_the_evidence_each_investigation_page_shows() {
    let app = spawn_app_with(|settings| {
        settings.execution.workers = 0;
        let dir = settings.mail_root().unwrap().parent().unwrap().to_owned();
        let path = dir.join("policy.toml");
        std::fs::write(
            &path,
            "[[rules]]\nname = \"two-for-forwarding\"\n\
             when = 'action_type == \"turn_off_forwarding\"'\nthen = \"require_two_approvals\"\n",
        )
        .unwrap();
        settings.policy = Some(path);
    })
    .await;
    let siem = app.token("siem", Role::SearchAndPurge).await;
    let analyst = app.token("analyst", Role::SearchAndPurge).await;
    let mut first = api_md_example();
    first["forwarding"] = json!([
        {"mailbox": "bob@example.test", "forward_to": "bob@elsewhere.test", "verdict": "suspicious"},
        {"mailbox": "bob@example.test", "forward_to": "drop@evil.test", "verdict": "malicious"},
        {"mailbox": "carol@example.test", "forward_to": "carol@elsewhere.test", "verdict": "suspicious"},
    ]);
    let mut second = api_md_example();
    second["title"] = json!("The same campaign, again");
    second["forwarding"] = json!([]);
    let first: Value = app.ingest(&siem, &first).await.json().await.unwrap();
    let second: Value = app.ingest(&siem, &second).await.json().await.unwrap();
    let incident = first["incident_id"].as_str().unwrap();
    gather(&app, incident, &second).await;
    let action_of = |created: &Value, kind: &str, mailbox: Option<&str>| -> String {
        created["actions"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["type"] == kind && mailbox.is_none_or(|m| a["target"]["mailbox"] == m))
            .unwrap_or_else(|| panic!("no {kind} in {created}"))["id"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    for (created, kind, mailbox, status) in [
        (&first, "soft_delete_cluster", None, "approved"),
        (&second, "soft_delete_cluster", None, "duplicate"),
        (
            &first,
            "turn_off_forwarding",
            Some("bob@example.test"),
            "pending",
        ),
    ] {
        let id = action_of(created, kind, mailbox);
        let decided: Value = app
            .decide(&analyst, &id, "approve", None)
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(decided["status"], status, "{decided}");
    }

    let response = incident_page(&app, incident).await;
    let detail: model::IncidentDetail = response.json().await.unwrap();
    assert_eq!(detail.evidence.len(), 5, "{:#?}", detail.evidence);
    for created in [&first, &second] {
        let id = created["id"].as_str().unwrap();
        let whole: model::Investigation = app
            .get(&format!("/api/v1/investigations/{id}"), &analyst)
            .await
            .json()
            .await
            .unwrap();
        let shown: Vec<&model::EvidenceRow> = detail
            .evidence
            .iter()
            .filter(|e| e.investigation_id == id)
            .collect();
        let own = model::EvidenceRow::of(&whole);
        assert_eq!(shown, own.iter().collect::<Vec<_>>(), "{id}");
    }

    // What the agreement is about, so that it cannot hold by both sides showing nothing.
    let answered = |entity: &str| {
        let row = detail
            .evidence
            .iter()
            .find(|e| e.entity.starts_with(entity));
        row.and_then(|e| e.action.clone())
            .unwrap_or_else(|| panic!("{entity} unanswered"))
    };
    let bob_two_ways: Vec<_> = detail
        .evidence
        .iter()
        .filter(|e| e.entity.starts_with("bob@example.test forwards"))
        .map(|e| e.action.as_ref().map(|a| a.id.clone()))
        .collect();
    assert_eq!(bob_two_ways.len(), 2);
    assert_eq!(
        bob_two_ways[0], bob_two_ways[1],
        "one turn-off for the mailbox"
    );
    let bob = answered("bob@example.test forwards");
    assert_eq!(
        bob.awaiting.as_deref(),
        Some("Awaiting second approval — approved by analyst")
    );
    assert_eq!(bob.details, bob.awaiting);
    let duplicate = detail
        .evidence
        .iter()
        .filter_map(|e| e.action.clone())
        .find(|a| a.status == model::ActionStatus::Duplicate)
        .expect("the second cluster's duplicate");
    assert!(
        duplicate
            .details
            .as_deref()
            .is_some_and(|d| d.starts_with("De-duplicated") && d.contains("by analyst")),
        "{duplicate:?}"
    );
    assert_eq!(answered("carol@").status, model::ActionStatus::Pending);
}

/// A time as fixed-width text, so that text order is time order: a time on a whole millisecond
/// is written without its trailing zeros, and "…11.054Z" sorts after "…11.054209Z" as text.
fn fixed_width(time: &str) -> String {
    chrono::DateTime::parse_from_rfc3339(time)
        .unwrap()
        .to_utc()
        .format("%Y-%m-%dT%H:%M:%S%.6fZ")
        .to_string()
}
