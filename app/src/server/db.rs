//! Opening the database and bringing its schema up to date.

use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::SqlitePool;

/// The migrations in `migrations/`, compiled into the binary.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../migrations");

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("database URL {url:?} is not valid: {source}")]
    BadUrl { url: String, source: sqlx::Error },
    #[error("cannot open database {url:?}: {source}")]
    Unreachable { url: String, source: sqlx::Error },
    #[error("cannot apply migrations: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
}

/// Opens (creating if missing) an SQLite database with WAL, foreign keys and a busy timeout.
///
/// Commits never checkpoint the WAL themselves (`wal_autocheckpoint = 0`): a checkpoint copies
/// pages into the database file and syncs it, and done by the committing writer it stalls
/// every decision queued behind it. `airdesk serve` runs [`checkpoint_periodically`] on a
/// connection of its own instead; the one-shot commands leave it to SQLite, which checkpoints
/// when the last connection closes.
pub async fn connect(url: &str) -> Result<SqlitePool, DbError> {
    let options = SqliteConnectOptions::from_str(url)
        .map_err(|source| DbError::BadUrl {
            url: url.to_string(),
            source,
        })?
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Normal)
        .foreign_keys(true)
        .busy_timeout(Duration::from_secs(10))
        .pragma("wal_autocheckpoint", "0");
    SqlitePoolOptions::new()
        .max_connections(8)
        .acquire_timeout(Duration::from_secs(10))
        .connect_with(options)
        .await
        .map_err(|source| DbError::Unreachable {
            url: url.to_string(),
            source,
        })
}

/// Applies every migration not yet applied.
pub async fn migrate(pool: &SqlitePool) -> Result<(), DbError> {
    MIGRATOR.run(pool).await?;
    Ok(())
}

/// Starts a transaction that will write. SQLite takes the write lock at BEGIN IMMEDIATE, so
/// concurrent writers queue behind the busy timeout instead of failing when a transaction that
/// has read tries to write after another has (SQLITE_BUSY_SNAPSHOT). The rules read then write
/// (the audit chain's head, the incident to join), so every writing transaction starts here.
pub async fn begin_write(
    pool: &SqlitePool,
) -> Result<sqlx::Transaction<'static, sqlx::Sqlite>, sqlx::Error> {
    pool.begin_with("BEGIN IMMEDIATE").await
}

/// How often the server copies the WAL back into the database file.
pub const CHECKPOINT_INTERVAL: Duration = Duration::from_secs(1);

/// Checkpoints the WAL every [`CHECKPOINT_INTERVAL`], in PASSIVE mode: it runs beside readers
/// and the writer without blocking them, copying whatever frames no reader still needs. Runs
/// until the task is dropped.
pub async fn checkpoint_periodically(pool: SqlitePool) {
    let mut ticks = tokio::time::interval(CHECKPOINT_INTERVAL);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        if let Err(error) = sqlx::query("PRAGMA wal_checkpoint(PASSIVE)")
            .execute(&pool)
            .await
        {
            tracing::warn!(%error, "WAL checkpoint failed; will retry");
        }
    }
}

/// Whether every migration this binary knows has been applied (for `/readyz`).
pub async fn is_migrated(pool: &SqlitePool) -> Result<bool, sqlx::Error> {
    let applied: Vec<i64> =
        sqlx::query_scalar("SELECT version FROM _sqlx_migrations WHERE success = 1")
            .fetch_all(pool)
            .await?;
    Ok(MIGRATOR.iter().all(|m| applied.contains(&m.version)))
}
