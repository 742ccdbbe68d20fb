//! What became of each delivery, for the Deliveries view and the REST API.

use chrono::{DateTime, Utc};

use crate::db::{query, Db};
use model::{AppError, Cursor, Delivery, Page, PageRequest};

/// A delivery as read, before it becomes the model's [`Delivery`].
#[derive(sqlx::FromRow)]
struct DeliveryRow {
    id: String,
    endpoint: String,
    event_seq: i64,
    event_id: String,
    event_type: String,
    subject: String,
    event_at: DateTime<Utc>,
    status: String,
    attempts: i64,
    next_attempt_at: Option<DateTime<Utc>>,
    last_status: Option<i64>,
    last_error: Option<String>,
    updated_at: DateTime<Utc>,
}

impl From<DeliveryRow> for Delivery {
    fn from(r: DeliveryRow) -> Self {
        Delivery {
            id: r.id,
            endpoint: r.endpoint,
            event_seq: r.event_seq,
            event_id: r.event_id,
            event_type: r.event_type,
            subject: r.subject,
            event_at: r.event_at,
            status: r.status,
            attempts: r.attempts,
            next_attempt_at: r.next_attempt_at,
            last_status: r.last_status,
            last_error: r.last_error,
            updated_at: r.updated_at,
        }
    }
}

/// Deliveries, newest event first; `status` keeps one status.
pub async fn list(
    db: &Db,
    status: Option<&str>,
    page: &PageRequest,
) -> Result<Page<Delivery>, AppError> {
    if let Some(s) = status {
        if !matches!(s, "pending" | "delivered" | "failed") {
            return Err(AppError::Invalid(
                "status must be pending, delivered or failed".into(),
            ));
        }
    }
    let mut select = query(
        "SELECT d.id, d.endpoint, d.event_seq, o.id AS event_id, o.type AS event_type,
                o.subject_kind || '/' || o.subject AS subject, o.at AS event_at, d.status, d.attempts,
                CASE WHEN d.status = 'pending' THEN d.next_attempt_at END AS next_attempt_at,
                d.last_status, d.last_error, d.updated_at
         FROM webhook_deliveries d JOIN outbox o ON o.seq = d.event_seq WHERE 1 = 1",
    );
    if let Some(s) = status {
        select.push(" AND d.status = ").push_bind(s);
    }
    if let Some(after) = &page.after {
        let seq = after.number()?;
        select
            .push(" AND (d.event_seq < ")
            .push_bind(seq)
            .push(" OR (d.event_seq = ")
            .push_bind(seq)
            .push(" AND d.id < ")
            .push_bind(after.id.as_str())
            .push("))");
    }
    select
        .push(" ORDER BY d.event_seq DESC, d.id DESC LIMIT ")
        .push_bind(page.fetch());
    let rows: Vec<DeliveryRow> = select.fetch_all(db).await?;
    let mut items: Vec<Delivery> = rows.into_iter().map(Delivery::from).collect();
    let next = page.next_cursor(&mut items, |d| {
        Cursor {
            key: d.event_seq.to_string(),
            id: d.id.clone(),
        }
        .encode()
    });
    Ok(Page { items, next })
}
