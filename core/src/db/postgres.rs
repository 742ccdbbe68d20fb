//! PostgreSQL, for several instances on one database: a pool of `--database-pool`
//! connections, its own migrations folder, and the locks that make its write transactions
//! behave as SQLite's do where the rules need it.
//!
//! The rules read, then write: the incident an alert joins, an action's current status, the
//! copies an approval claims. SQLite serialises such transactions with its one write lock.
//! Here the same is `pg_advisory_xact_lock(WRITE_LOCK)` at the start of every such write
//! transaction ([`super::Db::write`]): held to commit or rollback, by the database, across
//! every instance and connection, released by the server if a client dies. So each decision
//! and each copy's claim happen once, and no rule depends on an in-process lock. Execution's
//! job claims, results and completions need only the rows they touch and lock just those
//! ([`super::Db::write_rows`]: `FOR UPDATE SKIP LOCKED` for a job, row locks in one order for
//! the rest — see [`super::tx`]), so workers on every instance run beside the decisions
//! instead of queueing with them. The audit chain has one head: every transaction appends its
//! events at commit under a second advisory lock (its `seq` is assigned in commit order, and
//! `prev_hash` is unique besides). Reads take no lock and see committed data.

use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{ConnectOptions, PgPool};

use super::{OpenError, StorageError};

/// The migrations in `migrations/postgres/`, compiled into the binary.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../migrations/postgres");

/// The key of the advisory lock every write transaction holds (any constant; "airdesk").
const WRITE_LOCK: i64 = 0x0061_6972_6465_736b;

/// A pool on one PostgreSQL database.
#[derive(Clone, Debug)]
pub struct Postgres {
    pool: PgPool,
    /// This instance's writers take turns before they take a connection: a writer waiting
    /// for the database's write lock would otherwise hold a pooled connection while it waits,
    /// and a burst of writers could leave no connection for reads. (SQLite's one writer
    /// connection does the same.) Only a queue: the database's lock is what makes writes
    /// exclusive, across instances.
    turns: std::sync::Arc<tokio::sync::Semaphore>,
}

impl Postgres {
    pub async fn connect(url: &str, pool_size: u32) -> Result<Self, OpenError> {
        let options = PgConnectOptions::from_str(url)
            .map_err(|e| OpenError::BadUrl {
                url: redacted(url),
                reason: e.to_string(),
            })?
            .application_name("airdesk")
            // Waiting for the write lock behind a long index batch is normal, not a slow query.
            .log_slow_statements(log::LevelFilter::Info, Duration::from_secs(1));
        let pool = PgPoolOptions::new()
            .max_connections(pool_size.max(2))
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(options)
            .await
            .map_err(|source| OpenError::Unreachable {
                url: redacted(url),
                source,
            })?;
        Ok(Postgres {
            pool,
            turns: std::sync::Arc::new(tokio::sync::Semaphore::new(1)),
        })
    }

    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// Applies the migrations; instances starting together take sqlx's own migration lock
    /// (an advisory lock too), so each migration runs once.
    pub async fn migrate(&self) -> Result<(), OpenError> {
        MIGRATOR.run(&self.pool).await?;
        Ok(())
    }

    pub async fn is_migrated(&self) -> Result<bool, StorageError> {
        let applied: Vec<i64> =
            sqlx::query_scalar("SELECT version FROM _sqlx_migrations WHERE success")
                .fetch_all(&self.pool)
                .await?;
        Ok(MIGRATOR.iter().all(|m| applied.contains(&m.version)))
    }

    /// BEGIN and the write lock (module docs) in one round trip: this runs once per write
    /// transaction, while other instances may be queued behind the lock. A transaction dropped
    /// unfinished is rolled back by sqlx when its connection returns to the pool, which
    /// releases the lock.
    pub async fn begin_write(
        &self,
    ) -> Result<
        (
            sqlx::Transaction<'static, sqlx::Postgres>,
            tokio::sync::OwnedSemaphorePermit,
        ),
        sqlx::Error,
    > {
        let turn = self
            .turns
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| sqlx::Error::PoolClosed)?;
        let conn = self.pool.acquire().await?;
        let begin = format!("BEGIN; SELECT pg_advisory_xact_lock({WRITE_LOCK})");
        Ok((
            sqlx::Transaction::begin(conn, Some(begin.into())).await?,
            turn,
        ))
    }

    /// A plain BEGIN, for a transaction that locks only the rows it changes.
    pub async fn begin_rows(
        &self,
    ) -> Result<sqlx::Transaction<'static, sqlx::Postgres>, sqlx::Error> {
        let conn = self.pool.acquire().await?;
        sqlx::Transaction::begin(conn, None).await
    }

    pub async fn acquire(&self) -> Result<sqlx::pool::PoolConnection<sqlx::Postgres>, sqlx::Error> {
        self.pool.acquire().await
    }

    /// The server's version, for the log line at start.
    pub async fn version(&self) -> Result<String, StorageError> {
        Ok(sqlx::query_scalar("SHOW server_version")
            .fetch_one(&self.pool)
            .await?)
    }
}

/// The URL without its password, for messages and logs.
pub fn redacted(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) if parsed.password().is_some() => {
            let _ = parsed.set_password(Some("***"));
            parsed.to_string()
        }
        _ => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn passwords_never_reach_messages() {
        let shown = super::redacted("postgres://airdesk:s3cret@db.test:5432/airdesk");
        assert_eq!(shown, "postgres://airdesk:***@db.test:5432/airdesk");
        assert_eq!(
            super::redacted("postgres:///airdesk"),
            "postgres:///airdesk"
        );
    }
}
