//! Group commit for every writer of one SQLite database in this process: decisions,
//! execution's claims, results and completions. SQLite has one writer at a time, and each
//! transaction ends in a commit (a write of the WAL, and a round trip to the connection's
//! thread for BEGIN and COMMIT each). Writers hand their work to one task instead, which runs
//! whatever has queued up meanwhile back to back in one transaction, each piece inside its own
//! savepoint, and commits once. Alone, a writer waits for nobody.
//!
//! Each piece keeps the meaning of its own transaction: one that fails is rolled back to its
//! savepoint — its rows, its audit events and what it would do after commit are gone — and
//! takes no other piece with it; one that succeeds is answered only once the whole batch has
//! committed, and if that commit fails every piece is told so. Its audit events are appended
//! and its after-commit work done at that commit, not at its savepoint.
//!
//! SQLite itself rolls the whole transaction back under some failures of a statement (a full
//! disk, an I/O error). A later piece's savepoint would then open a transaction of its own,
//! which its release would commit while the batch went on to fail. So after a piece fails the
//! writer checks the transaction is still open, and fails the batch at once if it is not.

use std::panic::AssertUnwindSafe;
use std::sync::{Arc, OnceLock};

use futures_util::future::BoxFuture;
use futures_util::FutureExt;
use tokio::sync::{mpsc, oneshot};

use super::{query, sqlite::Sqlite, StorageError, Tx, TxInner};

/// The most pieces of work in one transaction.
const MAX_BATCH: usize = 128;

/// A writer's work: it runs in a transaction (its own, or a savepoint of a shared one) and
/// answers a value, or an error that undoes it.
pub trait Work<T, E>:
    for<'a, 'b> FnOnce(&'a mut Tx<'b>) -> BoxFuture<'a, Result<T, E>> + Send + 'static
{
}

impl<T, E, F> Work<T, E> for F where
    F: for<'a, 'b> FnOnce(&'a mut Tx<'b>) -> BoxFuture<'a, Result<T, E>> + Send + 'static
{
}

/// One piece of queued work, whatever it answers.
trait Piece: Send {
    /// Runs the work; answers whether it holds (false: undo it).
    fn run<'a, 'b>(&'a mut self, tx: &'a mut Tx<'b>) -> BoxFuture<'a, bool>;
    /// Answers the writer once the batch has ended: committed, or not (`failed`).
    fn settle(self: Box<Self>, failed: Option<&StorageError>);
}

struct Queued<T, E, F> {
    work: Option<F>,
    answer: Option<Result<T, E>>,
    reply: oneshot::Sender<Result<T, E>>,
}

impl<T, E, F> Piece for Queued<T, E, F>
where
    T: Send + 'static,
    E: From<StorageError> + Send + 'static,
    F: Work<T, E>,
{
    fn run<'a, 'b>(&'a mut self, tx: &'a mut Tx<'b>) -> BoxFuture<'a, bool> {
        Box::pin(async move {
            let Some(work) = self.work.take() else {
                return false;
            };
            let answer = work(tx).await;
            let holds = answer.is_ok();
            self.answer = Some(answer);
            holds
        })
    }

    fn settle(self: Box<Self>, failed: Option<&StorageError>) {
        let answer = match (self.answer, failed) {
            // Its own error stands whatever became of the batch: it was undone either way.
            (Some(Err(error)), _) => Err(error),
            (Some(Ok(value)), None) => Ok(value),
            (_, Some(error)) => Err(E::from(error.again())),
            (None, None) => Err(E::from(StorageError::gone())),
        };
        // The caller may have gone away (a cancelled request); what committed stands.
        let _ = self.reply.send(answer);
    }
}

/// The way to this database's group writer (started on first use: it needs the runtime).
#[derive(Clone, Debug, Default)]
pub(super) struct Group {
    sender: Arc<OnceLock<mpsc::Sender<Box<dyn Piece>>>>,
}

impl std::fmt::Debug for dyn Piece {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Piece")
    }
}

impl Group {
    /// Runs `work` in the next batch and answers it once that batch has committed.
    pub(super) async fn run<T, E, F>(&self, db: &Sqlite, work: F) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<StorageError> + Send + 'static,
        F: Work<T, E>,
    {
        let sender = self.sender.get_or_init(|| {
            let (sender, receiver) = mpsc::channel(4 * MAX_BATCH);
            start(db.detached(), receiver);
            sender
        });
        let (reply, answer) = oneshot::channel();
        let piece = Box::new(Queued {
            work: Some(work),
            answer: None,
            reply,
        });
        sender
            .send(piece)
            .await
            .map_err(|_| E::from(StorageError::gone()))?;
        answer
            .await
            .unwrap_or_else(|_| Err(E::from(StorageError::gone())))
    }
}

/// Starts the group writer on a thread of its own. Each statement it runs is a round trip to
/// the connection's thread, and the next one waits for the writer to be scheduled again: on
/// the request runtime that wait is behind every request being served, and every writer in
/// the process waits with it.
fn start(db: Sqlite, receiver: mpsc::Receiver<Box<dyn Piece>>) {
    // Without its thread or its runtime every write fails (its queue is gone) and says so.
    let spawned = std::thread::Builder::new()
        .name("airdesk-writer".into())
        .spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build();
            match runtime {
                Ok(runtime) => runtime.block_on(writer(db, receiver)),
                Err(error) => tracing::error!(%error, "cannot start the database writer"),
            }
        });
    if let Err(error) = spawned {
        tracing::error!(%error, "cannot start the database writer");
    }
}

/// The group writer: ends when every handle to the database is gone.
async fn writer(db: Sqlite, mut receiver: mpsc::Receiver<Box<dyn Piece>>) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while receiver.recv_many(&mut batch, MAX_BATCH).await > 0 {
        // A piece that panics fails its batch (rolled back, every piece told), not the writer.
        let ended = AssertUnwindSafe(run_batch(&db, &mut batch))
            .catch_unwind()
            .await
            .unwrap_or_else(|_| Err(StorageError::gone()));
        if let Err(error) = &ended {
            tracing::warn!(%error, pieces = batch.len(), "a group commit failed; nothing of it was written");
        }
        for piece in batch.drain(..) {
            piece.settle(ended.as_ref().err());
        }
    }
}

#[tracing::instrument(level = "debug", skip_all, fields(pieces = batch.len()))]
async fn run_batch(db: &Sqlite, batch: &mut [Box<dyn Piece>]) -> Result<(), StorageError> {
    let mut tx = Tx::new(TxInner::Sqlite(db.begin_write().await?));
    // Alone, a piece needs no savepoint: undoing it is rolling the transaction back.
    if let [piece] = batch {
        if piece.run(&mut tx).await {
            tx.commit().await?;
        }
        return Ok(());
    }
    for piece in batch.iter_mut() {
        let mut savepoint = tx.savepoint().await?;
        if piece.run(&mut savepoint).await {
            let later = savepoint.release().await?;
            tx.adopt(later);
            continue;
        }
        // Dropped without release, a savepoint is rolled back to.
        drop(savepoint);
        if !still_open(&mut tx).await? {
            return Err(StorageError::rolled_back());
        }
    }
    tx.commit().await
}

/// Whether the transaction is still open: BEGIN fails inside one. Should SQLite have rolled it
/// back, the BEGIN has opened another, which is rolled back at once.
async fn still_open(tx: &mut Tx<'_>) -> Result<bool, StorageError> {
    if query("BEGIN").execute(&mut *tx).await.is_err() {
        return Ok(true);
    }
    query("ROLLBACK").execute(&mut *tx).await?;
    Ok(false)
}

#[cfg(test)]
mod tests;
