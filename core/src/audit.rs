//! The append-only audit trail (DESIGN.md rule 7): every transition writes one event in the
//! same transaction, chained by hash so that any rewrite or removal shows. Only this crate
//! writes it, and every action transition writes it through `actions::state`. The outbox of
//! public events ([`crate::events`]) is written from it, at the same moment.

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::db::{self, query, Db, StorageError, Tx};
use crate::new_id;
use model::{Actor, AppError, Cursor, Page, PageRequest};

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

const COLUMNS: &str =
    "seq, id, at, actor, entity_kind, entity_id, event, before, after, prev_hash, hash";

/// An event to append.
pub(crate) struct Event<'a> {
    pub actor: &'a Actor,
    pub entity_kind: &'a str,
    pub entity_id: &'a str,
    pub event: &'a str,
    pub before: Option<Value>,
    pub after: Option<Value>,
}

/// An event recorded by a transaction and appended to the chain when it commits.
pub(crate) struct Pending {
    pub(crate) actor: String,
    pub(crate) entity_kind: String,
    pub(crate) entity_id: String,
    pub(crate) event: String,
    pub(crate) before: Option<String>,
    pub(crate) after: Option<String>,
}

/// Records an event in the caller's transaction: it is appended to the chain when the
/// transaction commits, so the event and the change it records commit together or not at all.
pub(crate) fn record(tx: &mut Tx<'_>, event: Event<'_>) {
    tx.record(Pending {
        actor: event.actor.name().to_string(),
        entity_kind: event.entity_kind.to_string(),
        entity_id: event.entity_id.to_string(),
        event: event.event.to_string(),
        before: event.before.map(|v| v.to_string()),
        after: event.after.map(|v| v.to_string()),
    });
}

/// Records several events, in this order.
pub(crate) fn record_all<'a>(tx: &mut Tx<'_>, events: impl IntoIterator<Item = Event<'a>>) {
    for event in events {
        record(tx, event);
    }
}

/// Most events one INSERT carries (ten values each: well inside every engine's limit on
/// bound values).
const EVENTS_PER_INSERT: usize = 500;

/// Appends a committing transaction's events, in the order recorded: the chain's head is
/// taken ([`Tx::lock_audit`], the last lock any transaction takes) and read once, each event
/// links to the one before it, and they are written a few hundred rows per statement. The
/// head is read under that lock and `prev_hash` is unique: two writers can never both append
/// to one head. Each event's time is when it joined the chain.
pub(crate) async fn append(tx: &mut Tx<'_>, events: Vec<Pending>) -> Result<(), StorageError> {
    tx.lock_audit().await?;
    let head: Option<String> = query("SELECT hash FROM audit_events ORDER BY seq DESC LIMIT 1")
        .optional_scalar(&mut *tx)
        .await?;
    let mut prev_hash = head.unwrap_or_else(|| GENESIS.to_string());
    let at = db::now();
    for chunk in events.chunks(EVENTS_PER_INSERT) {
        let mut insert = query(
            "INSERT INTO audit_events (id, at, actor, entity_kind, entity_id, event, before, after, prev_hash, hash) VALUES ",
        );
        for (i, event) in chunk.iter().enumerate() {
            let id = new_id();
            let hash = Fields {
                prev_hash: &prev_hash,
                id: &id,
                at: &at,
                actor: &event.actor,
                entity_kind: &event.entity_kind,
                entity_id: &event.entity_id,
                event: &event.event,
                before: event.before.as_deref(),
                after: event.after.as_deref(),
            }
            .hash();
            insert.push(if i == 0 { "(" } else { ", (" });
            insert.push_bind(id).push(", ");
            insert.push_bind(at).push(", ");
            insert.push_bind(&event.actor).push(", ");
            insert.push_bind(&event.entity_kind).push(", ");
            insert.push_bind(&event.entity_id).push(", ");
            insert.push_bind(&event.event).push(", ");
            insert.push_bind(&event.before).push(", ");
            insert.push_bind(&event.after).push(", ");
            insert.push_bind(&prev_hash).push(", ");
            insert.push_bind(&hash).push(")");
            prev_hash = hash;
        }
        // Rows of one INSERT take their `seq` in the order written, so the chain reads in
        // order (`audit verify` walks it by `seq`).
        insert.execute(&mut *tx).await?;
    }
    // The public events these stand for, under the same lock (see `events`).
    crate::events::append(tx, &events, at).await
}

/// The events oldest first, a page at a time.
#[tracing::instrument(skip(db))]
pub async fn list(db: &Db, page: &PageRequest) -> Result<Page<AuditEvent>, AppError> {
    let after_seq: i64 = match &page.after {
        Some(c) => c
            .key
            .parse()
            .map_err(|_| AppError::Invalid("cursor is not one this server gave".into()))?,
        None => 0,
    };
    let mut items: Vec<AuditEvent> = query(format!(
        "SELECT {COLUMNS} FROM audit_events WHERE seq > $1 ORDER BY seq LIMIT $2"
    ))
    .bind(after_seq)
    .bind(page.fetch())
    .fetch_all(db)
    .await?;
    let next = page.next_cursor(&mut items, |e| {
        Cursor {
            key: e.seq.to_string(),
            id: e.id.clone(),
        }
        .encode()
    });
    Ok(Page { items, next })
}

