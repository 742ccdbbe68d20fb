//! One instance at a time per mailbox: before a scan reads a mailbox whose folders changed, it
//! takes that mailbox's lease in the database (`index_leases`), and gives it back when what it
//! read is written. Another instance finding the lease held skips the mailbox this round — or,
//! when it must have the mailbox current (execution matching copies), waits for it. A lease
//! whose holder died runs out, and the next scan anywhere takes the mailbox over. The holder
//! is one scan (`host:pid/scan id`), not the instance: two scans in one instance — the timer's
//! and an execution's — take turns like any others. A scan still going when its lease runs
//! out may meet a second one on the same mailbox; that only repeats work, since each computes
//! what to add against what the index holds and writes with upserts.

use std::time::Duration;

use crate::db::{self, query, Db};
use model::AppError;

/// A new holder's name, for one scan.
pub(super) fn holder() -> String {
    format!("{}/{}", crate::instance(), crate::new_id())
}

/// Takes the mailbox's lease for `lease` if it is free, ran out, or is already ours.
pub(super) async fn take(
    db: &Db,
    holder: &str,
    mailbox: &str,
    lease: Duration,
) -> Result<bool, AppError> {
    let now = db::now();
    let until = now + chrono::Duration::from_std(lease).unwrap_or(chrono::Duration::hours(1));
    // One statement: the upsert's row lock (PostgreSQL) or the write lock (SQLite) makes the
    // check and the take one step, across every instance.
    let taken = query(
        "INSERT INTO index_leases (mailbox, holder, until) VALUES ($1, $2, $3)
         ON CONFLICT (mailbox) DO UPDATE SET holder = excluded.holder, until = excluded.until
         WHERE index_leases.holder = excluded.holder OR index_leases.until < $4",
    )
    .bind(mailbox)
    .bind(holder)
    .bind(until)
    .bind(now)
    .execute(db)
    .await?;
    Ok(taken == 1)
}

/// Waits (up to `patience`) for the mailbox's lease: for callers that need it current now.
pub(super) async fn wait_for(
    db: &Db,
    holder: &str,
    mailbox: &str,
    lease: Duration,
    patience: Duration,
) -> Result<bool, AppError> {
    let deadline = tokio::time::Instant::now() + patience;
    loop {
        if take(db, holder, mailbox, lease).await? {
            return Ok(true);
        }
        if tokio::time::Instant::now() >= deadline {
            return Ok(false);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Gives back the leases this holder took on these mailboxes.
pub(super) async fn release(db: &Db, holder: &str, mailboxes: &[String]) -> Result<(), AppError> {
    for chunk in mailboxes.chunks(500) {
        let mut q = query("DELETE FROM index_leases WHERE holder = ");
        q.push_bind(holder).push(" AND mailbox IN (");
        q.push_list(chunk.iter().map(String::as_str)).push(")");
        q.execute(db).await?;
    }
    Ok(())
}
