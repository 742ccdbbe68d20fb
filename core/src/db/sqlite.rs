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
    /// One connection for the periodic checkpoint, whose busy timeout is short: a RESTART
    /// holds writers back while it waits for readers (see [`Sqlite::checkpoint`]).
    checkpointer: SqlitePool,
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
        let checkpointer = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_lazy_with(options.clone().busy_timeout(RESTART_WAIT));
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .acquire_timeout(Duration::from_secs(30))
            .connect_lazy_with(options);
        Ok(Sqlite {
            reader,
            writer,
            checkpointer,
            group: Group::default(),
        })
    }

    pub async fn close(&self) {
        self.reader.close().await;
        self.writer.close().await;
        self.checkpointer.close().await;
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
            checkpointer: self.checkpointer.clone(),
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
    /// frames no reader still needs; TRUNCATE (for one-shot commands) also empties the file.
    ///
    /// PASSIVE alone never lets the log start again while readers and the writer are always
    /// busy: SQLite reuses the WAL from its start only once a checkpoint has copied all of it
    /// and no reader still reads from it, and under load a new frame is always written first.
    /// The log then grew without end (5.4 GB in 75 s of the actions bench), which fills the
    /// disk, and every page read searched an index of the log that grew with it. So once the
    /// log holds more than [`WAL_FRAMES_KEPT`] frames, a second PASSIVE copies what piled up
    /// during the first and a RESTART follows: it copies the rest and waits for the readers
    /// still in the log, so that the next write starts the log again. Writers wait while it
    /// is pending, so it waits at most [`RESTART_WAIT`] for readers, and tries again at the
    /// next checkpoint if they stay.
    /// (A TRUNCATE under the usual busy timeout held writers back for 0.3 to 5 s.)
    pub async fn checkpoint(&self, truncate: bool) -> Result<(), StorageError> {
        if truncate {
            sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
                .execute(&self.reader)
                .await?;
            return Ok(());
        }
        self.checkpoint_keeping(WAL_FRAMES_KEPT).await
    }

    /// A PASSIVE checkpoint, then (past `frames` frames in the log) another and a RESTART.
    async fn checkpoint_keeping(&self, frames: i64) -> Result<(), StorageError> {
        let passive = || async {
            let (_, in_log, _): (i64, i64, i64) = sqlx::query_as("PRAGMA wal_checkpoint(PASSIVE)")
                .fetch_one(&self.checkpointer)
                .await?;
            Ok::<_, StorageError>(in_log)
        };
        let in_log = passive().await?;
        if in_log <= frames {
            return Ok(());
        }
        passive().await?;
        let started = std::time::Instant::now();
        let (busy, _, _): (i64, i64, i64) = sqlx::query_as("PRAGMA wal_checkpoint(RESTART)")
            .fetch_one(&self.checkpointer)
            .await?;
        let held = started.elapsed();
        if busy != 0 {
            tracing::debug!(
                frames = in_log,
                ?held,
                "readers still in the write-ahead log; will retry"
            );
        } else if held > Duration::from_millis(250) {
            tracing::warn!(
                frames = in_log,
                ?held,
                "starting the write-ahead log again held writers back"
            );
        } else {
            tracing::debug!(frames = in_log, ?held, "the write-ahead log starts again");
        }
        Ok(())
    }
}

/// Frames (pages) the write-ahead log may hold before a periodic checkpoint starts it again:
/// 64 MiB of SQLite's default 4 KiB pages, about a second of writes at the bench's top rate.
const WAL_FRAMES_KEPT: i64 = 16_384;

/// How long a RESTART checkpoint waits for readers (and holds writers back) before it gives up
/// until the next checkpoint.
const RESTART_WAIT: Duration = Duration::from_millis(20);

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

    /// Under a writer and readers that never stop, the periodic checkpoint still starts the
    /// log again once it outgrows its bound, so its file stops growing; with PASSIVE alone it
    /// only ever grew (to 75 MB for 48 MB written, here). The readers read as the portal's do,
    /// a page or a row at a time. (They counted the whole table once, so each read grew with
    /// what had been written; once reads outlasted RESTART_WAIT no restart got through, which
    /// failed this test on fast runs: 139 MB kept of 245 MB written. A read that long holds
    /// the log for its length whatever a checkpoint does.)
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_log_stays_bounded_under_a_writer_and_readers_that_never_stop() {
        use std::sync::atomic::{AtomicBool, Ordering};
        use std::sync::Arc;

        const ROW: usize = 16_000;
        let dir = tempfile::tempdir().unwrap();
        let db = Sqlite::connect(&format!("sqlite://{}/w.db", dir.path().display()))
            .await
            .unwrap();
        sqlx::query("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL)")
            .execute(db.reader())
            .await
            .unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let writer = {
            let (db, stop) = (db.clone(), stop.clone());
            tokio::spawn(async move {
                let mut written = 0;
                while !stop.load(Ordering::Relaxed) {
                    let mut tx = db.begin_write().await.unwrap();
                    sqlx::query("INSERT INTO t (v) VALUES ($1)")
                        .bind("x".repeat(ROW))
                        .execute(&mut *tx)
                        .await
                        .unwrap();
                    tx.commit().await.unwrap();
                    written += ROW;
                }
                written
            })
        };
        let readers: Vec<_> = (0..2)
            .map(|_| {
                let (db, stop) = (db.clone(), stop.clone());
                tokio::spawn(async move {
                    while !stop.load(Ordering::Relaxed) {
                        let _: Option<i64> =
                            sqlx::query_scalar("SELECT length(v) FROM t ORDER BY id DESC LIMIT 1")
                                .fetch_optional(db.reader())
                                .await
                                .unwrap();
                    }
                })
            })
            .collect();

        let wal = dir.path().join("w.db-wal");
        let mut largest = 0;
        for _ in 0..40 {
            tokio::time::sleep(Duration::from_millis(50)).await;
            db.checkpoint_keeping(64).await.unwrap();
            largest = largest.max(std::fs::metadata(&wal).map_or(0, |m| m.len()));
        }
        stop.store(true, Ordering::Relaxed);
        let written = writer.await.unwrap() as u64;
        for reader in readers {
            reader.await.unwrap();
        }
        assert!(
            written > 16 << 20,
            "the writer wrote too little to tell: {written} bytes"
        );
        assert!(
            largest < written / 2,
            "the log reached {largest} bytes after a checkpoint, of {written} written"
        );
    }
}
