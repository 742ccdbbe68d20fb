//! The storage seam: everything the rules say to the database goes through a [`Db`] handle.
//! Queries are written once, in SQL both engines read (`$1` placeholders, `ON CONFLICT`,
//! `RETURNING`, explicit ordering columns), built with [`query`] and run on a [`Db`] (a pool),
//! a [`Conn`] (one pooled connection, for several reads) or a [`Tx`] (a write transaction from
//! [`Db::write`]). Values are bound as [`Value`]s, so each engine encodes them its own way —
//! times above all — and rows decode into the callers' `sqlx::FromRow` structs directly.
//!
//! What is particular to one engine lives in that engine's module and nowhere else: opening it,
//! its pragmas, how a write transaction starts, checkpointing, its migrations folder, the
//! browser-session store. [`sqlite`] is the embedded default; PostgreSQL is a sibling module.

mod group;
mod postgres;
mod query;
mod sessions;
mod sqlite;
mod tx;

use std::time::Duration;

use chrono::{DateTime, SubsecRound, Utc};

use model::AppError;

pub use group::Work;
pub use query::{query, Bind, Column, FromRow, Query, Target, Value};
pub use sessions::SessionStore;
pub use tx::Tx;
use tx::TxInner;

/// A database: the pools the rules read and write through.
#[derive(Clone, Debug)]
pub struct Db(Engine);

#[derive(Clone, Debug)]
enum Engine {
    Sqlite(sqlite::Sqlite),
    Postgres(postgres::Postgres),
}

/// What a write transaction locks on PostgreSQL (on SQLite every writer holds the one lock).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Locks {
    /// The write lock, from the start: the transaction reads to decide ([`Db::write`]).
    Whole,
    /// Only the rows it changes ([`Db::write_rows`]).
    Rows,
}

/// How many connections a PostgreSQL pool opens unless `--database-pool` says otherwise.
pub const DEFAULT_POOL: u32 = 16;

/// Why a database could not be opened or brought up to date.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error("database URL {url:?} is not valid: {reason}")]
    BadUrl { url: String, reason: String },
    #[error("cannot open database {url:?}: {source}")]
    Unreachable { url: String, source: sqlx::Error },
    #[error("cannot apply migrations: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
}

