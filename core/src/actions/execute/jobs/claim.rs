//! Claiming a job: the oldest waiting one, or one whose worker's lease ran out.

use std::time::Duration;

use super::{chrono_duration, Claimed, ClaimedAction, ACTOR};
use crate::actions::execute::ExecutionConfig;
use crate::actions::state::{self, Transition};
use crate::db::{self, query, Db, Locks, Tx};
use crate::new_id;
use model::{ActionStatus, ActionType, AppError};

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
pub(in crate::actions::execute) async fn claim(
    db: &Db,
    config: &ExecutionConfig,
) -> Result<Option<Claimed>, AppError> {
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
    let lease = config.lease;
    let claimed = db
        .write_with(Locks::Rows, move |tx| {
            Box::pin(async move { take_job(tx, started, lease).await })
        })
        .await?;
    let Some((job_id, claim, attempts, row)) = claimed else {
        return Ok(None);
    };
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

/// Takes a waiting job in `tx`: its id, the claim, its attempts so far and its action.
async fn take_job(
    tx: &mut Tx<'_>,
    started: chrono::DateTime<chrono::Utc>,
    lease: Duration,
) -> Result<Option<(String, String, i64, ActionRow)>, AppError> {
    let skip_locked = tx.skip_locked();
    let mut job: Option<(String, String, i64)> = query(format!(
        "SELECT id, action_id, attempts FROM jobs
         WHERE status = 'queued' AND (not_before IS NULL OR not_before <= $1)
         ORDER BY created_at, id LIMIT 1{skip_locked}"
    ))
    .bind(started)
    .fetch_optional(&mut *tx)
    .await?;
    if job.is_none() {
        // A worker that died: its lease ran out.
        job = query(format!(
            "SELECT id, action_id, attempts FROM jobs
             WHERE status = 'running' AND lease_until < $1
             ORDER BY lease_until LIMIT 1{skip_locked}"
        ))
        .bind(started)
        .fetch_optional(&mut *tx)
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
    .bind(started + chrono_duration(lease))
    .bind(&claim)
    .bind(started)
    .bind(crate::instance())
    .execute(&mut *tx)
    .await?;
    let row: ActionRow = query(
        "SELECT id, action_type, status, changed_from, cluster_id, mailbox
         FROM actions WHERE id = $1",
    )
    .bind(&action_id)
    .fetch_one(&mut *tx)
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
        state::transition(tx, started).await?;
    }
    Ok(Some((job_id, claim, attempts, row)))
}
