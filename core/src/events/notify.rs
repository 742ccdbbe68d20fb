//! Telling reporters what came of their report: when an investigation that users reported
//! ends, each reporter (an address) gets one email through the SMTP relay, from the template
//! of its outcome — Malicious: removed from N mailboxes; Clean: safe, left where it was; No
//! threats found. It is a consumer of the outbox like a webhook endpoint: `investigation.ended`
//! events become notification rows — one per reporter per investigation, whatever happens
//! later — rendered when the investigation ended, and sent, retried and given up on like
//! deliveries.

use std::time::Duration;

use chrono::{DateTime, Utc};
use lettre::message::header::ContentType;
use lettre::message::Mailbox;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

mod relay;
mod templates;

pub use relay::{Relay, StartTls};
pub use templates::{Template, Templates};

use super::{cursor, has_ended};
use crate::db::{self, query, Db};
use crate::{new_id, AppState};
use model::{AppError, EmailAddress, InvestigationStatus};

/// How reporters are told.
#[derive(Debug, Clone)]
pub struct NotifyConfig {
    pub relay: Relay,
    pub from: Mailbox,
    pub templates: Templates,
    pub public_url: String,
    pub backoff: Duration,
    pub retry_for: Duration,
    pub timeout: Duration,
}

/// The outbox consumer's name.
const CONSUMER: &str = "notifier";

/// Starts the notifier at the outbox's end the first time: reports whose investigations ended
/// before notifications were turned on are not told now.
pub async fn register(db: &Db) -> Result<(), AppError> {
    cursor::start_at_end(db, CONSUMER).await
}

/// What an investigation came to, for its reporters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Malicious { mailboxes: i64 },
    Clean,
    NoThreats,
}

async fn outcome(db: &Db, investigation_id: &str) -> Result<Outcome, AppError> {
    let statuses: Vec<String> =
        query("SELECT DISTINCT status FROM actions WHERE investigation_id = $1")
            .bind(investigation_id)
            .scalars(db)
            .await?;
    let removed: i64 = query(
        "SELECT COUNT(DISTINCT r.mailbox) FROM action_results r JOIN actions a ON a.id = r.action_id
         WHERE a.investigation_id = $1
           AND r.result IN ('success', 'already_in_destination', 'gone', 'duplicate')",
    )
    .bind(investigation_id)
    .scalar(db)
    .await?;
    let acted = statuses.iter().any(|s| {
        matches!(
            s.as_str(),
            "completed" | "partially_completed" | "duplicate"
        )
    });
    Ok(if removed > 0 {
        Outcome::Malicious { mailboxes: removed }
    } else if acted {
        // Removed by an earlier approval of the same copies (a duplicate): the copies its
        // clusters hold were dealt with there.
        let mailboxes: i64 = query(
            "SELECT COUNT(DISTINCT m.mailbox) FROM cluster_messages m
             JOIN email_clusters c ON c.id = m.cluster_id WHERE c.investigation_id = $1",
        )
        .bind(investigation_id)
        .scalar(db)
        .await?;
        Outcome::Malicious { mailboxes }
    } else if !statuses.is_empty() && statuses.iter().all(|s| s == "rejected") {
        Outcome::Clean
    } else {
        Outcome::NoThreats
    })
}

/// The reports of an investigation (of one reporter, if given): reporter, mailbox and
/// Message-ID, first reported first.
async fn to_tell(
    db: &Db,
    investigation_id: &str,
    reporter: Option<&str>,
) -> Result<Vec<(String, String, String)>, AppError> {
    let mut select = query(
        "SELECT reported_by, mailbox, internet_message_id FROM reports WHERE investigation_id = ",
    );
    select.push_bind(investigation_id.to_string());
    if let Some(reporter) = reporter {
        select
            .push(" AND reported_by = ")
            .push_bind(reporter.to_string());
    }
    select.push(" ORDER BY reported_at");
    Ok(select.fetch_all(db).await?)
}

