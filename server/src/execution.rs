//! Carrying out approved actions on mail (DESIGN.md "Execution on real mail").
//!
//! An approval leaves a job row. Workers — several per process, in as many processes as share
//! the database — claim a job with a lease, apply it a batch of messages at a time, and record
//! one result per message in the same transaction that renews the lease. Every batch starts by
//! finding where its messages are now, so applying twice is harmless: a message already where it
//! should be is "Already in destination", one that is gone is "Not found". A job whose worker
//! died is claimed again when its lease runs out and carries on after the last recorded batch.
//! A store that cannot be reached sends the job back to the queue with a growing delay; after the
//! last try the action is Failed with the reason. Action status goes Approved → In progress →
//! Completed / Partially completed / Failed, and the investigation's follows (DESIGN.md rule 5).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use futures_util::{StreamExt, TryStreamExt};
use serde_json::json;
use sqlx::{QueryBuilder, Sqlite, SqliteConnection};

use app::model::{ActionStatus, ActionType, AppError, MessageLocation, MessageResult};
use app::server::clock::{db_time, now};
use app::server::decisions::refresh_investigation;
use app::server::{audit, db, incidents, new_id, AppState};

use crate::mail::forwarding::{self, ForwardingError, TurnOff};
use crate::mail::{same_message_id, Destination, Found, SharedStore, StoreError};

/// Who execution acts as in the audit trail.
pub const ACTOR: &str = "system";

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

/// Runs jobs against one mail store.
#[derive(Clone, Debug)]
pub struct Executor {
    state: AppState,
    store: SharedStore,
    config: Arc<ExecutionConfig>,
}

/// A job this worker holds.
#[derive(Debug)]
struct Claimed {
    job_id: String,
    claim: String,
    attempts: i64,
    action: Target,
}

/// What an action acts on, read when its job is claimed.
#[derive(Debug, sqlx::FromRow)]
struct Target {
    id: String,
    action_type: String,
    /// As claimed: Approved the first time, In progress when taken over.
    status: String,
    changed_from: Option<String>,
    investigation_id: String,
    incident_id: String,
    cluster_id: Option<String>,
    mailbox: Option<String>,
    internet_message_id: Option<String>,
}

