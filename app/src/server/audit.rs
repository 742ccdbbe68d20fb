//! The append-only audit trail (DESIGN.md rule 7): every transition writes one event in the
//! same transaction, chained by hash so that any rewrite or removal shows.

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;
use sha2::{Digest, Sha256};
use sqlx::{SqliteConnection, SqlitePool};

use super::clock::{db_time, now};
use super::new_id;
use crate::model::{AppError, Cursor, Page, PageRequest};

/// The `prev_hash` of the first event.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// One event as `GET /api/v1/audit` returns it.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct AuditEvent {
    pub seq: i64,
    pub id: String,
    pub at: DateTime<Utc>,
    pub actor: String,
    pub entity_kind: String,
    pub entity_id: String,
    pub event: String,
    pub before: Option<String>,
    pub after: Option<String>,
    pub prev_hash: String,
    pub hash: String,
}

/// Appends an event. Runs inside the caller's transaction so the event and the change it
/// records commit together or not at all.
pub async fn record(
    tx: &mut SqliteConnection,
    actor: &str,
    entity_kind: &str,
    entity_id: &str,
    event: &str,
    before: Option<Value>,
    after: Option<Value>,
) -> Result<(), AppError> {
    let prev_hash: Option<String> =
        sqlx::query_scalar("SELECT hash FROM audit_events ORDER BY seq DESC LIMIT 1")
            .fetch_optional(&mut *tx)
            .await?;
    let prev_hash = prev_hash.unwrap_or_else(|| GENESIS.to_string());
    let at = db_time(&now());
    let before = before.map(|v| v.to_string());
    let after = after.map(|v| v.to_string());
    let id = new_id();
    let hash = chain_hash(
        &prev_hash,
        &id,
        &at,
        actor,
        entity_kind,
        entity_id,
        event,
        &before,
        &after,
    );
    sqlx::query(
        "INSERT INTO audit_events (id, at, actor, entity_kind, entity_id, event, before, after, prev_hash, hash)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(&id)
    .bind(&at)
    .bind(actor)
    .bind(entity_kind)
    .bind(entity_id)
    .bind(event)
    .bind(&before)
    .bind(&after)
    .bind(&prev_hash)
    .bind(&hash)
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// The events oldest first, a page at a time.
pub async fn list(pool: &SqlitePool, page: &PageRequest) -> Result<Page<AuditEvent>, AppError> {
    let after_seq: i64 = match &page.after {
        Some(c) => c
            .key
            .parse()
            .map_err(|_| AppError::Invalid("cursor is not one this server gave".into()))?,
        None => 0,
    };
    let mut items: Vec<AuditEvent> = sqlx::query_as(
        "SELECT seq, id, at, actor, entity_kind, entity_id, event, before, after, prev_hash, hash
         FROM audit_events WHERE seq > $1 ORDER BY seq LIMIT $2",
    )
    .bind(after_seq)
    .bind(i64::from(page.limit) + 1)
    .fetch_all(pool)
    .await?;
    let next = if items.len() > page.limit as usize {
        items.truncate(page.limit as usize);
        items.last().map(|e| {
            Cursor {
                key: e.seq.to_string(),
                id: e.id.clone(),
            }
            .encode()
        })
    } else {
        None
    };
    Ok(Page { items, next })
}

/// Walks the whole chain; returns the first event whose hash or link does not hold.
pub async fn verify(pool: &SqlitePool) -> Result<Option<AuditEvent>, AppError> {
    let mut expected_prev = GENESIS.to_string();
    let mut after = 0i64;
    loop {
        let batch: Vec<AuditEvent> = sqlx::query_as(
            "SELECT seq, id, at, actor, entity_kind, entity_id, event, before, after, prev_hash, hash
             FROM audit_events WHERE seq > $1 ORDER BY seq LIMIT 1000",
        )
        .bind(after)
        .fetch_all(pool)
        .await?;
        let Some(last) = batch.last() else {
            return Ok(None);
        };
        after = last.seq;
        for e in batch {
            let hash = chain_hash(
                &e.prev_hash,
                &e.id,
                &db_time(&e.at),
                &e.actor,
                &e.entity_kind,
                &e.entity_id,
                &e.event,
                &e.before,
                &e.after,
            );
            if e.prev_hash != expected_prev || e.hash != hash {
                return Ok(Some(e));
            }
            expected_prev = e.hash;
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn chain_hash(
    prev_hash: &str,
    id: &str,
    at: &str,
    actor: &str,
    entity_kind: &str,
    entity_id: &str,
    event: &str,
    before: &Option<String>,
    after: &Option<String>,
) -> String {
    // Length-prefixed fields: no two different events can concatenate to the same bytes.
    let mut hasher = Sha256::new();
    for field in [
        Some(prev_hash),
        Some(id),
        Some(at),
        Some(actor),
        Some(entity_kind),
        Some(entity_id),
        Some(event),
        before.as_deref(),
        after.as_deref(),
    ] {
        match field {
            Some(text) => {
                hasher.update((text.len() as u64).to_be_bytes());
                hasher.update(text.as_bytes());
            }
            None => hasher.update(u64::MAX.to_be_bytes()),
        }
    }
    hex::encode(hasher.finalize())
}
