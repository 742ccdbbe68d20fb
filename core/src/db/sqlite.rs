//! SQLite, the embedded default: one file, WAL, foreign keys, a busy timeout; one writer
//! connection whose transactions take the write lock at `BEGIN IMMEDIATE`; checkpoints off the
//! commit path; times as fixed-width RFC 3339 text so that text order is time order.

use std::str::FromStr;
use std::time::Duration;

use chrono::{DateTime, Utc};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::SqlitePool;

use super::group::Group;
use super::{OpenError, StorageError};

/// The migrations in `migrations/sqlite/`, compiled into the binary.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../migrations/sqlite");

/// Prepared statements each connection keeps.
const STATEMENTS_KEPT: usize = 500;

/// The pools of one SQLite database.
#[derive(Clone, Debug)]
pub struct Sqlite {
    /// For reads (and single-statement writes).
    reader: SqlitePool,
    /// One connection for write transactions: SQLite has one writer at a time, and waiting
    /// for this connection is a fair async queue, where waiting for the file lock is SQLite's
    /// sleep-and-retry busy handler. Correctness does not depend on it: the database lock
    /// still serialises writers across processes.
    writer: SqlitePool,
    /// The group commit every writer of this process shares (see [`super::group`]).
    group: Group,
}

impl Sqlite {
    /// Opens (creating if missing) the database.
    ///
    /// Commits never checkpoint the WAL themselves (`wal_autocheckpoint = 0`): a checkpoint
    /// copies pages into the database file and syncs it, and done by the committing writer it
    /// stalls every decision queued behind it. `serve` checkpoints on a timer instead; the
    /// one-shot commands leave it to SQLite, which checkpoints when the last connection closes.
    pub async fn connect(url: &str) -> Result<Self, OpenError> {
        let options = SqliteConnectOptions::from_str(url)
            .map_err(|e| OpenError::BadUrl {
                url: url.to_string(),
                reason: e.to_string(),
            })?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10))
            .pragma("wal_autocheckpoint", "0")
            // Batches write statements of a few lengths each (lists are padded to powers of
            // two): keep them all prepared, where the default of 100 re-parsed them in turn.
            .statement_cache_capacity(STATEMENTS_KEPT);
        let reader = SqlitePoolOptions::new()
            .max_connections(8)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(options.clone())
            .await
            .map_err(|source| OpenError::Unreachable {
                url: url.to_string(),
                source,
            })?;
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .acquire_timeout(Duration::from_secs(30))
            .connect_lazy_with(options);
        Ok(Sqlite {
            reader,
            writer,
            group: Group::default(),
        })
    }

    pub async fn close(&self) {
        self.reader.close().await;
        self.writer.close().await;
    }

    pub(super) fn group(&self) -> &Group {
        &self.group
    }

    /// The same pools without the way to the group writer: what that writer itself holds,
    /// so that it ends once every other handle is gone.
    pub(super) fn detached(&self) -> Sqlite {
        Sqlite {
            reader: self.reader.clone(),
            writer: self.writer.clone(),
            group: Group::default(),
        }
    }

    pub fn reader(&self) -> &SqlitePool {
        &self.reader
    }

    pub async fn migrate(&self) -> Result<(), OpenError> {
        MIGRATOR.run(&self.reader).await?;
        Ok(())
    }

    pub async fn is_migrated(&self) -> Result<bool, StorageError> {
        let applied: Vec<i64> =
            sqlx::query_scalar("SELECT version FROM _sqlx_migrations WHERE success = 1")
                .fetch_all(&self.reader)
                .await?;
        Ok(MIGRATOR.iter().all(|m| applied.contains(&m.version)))
    }

    /// SQLite takes the write lock at BEGIN IMMEDIATE, so concurrent writers queue behind the
    /// busy timeout instead of failing when a transaction that has read tries to write after
    /// another has (SQLITE_BUSY_SNAPSHOT).
    ///
    /// A caller cancelled between sending BEGIN and receiving its transaction (a client that
    /// hung up, a sibling task dropped) leaves the writer connection inside a transaction that
    /// nobody owns, holding the write lock; every later BEGIN on it would fail. Such a
    /// connection is closed, never reused, and the next one opened in its place.
    pub async fn begin_write(
        &self,
    ) -> Result<sqlx::Transaction<'static, sqlx::Sqlite>, sqlx::Error> {
        use sqlx::Connection;
        let mut tries = 0;
        loop {
            tries += 1;
            let conn = self.writer.acquire().await?;
            if conn.is_in_transaction() {
                tracing::warn!("the writer connection was left inside a transaction; reopening it");
                let _ = conn.close().await;
                continue;
            }
            match sqlx::Transaction::begin(conn, Some("BEGIN IMMEDIATE".into())).await {
                Err(sqlx::Error::InvalidSavePointStatement) if tries < 4 => continue,
                other => return other,
            }
        }
    }

    pub async fn acquire(&self) -> Result<sqlx::pool::PoolConnection<sqlx::Sqlite>, sqlx::Error> {
        self.reader.acquire().await
    }

    /// PASSIVE runs beside readers and the writer without blocking them, copying whatever
    /// frames no reader still needs; TRUNCATE also empties the WAL file.
    pub async fn checkpoint(&self, truncate: bool) -> Result<(), StorageError> {
        let statement = if truncate {
            "PRAGMA wal_checkpoint(TRUNCATE)"
        } else {
            "PRAGMA wal_checkpoint(PASSIVE)"
        };
        sqlx::query(statement).execute(&self.reader).await?;
        Ok(())
    }
}

/// `2026-11-20T09:00:00.000000Z`: six fractional digits always, so text order is time order.
pub fn time_text(at: &DateTime<Utc>) -> String {
    at.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_order_is_time_order() {
        let at = |t: &str| DateTime::parse_from_rfc3339(t).unwrap().to_utc();
        let a = at("2026-11-20T09:00:00Z");
        let b = at("2026-11-20T09:00:00.5Z");
        let c = at("2026-11-20T09:00:01Z");
        assert!(time_text(&a) < time_text(&b));
        assert!(time_text(&b) < time_text(&c));
    }
}