/// What happened to one message (or, for forwarding, the mailbox).
#[derive(Debug, Clone, PartialEq)]
struct Outcome {
    internet_message_id: Option<String>,
    result: MessageResult,
    location: Option<MessageLocation>,
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

impl From<sqlx::Error> for Stop {
    fn from(error: sqlx::Error) -> Self {
        Stop::Db(error.into())
    }
}

impl Executor {
    pub fn new(state: AppState, store: SharedStore, config: ExecutionConfig) -> Self {
        Executor {
            state,
            store,
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
            match self.run_once().await {
                Ok(true) => {}
                Ok(false) => tokio::time::sleep(self.config.poll).await,
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
        let Some(job) = self.claim().await? else {
            return Ok(false);
        };
        tracing::info!(action_id = %job.action.id, attempt = job.attempts, "executing action");
        match self.execute(&job).await {
            Ok(()) => self.finish(&job).await.or_else(ignore_lost_lease)?,
            Err(Stop::Unavailable(reason)) => self.retry_or_fail(&job, &reason).await?,
            Err(Stop::LostLease) => {
                tracing::warn!(action_id = %job.action.id, "lease ran out; another worker has the job");
            }
            Err(Stop::Db(error)) => return Err(error),
        }
        Ok(true)
    }

    async fn claim(&self) -> Result<Option<Claimed>, AppError> {
        let started = now();
        let at = db_time(&started);
        let until = db_time(&(started + chrono_duration(self.config.lease)));
        let mut tx = db::begin_write(&self.state.writer).await?;
        let mut job: Option<(String, String, i64)> = sqlx::query_as(
            "SELECT id, action_id, attempts FROM jobs
             WHERE status = 'queued' AND (not_before IS NULL OR not_before <= $1)
             ORDER BY created_at, id LIMIT 1",
        )
        .bind(&at)
        .fetch_optional(&mut *tx)
        .await?;
        if job.is_none() {
            // A worker that died: its lease ran out.
            job = sqlx::query_as(
                "SELECT id, action_id, attempts FROM jobs
                 WHERE status = 'running' AND lease_until < $1
                 ORDER BY lease_until LIMIT 1",
            )
            .bind(&at)
            .fetch_optional(&mut *tx)
            .await?;
        }
        let Some((job_id, action_id, attempts)) = job else {
            return Ok(None);
        };
        let claim = new_id();
        sqlx::query(
            "UPDATE jobs SET status = 'running', attempts = attempts + 1, lease_until = $2, claim = $3,
                    updated_at = $4
             WHERE id = $1",
        )
        .bind(&job_id)
        .bind(&until)
        .bind(&claim)
        .bind(&at)
        .execute(&mut *tx)
        .await?;
        let action: Target = sqlx::query_as(
            "SELECT id, action_type, status, changed_from, investigation_id, incident_id, cluster_id,
                    mailbox, internet_message_id
             FROM actions WHERE id = $1",
        )
        .bind(&action_id)
        .fetch_one(&mut *tx)
        .await?;
        if action.status == ActionStatus::Approved.as_str() {
            sqlx::query("UPDATE actions SET status = 'in_progress', updated_at = $2 WHERE id = $1")
                .bind(&action_id)
                .bind(&at)
                .execute(&mut *tx)
                .await?;
            audit::record(
                &mut tx,
                ACTOR,
                "action",
                &action_id,
                "action_started",
                Some(json!({"status": ActionStatus::Approved})),
                Some(json!({"status": ActionStatus::InProgress})),
            )
            .await?;
            refresh_investigation(&mut tx, ACTOR, &action.investigation_id).await?;
            incidents::refresh(&mut tx, &action.incident_id).await?;
        }
        tx.commit().await?;
        Ok(Some(Claimed {
            job_id,
            claim,
            attempts: attempts + 1,
            action,
        }))
    }

    async fn execute(&self, job: &Claimed) -> Result<(), Stop> {
        let kind =
            ActionType::parse(&job.action.action_type).ok_or(Stop::Db(AppError::Internal))?;
        if kind == ActionType::TurnOffForwarding {
            return self.turn_off_forwarding(job).await;
        }
        if kind == ActionType::RestoreForwarding {
            return self.restore_forwarding(job).await;
        }
        let destination = match kind {
            ActionType::MoveToInbox => Some(Destination::Inbox),
            ActionType::MoveToJunk => Some(Destination::Junk),
            ActionType::MoveToDeletedItems => Some(Destination::DeletedItems),
            ActionType::HardDelete => None,
            _ => Some(Destination::RecoverableItems),
        };
        let todo = self.messages_left(&job.action).await?;
        let mut by_mailbox: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for (mailbox, id) in todo {
            by_mailbox.entry(mailbox).or_default().push(id);
        }
        let batches: Vec<(String, Vec<String>)> = by_mailbox
            .into_iter()
            .flat_map(|(mailbox, ids)| {
                ids.chunks(self.config.batch.max(1))
                    .map(|chunk| (mailbox.clone(), chunk.to_vec()))
                    .collect::<Vec<_>>()
            })
            .collect();
        // Several mailboxes at once: a store's round trips overlap; each batch still records
        // its own results with the lease renewal. The first failure stops the job.
        futures_util::stream::iter(batches)
            .map(|(mailbox, ids)| async move {
                let outcomes = self.apply(&mailbox, &ids, destination).await?;
                self.record(job, &mailbox, &outcomes).await
            })
            .buffer_unordered(self.config.parallel_mailboxes.max(1))
            .try_collect::<Vec<()>>()
            .await?;
        Ok(())
    }

    /// The action's messages that have no result yet.
    async fn messages_left(&self, action: &Target) -> Result<Vec<(String, String)>, Stop> {
        if let Some(cluster) = &action.cluster_id {
            return Ok(sqlx::query_as(
                "SELECT m.mailbox, m.internet_message_id FROM cluster_messages m
                 WHERE m.cluster_id = $1 AND NOT EXISTS (
                     SELECT 1 FROM action_results r WHERE r.action_id = $2 AND r.mailbox = m.mailbox
                        AND r.internet_message_id = m.internet_message_id)
                 ORDER BY m.mailbox, m.internet_message_id",
            )
            .bind(cluster)
            .bind(&action.id)
            .fetch_all(&self.state.pool)
            .await?);
        }
        let (Some(mailbox), Some(id)) = (&action.mailbox, &action.internet_message_id) else {
            return Ok(Vec::new());
        };
        let done: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM action_results WHERE action_id = $1 AND mailbox = $2
                AND internet_message_id = $3",
        )
        .bind(&action.id)
        .bind(mailbox)
        .bind(id)
        .fetch_one(&self.state.pool)
        .await?;
        Ok(if done == 0 {
            vec![(mailbox.clone(), id.clone())]
        } else {
            Vec::new()
        })
    }

    /// Finds the messages and moves (or expunges) each copy not yet where it should be.
    async fn apply(
        &self,
        mailbox: &str,
        ids: &[String],
        destination: Option<Destination>,
    ) -> Result<Vec<Outcome>, Stop> {
        let found = match self.store.locate(mailbox, ids).await {
            Ok(found) => found,
            Err(StoreError::Refused(why)) => {
                return Ok(ids.iter().map(|id| failed(id, &why)).collect());
            }
            Err(StoreError::Unavailable(why)) => return Err(Stop::Unavailable(why)),
        };
        let folders = self.store.folders();
        let copies_of = |id: &str| -> Vec<&Found> {
            found
                .iter()
                .filter(|f| same_message_id(&f.internet_message_id, id))
                .collect()
        };
        let in_place = |f: &Found| destination.is_some_and(|d| f.folder == folders.name(d));
        let to_handle: Vec<Found> = ids
            .iter()
            .flat_map(|id| copies_of(id))
            .filter(|f| !in_place(f))
            .cloned()
            .collect();
        let results = if to_handle.is_empty() {
            Vec::new()
        } else {
            let done = match destination {
                Some(d) => self.store.move_to(mailbox, &to_handle, d).await,
                None => self.store.expunge(mailbox, &to_handle).await,
            };
            match done {
                Ok(results) => results,
                Err(StoreError::Unavailable(why)) => return Err(Stop::Unavailable(why)),
                Err(StoreError::Refused(why)) => {
                    to_handle.iter().map(|_| Err(why.clone())).collect()
                }
            }
        };
        let mut outcomes = Vec::with_capacity(ids.len());
        let mut failures = Vec::new();
        for id in ids {
            let copies = copies_of(id);
            if copies.is_empty() {
                outcomes.push(Outcome {
                    internet_message_id: Some(id.clone()),
                    result: MessageResult::NotFound,
                    location: None,
                    detail: Some("not in any folder of the mailbox".into()),
                });
                continue;
            }
            let errors: Vec<&String> = to_handle
                .iter()
                .zip(&results)
                .filter(|(f, _)| same_message_id(&f.internet_message_id, id))
                .filter_map(|(_, r)| r.as_ref().err())
                .collect();
            let moved = to_handle
                .iter()
                .any(|f| same_message_id(&f.internet_message_id, id));
            let location = Some(destination.map_or(MessageLocation::Purged, Destination::location));
            if let Some(error) = errors.first() {
                failures.push((id.clone(), (*error).clone()));
            } else if moved {
                outcomes.push(Outcome {
                    internet_message_id: Some(id.clone()),
                    result: MessageResult::Success,
                    location,
                    detail: None,
                });
            } else {
                outcomes.push(Outcome {
                    internet_message_id: Some(id.clone()),
                    result: MessageResult::AlreadyInDestination,
                    location,
                    detail: None,
                });
            }
        }
        if !failures.is_empty() {
            // Someone else may have moved them meanwhile (a user, another process): look again.
            let ids: Vec<String> = failures.iter().map(|(id, _)| id.clone()).collect();
            let again = match self.store.locate(mailbox, &ids).await {
                Ok(again) => Some(again),
                Err(StoreError::Unavailable(why)) => return Err(Stop::Unavailable(why)),
                Err(StoreError::Refused(_)) => None,
            };
            for (id, error) in failures {
                let settled = again.as_ref().is_some_and(|again| {
                    let copies: Vec<&Found> = again
                        .iter()
                        .filter(|f| same_message_id(&f.internet_message_id, &id))
                        .collect();
                    match destination {
                        Some(_) => !copies.is_empty() && copies.iter().all(|f| in_place(f)),
                        None => copies.is_empty(),
                    }
                });
                outcomes.push(if settled {
                    Outcome {
                        internet_message_id: Some(id),
                        result: MessageResult::AlreadyInDestination,
                        location: Some(
                            destination.map_or(MessageLocation::Purged, Destination::location),
                        ),
                        detail: None,
                    }
                } else {
                    failed(&id, &error)
                });
            }
        }
        Ok(outcomes)
    }

    async fn turn_off_forwarding(&self, job: &Claimed) -> Result<(), Stop> {
        let Some(mailbox) = job.action.mailbox.clone() else {
            return Ok(());
        };
        if self.has_result(job).await? {
            return Ok(());
        }
        let internal = &self.state.rules.internal_domains;
        let outcome = match forwarding::turn_off(self.store.as_ref(), &mailbox, internal).await {
            Ok(TurnOff::NothingToDo) => Outcome {
                internet_message_id: None,
                result: MessageResult::AlreadyInDestination,
                location: None,
                detail: Some("no forwarding outside the organisation is active".into()),
            },
            Ok(TurnOff::Done {
                original,
                addresses,
            }) => {
                let mut tx = db::begin_write(&self.state.writer).await?;
                sqlx::query(
                    "INSERT INTO forwarding_changes (action_id, mailbox, original_script, addresses, at)
                     VALUES ($1, $2, $3, $4, $5) ON CONFLICT (action_id) DO NOTHING",
                )
                .bind(&job.action.id)
                .bind(&mailbox)
                .bind(&original)
                .bind(json!(addresses).to_string())
                .bind(db_time(&now()))
                .execute(&mut *tx)
                .await?;
                tx.commit().await?;
                Outcome {
                    internet_message_id: None,
                    result: MessageResult::Success,
                    location: None,
                    detail: Some(format!(
                        "turned off forwarding to {}; the original Sieve script \"{original}\" is kept for undo",
                        addresses.join(", ")
                    )),
                }
            }
            Err(ForwardingError::Store(StoreError::Unavailable(why))) => {
                return Err(Stop::Unavailable(why))
            }
            Err(ForwardingError::Store(StoreError::Refused(why))) => Outcome {
                internet_message_id: None,
                result: MessageResult::Failed,
                location: None,
                detail: Some(why),
            },
            Err(ForwardingError::Sieve(error)) => Outcome {
                internet_message_id: None,
                result: MessageResult::Failed,
                location: None,
                detail: Some(format!("the Sieve script was left as it was: {error}")),
            },
        };
        self.record(job, &mailbox, &[outcome]).await
    }

    /// Whether a mailbox action already has its one result (it ran before a crash).
    async fn has_result(&self, job: &Claimed) -> Result<bool, Stop> {
        let results: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM action_results WHERE action_id = $1")
                .bind(&job.action.id)
                .fetch_one(&self.state.pool)
                .await?;
        Ok(results > 0)
    }

    /// Undo of turning forwarding off: the original script, as recorded, is active again.
    async fn restore_forwarding(&self, job: &Claimed) -> Result<(), Stop> {
        let Some(mailbox) = job.action.mailbox.clone() else {
            return Ok(());
        };
        if self.has_result(job).await? {
            return Ok(());
        }
        let original: Option<String> = sqlx::query_scalar(
            "SELECT original_script FROM forwarding_changes WHERE action_id = $1",
        )
        .bind(&job.action.changed_from)
        .fetch_optional(&self.state.pool)
        .await?;
        let outcome = match original {
            None => Outcome {
                internet_message_id: None,
                result: MessageResult::AlreadyInDestination,
                location: None,
                detail: Some("nothing was turned off, so nothing needs restoring".into()),
            },
            Some(original) => {
                match forwarding::restore(self.store.as_ref(), &mailbox, &original).await {
                    Ok(()) => Outcome {
                        internet_message_id: None,
                        result: MessageResult::Success,
                        location: None,
                        detail: Some(format!("the Sieve script \"{original}\" is active again")),
                    },
                    Err(StoreError::Unavailable(why)) => return Err(Stop::Unavailable(why)),
                    Err(StoreError::Refused(why)) => Outcome {
                        internet_message_id: None,
                        result: MessageResult::Failed,
                        location: None,
                        detail: Some(why),
                    },
                }
            }
        };
        self.record(job, &mailbox, &[outcome]).await
    }

    /// Records a batch's results and renews the lease, in one transaction, if the lease is
    /// still ours.
    async fn record(&self, job: &Claimed, mailbox: &str, outcomes: &[Outcome]) -> Result<(), Stop> {
        let started = now();
        let at = db_time(&started);
        let mut tx = db::begin_write(&self.state.writer).await?;
        self.check_lease(&mut tx, job).await?;
        sqlx::query("UPDATE jobs SET lease_until = $2, updated_at = $3 WHERE id = $1")
            .bind(&job.job_id)
            .bind(db_time(&(started + chrono_duration(self.config.lease))))
            .bind(&at)
            .execute(&mut *tx)
            .await?;
        if !outcomes.is_empty() {
            let mut insert = QueryBuilder::<Sqlite>::new(
                "INSERT INTO action_results (action_id, mailbox, internet_message_id, result, location, detail, at) ",
            );
            insert.push_values(outcomes, |mut row, outcome| {
                row.push_bind(&job.action.id)
                    .push_bind(mailbox)
                    .push_bind(&outcome.internet_message_id)
                    .push_bind(outcome.result.as_str())
                    .push_bind(outcome.location.map(|l| l.as_str()))
                    .push_bind(&outcome.detail)
                    .push_bind(&at);
            });
            insert.push(" ON CONFLICT (action_id, mailbox, internet_message_id) DO NOTHING");
            insert.build().execute(&mut *tx).await?;
        }
        for outcome in outcomes {
            if let (Some(id), Some(location)) = (&outcome.internet_message_id, outcome.location) {
                sqlx::query(
                    "UPDATE cluster_messages SET location = $3 WHERE mailbox = $1 AND internet_message_id = $2",
                )
                .bind(mailbox)
                .bind(id)
                .bind(location.as_str())
                .execute(&mut *tx)
                .await?;
            }
        }
        tx.commit().await?;
        Ok(())
    }

    async fn check_lease(&self, tx: &mut SqliteConnection, job: &Claimed) -> Result<(), Stop> {
        let claim: Option<Option<String>> =
            sqlx::query_scalar("SELECT claim FROM jobs WHERE id = $1 AND status = 'running'")
                .bind(&job.job_id)
                .fetch_optional(&mut *tx)
                .await?;
        match claim {
            Some(Some(claim)) if claim == job.claim => Ok(()),
            _ => Err(Stop::LostLease),
        }
    }

    /// Every message has its result: the action is Completed, Partially completed or Failed.
    async fn finish(&self, job: &Claimed) -> Result<(), Stop> {
        let at = db_time(&now());
        let mut tx = db::begin_write(&self.state.writer).await?;
        self.check_lease(&mut tx, job).await?;
        let counts: Vec<(String, i64)> = sqlx::query_as(
            "SELECT result, COUNT(*) FROM action_results WHERE action_id = $1 GROUP BY result",
        )
        .bind(&job.action.id)
        .fetch_all(&mut *tx)
        .await?;
        let count = |r: MessageResult| {
            counts
                .iter()
                .find(|(k, _)| k == r.as_str())
                .map_or(0, |(_, n)| *n)
        };
        let failed = count(MessageResult::Failed);
        let fine = count(MessageResult::Success)
            + count(MessageResult::AlreadyInDestination)
            + count(MessageResult::NotFound);
        let status = match (failed, fine) {
            (0, _) => ActionStatus::Completed,
            (_, 0) => ActionStatus::Failed,
            _ => ActionStatus::PartiallyCompleted,
        };
        let outcome = summary(&counts);
        self.close(&mut tx, job, status, &outcome, &at).await?;
        tx.commit().await?;
        tracing::info!(action_id = %job.action.id, %status, outcome, "action executed");
        Ok(())
    }

    /// The store could not be reached: back to the queue after a delay, or Failed after the
    /// last try. Results recorded so far stay.
    async fn retry_or_fail(&self, job: &Claimed, reason: &str) -> Result<(), AppError> {
        let started = now();
        let at = db_time(&started);
        let mut tx = db::begin_write(&self.state.writer).await?;
        match self.check_lease(&mut tx, job).await {
            Ok(()) => {}
            Err(Stop::Db(error)) => return Err(error),
            Err(_) => return Ok(()),
        }
        if job.attempts >= i64::from(self.config.attempts) {
            let outcome = format!(
                "Failed after {} tries: mail store unavailable: {reason}",
                job.attempts
            );
            sqlx::query("UPDATE jobs SET last_error = $2 WHERE id = $1")
                .bind(&job.job_id)
                .bind(reason)
                .execute(&mut *tx)
                .await?;
            self.close(&mut tx, job, ActionStatus::Failed, &outcome, &at)
                .await
                .map_err(|stop| match stop {
                    Stop::Db(error) => error,
                    _ => AppError::Internal,
                })?;
            tracing::warn!(action_id = %job.action.id, reason, "action failed");
        } else {
            let exponent = u32::try_from(job.attempts.saturating_sub(1))
                .unwrap_or(u32::MAX)
                .min(16);
            let delay = self
                .config
                .backoff
                .saturating_mul(2u32.saturating_pow(exponent))
                .min(Duration::from_secs(600));
            sqlx::query(
                "UPDATE jobs SET status = 'queued', claim = NULL, lease_until = NULL, not_before = $2,
                        last_error = $3, updated_at = $4
                 WHERE id = $1",
            )
            .bind(&job.job_id)
            .bind(db_time(&(started + chrono_duration(delay))))
            .bind(reason)
            .bind(&at)
            .execute(&mut *tx)
            .await?;
            tracing::warn!(action_id = %job.action.id, reason, retry_in = ?delay, "mail store unavailable; will retry");
        }
        tx.commit().await?;
        Ok(())
    }

    /// Ends the job and sets the action's final status, with its audit event and the
    /// investigation's and incident's status.
    async fn close(
        &self,
        tx: &mut SqliteConnection,
        job: &Claimed,
        status: ActionStatus,
        outcome: &str,
        at: &str,
    ) -> Result<(), Stop> {
        let job_status = if status == ActionStatus::Failed {
            "failed"
        } else {
            "done"
        };
        sqlx::query(
            "UPDATE jobs SET status = $2, claim = NULL, lease_until = NULL, updated_at = $3 WHERE id = $1",
        )
        .bind(&job.job_id)
        .bind(job_status)
        .bind(at)
        .execute(&mut *tx)
        .await?;
        sqlx::query("UPDATE actions SET status = $2, outcome = $3, updated_at = $4 WHERE id = $1")
            .bind(&job.action.id)
            .bind(status.as_str())
            .bind(outcome)
            .bind(at)
            .execute(&mut *tx)
            .await?;
        let event = if status == ActionStatus::Failed {
            "action_failed"
        } else {
            "action_completed"
        };
        audit::record(
            tx,
            ACTOR,
            "action",
            &job.action.id,
            event,
            Some(json!({"status": ActionStatus::InProgress})),
            Some(json!({"status": status, "outcome": outcome})),
        )
        .await?;
        refresh_investigation(tx, ACTOR, &job.action.investigation_id).await?;
        incidents::refresh(tx, &job.action.incident_id).await?;
        Ok(())
    }
}

fn ignore_lost_lease(stop: Stop) -> Result<(), AppError> {
    match stop {
        Stop::Db(error) => Err(error),
        Stop::LostLease => Ok(()),
        // `finish` reaches no store.
        Stop::Unavailable(_) => Ok(()),
    }
}

fn failed(id: &str, why: &str) -> Outcome {
    Outcome {
        internet_message_id: Some(id.to_string()),
        result: MessageResult::Failed,
        location: None,
        detail: Some(why.to_string()),
    }
}

/// "3 succeeded, 1 already in destination" — every kind of result with its count.
fn summary(counts: &[(String, i64)]) -> String {
    let order = [
        MessageResult::Success,
        MessageResult::AlreadyInDestination,
        MessageResult::NotFound,
        MessageResult::Failed,
    ];
    let parts: Vec<String> = order
        .iter()
        .filter_map(|r| {
            counts.iter().find(|(k, _)| k == r.as_str()).map(|(_, n)| {
                let words = match r {
                    MessageResult::Success => "succeeded",
                    MessageResult::AlreadyInDestination => "already in destination",
                    MessageResult::NotFound => "not found",
                    MessageResult::Failed => "failed",
                };
                format!("{n} {words}")
            })
        })
        .collect();
    if parts.is_empty() {
        "nothing to do".into()
    } else {
        parts.join(", ")
    }
}

fn chrono_duration(d: Duration) -> chrono::Duration {
    chrono::Duration::from_std(d).unwrap_or(chrono::Duration::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_summary_names_every_result_with_its_count() {
        assert_eq!(
            summary(&[
                ("failed".into(), 1),
                ("success".into(), 3),
                ("already_in_destination".into(), 2)
            ]),
            "3 succeeded, 2 already in destination, 1 failed"
        );
        assert_eq!(summary(&[]), "nothing to do");
    }
}
