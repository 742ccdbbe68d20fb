//! Webhooks: each configured endpoint receives the outbox's events it asked for, at least
//! once, as CloudEvents 1.0 JSON signed per the Standard Webhooks scheme — or, for a chat
//! channel, as a Slack/Teams-compatible message. Delivery is two steps on the database, so
//! every instance can send and none sends twice at once: an endpoint's cursor is moved along
//! the outbox, leaving a delivery row per event it wants ([`fan_out`]); senders then claim due
//! rows with a lease, send, and record the answer — retried with backoff until the event is
//! `retry_for` old, then Failed, visibly ([`list`]). Nothing here runs in a decision's
//! transaction: a receiver that is down never slows an approval.

use std::time::Duration;

use chrono::{DateTime, Utc};

mod deliveries;
mod endpoint;
mod send;

pub use deliveries::list;
pub use endpoint::{Endpoint, Format, Secret};
pub use send::{cloudevent, send};

use super::cursor;
use crate::db::{self, query, Db};
use crate::{new_id, AppState};
use model::AppError;

/// How webhooks are delivered.
#[derive(Clone, Debug)]
pub struct WebhookConfig {
    pub endpoints: Vec<Endpoint>,
    /// The first retry's wait; each next one waits twice as long, up to an hour.
    pub backoff: Duration,
    /// How long after the event it is still retried; Failed after that.
    pub retry_for: Duration,
    /// One attempt's limit.
    pub timeout: Duration,
    /// The portal's address as people reach it, for links in the events.
    pub public_url: String,
    /// The CloudEvents `source`.
    pub source: String,
}

impl Default for WebhookConfig {
    fn default() -> Self {
        WebhookConfig {
            endpoints: Vec::new(),
            backoff: Duration::from_secs(5),
            retry_for: Duration::from_secs(24 * 3600),
            timeout: Duration::from_secs(10),
            public_url: "http://127.0.0.1:3000".into(),
            source: "airdesk".into(),
        }
    }
}

/// Starts each endpoint at the outbox's end, the first time it is seen: an endpoint hears of
/// what happens after it was configured, not of the whole history.
pub async fn register(db: &Db, endpoints: &[Endpoint]) -> Result<(), AppError> {
    for endpoint in endpoints {
        cursor::start_at_end(db, &consumer(endpoint)).await?;
    }
    Ok(())
}

fn consumer(endpoint: &Endpoint) -> String {
    format!("webhook:{}", endpoint.name)
}

/// Outbox rows an endpoint's cursor moves over at a time.
const FAN_OUT_BATCH: i64 = 500;

/// Moves the endpoint's cursor along the outbox, leaving a due delivery for each event it
/// wants; answers how many events it passed. Two instances doing it at once leave one row
/// per event (the unique key) and one of them moves the cursor.
pub async fn fan_out(
    db: &Db,
    endpoint: &Endpoint,
    config: &WebhookConfig,
) -> Result<usize, AppError> {
    let name = consumer(endpoint);
    let Some(from) = cursor::position(db, &name).await? else {
        return Ok(0);
    };
    let events: Vec<(i64, String, DateTime<Utc>)> =
        query("SELECT seq, type, at FROM outbox WHERE seq > $1 ORDER BY seq LIMIT $2")
            .bind(from)
            .bind(FAN_OUT_BATCH)
            .fetch_all(db)
            .await?;
    let Some(last) = events.last().map(|(seq, _, _)| *seq) else {
        return Ok(0);
    };
    let now = db::now();
    let wanted: Vec<&(i64, String, DateTime<Utc>)> = events
        .iter()
        .filter(|(_, t, _)| endpoint.wants(t))
        .collect();
    let mut tx = db.write_rows().await?;
    if !cursor::advance(&mut tx, &name, from, last).await? {
        // Another instance moved it meanwhile and left these rows.
        return Ok(0);
    }
    for chunk in wanted.chunks(200) {
        let mut insert = query(
            "INSERT INTO webhook_deliveries (id, endpoint, event_seq, status, attempts,
                 next_attempt_at, give_up_at, created_at, updated_at) VALUES ",
        );
        for (i, (seq, _, at)) in chunk.iter().enumerate() {
            insert.push(if i == 0 { "(" } else { ", (" });
            insert.push_bind(new_id()).push(", ");
            insert.push_bind(endpoint.name.as_str()).push(", ");
            insert.push_bind(*seq).push(", 'pending', 0, ");
            insert.push_bind(now).push(", ");
            insert
                .push_bind(*at + chrono_duration(config.retry_for))
                .push(", ");
            insert.push_bind(now).push(", ");
            insert.push_bind(now).push(")");
        }
        insert.push(" ON CONFLICT (endpoint, event_seq) DO NOTHING");
        insert.execute(&mut tx).await?;
    }
    tx.commit().await?;
    Ok(events.len())
}