/// Walks the whole chain; returns the first event whose hash or link does not hold.
#[tracing::instrument(skip(db))]
pub async fn verify(db: &Db) -> Result<Option<AuditEvent>, AppError> {
    Ok(walk(db, None).await?.broken)
}

/// What walking the chain found.
#[derive(Debug, Clone, PartialEq)]
pub struct Walked {
    /// The first event whose hash or link does not hold.
    pub broken: Option<AuditEvent>,
    /// Events walked (up to the break).
    pub events: i64,
    /// Whether the event with the head hash asked about is in the (intact part of the) chain.
    pub head_found: bool,
}

/// Walks the chain, checking every link, and looks for the event whose hash is `head` (a head
/// someone recorded earlier): if it is gone, the tail was cut off or rewritten.
#[tracing::instrument(skip(db))]
pub async fn walk(db: &Db, head: Option<&str>) -> Result<Walked, AppError> {
    let mut expected_prev = GENESIS.to_string();
    let mut after = 0i64;
    let mut walked = Walked {
        broken: None,
        events: 0,
        head_found: head.is_none(),
    };
    loop {
        let batch: Vec<AuditEvent> = query(format!(
            "SELECT {COLUMNS} FROM audit_events WHERE seq > $1 ORDER BY seq LIMIT 1000"
        ))
        .bind(after)
        .fetch_all(db)
        .await?;
        let Some(last) = batch.last() else {
            return Ok(walked);
        };
        after = last.seq;
        for e in batch {
            let hash = Fields {
                prev_hash: &e.prev_hash,
                id: &e.id,
                at: &e.at,
                actor: &e.actor,
                entity_kind: &e.entity_kind,
                entity_id: &e.entity_id,
                event: &e.event,
                before: e.before.as_deref(),
                after: e.after.as_deref(),
            }
            .hash();
            if e.prev_hash != expected_prev || e.hash != hash {
                walked.broken = Some(e);
                return Ok(walked);
            }
            walked.events += 1;
            if head == Some(e.hash.as_str()) {
                walked.head_found = true;
            }
            expected_prev = e.hash;
        }
    }
}

/// The chain's last event, signed: whoever records it can later show that no event up to it
/// was cut off (`airdesk audit verify --head`), and the signature shows the head came from
/// this server.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Head {
    /// The last event's sequence number (0 for an empty trail).
    pub seq: i64,
    /// Its hash (the genesis hash for an empty trail).
    pub hash: String,
    /// HMAC-SHA256, hex, over `airdesk-audit-head`, the seq and the hash, each on a line, with
    /// the key of `--audit-key-file`; absent when the server has no key.
    pub signature: Option<String>,
}

/// The chain's head now, signed with `key` if there is one.
pub async fn head(db: &Db, key: Option<&[u8]>) -> Result<Head, AppError> {
    let last: Option<(i64, String)> =
        query("SELECT seq, hash FROM audit_events ORDER BY seq DESC LIMIT 1")
            .fetch_optional(db)
            .await?;
    let (seq, hash) = last.unwrap_or((0, GENESIS.to_string()));
    let signature = key.map(|key| sign_head(key, seq, &hash));
    Ok(Head {
        seq,
        hash,
        signature,
    })
}

/// The signature of a head.
pub fn sign_head(key: &[u8], seq: i64, hash: &str) -> String {
    use hmac::{Mac, SimpleHmac};
    let mut mac =
        SimpleHmac::<Sha256>::new_from_slice(key).expect("HMAC takes a key of any length");
    mac.update(format!("airdesk-audit-head\n{seq}\n{hash}").as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// Whether `signature` is this key's signature of the head (compared in constant time).
pub fn head_signed(key: &[u8], seq: i64, hash: &str, signature: &str) -> bool {
    use hmac::{Mac, SimpleHmac};
    let Ok(given) = hex::decode(signature) else {
        return false;
    };
    let mut mac =
        SimpleHmac::<Sha256>::new_from_slice(key).expect("HMAC takes a key of any length");
    mac.update(format!("airdesk-audit-head\n{seq}\n{hash}").as_bytes());
    mac.verify_slice(&given).is_ok()
}

/// What an event's hash covers.
struct Fields<'a> {
    prev_hash: &'a str,
    id: &'a str,
    at: &'a DateTime<Utc>,
    actor: &'a str,
    entity_kind: &'a str,
    entity_id: &'a str,
    event: &'a str,
    before: Option<&'a str>,
    after: Option<&'a str>,
}

impl Fields<'_> {
    fn hash(&self) -> String {
        // The time in one fixed form, whatever the database stores it as.
        let at = self.at.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string();
        // Length-prefixed fields: no two different events can concatenate to the same bytes.
        let mut hasher = Sha256::new();
        for field in [
            Some(self.prev_hash),
            Some(self.id),
            Some(at.as_str()),
            Some(self.actor),
            Some(self.entity_kind),
            Some(self.entity_id),
            Some(self.event),
            self.before,
            self.after,
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
}
