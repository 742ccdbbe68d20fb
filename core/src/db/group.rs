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

use std::sync::{Arc, OnceLock};

use std::panic::AssertUnwindSafe;

use futures_util::future::BoxFuture;
use futures_util::FutureExt;
use tokio::sync::{mpsc, oneshot};

use super::{sqlite::Sqlite, StorageError, Tx, TxInner};

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
        // The writer may have gone away (a cancelled request); what committed stands.
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
        }
        // Dropped without release, a savepoint is rolled back to.
    }
    tx.commit().await
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicBool, Ordering};

    use super::*;
    use crate::audit::{self, Event};
    use crate::db::{query, Db, Locks};
    use model::{Actor, AppError, SystemTask};

    const ACTOR: Actor = Actor::System(SystemTask::Execution);

    async fn database(dir: &tempfile::TempDir) -> (Db, Sqlite) {
        let url = format!("sqlite://{}/group.db", dir.path().display());
        let db = Db::connect(&url).await.unwrap();
        db.migrate().await.unwrap();
        query("CREATE TABLE scratch (key TEXT PRIMARY KEY)")
            .execute(&db)
            .await
            .unwrap();
        let sqlite = Sqlite::connect(&url).await.unwrap();
        (db, sqlite)
    }

    /// Writes a row and its audit event, and flags `ran` once committed; fails after
    /// writing when `fail`.
    fn piece(
        key: &'static str,
        fail: bool,
        ran: Arc<AtomicBool>,
    ) -> (
        Box<dyn Piece>,
        oneshot::Receiver<Result<&'static str, AppError>>,
    ) {
        queued(move |tx| {
            Box::pin(async move {
                query("INSERT INTO scratch (key) VALUES ($1)")
                    .bind(key)
                    .execute(&mut *tx)
                    .await?;
                audit::record(
                    tx,
                    Event {
                        actor: &ACTOR,
                        entity_kind: "setting",
                        entity_id: key,
                        event: "setting_written",
                        before: None,
                        after: None,
                    },
                );
                tx.after_commit(move || ran.store(true, Ordering::SeqCst));
                if fail {
                    return Err(AppError::Invalid(format!("{key} refuses")));
                }
                Ok(key)
            })
        })
    }

    fn queued<T, E, F>(work: F) -> (Box<dyn Piece>, oneshot::Receiver<Result<T, E>>)
    where
        T: Send + 'static,
        E: From<StorageError> + Send + 'static,
        F: Work<T, E>,
    {
        let (reply, answer) = oneshot::channel();
        let queued = Queued {
            work: Some(work),
            answer: None,
            reply,
        };
        (Box::new(queued), answer)
    }

    async fn written(db: &Db, sql: &str) -> Vec<String> {
        query(sql.to_string()).scalars(db).await.unwrap()
    }

    #[tokio::test]
    async fn a_piece_that_fails_is_undone_alone_and_the_others_commit() {
        let dir = tempfile::tempdir().unwrap();
        let (db, sqlite) = database(&dir).await;
        let ran: Vec<Arc<AtomicBool>> = (0..3).map(|_| Arc::default()).collect();
        let (first, a) = piece("first", false, ran[0].clone());
        let (second, b) = piece("second", true, ran[1].clone());
        let (third, c) = piece("third", false, ran[2].clone());
        let mut batch = vec![first, second, third];
        // One batch of three: the failing one sits between two that hold.
        let ended = run_batch(&sqlite, &mut batch).await;
        assert!(ended.is_ok());
        for piece in batch {
            piece.settle(ended.as_ref().err());
        }
        assert_eq!(a.await.unwrap().unwrap(), "first");
        assert!(matches!(b.await.unwrap(), Err(AppError::Invalid(_))));
        assert_eq!(c.await.unwrap().unwrap(), "third");
        let keys = written(
            &db,
            "SELECT key FROM scratch WHERE key IN ('first', 'second', 'third') ORDER BY key",
        )
        .await;
        assert_eq!(keys, ["first", "third"]);
        let events = written(
            &db,
            "SELECT entity_id FROM audit_events WHERE event = 'setting_written' ORDER BY seq",
        )
        .await;
        assert_eq!(events, ["first", "third"]);
        assert!(
            audit::verify(&db).await.unwrap().is_none(),
            "the trail is whole"
        );
        let ran: Vec<bool> = ran.iter().map(|r| r.load(Ordering::SeqCst)).collect();
        assert_eq!(ran, [true, false, true]);
    }

    #[tokio::test]
    async fn a_piece_alone_that_fails_writes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let (db, sqlite) = database(&dir).await;
        let ran = Arc::new(AtomicBool::new(false));
        let (alone, answer) = piece("alone", true, ran.clone());
        let mut batch = vec![alone];
        let ended = run_batch(&sqlite, &mut batch).await;
        batch.pop().unwrap().settle(ended.as_ref().err());
        assert!(answer.await.unwrap().is_err());
        assert!(written(&db, "SELECT key FROM scratch WHERE key = 'alone'")
            .await
            .is_empty());
        assert!(!ran.load(Ordering::SeqCst));
    }

    #[tokio::test]
    async fn a_piece_that_panics_fails_its_batch_not_the_writer() {
        let dir = tempfile::tempdir().unwrap();
        let (db, _) = database(&dir).await;
        let panics = db.write_with::<(), AppError, _>(Locks::Rows, |tx| {
            Box::pin(async move {
                query("INSERT INTO scratch (key) VALUES ('panics')")
                    .execute(&mut *tx)
                    .await?;
                panic!("a bug in a writer");
            })
        });
        assert!(panics.await.is_err());
        let after = db
            .write_with::<(), AppError, _>(Locks::Rows, |tx| {
                Box::pin(async move {
                    query("INSERT INTO scratch (key) VALUES ('after')")
                        .execute(&mut *tx)
                        .await?;
                    Ok(())
                })
            })
            .await;
        assert!(after.is_ok(), "the writer still writes: {after:?}");
        let keys = written(
            &db,
            "SELECT key FROM scratch WHERE key IN ('panics', 'after')",
        )
        .await;
        assert_eq!(keys, ["after"]);
    }

    #[tokio::test]
    async fn every_piece_of_a_batch_is_answered_once_it_has_committed() {
        let dir = tempfile::tempdir().unwrap();
        let (db, _) = database(&dir).await;
        let writers = (0..50).map(|n| {
            let db = db.clone();
            async move {
                db.write_with::<i64, AppError, _>(Locks::Rows, move |tx| {
                    Box::pin(async move {
                        query("INSERT INTO scratch (key) VALUES ($1)")
                            .bind(format!("many-{n}"))
                            .execute(&mut *tx)
                            .await?;
                        if n % 7 == 3 {
                            return Err(AppError::Conflict("refused".into()));
                        }
                        Ok(n)
                    })
                })
                .await
            }
        });
        let answers = futures_util::future::join_all(writers).await;
        for (n, answer) in answers.iter().enumerate() {
            let key = format!("many-{n}");
            let stored =
                written(&db, &format!("SELECT key FROM scratch WHERE key = '{key}'")).await;
            match answer {
                Ok(value) => {
                    assert_eq!(*value, n as i64);
                    assert_eq!(stored, [key], "an answered write is committed");
                }
                Err(_) => {
                    assert_eq!(n % 7, 3);
                    assert!(stored.is_empty(), "a refused write left nothing");
                }
            }
        }
    }
}
