//! What airdesk counts for Prometheus (`GET /metrics`), named in one place. Recorded through
//! the `metrics` facade — the server installs the exporter; without one, recording costs
//! nothing. Labels come only from closed vocabularies (action types and statuses, who kind
//! of decider, connector kinds, routes): never an id or an address, so the number of series
//! stays bounded whatever attackers put in mail.

use std::time::Duration;

use chrono::{DateTime, Utc};
use metrics::{counter, gauge, histogram};

use crate::db::{self, query, Db};
use model::{ActionStatus, ActionType, Actor, AppError};

/// Buckets of the waiting and remediation histograms, in seconds: a minute to a week.
pub const WAIT_BUCKETS: &[f64] = &[
    60.0,
    300.0,
    900.0,
    1800.0,
    3600.0,
    4.0 * 3600.0,
    12.0 * 3600.0,
    86400.0,
    3.0 * 86400.0,
    7.0 * 86400.0,
];

/// Buckets of the HTTP request histogram, in seconds.
pub const HTTP_BUCKETS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
];

/// Which kind of decider: a person, a policy rule, or airdesk itself (expiry).
pub fn decider_kind(actor: &Actor) -> &'static str {
    match actor {
        Actor::User(_) => "person",
        Actor::Policy(_) => "policy",
        _ => "system",
    }
}

/// A pending action decided: by whom (kind), to what, after waiting how long.
pub(crate) fn decided(
    action_type: Option<ActionType>,
    outcome: ActionStatus,
    actor: &Actor,
    waited: Duration,
) {
    let decided_by = decider_kind(actor);
    let action_type = action_type.map_or("unknown", ActionType::as_str);
    counter!("airdesk_decisions_total", "outcome" => outcome.as_str(), "decided_by" => decided_by, "action_type" => action_type)
        .increment(1);
    histogram!("airdesk_decision_wait_seconds", "outcome" => outcome.as_str(), "decided_by" => decided_by)
        .record(waited.as_secs_f64());
}

/// An action's execution ended: how long from its alert (the proposal) to remediation.
pub(crate) fn remediated(action_type: Option<ActionType>, outcome: ActionStatus, took: Duration) {
    let action_type = action_type.map_or("unknown", ActionType::as_str);
    counter!("airdesk_actions_finished_total", "outcome" => outcome.as_str(), "action_type" => action_type)
        .increment(1);
    histogram!("airdesk_remediation_seconds", "outcome" => outcome.as_str())
        .record(took.as_secs_f64());
}

/// A mail store operation failed: `unavailable` (retried) or `refused`.
pub(crate) fn connector_error(backend: &'static str, operation: &'static str, kind: &'static str) {
    counter!("airdesk_connector_errors_total", "backend" => backend, "operation" => operation, "kind" => kind)
        .increment(1);
}

/// The kind of a mail store error, as a label.
pub(crate) fn store_error_kind(error: &mail::StoreError) -> &'static str {
    match error {
        mail::StoreError::Unavailable(_) => "unavailable",
        mail::StoreError::Refused(_) => "refused",
    }
}

/// A webhook attempt's result: delivered, pending (will retry) or failed (gave up).
pub(crate) fn webhook_attempt(result: &'static str) {
    counter!("airdesk_webhook_deliveries_total", "result" => result).increment(1);
}

/// When this instance last finished a scan of the whole store (unix seconds; 0: never).
static LAST_SCAN: std::sync::atomic::AtomicI64 = std::sync::atomic::AtomicI64::new(0);

/// A scan of the whole store finished now.
pub(crate) fn index_scanned() {
    let now = Utc::now().timestamp();
    LAST_SCAN.store(now, std::sync::atomic::Ordering::Relaxed);
    gauge!("airdesk_index_last_scan_timestamp_seconds").set(now as f64);
}

/// One HTTP request served, by its route's pattern (`/api/v1/actions/{id}`, never the id).
pub fn http_request(method: &str, route: &str, status: u16, took: Duration) {
    let class = match status {
        100..=199 => "1xx",
        200..=299 => "2xx",
        300..=399 => "3xx",
        400..=499 => "4xx",
        _ => "5xx",
    };
    histogram!("airdesk_http_request_duration_seconds", "method" => method.to_string(), "route" => route.to_string(), "status" => class)
        .record(took.as_secs_f64());
}

/// Age buckets of pending actions, as labels: upper bounds in seconds.
const AGE_BUCKETS: &[(&str, i64)] = &[
    ("lt_1h", 3600),
    ("1h_to_1d", 86400),
    ("1d_to_3d", 3 * 86400),
    ("3d_to_7d", 7 * 86400),
    ("ge_7d", i64::MAX),
];

/// Sets the gauges read from the database (every instance reads the same figures): pending
/// actions by type and age, the oldest pending, jobs by status, index lag. Called on each
/// scrape.
pub async fn refresh(db: &Db) -> Result<(), AppError> {
    let now = db::now();
    let pending: Vec<(String, DateTime<Utc>)> =
        query("SELECT action_type, created_at FROM actions WHERE status = 'pending'")
            .fetch_all(db)
            .await?;
    let mut oldest: Option<DateTime<Utc>> = None;
    for action_type in ActionType::ALL {
        for (label, _) in AGE_BUCKETS {
            gauge!("airdesk_pending_actions", "action_type" => action_type.as_str(), "age" => *label).set(0.0);
        }
    }
    let mut counts: std::collections::HashMap<(&'static str, &'static str), f64> =
        std::collections::HashMap::new();
    for (action_type, created_at) in &pending {
        let Some(action_type) = ActionType::parse(action_type) else {
            continue;
        };
        let age = (now - *created_at).num_seconds();
        let bucket = AGE_BUCKETS
            .iter()
            .find(|(_, upper)| age < *upper)
            .map_or("ge_7d", |(label, _)| label);
        *counts.entry((action_type.as_str(), bucket)).or_default() += 1.0;
        oldest = Some(oldest.map_or(*created_at, |o| o.min(*created_at)));
    }
    for ((action_type, age), count) in counts {
        gauge!("airdesk_pending_actions", "action_type" => action_type, "age" => age).set(count);
    }
    gauge!("airdesk_oldest_pending_action_age_seconds")
        .set(oldest.map_or(0.0, |o| (now - o).num_milliseconds() as f64 / 1000.0));
    let last_scan = LAST_SCAN.load(std::sync::atomic::Ordering::Relaxed);
    if last_scan > 0 {
        gauge!("airdesk_index_lag_seconds").set((now.timestamp() - last_scan).max(0) as f64);
    }
    let jobs: Vec<(String, i64)> = query("SELECT status, COUNT(*) FROM jobs GROUP BY status")
        .fetch_all(db)
        .await?;
    for status in ["queued", "running", "failed", "done"] {
        let count = jobs
            .iter()
            .find(|(s, _)| s == status)
            .map_or(0, |(_, n)| *n);
        gauge!("airdesk_jobs", "status" => status).set(count as f64);
    }
    let webhooks: Vec<(String, i64)> = query(
        "SELECT status, COUNT(*) FROM webhook_deliveries WHERE status <> 'delivered' GROUP BY status",
    )
    .fetch_all(db)
    .await?;
    for status in ["pending", "failed"] {
        let count = webhooks
            .iter()
            .find(|(s, _)| s == status)
            .map_or(0, |(_, n)| *n);
        gauge!("airdesk_webhook_deliveries_waiting", "status" => status).set(count as f64);
    }
    Ok(())
}
