//! A report's rows: recorded (and audited) before investigating, joined to the investigation
//! that covers the reported copy, linked to the one it started; and a cluster's reporters.

use super::super::lookback_start;
use crate::audit::{self, Event};
use crate::db::{self, query, Db};
use crate::index::{IndexedMessage, Selection};
use crate::{new_id, AppState};
use model::{Actor, AppError};

/// Records a user's report before investigating, so it counts towards its own cluster, and
/// audits it. Returns the investigation this report joins instead of starting one: the latest
/// one within the look-back whose clusters hold the reported copy — unless this reporter is
/// the one whose report makes the reporters of the investigations covering the copy reach
/// `--reports-for-suspicious`, which must be investigated again to count.
pub(super) async fn record(
    state: &AppState,
    reporter: &str,
    actor: &Actor,
    message: &IndexedMessage,
) -> Result<Option<String>, AppError> {
    let db = &state.db;
    let id = new_id();
    let since = lookback_start(state);
    let mut tx = db.write().await?;
    query(
        "INSERT INTO reports (id, mailbox, internet_message_id, reported_by, reported_at, folder, file)
         VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT (mailbox, internet_message_id, reported_by) DO NOTHING",
    )
    .bind(&id)
    .bind(&message.mailbox)
    .bind(&message.internet_message_id)
    .bind(reporter)
    .bind(db::now())
    .bind(&message.folder)
    .bind(&message.file)
    .execute(&mut tx)
    .await?;
    // The investigations covering the copy, latest first.
    let covering: Vec<String> = query(format!(
        "SELECT i.id FROM investigations i WHERE i.created_at >= $2 AND i.id IN ({COVERING})
         ORDER BY i.created_at DESC, i.id DESC"
    ))
    .bind(message.id)
    .bind(since)
    .scalars(&mut tx)
    .await?;
    // Who reported what they cover, this reporter aside; and whether this reporter did.
    let (others, already): (i64, i64) = query(format!(
        "SELECT COUNT(DISTINCT CASE WHEN r.reported_by <> $3 THEN r.reported_by END),
                COUNT(CASE WHEN r.reported_by = $3 THEN 1 END)
         FROM reports r JOIN investigations i ON i.id = r.investigation_id
         WHERE i.created_at >= $2 AND r.investigation_id IN ({COVERING})"
    ))
    .bind(message.id)
    .bind(since)
    .bind(reporter)
    .fetch_one(&mut tx)
    .await?;
    let already = already > 0;
    let reporters = others + 1;
    let latest = covering.into_iter().next();
    // Reaching the threshold is news only to an investigation that proposed nothing: one
    // that already proposed actions (pending, decided or carried out) is joined.
    let proposed = match &latest {
        Some(investigation_id) => {
            query("SELECT EXISTS (SELECT 1 FROM actions WHERE investigation_id = $1)")
                .bind(investigation_id)
                .scalar::<bool>(&mut tx)
                .await?
        }
        None => false,
    };
    let threshold = i64::try_from(state.playbook.reports_for_suspicious).unwrap_or(i64::MAX);
    let crosses = !already && reporters == threshold && !proposed;
    let joins = latest.filter(|_| !crosses);
    if let Some(investigation_id) = &joins {
        query(
            "UPDATE reports SET investigation_id = $1, folder = $5, file = $6
             WHERE mailbox = $2 AND internet_message_id = $3 AND reported_by = $4",
        )
        .bind(investigation_id)
        .bind(&message.mailbox)
        .bind(&message.internet_message_id)
        .bind(reporter)
        .bind(&message.folder)
        .bind(&message.file)
        .execute(&mut tx)
        .await?;
    }
    let after = serde_json::json!({
        "mailbox": message.mailbox,
        "internet_message_id": message.internet_message_id,
        "content_sha256": message.content_sha256,
        "reported_by": reporter,
        "reporters": reporters,
        "joined_investigation": joins,
    });
    let event = Event {
        actor,
        entity_kind: "report",
        entity_id: &id,
        event: "message_reported",
        before: None,
        after: Some(after),
    };
    audit::record(&mut tx, event);
    tx.commit().await?;
    Ok(joins)
}

/// The investigations covering the indexed message `$1`: those whose email clusters hold it,
/// and those a report of it started (a copy older than the look-back is in no cluster) — by
/// its handle both.
const COVERING: &str = "SELECT c.investigation_id FROM messages m
    JOIN cluster_messages cm ON cm.mailbox = m.mailbox AND cm.file = m.file AND cm.folder = m.folder
    JOIN email_clusters c ON c.id = cm.cluster_id
    WHERE m.id = $1
    UNION SELECT r.investigation_id FROM messages m
    JOIN reports r ON r.mailbox = m.mailbox AND r.file = m.file AND r.folder = m.folder
    WHERE m.id = $1 AND r.investigation_id IS NOT NULL";

/// Links a report to the investigation it started, and gathers there the reports of the
/// earlier investigations covering the copy (the threshold's re-investigation sees their
/// reporters: it is the one they are now told about, and the one it lists).
pub(in crate::investigations::playbook) async fn link(
    state: &AppState,
    reported_by: &str,
    message: &IndexedMessage,
    investigation_id: &str,
) -> Result<(), AppError> {
    let since = lookback_start(state);
    let mut tx = state.db.write().await?;
    query(
        "INSERT INTO reports (id, mailbox, internet_message_id, reported_by, reported_at, investigation_id,
             folder, file)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
         ON CONFLICT (mailbox, internet_message_id, reported_by)
         DO UPDATE SET investigation_id = excluded.investigation_id, folder = excluded.folder,
             file = excluded.file",
    )
    .bind(new_id())
    .bind(&message.mailbox)
    .bind(&message.internet_message_id)
    .bind(reported_by)
    .bind(db::now())
    .bind(investigation_id)
    .bind(&message.folder)
    .bind(&message.file)
    .execute(&mut tx)
    .await?;
    query(format!(
        "UPDATE reports SET investigation_id = $3 WHERE investigation_id IN (
             SELECT i.id FROM investigations i WHERE i.created_at >= $2 AND i.id <> $3
               AND i.id IN ({COVERING}))"
    ))
    .bind(message.id)
    .bind(since)
    .bind(investigation_id)
    .execute(&mut tx)
    .await?;
    tx.commit().await?;
    Ok(())
}

/// The different users who reported any of a cluster's copies.
pub(in crate::investigations::playbook) async fn reporters(
    db: &Db,
    selection: &Selection,
) -> Result<Vec<String>, AppError> {
    let mut select =
        query("SELECT DISTINCT reported_by FROM reports WHERE (mailbox, internet_message_id) IN (");
    selection.push_select(&mut select, "m.mailbox, m.internet_message_id");
    select.push(")");
    Ok(select.scalars(db).await?)
}
