//! The durable job queue behind execution: a job per approved action, claimed with a lease,
//! its results recorded in the transactions that renew the lease, and closed — Completed,
//! Partially completed or Failed — through `actions::state`.

use std::time::Duration;

mod claim;
pub(super) use claim::claim;

use super::{ExecutionConfig, Outcome, Stop};
use crate::actions::state::{self, Transition};
use crate::db::{self, query, Db, Locks, Tx};
use model::{
    ActionStatus, ActionType, Actor, AppError, MessageLocation, MessageResult, SystemTask,
};

/// Who execution acts as in the audit trail.
pub(crate) const ACTOR: Actor = Actor::System(SystemTask::Execution);

/// A job this worker holds.
#[derive(Debug, Clone)]
pub(super) struct Claimed {
    pub job_id: String,
    pub claim: String,
    pub attempts: i64,
    pub action: ClaimedAction,
}

/// What an action acts on, read when its job is claimed.
#[derive(Debug, Clone)]
pub(super) struct ClaimedAction {
    pub id: String,
    pub action_type: ActionType,
    pub changed_from: Option<String>,
    pub cluster_id: Option<String>,
    pub mailbox: Option<String>,
}

/// Records a batch's results and renews the lease, in one transaction, if the lease is still
/// ours.
pub(super) async fn record(
    db: &Db,
    config: &ExecutionConfig,
    job: &Claimed,
    mailbox: &str,
    outcomes: &[Outcome],
) -> Result<(), Stop> {
    let (job, mailbox, outcomes) = (job.clone(), mailbox.to_string(), outcomes.to_vec());
    let lease = config.lease;
    db.write_with(Locks::Rows, move |tx| {
        Box::pin(async move { write_results(tx, lease, &job, &mailbox, &outcomes).await })
    })
    .await
}

