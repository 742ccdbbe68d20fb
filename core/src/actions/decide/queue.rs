//! Group commit for decisions. Every decision goes to one writer task, which takes whatever
//! has queued up meanwhile and decides it all in one write transaction — in a few statements
//! for the whole batch, not a few per decision — and answers each caller only after the
//! commit. Under load that turns many small transactions (each a write of the WAL)
//! into few larger ones; alone, a decision waits for nobody.
//!
//! Nothing here is needed for correctness: every batch reads the current status and the
//! copies' holders inside a write transaction that holds the database's write lock, so
//! several processes sharing a database stay exactly-once.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use tokio::sync::{mpsc, oneshot};

use super::{decide_all, Decision};
use crate::db::Db;
use crate::policy::{Policy, PolicyHolder};
use crate::AppState;
use model::{Action, Actor, AppError};

/// The most decisions committed together.
const MAX_BATCH: usize = 128;

/// One decision waiting for the writer.
pub(super) struct Request {
    pub actor: Actor,
    pub action_id: String,
    pub decision: Decision,
    pub comment: Option<String>,
    pub reply: oneshot::Sender<Result<Action, AppError>>,
}

/// The way to the writer task.
#[derive(Clone, Debug, Default)]
pub(crate) struct Queue {
    sender: Arc<OnceLock<mpsc::Sender<Request>>>,
}

impl Queue {
    /// Hands a decision to the writer task, starting the task on first use (it needs the
    /// runtime, which constructing the state does not).
    pub(super) async fn submit(&self, state: &AppState, request: Request) -> Result<(), ()> {
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
        sender.send(request).await.map_err(|_| ())
    }
}

/// The writer task: ends when every state holding the queue is gone.
async fn run_writer(
    db: Db,
    dedup_window: Duration,
    policy: Arc<PolicyHolder>,
    mut receiver: mpsc::Receiver<Request>,
) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while receiver.recv_many(&mut batch, MAX_BATCH).await > 0 {
        let requests = std::mem::take(&mut batch);
        // The policy in force when the batch is decided (a reload applies to the next one).
        let policy = policy.current();
        let outcomes = decide_batch(&db, dedup_window, &policy, &requests).await;
        for (request, outcome) in requests.into_iter().zip(outcomes) {
            if let Ok(action) = &outcome {
                tracing::info!(action_id = %action.id, status = %action.status, user = %request.actor, "action decided");
            }
            // The caller may have gone away (a closed connection); the decision stands.
            let _ = request.reply.send(outcome);
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
    policy: &Policy,
    requests: &[Request],
) -> Vec<Result<Action, AppError>> {
    match try_batch(db, dedup_window, policy, requests).await {
        Ok(outcomes) => outcomes,
        Err(error) if requests.len() == 1 => vec![Err(error)],
        Err(error) => {
            tracing::warn!(?error, "a batch of decisions failed; deciding each alone");
            let mut outcomes = Vec::with_capacity(requests.len());
            for request in requests {
                let alone =
                    try_batch(db, dedup_window, policy, std::slice::from_ref(request)).await;
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
    policy: &Policy,
    requests: &[Request],
) -> Result<Vec<Result<Action, AppError>>, AppError> {
    let mut tx = db.write().await?;
    let outcomes = decide_all(&mut tx, dedup_window, policy, requests).await?;
    tx.commit().await?;
    Ok(outcomes)
}
