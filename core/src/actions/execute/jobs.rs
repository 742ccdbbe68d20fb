//! The durable job queue behind execution: a job per approved action, claimed with a lease,
//! its results recorded in the transactions that renew the lease, and closed — Completed,
//! Partially completed or Failed — through `actions::state`.

use std::time::Duration;

use super::{ExecutionConfig, Outcome, Stop};
use crate::actions::state::{self, Transition};
use crate::db::{self, query, Db, Tx};
use crate::new_id;
use model::{
    ActionStatus, ActionType, Actor, AppError, MessageLocation, MessageResult, SystemTask,
};

/// Who execution acts as in the audit trail.
pub(crate) const ACTOR: Actor = Actor::System(SystemTask::Execution);

/// A job this worker holds.
#[derive(Debug)]
pub(super) struct Claimed {
    pub job_id: String,
    pub claim: String,
    pub attempts: i64,
    pub action: ClaimedAction,
}

/// What an action acts on, read when its job is claimed.
#[derive(Debug)]
pub(super) struct ClaimedAction {
    pub id: String,
    pub action_type: ActionType,
    pub changed_from: Option<String>,
    pub cluster_id: Option<String>,
    pub mailbox: Option<String>,
}

#[derive(sqlx::FromRow)]
struct ActionRow {
    id: String,
    action_type: String,
    status: String,
    changed_from: Option<String>,
    cluster_id: Option<String>,
    mailbox: Option<String>,
}

/// Takes the oldest queued job that may run now, or a running one whose worker's lease ran
/// out; the action becomes In progress the first time.
pub(super) async fn claim(db: &Db, config: &ExecutionConfig) -> Result<Option<Claimed>, AppError> {
    let started = db::now();
    // Idle workers look without a transaction: every instance's workers poll. Only a job
    // seen waiting is worth a write transaction (where it is looked for again: another
    // worker may have taken it).
    let waiting: Option<String> = query(
        "SELECT id FROM jobs
         WHERE (status = 'queued' AND (not_before IS NULL OR not_before <= $1))
            OR (status = 'running' AND lease_until < $1)
         LIMIT 1",
    )
    .bind(started)
    .optional_scalar(db)
    .await?;
    if waiting.is_none() {
        return Ok(None);
    }
    // The job's row is all a claim needs: it is locked, and workers elsewhere skip it and
    // take the next one.
    let mut tx = db.write_rows().await?;
    let skip_locked = tx.skip_locked();
    let mut job: Option<(String, String, i64)> = query(format!(
        "SELECT id, action_id, attempts FROM jobs
         WHERE status = 'queued' AND (not_before IS NULL OR not_before <= $1)
         ORDER BY created_at, id LIMIT 1{skip_locked}"
    ))
    .bind(started)
    .fetch_optional(&mut tx)
    .await?;
    if job.is_none() {
        // A worker that died: its lease ran out.
        job = query(format!(
            "SELECT id, action_id, attempts FROM jobs
             WHERE status = 'running' AND lease_until < $1
             ORDER BY lease_until LIMIT 1{skip_locked}"
        ))
        .bind(started)
        .fetch_optional(&mut tx)
        .await?;
    }
    let Some((job_id, action_id, attempts)) = job else {
        return Ok(None);
    };
    let claim = new_id();
    query(
        "UPDATE jobs SET status = 'running', attempts = attempts + 1, lease_until = $2, claim = $3,
                updated_at = $4, claimed_by = $5
         WHERE id = $1",
    )
    .bind(&job_id)
    .bind(started + chrono_duration(config.lease))
    .bind(&claim)
    .bind(started)
    .bind(crate::instance())
    .execute(&mut tx)
    .await?;
    let row: ActionRow = query(
        "SELECT id, action_type, status, changed_from, cluster_id, mailbox
         FROM actions WHERE id = $1",
    )
    .bind(&action_id)
    .fetch_one(&mut tx)
    .await?;
    if row.status == ActionStatus::Approved.as_str() {
        let started = Transition {
            action_id: &action_id,
            from: ActionStatus::Approved,
            to: ActionStatus::InProgress,
            actor: &ACTOR,
            event: "action_started",
            decision: None,
            outcome: None,
        };
        state::transition(&mut tx, started).await?;
    }
    tx.commit().await?;
    let action_type = ActionType::parse(&row.action_type).ok_or_else(|| {
        tracing::error!(
            action_type = row.action_type,
            "unknown action type in the queue"
        );
        AppError::Internal
    })?;
    Ok(Some(Claimed {
        job_id,
        claim,
        attempts: attempts + 1,
        action: ClaimedAction {
            id: row.id,
            action_type,
            changed_from: row.changed_from,
            cluster_id: row.cluster_id,
            mailbox: row.mailbox,
        },
    }))
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
    let at = db::now();
    let mut tx = db.write_rows().await?;
    hold_lease(&mut tx, job, Some(at + chrono_duration(config.lease))).await?;
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
        insert.execute(&mut tx).await?;
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
        let rows: Vec<i64> = select.scalars(&mut tx).await?;
        tx.lock_rows("cluster_messages", rows.iter().copied())
            .await?;
        let mut update = query("UPDATE cluster_messages SET location = ");
        update.push_bind(location);
        update
            .push(", folder = COALESCE(")
            .push_bind(folder)
            .push(", folder) WHERE id IN (");
        update.push_list(rows.iter().copied()).push(")");
        update.execute(&mut tx).await?;
    }
    tx.commit().await?;
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
    let mut tx = db.write_rows().await?;
    hold_lease(&mut tx, job, None).await?;
    let counts: Vec<(String, i64)> =
        query("SELECT result, COUNT(*) FROM action_results WHERE action_id = $1 GROUP BY result")
            .bind(&job.action.id)
            .fetch_all(&mut tx)
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
    close(&mut tx, job, status, &outcome).await?;
    tx.commit().await?;
    tracing::info!(%status, outcome, "action executed");
    Ok(())
}

/// The store could not be reached: back to the queue after a delay, or Failed after the last
/// try. Results recorded so far stay.
pub(super) async fn retry_or_fail(
    db: &Db,
    config: &ExecutionConfig,
    job: &Claimed,
    reason: &str,
) -> Result<(), AppError> {
    let at = db::now();
    let mut tx = db.write_rows().await?;
    match hold_lease(&mut tx, job, None).await {
        Ok(()) => {}
        Err(Stop::Db(error)) => return Err(error),
        Err(_) => return Ok(()),
    }
    if job.attempts >= i64::from(config.attempts) {
        let outcome = format!(
            "Failed after {} tries: mail store unavailable: {reason}",
            job.attempts
        );
        query("UPDATE jobs SET last_error = $2 WHERE id = $1")
            .bind(&job.job_id)
            .bind(reason)
            .execute(&mut tx)
            .await?;
        close(&mut tx, job, ActionStatus::Failed, &outcome).await?;
        tracing::warn!(reason, "action failed");
    } else {
        let exponent = u32::try_from(job.attempts.saturating_sub(1))
            .unwrap_or(u32::MAX)
            .min(16);
        let delay = config
            .backoff
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
        .execute(&mut tx)
        .await?;
        tracing::warn!(reason, retry_in = ?delay, "mail store unavailable; will retry");
    }
    tx.commit().await?;
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