async fn write_results(
    tx: &mut Tx<'_>,
    lease: Duration,
    job: &Claimed,
    mailbox: &str,
    outcomes: &[Outcome],
) -> Result<(), Stop> {
    let at = db::now();
    hold_lease(tx, job, Some(at + chrono_duration(lease))).await?;
    if !outcomes.is_empty() {
        let mut insert = query(
            "INSERT INTO action_results (action_id, member, mailbox, internet_message_id, result, location, detail, at) VALUES ",
        );
        for (i, outcome) in outcomes.iter().enumerate() {
            insert.push(if i == 0 { "(" } else { ", (" });
            insert.push_bind(&job.action.id).push(", ");
            insert.push_bind(outcome.member).push(", ");
            insert.push_bind(mailbox).push(", ");
            insert.push_bind(&outcome.internet_message_id).push(", ");
            insert.push_bind(outcome.result).push(", ");
            insert.push_bind(outcome.location).push(", ");
            insert.push_bind(&outcome.detail).push(", ");
            insert.push_bind(at).push(")");
        }
        insert.push(" ON CONFLICT DO NOTHING");
        insert.execute(&mut *tx).await?;
    }
    // Where each copy is now, for every cluster that holds the same copy (the same store
    // handle, not merely the same content): one statement per
    // (location, folder) the batch came to.
    let mut moved: std::collections::BTreeMap<(MessageLocation, Option<String>), Vec<i64>> =
        Default::default();
    for outcome in outcomes {
        if let (Some(member), Some(location)) = (outcome.member, outcome.location) {
            moved
                .entry((location, outcome.folder.clone()))
                .or_default()
                .push(member);
        }
    }
    for ((location, folder), members) in moved {
        // Every row of these copies (other clusters share them), locked in one order first:
        // two workers whose clusters share copies must not lock them crosswise.
        let mut select = query("SELECT id FROM cluster_messages WHERE id IN (");
        select.push_list(members.iter().copied()).push(
            ") OR (file IS NOT NULL AND (mailbox, file) IN
                 (SELECT mailbox, file FROM cluster_messages WHERE id IN (",
        );
        select.push_list(members.iter().copied()).push(")))");
        let rows: Vec<i64> = select.scalars(&mut *tx).await?;
        tx.lock_rows("cluster_messages", rows.iter().copied())
            .await?;
        let mut update = query("UPDATE cluster_messages SET location = ");
        update.push_bind(location);
        update
            .push(", folder = COALESCE(")
            .push_bind(folder)
            .push(", folder) WHERE id IN (");
        update.push_list(rows.iter().copied()).push(")");
        update.execute(&mut *tx).await?;
    }
    Ok(())
}

/// Takes the job's row and checks the lease is still this worker's (another worker may have
/// taken the job over when it ran out), renewing it when `until` is given. The UPDATE locks
/// the row, so a takeover and this worker's writes never interleave.
async fn hold_lease(
    tx: &mut Tx<'_>,
    job: &Claimed,
    until: Option<chrono::DateTime<chrono::Utc>>,
) -> Result<(), Stop> {
    let held = query(
        "UPDATE jobs SET lease_until = COALESCE($3, lease_until), updated_at = $4
         WHERE id = $1 AND status = 'running' AND claim = $2",
    )
    .bind(&job.job_id)
    .bind(&job.claim)
    .bind(until)
    .bind(db::now())
    .execute(&mut *tx)
    .await?;
    match held {
        0 => Err(Stop::LostLease),
        _ => Ok(()),
    }
}

/// Every message has its result: the action is Completed, Partially completed or Failed.
pub(super) async fn finish(db: &Db, job: &Claimed) -> Result<(), Stop> {
    let job = job.clone();
    let (status, outcome) = db
        .write_with(Locks::Rows, move |tx| {
            Box::pin(async move { close_finished(tx, &job).await })
        })
        .await?;
    tracing::info!(%status, outcome, "action executed");
    Ok(())
}

/// Closes a job whose every message has its result; answers the status and outcome given.
async fn close_finished(tx: &mut Tx<'_>, job: &Claimed) -> Result<(ActionStatus, String), Stop> {
    hold_lease(tx, job, None).await?;
    let counts: Vec<(String, i64)> =
        query("SELECT result, COUNT(*) FROM action_results WHERE action_id = $1 GROUP BY result")
            .bind(&job.action.id)
            .fetch_all(&mut *tx)
            .await?;
    // Completed only when every copy is verifiably where it should be, or gone (DESIGN.md
    // rule 9): a copy not found, or not moved, leaves the action short of that.
    let settled: i64 = counts
        .iter()
        .filter(|(k, _)| MessageResult::parse(k).is_some_and(MessageResult::settled))
        .map(|(_, n)| n)
        .sum();
    let total: i64 = counts.iter().map(|(_, n)| n).sum();
    let (failed, fine) = (total - settled, settled);
    let status = match (failed, fine) {
        // Nothing was acted on (a cluster without copies): that is no success either.
        (0, 0) => ActionStatus::Failed,
        (0, _) => ActionStatus::Completed,
        (_, 0) => ActionStatus::Failed,
        _ => ActionStatus::PartiallyCompleted,
    };
    let outcome = match total {
        0 => "Failed: the action's cluster holds no copies; nothing was acted on".to_string(),
        _ => super::summary::summary(&counts),
    };
    close(tx, job, status, &outcome).await?;
    Ok((status, outcome))
}

/// The store could not be reached: back to the queue after a delay, or Failed after the last
/// try. Results recorded so far stay.
pub(super) async fn retry_or_fail(
    db: &Db,
    config: &ExecutionConfig,
    job: &Claimed,
    reason: &str,
) -> Result<(), AppError> {
    let (job, reason) = (job.clone(), reason.to_string());
    let (attempts, backoff) = (config.attempts, config.backoff);
    db.write_with(Locks::Rows, move |tx| {
        Box::pin(async move { retry_later(tx, attempts, backoff, &job, &reason).await })
    })
    .await
}

/// Queues the job again after a delay, or fails it after its last try.
async fn retry_later(
    tx: &mut Tx<'_>,
    attempts: u32,
    backoff: Duration,
    job: &Claimed,
    reason: &str,
) -> Result<(), AppError> {
    let at = db::now();
    match hold_lease(tx, job, None).await {
        Ok(()) => {}
        Err(Stop::Db(error)) => return Err(error),
        Err(_) => return Ok(()),
    }
    if job.attempts >= i64::from(attempts) {
        let outcome = format!(
            "Failed after {} tries: mail store unavailable: {reason}",
            job.attempts
        );
        query("UPDATE jobs SET last_error = $2 WHERE id = $1")
            .bind(&job.job_id)
            .bind(reason)
            .execute(&mut *tx)
            .await?;
        close(tx, job, ActionStatus::Failed, &outcome).await?;
        tracing::warn!(reason, "action failed");
    } else {
        let exponent = u32::try_from(job.attempts.saturating_sub(1))
            .unwrap_or(u32::MAX)
            .min(16);
        let delay = backoff
            .saturating_mul(2u32.saturating_pow(exponent))
            .min(Duration::from_secs(600));
        query(
            "UPDATE jobs SET status = 'queued', claim = NULL, lease_until = NULL, not_before = $2,
                    last_error = $3, updated_at = $4
             WHERE id = $1",
        )
        .bind(&job.job_id)
        .bind(at + chrono_duration(delay))
        .bind(reason)
        .bind(at)
        .execute(&mut *tx)
        .await?;
        tracing::warn!(reason, retry_in = ?delay, "mail store unavailable; will retry");
    }
    Ok(())
}

/// Ends the job and sets the action's final status.
async fn close(
    tx: &mut Tx<'_>,
    job: &Claimed,
    status: ActionStatus,
    outcome: &str,
) -> Result<(), AppError> {
    let job_status = if status == ActionStatus::Failed {
        "failed"
    } else {
        "done"
    };
    query(
        "UPDATE jobs SET status = $2, claim = NULL, lease_until = NULL, updated_at = $3 WHERE id = $1",
    )
    .bind(&job.job_id)
    .bind(job_status)
    .bind(db::now())
    .execute(&mut *tx)
    .await?;
    let event = if status == ActionStatus::Failed {
        "action_failed"
    } else {
        "action_completed"
    };
    let closed = Transition {
        action_id: &job.action.id,
        from: ActionStatus::InProgress,
        to: status,
        actor: &ACTOR,
        event,
        decision: None,
        outcome: Some(outcome),
    };
    if !state::transition(tx, closed).await? {
        tracing::error!("a claimed action was not in progress when it closed");
        return Err(AppError::Internal);
    }
    if status != ActionStatus::Completed {
        explain(tx, job, status, outcome).await?;
    }
    Ok(())
}

/// The investigation's log says why one of its actions fell short (its status follows:
/// Partially remediated).
async fn explain(
    tx: &mut Tx<'_>,
    job: &Claimed,
    status: ActionStatus,
    outcome: &str,
) -> Result<(), AppError> {
    query(
        "INSERT INTO investigation_log (investigation_id, seq, at, step, detail)
         SELECT a.investigation_id,
                (SELECT COALESCE(MAX(l.seq), 0) + 1 FROM investigation_log l WHERE l.investigation_id = a.investigation_id),
                $2, 'Remediation', $3
         FROM actions a WHERE a.id = $1",
    )
    .bind(&job.action.id)
    .bind(db::now())
    .bind(format!(
        "{} {}: {outcome}",
        job.action.action_type.label(),
        status.label().to_lowercase()
    ))
    .execute(&mut *tx)
    .await?;
    Ok(())
}

pub(crate) fn chrono_duration(d: Duration) -> chrono::Duration {
    chrono::Duration::from_std(d).unwrap_or(chrono::Duration::MAX)
}