/// A query that failed. The cause reaches the log; the caller sees only [`AppError`].
#[derive(Debug, thiserror::Error)]
#[error(transparent)]
pub struct StorageError(#[from] sqlx::Error);

impl StorageError {
    /// Whether a unique constraint refused the write. Callers use it only around a statement
    /// that can violate exactly one unique constraint, so the kind is enough: SQLite does not
    /// report constraint names, and we never match on error text.
    pub fn is_unique_violation(&self) -> bool {
        matches!(&self.0, sqlx::Error::Database(db) if db.is_unique_violation())
    }
}

impl StorageError {
    /// The same failure told to another writer whose work shared the transaction.
    pub(crate) fn again(&self) -> StorageError {
        StorageError(sqlx::Error::Protocol(format!(
            "the shared transaction failed: {}",
            self.0
        )))
    }

    /// SQLite rolled a shared transaction back under one of its pieces.
    pub(crate) fn rolled_back() -> StorageError {
        StorageError(sqlx::Error::Protocol(
            "the shared transaction was rolled back by the database".into(),
        ))
    }

    /// The writer that was to run the work is gone (the database is closing).
    pub(crate) fn gone() -> StorageError {
        StorageError(sqlx::Error::PoolClosed)
    }
}

impl From<StorageError> for AppError {
    fn from(error: StorageError) -> Self {
        match error.0 {
            sqlx::Error::RowNotFound => AppError::NotFound("record".into()),
            // PostgreSQL text cannot hold NUL (SQLSTATE 22021): what a client sent, not a
            // fault of ours. Inputs are checked before they get here; this is the backstop.
            sqlx::Error::Database(db) if db.code().as_deref() == Some("22021") => {
                AppError::Invalid("text must not contain NUL characters".into())
            }
            other => {
                tracing::error!(error = ?other, "database error");
                AppError::Internal
            }
        }
    }
}

impl Db {
    /// Opens the database a URL names (`sqlite://airdesk.db`, an SQLite file created if
    /// missing; or `postgres://user@host/db`), with the default pool.
    pub async fn connect(url: &str) -> Result<Db, OpenError> {
        Db::connect_with(url, DEFAULT_POOL).await
    }

    /// As [`Db::connect`], with a PostgreSQL pool of `pool_size` connections (SQLite keeps
    /// its one writer and its readers whatever the size).
    pub async fn connect_with(url: &str, pool_size: u32) -> Result<Db, OpenError> {
        if url.starts_with("sqlite:") {
            return Ok(Db(Engine::Sqlite(sqlite::Sqlite::connect(url).await?)));
        }
        if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            let db = postgres::Postgres::connect(url, pool_size).await?;
            return Ok(Db(Engine::Postgres(db)));
        }
        Err(OpenError::BadUrl {
            url: postgres::redacted(url),
            reason: "the database URL must start with sqlite:// or postgres://".into(),
        })
    }

    /// Which engine, and its version: for the line each instance logs at start.
    pub async fn describe(&self) -> Result<String, StorageError> {
        match &self.0 {
            Engine::Sqlite(db) => {
                let version: String = sqlx::query_scalar("SELECT sqlite_version()")
                    .fetch_one(db.reader())
                    .await?;
                Ok(format!("SQLite {version}"))
            }
            Engine::Postgres(db) => Ok(format!("PostgreSQL {}", db.version().await?)),
        }
    }

    /// Whether this is a PostgreSQL database (tests and benches that look inside).
    pub fn is_postgres(&self) -> bool {
        matches!(self.0, Engine::Postgres(_))
    }

    /// Applies every migration not yet applied.
    pub async fn migrate(&self) -> Result<(), OpenError> {
        match &self.0 {
            Engine::Sqlite(db) => db.migrate().await,
            Engine::Postgres(db) => db.migrate().await,
        }
    }

    /// Whether every migration this binary knows has been applied (for `/readyz`).
    pub async fn is_migrated(&self) -> Result<bool, StorageError> {
        match &self.0 {
            Engine::Sqlite(db) => db.is_migrated().await,
            Engine::Postgres(db) => db.is_migrated().await,
        }
    }

    /// Starts a transaction that will write. The rules read then write (the incident to
    /// join, the current status, the copies an approval claims), so every such transaction
    /// takes the engine's write lock at its start, and writers queue instead of failing
    /// halfway.
    #[tracing::instrument(level = "trace", skip_all)]
    pub async fn write(&self) -> Result<Tx<'static>, StorageError> {
        match &self.0 {
            Engine::Sqlite(db) => Ok(Tx::new(TxInner::Sqlite(db.begin_write().await?))),
            Engine::Postgres(db) => {
                let (tx, turn) = db.begin_write().await?;
                Ok(Tx::new(TxInner::Postgres(tx, Some(turn))))
            }
        }
    }

    /// Starts a write transaction for work that needs no view of the whole database, only
    /// of the rows it changes, which it locks ([`Tx::lock_rows`], `FOR UPDATE`, `UPDATE …
    /// WHERE` the row is still as expected): execution's job claims, results and
    /// completions. On PostgreSQL it does not wait for the write lock [`Db::write`] takes, so
    /// workers on every instance do not queue behind decisions, nor decisions behind them;
    /// SQLite has one writer at a time, so there it is [`Db::write`].
    #[tracing::instrument(level = "trace", skip_all)]
    pub async fn write_rows(&self) -> Result<Tx<'static>, StorageError> {
        match &self.0 {
            Engine::Sqlite(db) => Ok(Tx::new(TxInner::Sqlite(db.begin_write().await?))),
            Engine::Postgres(db) => Ok(Tx::new(TxInner::Postgres(db.begin_rows().await?, None))),
        }
    }

    /// Runs `work` in a write transaction and commits it. On SQLite the work joins this
    /// process's group commit (`group`): with whatever other writers queued meanwhile, in one
    /// transaction, inside a savepoint of its own, answered once that transaction has
    /// committed. On PostgreSQL, whose writers commit side by side, it has a transaction of
    /// its own, taken as [`Db::write`] (`Locks::Whole`) or [`Db::write_rows`] (`Locks::Rows`)
    /// takes it. Either way an error from `work` undoes all it wrote, and nothing else.
    pub async fn write_with<T, E, F>(&self, locks: Locks, work: F) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<StorageError> + Send + 'static,
        F: Work<T, E>,
    {
        match &self.0 {
            Engine::Sqlite(db) => db.group().run(db, work).await,
            Engine::Postgres(_) => {
                let mut tx = match locks {
                    Locks::Whole => self.write().await?,
                    Locks::Rows => self.write_rows().await?,
                };
                let value = work(&mut tx).await?;
                tx.commit().await?;
                Ok(value)
            }
        }
    }

    /// One connection from the pool, for several reads in a row.
    pub async fn read(&self) -> Result<Conn, StorageError> {
        match &self.0 {
            Engine::Sqlite(db) => Ok(Conn(ConnInner::Sqlite(db.acquire().await?))),
            Engine::Postgres(db) => Ok(Conn(ConnInner::Postgres(db.acquire().await?))),
        }
    }

    /// Copies committed changes back into the main database file without waiting for
    /// readers (SQLite's WAL; nothing to do elsewhere). Writers that commit a lot at once (an
    /// index scan) call it as they go.
    pub async fn checkpoint(&self) -> Result<(), StorageError> {
        match &self.0 {
            Engine::Sqlite(db) => db.checkpoint(false).await,
            Engine::Postgres(_) => Ok(()),
        }
    }

    /// As [`Db::checkpoint`], then shrinks the log: for one-shot commands that wrote a lot.
    pub async fn checkpoint_and_truncate(&self) -> Result<(), StorageError> {
        match &self.0 {
            Engine::Sqlite(db) => db.checkpoint(true).await,
            Engine::Postgres(_) => Ok(()),
        }
    }

    /// Runs [`Db::checkpoint`] every [`CHECKPOINT_INTERVAL`], off the commit path, until the
    /// task is dropped: `airdesk serve` runs it so that no decision ever waits for one.
    pub async fn checkpoint_periodically(self) {
        if self.is_postgres() {
            return;
        }
        let mut ticks = tokio::time::interval(CHECKPOINT_INTERVAL);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticks.tick().await;
            if let Err(error) = self.checkpoint().await {
                tracing::warn!(%error, "checkpoint failed; will retry");
            }
        }
    }

    /// The SQLite pool underneath, for tests and tools that inspect the file itself. Nothing
    /// in airdesk's own code reaches past the seam with it.
    pub fn sqlite_pool(&self) -> Option<&sqlx::SqlitePool> {
        match &self.0 {
            Engine::Sqlite(db) => Some(db.reader()),
            Engine::Postgres(_) => None,
        }
    }

    /// The PostgreSQL pool underneath, likewise for tests and tools only.
    pub fn postgres_pool(&self) -> Option<&sqlx::PgPool> {
        match &self.0 {
            Engine::Postgres(db) => Some(db.pool()),
            Engine::Sqlite(_) => None,
        }
    }

    /// Closes every connection; later queries fail (tests of an unreachable database use it).
    pub async fn close(&self) {
        match &self.0 {
            Engine::Sqlite(db) => db.close().await,
            Engine::Postgres(db) => db.pool().close().await,
        }
    }

    /// The store for browser sessions, in this database (its table created if missing).
    pub async fn session_store(&self) -> Result<SessionStore, StorageError> {
        match &self.0 {
            Engine::Sqlite(db) => SessionStore::sqlite(db).await,
            Engine::Postgres(db) => SessionStore::postgres(db).await,
        }
    }
}

/// How often `serve` checkpoints.
pub const CHECKPOINT_INTERVAL: Duration = Duration::from_secs(1);

/// Now, truncated to the microseconds the database keeps.
pub fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(6)
}

/// One pooled connection.
pub struct Conn(ConnInner);

enum ConnInner {
    Sqlite(sqlx::pool::PoolConnection<sqlx::Sqlite>),
    Postgres(sqlx::pool::PoolConnection<sqlx::Postgres>),
}

/// A failed query as the caller's error: the cause is logged, the caller sees Internal.
pub fn fail(error: impl Into<StorageError>) -> AppError {
    error.into().into()
}
