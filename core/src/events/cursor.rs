//! How far each consumer of the outbox (a webhook endpoint, the notifier) has read it. A
//! consumer starts at the outbox's end the first time it is seen, and moves only from where it
//! last was, so of two instances moving one cursor at once exactly one does.

use crate::db::{query, Db, Tx};
use model::AppError;

/// Starts `consumer` at the outbox's end, unless it has a position already.
pub(crate) async fn start_at_end(db: &Db, consumer: &str) -> Result<(), AppError> {
    let mut tx = db.write_rows().await?;
    let end: i64 = query("SELECT COALESCE(MAX(seq), 0) FROM outbox")
        .scalar(&mut tx)
        .await?;
    query(
        "INSERT INTO outbox_cursors (consumer, seq) VALUES ($1, $2)
         ON CONFLICT (consumer) DO NOTHING",
    )
    .bind(consumer)
    .bind(end)
    .execute(&mut tx)
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Where `consumer` is; None if it was never started.
pub(crate) async fn position(db: &Db, consumer: &str) -> Result<Option<i64>, AppError> {
    Ok(query("SELECT seq FROM outbox_cursors WHERE consumer = $1")
        .bind(consumer)
        .optional_scalar(db)
        .await?)
}

/// Moves `consumer` from `from` to `to`; false when another instance moved it first (and
/// the caller's work for these events is theirs).
pub(crate) async fn advance(
    tx: &mut Tx<'_>,
    consumer: &str,
    from: i64,
    to: i64,
) -> Result<bool, AppError> {
    let moved = query("UPDATE outbox_cursors SET seq = $3 WHERE consumer = $1 AND seq = $2")
        .bind(consumer)
        .bind(from)
        .bind(to)
        .execute(&mut *tx)
        .await?;
    Ok(moved > 0)
}
