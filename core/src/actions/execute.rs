//! Carrying out approved actions on mail (DESIGN.md "Execution on real mail").
//!
//! An approval leaves a job row ([`jobs`]). Workers — several per process, in as many
//! processes as share the database — claim a job with a lease, apply it a batch of messages at
//! a time ([`apply`]; forwarding in [`forwarding`]), and record one result per message in the
//! same transaction that renews the lease. Every batch starts by finding where its copies are
//! now — by the store's handle on each, never by a header — so applying twice is harmless: a
//! copy already where it should be is "Already in destination"; one that is nowhere, by handle
//! or by content, is "Gone"; one that cannot be told gone is "Not found", and keeps the action
//! short of Completed ([`summary`] says what it came to). A job whose worker died is claimed again when
//! its lease runs out and carries on after the last recorded batch. A store that cannot be
//! reached sends the job back to the queue with a growing delay; after the last try the action
//! is Failed with the reason. Status goes Approved → In progress → Completed / Partially
//! completed / Failed, always through `actions::state`.

mod apply;
mod forwarding;
mod jobs;
mod summary;

use std::sync::Arc;
use std::time::Duration;

use tracing::Instrument;

use crate::AppState;
use model::{ActionType, AppError, MessageLocation, MessageResult};

/// How workers run.
#[derive(Clone, Debug)]
pub struct ExecutionConfig {
    /// Worker tasks in this process (0: none, another instance executes).
    pub workers: usize,
    /// How long a claim holds before another worker may take the job over.
    pub lease: Duration,
    /// Tries before an action that cannot reach its store is Failed.
    pub attempts: u32,
    /// The wait before the first retry; it doubles with each try, up to ten minutes.
    pub backoff: Duration,
    /// How often an idle worker looks for jobs.
    pub poll: Duration,
    /// Messages of one mailbox found, moved and recorded together.
    pub batch: usize,
    /// Mailboxes of one job worked on at once.
    pub parallel_mailboxes: usize,
}

impl Default for ExecutionConfig {
    fn default() -> Self {
        ExecutionConfig {
            workers: 2,
            lease: Duration::from_secs(60),
            attempts: 5,
            backoff: Duration::from_secs(2),
            poll: Duration::from_millis(250),
            batch: 500,
            parallel_mailboxes: 4,
        }
    }
}

/// Runs jobs against the state's mail store.
#[derive(Clone, Debug)]
pub struct Executor {
    state: AppState,
    config: Arc<ExecutionConfig>,
}

/// What happened to one copy (or, for forwarding, the mailbox).
#[derive(Debug, Clone, PartialEq)]
struct Outcome {
    /// The cluster member (copy) it is about; `None` for a mailbox action.
    member: Option<i64>,
    internet_message_id: Option<String>,
    result: MessageResult,
    location: Option<MessageLocation>,
    /// The folder the copy is in now, when that changed or was learnt.
    folder: Option<String>,
    detail: Option<String>,
}

/// Why a job stopped before it finished.
#[derive(Debug)]
enum Stop {
    /// The store could not be reached: try again later.
    Unavailable(String),
    /// Another worker took the job over (this one's lease ran out): leave it alone.
    LostLease,
    Db(AppError),
}

impl From<AppError> for Stop {
    fn from(error: AppError) -> Self {
        Stop::Db(error)
    }
}

impl From<crate::db::StorageError> for Stop {
    fn from(error: crate::db::StorageError) -> Self {
        Stop::Db(error.into())
    }
}

/// Rung when this process queues a job: its idle workers start at once instead of at their
/// next poll (a 1,000-copy cluster took 284 ms from approval to Completed, 250 ms of it the
/// poll). Other instances sharing the database still find the job by polling.
static QUEUED: std::sync::LazyLock<tokio::sync::Notify> =
    std::sync::LazyLock::new(tokio::sync::Notify::new);

/// Wakes this process's idle workers: a job was queued (and committed).
pub(crate) fn wake_workers() {
    QUEUED.notify_waiters();
}

impl Executor {
    pub fn new(state: AppState, config: ExecutionConfig) -> Self {
        Executor {
            state,
            config: Arc::new(config),
        }
    }

    /// Runs the configured number of workers until the task is dropped. None with `workers`
    /// at 0: the instance only serves, and other instances sharing the database execute.
    pub async fn run(self) {
        let mut workers = tokio::task::JoinSet::new();
        for _ in 0..self.config.workers {
            workers.spawn(self.clone().work());
        }
        while workers.join_next().await.is_some() {}
    }

    async fn work(self) {
        loop {
            // Listening before looking: a job queued while this worker looks still wakes it.
            let queued = QUEUED.notified();
            tokio::pin!(queued);
            queued.as_mut().enable();
            match self.run_once().await {
                Ok(true) => {}
                Ok(false) => {
                    tokio::select! {
                        _ = tokio::time::sleep(self.config.poll) => {}
                        _ = queued => {}
                    }
                }
                Err(error) => {
                    tracing::warn!(%error, "execution worker could not reach the database");
                    tokio::time::sleep(self.config.poll).await;
                }
            }
        }
    }

    /// Claims one job and works on it until it finishes, must wait for a retry, or is taken
    /// over. `Ok(false)` when nothing is waiting.
    pub async fn run_once(&self) -> Result<bool, AppError> {
        let Some(job) = jobs::claim(&self.state.db, &self.config).await? else {
            return Ok(false);
        };
        let span = tracing::info_span!("job", action_id = %job.action.id, attempt = job.attempts);
        self.finish_job(&job).instrument(span).await?;
        Ok(true)
    }

    async fn finish_job(&self, job: &jobs::Claimed) -> Result<(), AppError> {
        tracing::info!("executing action");
        match self.execute(job).await {
            Ok(()) => match jobs::finish(&self.state.db, job).await {
                Ok(()) | Err(Stop::LostLease) | Err(Stop::Unavailable(_)) => Ok(()),
                Err(Stop::Db(error)) => Err(error),
            },
            Err(Stop::Unavailable(reason)) => {
                crate::metrics::connector_error(self.state.mail.kind, "execution", "unavailable");
                jobs::retry_or_fail(&self.state.db, &self.config, job, &reason).await
            }
            Err(Stop::LostLease) => {
                tracing::warn!("lease ran out; another worker has the job");
                Ok(())
            }
            Err(Stop::Db(error)) => Err(error),
        }
    }

    async fn execute(&self, job: &jobs::Claimed) -> Result<(), Stop> {
        let kind = job.action.action_type;
        match kind {
            ActionType::TurnOffForwarding => self.turn_off_forwarding(job).await,
            ActionType::RestoreForwarding => self.restore_forwarding(job).await,
            _ => self.move_messages(job, kind).await,
        }
    }
}
