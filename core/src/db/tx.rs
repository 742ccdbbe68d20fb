//! A write transaction, and the locks one takes beyond the rows it writes.
//!
//! Two kinds of writers share a PostgreSQL database: those that took the write lock at the
//! start ([`super::Db::write`]: they read to decide, and nothing else decides meanwhile) and
//! those that lock only the rows they change ([`super::Db::write_rows`]). For the two to
//! meet without deadlock, every writer takes its locks in one order: the actions it moves,
//! then their investigations and incidents, each set in id order ([`Tx::lock_rows`]), and the
//! audit trail's head last — at commit, where the events a transaction recorded are appended
//! ([`crate::audit`]), so the head is held for a few statements and never waited on while
//! holding it. On SQLite every write transaction holds the one write lock, and these locks
//! are nothing more.

use super::{query, Bind, StorageError};
use crate::audit;

/// A write transaction. Dropped without [`Tx::commit`], it rolls back, and the audit events
/// it recorded are gone with it.
pub struct Tx<'c> {
    pub(super) inner: TxInner<'c>,
    /// Events recorded by the transaction, appended to the trail at commit.
    audit: Vec<audit::Pending>,
    /// What to do once it has committed (count it in the metrics): never for a rollback.
    after_commit: Vec<AfterCommit>,
}

/// What to do once a transaction has committed.
type AfterCommit = Box<dyn FnOnce() + Send>;

/// What a released savepoint leaves for its transaction's commit.
pub(super) struct Later {
    audit: Vec<audit::Pending>,
    after_commit: Vec<AfterCommit>,
}

pub(super) enum TxInner<'c> {
    Sqlite(sqlx::Transaction<'c, sqlx::Sqlite>),
    /// With this instance's turn to take the write lock, held to the end of the transaction
    /// (none for a transaction that locks rows only).
    Postgres(
        sqlx::Transaction<'c, sqlx::Postgres>,
        Option<tokio::sync::OwnedSemaphorePermit>,
    ),
}

/// The key of the advisory lock on the audit trail's head (any constant; "audit").
const AUDIT_LOCK: i64 = 0x0061_7564_6974;

impl<'c> Tx<'c> {
    pub(super) fn new(inner: TxInner<'c>) -> Self {
        Tx {
            inner,
            audit: Vec::new(),
            after_commit: Vec::new(),
        }
    }

    /// Appends the recorded audit events, then commits: the events and the changes they
    /// record commit together or not at all.
    pub async fn commit(mut self) -> Result<(), StorageError> {
        let events = std::mem::take(&mut self.audit);
        if !events.is_empty() {
            audit::append(&mut self, events).await?;
        }
        match self.inner {
            TxInner::Sqlite(tx) => tx.commit().await?,
            TxInner::Postgres(tx, _turn) => tx.commit().await?,
        }
        for then in self.after_commit {
            then();
        }
        Ok(())
    }

    /// A transaction inside this one (a savepoint): [`Tx::release`] keeps what it wrote,
    /// dropping it undoes that and nothing else.
    pub(super) async fn savepoint(&mut self) -> Result<Tx<'_>, StorageError> {
        use sqlx::Acquire;
        let inner = match &mut self.inner {
            TxInner::Sqlite(tx) => TxInner::Sqlite(tx.begin().await?),
            TxInner::Postgres(tx, _) => TxInner::Postgres(tx.begin().await?, None),
        };
        Ok(Tx::new(inner))
    }

    /// Keeps what a savepoint wrote. Its audit events and after-commit work pass to the
    /// enclosing transaction ([`Tx::adopt`]), to be appended and done at its commit.
    pub(super) async fn release(mut self) -> Result<Later, StorageError> {
        let later = Later {
            audit: std::mem::take(&mut self.audit),
            after_commit: std::mem::take(&mut self.after_commit),
        };
        match self.inner {
            TxInner::Sqlite(tx) => tx.commit().await?,
            TxInner::Postgres(tx, _) => tx.commit().await?,
        }
        Ok(later)
    }

    /// Takes on what a released savepoint left for the commit.
    pub(super) fn adopt(&mut self, later: Later) {
        self.audit.extend(later.audit);
        self.after_commit.extend(later.after_commit);
    }

    /// Runs `then` once the transaction has committed (not at all if it rolls back).
    pub(crate) fn after_commit(&mut self, then: impl FnOnce() + Send + 'static) {
        self.after_commit.push(Box::new(then));
    }

    /// Keeps an audit event for the commit.
    pub(crate) fn record(&mut self, event: audit::Pending) {
        self.audit.push(event);
    }

    /// Locks these rows of `table` (by `id`) until the end of the transaction, in id order,
    /// so that two writers reading them to derive something (an investigation's status, an
    /// incident's counts) take turns and the second sees what the first wrote. Nothing to do
    /// on SQLite, whose writers never overlap.
    pub async fn lock_rows<B: Bind>(
        &mut self,
        table: &str,
        ids: impl IntoIterator<Item = B>,
    ) -> Result<(), StorageError> {
        if matches!(self.inner, TxInner::Sqlite(_)) {
            return Ok(());
        }
        let mut lock = query(format!("SELECT 1 FROM {table} WHERE id IN ("));
        lock.push_list(ids).push(") ORDER BY id FOR UPDATE");
        lock.execute(&mut *self).await?;
        Ok(())
    }

    /// What a `SELECT` that claims one of several waiting rows ends with: on PostgreSQL
    /// `FOR UPDATE SKIP LOCKED`, so concurrent claimers each take a different row at once
    /// instead of queueing for the first; nothing on SQLite, where a claim holds the only
    /// write lock.
    pub fn skip_locked(&self) -> &'static str {
        match self.inner {
            TxInner::Sqlite(_) => "",
            TxInner::Postgres(..) => " FOR UPDATE SKIP LOCKED",
        }
    }

    /// Takes the audit trail's head until the end of the transaction (see the module docs).
    pub(crate) async fn lock_audit(&mut self) -> Result<(), StorageError> {
        if matches!(self.inner, TxInner::Sqlite(_)) {
            return Ok(());
        }
        query("SELECT pg_advisory_xact_lock($1)")
            .bind(AUDIT_LOCK)
            .execute(&mut *self)
            .await?;
        Ok(())
    }
}