/// Moves the notifier's cursor along the outbox, leaving a notification for each reporter of
/// each investigation that ended.
pub async fn fan_out(db: &Db, config: &NotifyConfig) -> Result<usize, AppError> {
    let Some(from) = cursor::position(db, CONSUMER).await? else {
        return Ok(0);
    };
    let events: Vec<(i64, String, String, String)> =
        query("SELECT seq, type, subject, data FROM outbox WHERE seq > $1 ORDER BY seq LIMIT 200")
            .bind(from)
            .fetch_all(db)
            .await?;
    let Some(last) = events.last().map(|(seq, ..)| *seq) else {
        return Ok(0);
    };
    let now = db::now();
    let mut rows = Vec::new();
    for (_, event_type, investigation_id, data) in &events {
        let reports = match event_type.as_str() {
            "investigation.ended" => to_tell(db, investigation_id, None).await?,
            // A reporter who joined an investigation that had already ended is told now (one
            // who joined while it ran is told when it ends; the notification's key keeps it
            // to one either way).
            "investigation.report_joined" => {
                let status: Option<String> =
                    query("SELECT status FROM investigations WHERE id = $1")
                        .bind(investigation_id.as_str())
                        .optional_scalar(db)
                        .await?;
                let ended = status
                    .as_deref()
                    .and_then(InvestigationStatus::parse)
                    .is_some_and(has_ended);
                let reporter = serde_json::from_str::<serde_json::Value>(data)
                    .ok()
                    .and_then(|data| {
                        data.pointer("/after/reported_by")
                            .and_then(serde_json::Value::as_str)
                            .map(str::to_string)
                    });
                match reporter {
                    Some(reporter) if ended => {
                        to_tell(db, investigation_id, Some(&reporter)).await?
                    }
                    _ => Vec::new(),
                }
            }
            _ => continue,
        };
        if reports.is_empty() {
            continue;
        }
        let outcome = outcome(db, investigation_id).await?;
        for (reporter, mailbox, message_id) in reports {
            // Only reporters with an address can be told (a portal user's name is not one).
            let Ok(address) = EmailAddress::parse(&reporter) else {
                continue;
            };
            let (subject, sender): (String, String) = query(
                "SELECT subject, sender FROM messages WHERE mailbox = $1 AND internet_message_id = $2 LIMIT 1",
            )
            .bind(mailbox.as_str())
            .bind(message_id.as_str())
            .fetch_optional(db)
            .await?
            .unwrap_or_else(|| (message_id.clone(), "unknown sender".into()));
            let (verdict, template, mailboxes) = match outcome {
                Outcome::Malicious { mailboxes } => {
                    ("malicious", &config.templates.malicious, mailboxes)
                }
                Outcome::Clean => ("clean", &config.templates.clean, 0),
                Outcome::NoThreats => ("no_threats", &config.templates.no_threats, 0),
            };
            let link = format!("{}/investigations/{investigation_id}", config.public_url);
            let (subject, body) = template.render(&[
                ("subject", subject.as_str()),
                ("sender", sender.as_str()),
                ("mailboxes", &mailboxes.to_string()),
                ("reporter", address.as_str()),
                ("link", &link),
            ]);
            rows.push((
                investigation_id.clone(),
                address.as_str().to_string(),
                verdict,
                subject,
                body,
            ));
        }
    }
    let mut tx = db.write_rows().await?;
    if !cursor::advance(&mut tx, CONSUMER, from, last).await? {
        return Ok(0);
    }
    let give_up =
        now + chrono::Duration::from_std(config.retry_for).unwrap_or(chrono::Duration::MAX);
    for (investigation_id, reporter, verdict, subject, body) in rows {
        query(
            "INSERT INTO notifications (id, investigation_id, reporter, verdict, subject, body, status,
                 attempts, next_attempt_at, give_up_at, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, 'pending', 0, $7, $8, $7)
             ON CONFLICT (investigation_id, reporter) DO NOTHING",
        )
        .bind(new_id())
        .bind(investigation_id)
        .bind(reporter)
        .bind(verdict)
        .bind(subject)
        .bind(body)
        .bind(now)
        .bind(give_up)
        .execute(&mut tx)
        .await?;
    }
    tx.commit().await?;
    Ok(events.len())
}

#[derive(Debug, sqlx::FromRow)]
struct Due {
    id: String,
    reporter: String,
    subject: String,
    body: String,
    attempts: i64,
    give_up_at: DateTime<Utc>,
    lease_until: DateTime<Utc>,
}

