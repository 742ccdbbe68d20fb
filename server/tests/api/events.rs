//! Events leave airdesk: signed webhooks from the outbox (CloudEvents, Standard Webhooks
//! signatures verified here with our own HMAC), retried while the receiver is away, shown
//! Failed when it never answers well, and never in the way of a decision; `/metrics` parsed
//! by a Prometheus text parser.

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use airdesk_core::events::webhooks::{Endpoint, Format, Secret, WebhookConfig};
use axum::http::{HeaderMap, StatusCode};
use base64::Engine as _;
use hmac::{Hmac, Mac};
use model::Role;
use serde_json::{json, Value};
use sha2::Sha256;

use crate::helpers::{spawn_app_with, TestApp};

/// The key our receiver verifies with (`whsec_` + base64 of these bytes).
const KEY: &[u8] = b"0123456789abcdef0123456789abcdef";

fn whsec() -> String {
    format!(
        "whsec_{}",
        base64::engine::general_purpose::STANDARD.encode(KEY)
    )
}

/// What a receiver got: headers and body of each request.
#[derive(Clone, Default)]
struct Received(Arc<Mutex<Vec<(HeaderMap, String)>>>);

impl Received {
    fn all(&self) -> Vec<(HeaderMap, String)> {
        self.0.lock().unwrap().clone()
    }

    fn bodies(&self) -> Vec<Value> {
        self.all()
            .iter()
            .map(|(_, body)| serde_json::from_str(body).expect("a JSON body"))
            .collect()
    }

    fn types(&self) -> BTreeSet<String> {
        self.bodies()
            .iter()
            .filter_map(|b| b["type"].as_str().map(str::to_string))
            .collect()
    }

