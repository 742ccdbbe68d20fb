//! The benchmarks' cluster: one campaign's message, and one approved soft delete of it timed
//! from approval to Completed.

use std::time::{Duration, Instant};

use airdesk_core::actions::{decide, Decision, ExecutionConfig, Executor};
use airdesk_core::db::{query, Db};
use airdesk_core::{investigations, AppState, RulesConfig};
use mail::{Backend, Connector};
use model::{ActionStatus, Actor, CurrentUser, IngestInvestigation, Role, Scopes, SystemTask};
use serde_json::json;

/// Mailboxes and copies per mailbox: AIRDESK_BENCH_MAILBOXES and AIRDESK_BENCH_PER_MAILBOX,
/// 100 and 100 unless set.
pub fn size() -> (usize, usize) {
    let env = |name: &str| {
        std::env::var(name)
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(100)
    };
    (
        env("AIRDESK_BENCH_MAILBOXES"),
        env("AIRDESK_BENCH_PER_MAILBOX"),
    )
}

/// The campaign's message as `mailbox` received it.
pub fn message(mailbox: &str, id: &str) -> String {
    format!(
        "Message-ID: {id}\r\nFrom: billing@evil.test\r\nTo: {mailbox}\r\nSubject: Invoice overdue\r\n\
         Date: Fri, 20 Nov 2026 09:00:00 +0000\r\n\r\nPay at http://invoice.evil.test/pay\r\n"
    )
}

/// Ingests the cluster, approves its soft delete and times execution to Completed, with
/// execution's default settings.
pub async fn soft_delete(
    connector: Connector,
    mailboxes: &[String],
    per_mailbox: usize,
) -> Duration {
    soft_delete_with(
        connector,
        mailboxes,
        per_mailbox,
        ExecutionConfig::default(),
    )
    .await
}

/// [`soft_delete`] with these execution settings (how many mailboxes at once, say).
pub async fn soft_delete_with(
    connector: Connector,
    mailboxes: &[String],
    per_mailbox: usize,
    config: ExecutionConfig,
) -> Duration {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::connect(&format!("sqlite://{}/bench.db", dir.path().display()))
        .await
        .unwrap();
    db.migrate().await.unwrap();
    let store = Backend::open(&connector, Default::default(), Default::default()).unwrap();
    let state = AppState::new(db, RulesConfig::default(), store);
    let user = CurrentUser {
        id: "bench".into(),
        username: "bench".into(),
        role: Role::Admin,
        scopes: Scopes::ALL,
    };
    let messages: Vec<_> = mailboxes
        .iter()
        .flat_map(|mailbox| {
            (0..per_mailbox).map(move |n| {
                json!({"mailbox": mailbox, "internet_message_id": format!("<campaign-{n}@evil.test>"),
                       "sender": "billing@evil.test", "subject": "Invoice overdue",
                       "received_at": "2026-11-20T09:00:00Z"})
            })
        })
        .collect();
    let body: IngestInvestigation = serde_json::from_value(json!({
        "title": "Bench campaign", "investigation_type": "url_verdict_change",
        "alert": {"title": "Bench", "severity": "high"},
        "clusters": [{"cluster_by": "url", "cluster_value": "http://invoice.evil.test/pay",
                      "verdict": "malicious", "messages": messages}]
    }))
    .unwrap();
    // The index knows the copies before the investigation names them (as when the playbook
    // builds the cluster): execution then acts on the index's handles.
    let scanned = Instant::now();
    airdesk_core::index::scan(&state).await.unwrap();
    println!("  (index scan first: {:.2?})", scanned.elapsed());
    // Proposed by airdesk's own playbook, as an automated investigation's actions are.
    let created = investigations::ingest(&state, &Actor::System(SystemTask::Playbook), &body)
        .await
        .unwrap();
    let action = created.actions[0].id.clone();
    let executor = Executor::new(state.clone(), config);

    // Over 1,000 copies the default policy wants a second person (four eyes).
    let second = CurrentUser {
        id: "bench2".into(),
        username: "bench2".into(),
        role: Role::Admin,
        scopes: Scopes::ALL,
    };
    let started = Instant::now();
    let first = decide(&state, &user, &action, Decision::Approve, None)
        .await
        .unwrap();
    if first.status == ActionStatus::Pending {
        decide(&state, &second, &action, Decision::Approve, None)
            .await
            .unwrap();
    }
    while executor.run_once().await.unwrap() {}
    let took = started.elapsed();

    let (status, results): (String, i64) = query(
        "SELECT status, (SELECT COUNT(*) FROM action_results WHERE action_id = $1) FROM actions WHERE id = $1",
    )
    .bind(&action)
    .fetch_one(&state.db)
    .await
    .unwrap();
    assert_eq!(status, "completed");
    assert_eq!(results as usize, mailboxes.len() * per_mailbox);
    took
}