/// Claims due notifications with a lease.
async fn claim(db: &Db, config: &NotifyConfig) -> Result<Vec<Due>, AppError> {
    let now = db::now();
    let waiting: i64 = query(
        "SELECT COUNT(*) FROM notifications WHERE status = 'pending' AND next_attempt_at <= $1
           AND (lease_until IS NULL OR lease_until < $1)",
    )
    .bind(now)
    .scalar(db)
    .await?;
    if waiting == 0 {
        return Ok(Vec::new());
    }
    let mut tx = db.write_rows().await?;
    let skip_locked = tx.skip_locked();
    let ids: Vec<String> = query(format!(
        "SELECT id FROM notifications WHERE status = 'pending' AND next_attempt_at <= $1
           AND (lease_until IS NULL OR lease_until < $1) ORDER BY next_attempt_at, id LIMIT 16{skip_locked}"
    ))
    .bind(now)
    .scalars(&mut tx)
    .await?;
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let until = now
        + chrono::Duration::from_std(config.timeout * 3 + Duration::from_secs(5))
            .unwrap_or_default();
    let mut update = query("UPDATE notifications SET attempts = attempts + 1, lease_until = ");
    update.push_bind(until).push(" WHERE id IN (");
    update.push_list(ids.iter().map(String::as_str)).push(")");
    update.execute(&mut tx).await?;
    let mut read = query(
        "SELECT id, reporter, subject, body, attempts, give_up_at, lease_until FROM notifications WHERE id IN (",
    );
    read.push_list(ids.iter().map(String::as_str)).push(")");
    let due: Vec<Due> = read.fetch_all(&mut tx).await?;
    tx.commit().await?;
    Ok(due)
}

/// Sends one notification; Err says why not.
async fn send(
    transport: &AsyncSmtpTransport<Tokio1Executor>,
    config: &NotifyConfig,
    due: &Due,
) -> Result<(), String> {
    let to: Mailbox = due
        .reporter
        .parse()
        .map_err(|e| format!("the reporter's address: {e}"))?;
    let message = Message::builder()
        .from(config.from.clone())
        .to(to)
        .subject(due.subject.clone())
        .header(ContentType::TEXT_PLAIN)
        .body(due.body.clone())
        .map_err(|e| format!("cannot build the message: {e}"))?;
    transport
        .send(message)
        .await
        .map(|_| ())
        .map_err(|e| format!("the relay refused or could not be reached: {e}"))
}

async fn record(
    db: &Db,
    config: &NotifyConfig,
    due: &Due,
    sent: &Result<(), String>,
) -> Result<(), AppError> {
    let now = db::now();
    let next = now
        + chrono::Duration::from_std(super::webhooks::backoff(config.backoff, due.attempts))
            .unwrap_or_default();
    let status = match sent {
        Ok(()) => "sent",
        Err(_) if next > due.give_up_at => "failed",
        Err(_) => "pending",
    };
    let mut tx = db.write_rows().await?;
    query(
        "UPDATE notifications SET status = $3, last_error = $4, next_attempt_at = $5, lease_until = NULL,
                sent_at = CASE WHEN $3 = 'sent' THEN $6 ELSE sent_at END
         WHERE id = $1 AND lease_until = $2",
    )
    .bind(&due.id)
    .bind(due.lease_until)
    .bind(status)
    .bind(sent.as_ref().err().cloned())
    .bind(next)
    .bind(now)
    .execute(&mut tx)
    .await?;
    tx.commit().await?;
    if let Err(why) = sent {
        tracing::warn!(
            notification = due.id,
            attempt = due.attempts,
            status,
            why,
            "reporter not notified"
        );
    }
    Ok(())
}

/// Tells reporters until the server stops.
pub async fn run(state: AppState, config: NotifyConfig) {
    let transport = match config.relay.transport(config.timeout) {
        Ok(transport) => transport,
        Err(error) => {
            tracing::error!(%error, "notifications cannot start");
            return;
        }
    };
    loop {
        let round = async {
            let passed = fan_out(&state.db, &config).await?;
            let due = claim(&state.db, &config).await?;
            for notification in &due {
                let sent = send(&transport, &config, notification).await;
                record(&state.db, &config, notification, &sent).await?;
            }
            Ok::<bool, AppError>(passed > 0 || !due.is_empty())
        };
        match round.await {
            Ok(true) => {}
            Ok(false) => tokio::time::sleep(Duration::from_millis(500)).await,
            Err(error) => {
                tracing::warn!(%error, "notification round failed; trying again");
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    }
}