    /// Waits (up to 30 s) until `done` holds of what arrived.
    async fn until(&self, what: &str, done: impl Fn(&Received) -> bool) {
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        while !done(self) {
            assert!(
                std::time::Instant::now() < deadline,
                "{what}: not within 30 s; got {:?}",
                self.types()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// A webhook receiver on loopback answering `status` to everything.
async fn receiver_on(listener: tokio::net::TcpListener, status: StatusCode) -> Received {
    let received = Received::default();
    let kept = received.clone();
    let app = axum::Router::new().fallback(move |headers: HeaderMap, body: String| {
        let kept = kept.clone();
        async move {
            kept.0.lock().unwrap().push((headers, body));
            status
        }
    });
    tokio::spawn(async move { axum::serve(listener, app).await });
    received
}

async fn receiver(status: StatusCode) -> (Received, SocketAddr) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    (receiver_on(listener, status).await, address)
}

/// An app sending every event to `address`, retrying quickly.
async fn app_sending_to(address: SocketAddr, retry_for: Duration, format: Format) -> TestApp {
    spawn_app_with(|settings| {
        settings.webhooks = WebhookConfig {
            endpoints: vec![Endpoint::new(
                "receiver".into(),
                &format!("http://{address}/hooks"),
                Some(Secret::parse(&whsec()).unwrap()),
                Vec::new(),
                format,
            )
            .unwrap()],
            backoff: Duration::from_millis(100),
            retry_for,
            timeout: Duration::from_secs(2),
            public_url: "https://airdesk.example.test".into(),
            source: "https://airdesk.example.test".into(),
        };
    })
    .await
}

/// Checks a request as a Standard Webhooks receiver would, with its own HMAC: the signature
/// over `id.timestamp.body`, a recent timestamp, the id the body's.
fn assert_signed(headers: &HeaderMap, body: &str) {
    let header = |name: &str| {
        headers
            .get(name)
            .unwrap_or_else(|| panic!("{name} header"))
            .to_str()
            .unwrap()
            .to_string()
    };
    let id = header("webhook-id");
    let timestamp = header("webhook-timestamp");
    let mut mac = Hmac::<Sha256>::new_from_slice(KEY).unwrap();
    mac.update(format!("{id}.{timestamp}.{body}").as_bytes());
    let expected = format!(
        "v1,{}",
        base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
    );
    let signatures = header("webhook-signature");
    assert!(
        signatures.split(' ').any(|s| s == expected),
        "signature {signatures} is not {expected}"
    );
    let age = chrono::Utc::now().timestamp() - timestamp.parse::<i64>().unwrap();
    assert!((-60..300).contains(&age), "timestamp {age} s old");
    let event: Value = serde_json::from_str(body).unwrap();
    assert_eq!(event["id"], id, "webhook-id is the event's id");
}

/// One cluster action on a message in alice's inbox, indexed; returns the investigation's
/// created JSON.
async fn investigation_of_a_delivered_message(app: &TestApp, token: &str, id: &str) -> Value {
    app.deliver("alice@example.test", id, "INBOX");
    let mut body = crate::helpers::api_md_example();
    body["clusters"][0]["messages"][0]["internet_message_id"] = json!(id);
    let response = app.ingest(token, &body).await;
    assert_eq!(response.status(), 201);
    response.json().await.unwrap()
}

fn action_of(created: &Value, action_type: &str) -> String {
    created["actions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["type"] == action_type)
        .unwrap_or_else(|| panic!("a {action_type} action in {created}"))["id"]
        .as_str()
        .unwrap()
        .to_string()
}

#[tokio::test]
async fn every_event_arrives_signed_as_a_cloudevent() {
    let (received, address) = receiver(StatusCode::NO_CONTENT).await;
    let app = app_sending_to(address, Duration::from_secs(60), Format::Cloudevents).await;
    let token = app.token("analyst", Role::SearchAndPurge).await;

    // Approved and carried out; the forwarding action of the same investigation rejected.
    let first = investigation_of_a_delivered_message(&app, &token, "<w1@evil.test>").await;
    let cluster = action_of(&first, "soft_delete_cluster");
    crate::helpers::approve_at(&app.client, &app.address, &token, &cluster).await;
    assert_eq!(app.settled(&token, &cluster).await["status"], "completed");
    let forwarding = action_of(&first, "turn_off_forwarding");
    let rejected = app.decide(&token, &forwarding, "reject", None).await;
    assert_eq!(rejected.status(), 200);
    // The same cluster again, approved within the hour: a duplicate.
    let again = investigation_of_a_delivered_message(&app, &token, "<w1@evil.test>").await;
    let duplicate = action_of(&again, "soft_delete_cluster");
    let decided: Value =
        crate::helpers::approve_at(&app.client, &app.address, &token, &duplicate).await;
    assert_eq!(decided["status"], "duplicate", "{decided}");
    // A forwarding rule on a mailbox the store does not have: the action fails.
    let failing = action_of(&again, "turn_off_forwarding");
    crate::helpers::approve_at(&app.client, &app.address, &token, &failing).await;
    let ended = app.settled(&token, &failing).await;
    // The policy file changed: reloaded.
    let policy = crate::helpers::lenient_policy(app.dir.path());
    let text = std::fs::read_to_string(&policy).unwrap();
    std::fs::write(&policy, format!("{text}\n# edited\n")).unwrap();
    app.state.policy.reload(&app.db).await.unwrap();

    let mut wanted: Vec<String> = [
        "investigation.started",
        "investigation.pending_action",
        "investigation.ended",
        "action.pending",
        "action.approved",
        "action.rejected",
        "action.duplicate",
        "action.completed",
        "policy.reloaded",
    ]
    .iter()
    .map(|t| format!("airdesk.{t}"))
    .collect();
    wanted.push(format!(
        "airdesk.action.{}",
        ended["status"].as_str().unwrap()
    ));
    received
        .until("every event", |r| {
            let got = r.types();
            wanted.iter().all(|t| got.contains(t))
        })
        .await;

    for (headers, body) in received.all() {
        assert_signed(&headers, &body);
        assert_eq!(
            headers["content-type"], "application/cloudevents+json",
            "structured CloudEvents"
        );
        let event: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(event["specversion"], "1.0");
        assert_eq!(event["source"], "https://airdesk.example.test");
        assert!(event["time"].as_str().unwrap().ends_with('Z'), "{event}");
    }
    // The approval names who decided and which action.
    let approval = received
        .bodies()
        .into_iter()
        .find(|e| e["type"] == "airdesk.action.approved" && e["data"]["id"] == cluster.as_str())
        .expect("the approval's event");
    assert_eq!(approval["subject"], format!("action/{cluster}"));
    assert_eq!(approval["data"]["actor"], "analyst");
    assert_eq!(approval["data"]["before"]["status"], "pending");
    // Each event was written once to the outbox, by the change's own transaction, and each
    // is recorded delivered (the sender records it just after the receiver answered).
    all_delivered(&app).await;
}

/// Waits (up to 30 s) until every outbox event has exactly one delivery, and it is delivered.
async fn all_delivered(app: &TestApp) {
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        let events = sqlx_count(app, "SELECT COUNT(*) FROM outbox").await;
        let delivered = sqlx_count(
            app,
            "SELECT COUNT(*) FROM webhook_deliveries WHERE status = 'delivered'",
        )
        .await;
        let rows = sqlx_count(app, "SELECT COUNT(*) FROM webhook_deliveries").await;
        if events == delivered && rows == events {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{events} events, {rows} deliveries, {delivered} delivered"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn sqlx_count(app: &TestApp, sql: &'static str) -> i64 {
    airdesk_core::db::query(sql).scalar(&app.db).await.unwrap()
}

#[tokio::test]
async fn a_receiver_down_for_a_while_gets_its_events_when_it_is_back() {
    // A port nobody listens on, yet.
    let reserved = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = reserved.local_addr().unwrap();
    drop(reserved);
    let app = app_sending_to(address, Duration::from_secs(120), Format::Cloudevents).await;
    let token = app.token("analyst", Role::SearchAndPurge).await;
    let admin = app.token("admin", Role::Admin).await;
    let created = app.ingest(&token, &crate::helpers::api_md_example()).await;
    assert_eq!(created.status(), 201);

    // Tried, refused at the door, waiting for the next attempt.
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    let waiting = loop {
        let page: Value = app
            .get("/api/v1/webhooks/deliveries?status=pending", &admin)
            .await
            .json()
            .await
            .unwrap();
        let tried: Vec<Value> = page["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|d| d["attempts"].as_i64().unwrap() >= 2)
            .cloned()
            .collect();
        if !tried.is_empty() {
            break tried;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no retried delivery: {page}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(
        waiting[0]["last_error"]
            .as_str()
            .unwrap()
            .contains("connect"),
        "{waiting:?}"
    );
    assert!(waiting[0]["next_attempt_at"].is_string());

    let received = receiver_on(
        tokio::net::TcpListener::bind(address).await.unwrap(),
        StatusCode::OK,
    )
    .await;
    let outbox = sqlx_count(&app, "SELECT COUNT(*) FROM outbox").await;
    assert!(outbox >= 4, "started, pending action, two actions pending");
    received
        .until("every event once the receiver is back", |r| {
            r.all().len() as i64 >= outbox
        })
        .await;
    all_delivered(&app).await;
}

#[tokio::test]
async fn a_receiver_that_always_fails_is_shown_failed_and_never_holds_up_a_decision() {
    let (received, address) = receiver(StatusCode::INTERNAL_SERVER_ERROR).await;
    let app = app_sending_to(address, Duration::from_secs(2), Format::Cloudevents).await;
    let token = app.token("analyst", Role::SearchAndPurge).await;
    let admin = app.token("admin", Role::Admin).await;
    let reader = app.token("reader", Role::Reader).await;
    let ids = app.same_cluster_actions(&token, 3).await;
    for id in &ids {
        let started = std::time::Instant::now();
        let response = app.decide(&token, id, "reject", None).await;
        assert_eq!(response.status(), 200);
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "a decision waited on the receiver"
        );
    }
    received.until("attempts", |r| r.all().len() >= 3).await;

    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        let page: Value = app
            .get(
                "/api/v1/webhooks/deliveries?status=failed&limit=500",
                &admin,
            )
            .await
            .json()
            .await
            .unwrap();
        let failed = page["items"].as_array().unwrap();
        let rejections = failed
            .iter()
            .filter(|d| d["event_type"] == "action.rejected")
            .count();
        if rejections == 3 {
            let one = &failed[0];
            assert_eq!(one["last_status"], 500, "{one}");
            assert_eq!(one["last_error"], "HTTP 500");
            assert!(
                one["attempts"].as_i64().unwrap() >= 2,
                "retried before failing: {one}"
            );
            assert_eq!(one["endpoint"], "receiver");
            break;
        }
        assert!(std::time::Instant::now() < deadline, "not failed: {page}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // Deliveries are the admin's to see.
    assert_eq!(
        app.get("/api/v1/webhooks/deliveries", &reader)
            .await
            .status(),
        403
    );
    assert_eq!(
        app.get("/api/v1/webhooks/deliveries", &token)
            .await
            .status(),
        403
    );
    assert_eq!(
        app.get("/api/v1/webhooks/deliveries?status=lost", &admin)
            .await
            .status(),
        422
    );
}

#[tokio::test]
async fn a_chat_channel_is_told_how_many_actions_wait() {
    let (received, address) = receiver(StatusCode::OK).await;
    let app = app_sending_to(address, Duration::from_secs(60), Format::Slack).await;
    let token = app.token("analyst", Role::SearchAndPurge).await;
    app.same_cluster_actions(&token, 3).await;
    received
        .until("the chat message", |r| {
            r.bodies().iter().any(|b| {
                b["text"]
                    .as_str()
                    .is_some_and(|t| t.starts_with("3 actions pending approval — <https://airdesk.example.test/action-center|Open action center>"))
            })
        })
        .await;
}

/// The figures of one metric family, summed over its labels.
fn total(scrape: &prometheus_parse::Scrape, name: &str) -> f64 {
    scrape
        .samples
        .iter()
        .filter(|s| s.metric == name)
        .map(|s| match &s.value {
            prometheus_parse::Value::Counter(v)
            | prometheus_parse::Value::Gauge(v)
            | prometheus_parse::Value::Untyped(v) => *v,
            prometheus_parse::Value::Histogram(buckets) => {
                buckets.iter().map(|b| b.count).fold(0.0, f64::max)
            }
            prometheus_parse::Value::Summary(_) => 0.0,
        })
        .sum()
}

async fn scrape(app: &TestApp) -> prometheus_parse::Scrape {
    let response = app.client.get(app.url("/metrics")).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let text = response.text().await.unwrap();
    prometheus_parse::Scrape::parse(text.lines().map(|l| Ok(l.to_string())))
        .expect("Prometheus text format")
}

#[tokio::test]
async fn metrics_move_with_decisions_and_name_no_id() {
    let app = spawn_app_with(|_| {}).await;
    let token = app.token("analyst", Role::SearchAndPurge).await;
    let ids = app.same_cluster_actions(&token, 4).await;

    let before = scrape(&app).await;
    assert_eq!(total(&before, "airdesk_pending_actions"), 4.0);
    let decided_before = total(&before, "airdesk_decision_wait_seconds_count");

    app.decide(&token, &ids[0], "approve", None).await;
    app.decide(&token, &ids[1], "reject", None).await;
    app.settled(&token, &ids[0]).await;

    // The remediation histogram is recorded just after execution's commit: give it a moment.
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let after = loop {
        let after = scrape(&app).await;
        if total(&after, "airdesk_remediation_seconds_count") >= 1.0
            || std::time::Instant::now() > deadline
        {
            break after;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(total(&after, "airdesk_pending_actions"), 2.0);
    assert!(
        total(&after, "airdesk_decision_wait_seconds_count") >= decided_before + 2.0,
        "the decision histogram moved"
    );
    assert!(total(&after, "airdesk_remediation_seconds_count") >= 1.0);
    let by_person = after.samples.iter().any(|s| {
        s.metric == "airdesk_decisions_total"
            && s.labels.get("decided_by") == Some("person")
            && s.labels.get("outcome") == Some("rejected")
    });
    assert!(by_person, "decisions by outcome and by who decided");
    let routes: Vec<&str> = after
        .samples
        .iter()
        .filter(|s| {
            s.metric
                .starts_with("airdesk_http_request_duration_seconds")
        })
        .filter_map(|s| s.labels.get("route"))
        .collect();
    assert!(
        routes.contains(&"/api/v1/actions/:id/approve"),
        "request durations by route: {routes:?}"
    );
    assert!(total(&after, "airdesk_jobs") >= 1.0);
    // No id, address or raw path in any label.
    for sample in &after.samples {
        for (name, value) in sample.labels.iter() {
            assert!(
                !value.contains('@') && !ids.iter().any(|id| value.contains(id.as_str())),
                "{} has {name}={value}",
                sample.metric
            );
        }
    }
}