fn chrono_duration(d: Duration) -> chrono::Duration {
    chrono::Duration::from_std(d).unwrap_or(chrono::Duration::MAX)
}

/// A delivery a sender holds.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Due {
    pub id: String,
    pub endpoint: String,
    pub attempts: i64,
    pub give_up_at: DateTime<Utc>,
    pub lease_until: DateTime<Utc>,
    pub event_id: String,
    pub event_type: String,
    pub event_at: DateTime<Utc>,
    pub subject_kind: String,
    pub subject: String,
    pub actor: String,
    pub data: String,
}

/// How long a sender holds a claimed delivery: beyond one attempt's timeout, so a live
/// sender's row is never taken over, and short enough that a dead sender's comes back soon.
fn lease(config: &WebhookConfig) -> Duration {
    config.timeout * 3 + Duration::from_secs(5)
}

/// Claims up to `limit` due deliveries of these endpoints.
pub async fn claim(db: &Db, config: &WebhookConfig, limit: i64) -> Result<Vec<Due>, AppError> {
    let now = db::now();
    let names: Vec<&str> = config.endpoints.iter().map(|e| e.name.as_str()).collect();
    if names.is_empty() {
        return Ok(Vec::new());
    }
    // Idle senders look without a write transaction (every instance polls).
    let mut look = query(
        "SELECT COUNT(*) FROM webhook_deliveries
         WHERE status = 'pending' AND next_attempt_at <= $1
           AND (lease_until IS NULL OR lease_until < $1) AND endpoint IN (",
    )
    .bind(now);
    look.push_list(names.iter().copied()).push(")");
    let waiting: i64 = look.scalar(db).await?;
    if waiting == 0 {
        return Ok(Vec::new());
    }
    let mut tx = db.write_rows().await?;
    let skip_locked = tx.skip_locked();
    let mut select = query(
        "SELECT id FROM webhook_deliveries
         WHERE status = 'pending' AND next_attempt_at <= $1
           AND (lease_until IS NULL OR lease_until < $1) AND endpoint IN (",
    )
    .bind(now);
    select.push_list(names.iter().copied());
    select.push(") ORDER BY next_attempt_at, id LIMIT ");
    select.push_bind(limit);
    select.push(skip_locked);
    let ids: Vec<String> = select.scalars(&mut tx).await?;
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let until = now + chrono_duration(lease(config));
    let mut update = query("UPDATE webhook_deliveries SET lease_until = ");
    update
        .push_bind(until)
        .push(", attempts = attempts + 1, updated_at = ");
    update.push_bind(now).push(" WHERE id IN (");
    update.push_list(ids.iter().map(String::as_str)).push(")");
    update.execute(&mut tx).await?;
    let mut read = query(
        "SELECT d.id, d.endpoint, d.attempts, d.give_up_at, d.lease_until, o.id AS event_id,
                o.type AS event_type, o.at AS event_at, o.subject_kind, o.subject, o.actor, o.data
         FROM webhook_deliveries d JOIN outbox o ON o.seq = d.event_seq WHERE d.id IN (",
    );
    read.push_list(ids.iter().map(String::as_str)).push(")");
    let due: Vec<Due> = read.fetch_all(&mut tx).await?;
    tx.commit().await?;
    Ok(due)
}

/// What one attempt came to.
#[derive(Debug, Clone, PartialEq)]
pub enum Attempt {
    Delivered(u16),
    /// An answer other than 2xx.
    Refused(u16),
    /// No answer: connection refused, timeout, TLS.
    Unreachable(String),
}

/// Records an attempt on a delivery this sender still holds: Delivered, or due again after
/// the backoff, or Failed once the event is too old to retry.
pub async fn record(
    db: &Db,
    config: &WebhookConfig,
    due: &Due,
    attempt: &Attempt,
) -> Result<(), AppError> {
    let now = db::now();
    let (status, code, error) = match attempt {
        Attempt::Delivered(code) => ("delivered", Some(i64::from(*code)), None),
        Attempt::Refused(code) => (
            "pending",
            Some(i64::from(*code)),
            Some(format!("HTTP {code}")),
        ),
        Attempt::Unreachable(why) => ("pending", None, Some(why.clone())),
    };
    let next = now + chrono_duration(backoff(config.backoff, due.attempts));
    let status = if status == "pending" && next > due.give_up_at {
        "failed"
    } else {
        status
    };
    crate::metrics::webhook_attempt(status);
    let mut tx = db.write_rows().await?;
    query(
        "UPDATE webhook_deliveries SET status = $3, last_status = $4, last_error = $5,
                next_attempt_at = $6, lease_until = NULL, updated_at = $7
         WHERE id = $1 AND lease_until = $2",
    )
    .bind(&due.id)
    .bind(due.lease_until)
    .bind(status)
    .bind(code)
    .bind(error)
    .bind(next)
    .bind(now)
    .execute(&mut tx)
    .await?;
    tx.commit().await?;
    if status == "failed" {
        tracing::warn!(
            endpoint = due.endpoint,
            event = due.event_id,
            "webhook delivery failed for good"
        );
    }
    Ok(())
}

/// The wait before attempt `attempts + 1`: `first`, doubling, at most an hour.
pub fn backoff(first: Duration, attempts: i64) -> Duration {
    let doublings = u32::try_from(attempts.saturating_sub(1).clamp(0, 20)).unwrap_or(20);
    first
        .saturating_mul(2u32.saturating_pow(doublings))
        .min(Duration::from_secs(3600))
}

/// Deliveries claimed per round.
const CLAIM_BATCH: i64 = 32;

/// Delivers webhooks until the server stops: fans the outbox out to each endpoint, sends
/// what is due (several at once), and waits a little when there is nothing to do.
pub async fn run(state: AppState, config: WebhookConfig) {
    if config.endpoints.is_empty() {
        return;
    }
    let client = match reqwest::Client::builder()
        .user_agent(concat!("airdesk/", env!("CARGO_PKG_VERSION")))
        .redirect(reqwest::redirect::Policy::none())
        .build()
    {
        Ok(client) => client,
        Err(error) => {
            tracing::error!(%error, "webhooks cannot start: no HTTP client");
            return;
        }
    };
    loop {
        let busy = round(&state.db, &client, &config)
            .await
            .unwrap_or_else(|error| {
                tracing::warn!(%error, "webhook round failed; trying again");
                false
            });
        if !busy {
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }
}

/// One round; true when there was work (so the next round starts at once).
async fn round(
    db: &Db,
    client: &reqwest::Client,
    config: &WebhookConfig,
) -> Result<bool, AppError> {
    let mut busy = false;
    for endpoint in &config.endpoints {
        busy |= fan_out(db, endpoint, config).await? > 0;
    }
    let due = claim(db, config, CLAIM_BATCH).await?;
    busy |= !due.is_empty();
    let sends = due.iter().map(|due| async move {
        let Some(endpoint) = config.endpoints.iter().find(|e| e.name == due.endpoint) else {
            return Ok(());
        };
        let attempt = send(client, db, endpoint, due, config).await;
        if !matches!(attempt, Attempt::Delivered(_)) {
            tracing::info!(
                endpoint = endpoint.name,
                event = due.event_id,
                attempt = due.attempts,
                ?attempt,
                "webhook not delivered; will retry"
            );
        }
        record(db, config, due, &attempt).await
    });
    for result in futures_util::future::join_all(sends).await {
        result?;
    }
    Ok(busy)
}

#[cfg(test)]
mod tests;
