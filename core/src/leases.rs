//! One holder at a time per key, across every instance sharing the database: a row per key
//! with its holder and when the lease runs out. A holder that died loses its leases then.
//!
//! [`Leases::Mailboxes`]: before a scan reads a mailbox whose folders changed, it takes that
//! mailbox's lease, and gives it back when what it read is written. Another instance finding
//! the lease held skips the mailbox this round — or, when it must have the mailbox current
//! (execution matching copies), waits for it. The holder is one scan (`host:pid/scan id`),
//! not the instance: two scans in one instance — the timer's and an execution's — take turns
//! like any others. A scan still going when its lease runs out may meet a second one on the
//! same mailbox; that only repeats work, since each computes what to add against what the
//! index holds and writes with upserts.
//!
//! [`Leases::Reports`]: a report of a copy that no investigation covers yet starts one while
//! holding the lease of the copy's sender domain; a report of another copy of the same
//! campaign on another instance waits for it and then joins the investigation it started,
//! instead of opening a second.

use std::time::Duration;

use crate::db::{self, query, Db};
use model::AppError;

/// What is leased: each in a table of its own.
#[derive(Debug, Clone, Copy)]
pub enum Leases {
    /// Mailboxes being indexed (`index_leases`).
    Mailboxes,
    /// Sender domains of reported copies whose investigation is being started
    /// (`report_leases`).
    Reports,
}

impl Leases {
    /// The table and its key column (fixed words, never input).
    fn table(self) -> (&'static str, &'static str) {
        match self {
            Leases::Mailboxes => ("index_leases", "mailbox"),
            Leases::Reports => ("report_leases", "copy"),
        }
    }
}

/// A new holder's name, for one scan or one report.
pub(crate) fn holder() -> String {
    format!("{}/{}", crate::instance(), crate::new_id())
}

/// Takes the key's lease for `lease` if it is free, ran out, or is already ours.
pub(crate) async fn take(
    db: &Db,
    leases: Leases,
    holder: &str,
    key: &str,
    lease: Duration,
) -> Result<bool, AppError> {
    let (table, column) = leases.table();
    let now = db::now();
    let until = now + chrono::Duration::from_std(lease).unwrap_or(chrono::Duration::hours(1));
    // One statement: the upsert's row lock (PostgreSQL) or the write lock (SQLite) makes the
    // check and the take one step, across every instance.
    let taken = query(format!(
        "INSERT INTO {table} ({column}, holder, until) VALUES ($1, $2, $3)
         ON CONFLICT ({column}) DO UPDATE SET holder = excluded.holder, until = excluded.until
         WHERE {table}.holder = excluded.holder OR {table}.until < $4"
    ))
    .bind(key)
    .bind(holder)
    .bind(until)
    .bind(now)
    .execute(db)
    .await?;
    Ok(taken == 1)
}

/// Waits (up to `patience`) for the key's lease.
pub(crate) async fn wait_for(
    db: &Db,
    leases: Leases,
    holder: &str,
    key: &str,
    lease: Duration,
    patience: Duration,
) -> Result<bool, AppError> {
    let deadline = tokio::time::Instant::now() + patience;
    loop {
        if take(db, leases, holder, key, lease).await? {
            return Ok(true);
        }
        if tokio::time::Instant::now() >= deadline {
            return Ok(false);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Gives back the leases this holder took on these keys.
pub(crate) async fn release(
    db: &Db,
    leases: Leases,
    holder: &str,
    keys: &[String],
) -> Result<(), AppError> {
    let (table, column) = leases.table();
    for chunk in keys.chunks(500) {
        let mut q = query(format!("DELETE FROM {table} WHERE holder = "));
        q.push_bind(holder).push(&format!(" AND {column} IN ("));
        q.push_list(chunk.iter().map(String::as_str)).push(")");
        q.execute(db).await?;
    }
    Ok(())
}
