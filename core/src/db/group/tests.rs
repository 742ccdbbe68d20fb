//! The group commit: what each piece of a batch is told, and what is written.

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
async fn a_batch_whose_transaction_sqlite_rolled_back_writes_nothing_and_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let (db, sqlite) = database(&dir).await;
    let ran: Vec<Arc<AtomicBool>> = (0..2).map(|_| Arc::default()).collect();
    let (first, a) = piece("kept", false, ran[0].clone());
    // As SQLite does under a full disk: the whole transaction is gone when the piece fails.
    let (breaks, b) = queued(|tx| {
        Box::pin(async move {
            query("ROLLBACK").execute(&mut *tx).await?;
            Err::<(), AppError>(AppError::Internal)
        })
    });
    let (after, c) = piece("after", false, ran[1].clone());
    let mut batch = vec![first, breaks, after];
    let ended = run_batch(&sqlite, &mut batch).await;
    assert!(ended.is_err(), "the batch fails");
    for piece in batch {
        piece.settle(ended.as_ref().err());
    }
    assert!(
        a.await.unwrap().is_err(),
        "told it failed: it was rolled back"
    );
    assert!(b.await.unwrap().is_err());
    assert!(c.await.unwrap().is_err());
    let keys = written(&db, "SELECT key FROM scratch").await;
    assert!(
        keys.is_empty(),
        "nothing written, nothing left half-committed: {keys:?}"
    );
    assert!(ran.iter().all(|r| !r.load(Ordering::SeqCst)));
    // The writer's connection is usable again.
    let (next, d) = piece("next", false, Arc::default());
    let mut batch = vec![next];
    let ended = run_batch(&sqlite, &mut batch).await;
    batch.pop().unwrap().settle(ended.as_ref().err());
    assert_eq!(d.await.unwrap().unwrap(), "next");
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
        let stored = written(&db, &format!("SELECT key FROM scratch WHERE key = '{key}'")).await;
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
