//! Batches of decisions. Every decision goes to one task, which takes whatever has queued up
//! meanwhile and decides it all in one piece of write work — in a few statements for the
//! whole batch, not a few per decision — and answers each caller only after the commit. On
//! SQLite that work joins the group commit every writer shares (`db::group`), beside
//! execution's; under load that turns many small transactions (each a write of the WAL) into
//! few larger ones. Alone, a decision waits for nobody.
//!
//! Nothing here is needed for correctness: every batch reads the current status and the
//! copies' holders inside a write transaction that holds the database's write lock, so
//! several processes sharing a database stay exactly-once.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use tokio::sync::{mpsc, oneshot};

use super::{decide_all, Decision};
use crate::db::{Db, Locks};
use crate::policy::{Policy, PolicyHolder};
use crate::AppState;
use model::{Action, Actor, AppError};

/// The most decisions committed together.
const MAX_BATCH: usize = 128;

/// One decision to make.
#[derive(Clone)]
pub(super) struct Request {
    pub actor: Actor,
    pub action_id: String,
    pub decision: Decision,
    pub comment: Option<String>,
}

/// A decision and the caller waiting for it.
struct Waiting {
    request: Request,
    reply: oneshot::Sender<Result<Action, AppError>>,
}

/// The way to the writer task.
#[derive(Clone, Debug, Default)]
pub(crate) struct Queue {
    sender: Arc<OnceLock<mpsc::Sender<Waiting>>>,
}

impl Queue {
    /// Hands a decision to the writer task, starting the task on first use (it needs the
    /// runtime, which constructing the state does not).
    pub(super) async fn submit(
        &self,
        state: &AppState,
        request: Request,
        reply: oneshot::Sender<Result<Action, AppError>>,
    ) -> Result<(), ()> {
        let sender = self.sender.get_or_init(|| {
            let (sender, receiver) = mpsc::channel(4 * MAX_BATCH);
            tokio::spawn(run_writer(
                state.db.clone(),
                state.rules.dedup_window,
                state.policy.clone(),
                receiver,
            ));
            sender
        });
        sender
            .send(Waiting { request, reply })
            .await
            .map_err(|_| ())
    }
}

/// The writer task: ends when every state holding the queue is gone.
async fn run_writer(
    db: Db,
    dedup_window: Duration,
    policy: Arc<PolicyHolder>,
    mut receiver: mpsc::Receiver<Waiting>,
) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while receiver.recv_many(&mut batch, MAX_BATCH).await > 0 {
        let (requests, replies): (Vec<Request>, Vec<_>) = batch
            .drain(..)
            .map(|waiting| (waiting.request, waiting.reply))
            .unzip();
        // The policy in force when the batch is decided (a reload applies to the next one).
        let policy = policy.current();
        let requests: Arc<[Request]> = requests.into();
        let outcomes = decide_batch(&db, dedup_window, &policy, &requests).await;
        for ((request, reply), outcome) in requests.iter().zip(replies).zip(outcomes) {
            if let Ok(action) = &outcome {
                tracing::info!(action_id = %action.id, status = %action.status, user = %request.actor, "action decided");
            }
            // The caller may have gone away (a closed connection); the decision stands.
            let _ = reply.send(outcome);
        }
    }
}

/// Decides a batch in one transaction. Should the transaction fail (a database error, not a
/// refusal), nothing of it was committed and each decision is tried again alone, so one
/// request that breaks the batch takes no other with it.
#[tracing::instrument(level = "debug", skip_all, fields(decisions = requests.len()))]
async fn decide_batch(
    db: &Db,
    dedup_window: Duration,
    policy: &Arc<Policy>,
    requests: &Arc<[Request]>,
) -> Vec<Result<Action, AppError>> {
    match try_batch(db, dedup_window, policy, requests.clone()).await {
        Ok(outcomes) => outcomes,
        Err(error) if requests.len() == 1 => vec![Err(error)],
        Err(error) => {
            tracing::warn!(?error, "a batch of decisions failed; deciding each alone");
            let mut outcomes = Vec::with_capacity(requests.len());
            for request in requests.iter() {
                let alone = try_batch(db, dedup_window, policy, Arc::new([request.clone()])).await;
                outcomes.push(match alone {
                    Ok(mut outcome) => outcome.pop().unwrap_or(Err(AppError::Internal)),
                    Err(error) => Err(error),
                });
            }
            outcomes
        }
    }
}

async fn try_batch(
    db: &Db,
    dedup_window: Duration,
    policy: &Arc<Policy>,
    requests: Arc<[Request]>,
) -> Result<Vec<Result<Action, AppError>>, AppError> {
    let policy = policy.clone();
    db.write_with(Locks::Whole, move |tx| {
        Box::pin(async move { decide_all(tx, dedup_window, &policy, &requests).await })
    })
    .await
}
