//! Approve and reject (DESIGN.md rules 1, 2, 3, 5 and 7): the one implementation behind the
//! portal's server functions and the REST API. Each decision is atomic — its own savepoint in
//! a write transaction — and checks the role and the current status, applies the duplicate rule, writes the transition and its
//! audit event, enqueues execution and brings the investigation's and incident's status along;
//! decisions that arrive together commit together (see [`Queue`]).

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use serde_json::json;
use sqlx::{Connection, SqliteConnection};
use tokio::sync::{mpsc, oneshot};

use super::clock::{db_time, now};
use super::{actions, audit, db, incidents, new_id, AppState};
use crate::model::{Action, ActionStatus, AppError, CurrentUser, InvestigationStatus};

/// What a person decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    Approve,
    Reject,
}

/// Longest comment kept with a decision.
pub const MAX_COMMENT: usize = 2_000;

#[derive(sqlx::FromRow)]
struct Current {
    status: String,
    action_type: String,
    cluster_key: Option<String>,
    investigation_id: String,
    incident_id: String,
    decided_by: Option<String>,
    decided_at: Option<String>,
}

/// Approves or rejects one pending action. A decision on anything but Pending is a conflict
/// that names who decided it and when.
pub async fn decide(
    state: &AppState,
    user: &CurrentUser,
    action_id: &str,
    decision: Decision,
    comment: Option<&str>,
) -> Result<Action, AppError> {
    decide_many(state, user, &[action_id.to_string()], decision, comment)
        .await
        .pop()
        .unwrap_or(Err(AppError::Internal))
}

/// Approves or rejects several actions (a bulk decision): one result per id, in order. Each
/// decision stands alone — one that fails leaves the others decided.
pub async fn decide_many(
    state: &AppState,
    user: &CurrentUser,
    action_ids: &[String],
    decision: Decision,
    comment: Option<&str>,
) -> Vec<Result<Action, AppError>> {
    if !user.role.can_decide() {
        return action_ids
            .iter()
            .map(|_| Err(AppError::Forbidden("Search and purge".into())))
            .collect();
    }
    let comment = comment.map(str::trim).filter(|c| !c.is_empty());
    if comment.is_some_and(|c| c.chars().count() > MAX_COMMENT) {
        let error = format!("a comment is at most {MAX_COMMENT} characters");
        return action_ids
            .iter()
            .map(|_| Err(AppError::Invalid(error.clone())))
            .collect();
    }
    let mut replies = Vec::with_capacity(action_ids.len());
    for action_id in action_ids {
        let (reply, answer) = oneshot::channel();
        let request = Request {
            user: user.clone(),
            action_id: action_id.clone(),
            decision,
            comment: comment.map(str::to_string),
            reply,
        };
        if state.decisions.submit(state, request).await.is_err() {
            replies.push(None);
        } else {
            replies.push(Some(answer));
        }
    }
    let mut results = Vec::with_capacity(replies.len());
    for answer in replies {
        results.push(match answer {
            Some(answer) => answer.await.unwrap_or(Err(AppError::Internal)),
            None => Err(AppError::Internal),
        });
    }
    results
}

/// The most decisions committed together.
const MAX_BATCH: usize = 128;

/// One decision waiting for the writer.
struct Request {
    user: CurrentUser,
    action_id: String,
    decision: Decision,
    comment: Option<String>,
    reply: oneshot::Sender<Result<Action, AppError>>,
}

/// Group commit for decisions. Every decision goes to one writer task, which takes whatever
/// has queued up meanwhile and decides it all in one write transaction — each decision in its
/// own savepoint, so one that fails takes nothing else with it — and answers each caller only
/// after the commit. Under load that turns many small transactions (each a write of the WAL)
/// into few larger ones; alone, a decision waits for nobody.
///
/// Nothing here is needed for correctness: every decision still reads the current status and
/// takes the duplicate rule's lock row inside a write transaction, so several processes sharing
/// a database stay exactly-once.
#[derive(Clone, Debug, Default)]
pub struct Queue {
    sender: Arc<OnceLock<mpsc::Sender<Request>>>,
}

impl Queue {
    /// Hands a decision to the writer task, starting the task on first use (it needs the
    /// runtime, which constructing the state does not).
    async fn submit(&self, state: &AppState, request: Request) -> Result<(), ()> {
        let sender = self.sender.get_or_init(|| {
            let (sender, receiver) = mpsc::channel(4 * MAX_BATCH);
            tokio::spawn(run_writer(
                state.writer.clone(),
                state.rules.dedup_window,
                receiver,
            ));
            sender
        });
        sender.send(request).await.map_err(|_| ())
    }
}

/// The writer task: ends when every state holding the queue is gone.
async fn run_writer(
    writer: sqlx::SqlitePool,
    dedup_window: Duration,
    mut receiver: mpsc::Receiver<Request>,
) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while receiver.recv_many(&mut batch, MAX_BATCH).await > 0 {
        let requests = std::mem::take(&mut batch);
        let outcomes = decide_batch(&writer, dedup_window, &requests).await;
        for (request, outcome) in requests.into_iter().zip(outcomes) {
            if let Ok(action) = &outcome {
                tracing::info!(action_id = %action.id, status = %action.status, user = %request.user.username, "action decided");
            }
            // The caller may have gone away (a closed connection); the decision stands.
            let _ = request.reply.send(outcome);
        }
    }
}

/// Decides a batch in one transaction. When the transaction itself fails, every decision in it
/// fails with it (none was committed).
async fn decide_batch(
    writer: &sqlx::SqlitePool,
    dedup_window: Duration,
    requests: &[Request],
) -> Vec<Result<Action, AppError>> {
    let all_fail = |error: AppError| requests.iter().map(|_| Err(error.clone())).collect();
    let mut tx = match db::begin_write(writer).await {
        Ok(tx) => tx,
        Err(error) => return all_fail(error.into()),
    };
    let mut outcomes = Vec::with_capacity(requests.len());
    for request in requests {
        let outcome = match tx.begin().await {
            Ok(mut savepoint) => match decide_in(&mut savepoint, dedup_window, request).await {
                Ok(action) => savepoint
                    .commit()
                    .await
                    .map(|()| action)
                    .map_err(AppError::from),
                Err(error) => {
                    // Dropping the savepoint rolls it back.
                    drop(savepoint);
                    Err(error)
                }
            },
            Err(error) => Err(error.into()),
        };
        outcomes.push(outcome);
    }
    match tx.commit().await {
        Ok(()) => outcomes,
        Err(error) => all_fail(error.into()),
    }
}

/// One decision inside the batch's transaction: checks the current status, applies the
/// duplicate rule, writes the transition and its audit event, enqueues execution and brings the
/// investigation and incident along.
async fn decide_in(
    tx: &mut SqliteConnection,
    dedup_window: Duration,
    request: &Request,
) -> Result<Action, AppError> {
    let Request {
        user,
        action_id,
        decision,
        comment,
        ..
    } = request;
    let current: Current = sqlx::query_as(
        "SELECT status, action_type, cluster_key, investigation_id, incident_id, decided_by, decided_at
         FROM actions WHERE id = $1",
    )
    .bind(action_id)
    .fetch_optional(&mut *tx)
    .await?
    .ok_or_else(|| AppError::NotFound(format!("action {action_id:?}")))?;
    if current.status != ActionStatus::Pending.as_str() {
        return Err(already_decided(&current));
    }

    let at = db_time(&now());
    let (status, duplicate_of) = match (decision, &current.cluster_key) {
        (Decision::Reject, _) => (ActionStatus::Rejected, None),
        (Decision::Approve, None) => (ActionStatus::Approved, None),
        (Decision::Approve, Some(key)) => {
            match earlier_approval(&mut *tx, key, &current.action_type, dedup_window).await? {
                Some(first) => (ActionStatus::Duplicate, Some(first)),
                None => (ActionStatus::Approved, None),
            }
        }
    };
    let updated = sqlx::query(
        "UPDATE actions SET status = $2, decided_by = $3, decided_at = $4, comment = $5, duplicate_of = $6,
                updated_at = $4
         WHERE id = $1 AND status = 'pending'",
    )
    .bind(action_id)
    .bind(status.as_str())
    .bind(&user.username)
    .bind(&at)
    .bind(comment)
    .bind(&duplicate_of)
    .execute(&mut *tx)
    .await?;
    if updated.rows_affected() != 1 {
        // Unreachable while the write lock is held; kept so a change there cannot decide twice.
        return Err(AppError::Conflict(
            "the action was decided meanwhile".into(),
        ));
    }
    if status == ActionStatus::Approved {
        enqueue(&mut *tx, action_id, &at).await?;
    }
    let event = match status {
        ActionStatus::Approved => "action_approved",
        ActionStatus::Duplicate => "action_deduplicated",
        _ => "action_rejected",
    };
    audit::record(
        &mut *tx,
        &user.username,
        "action",
        action_id,
        event,
        Some(json!({"status": ActionStatus::Pending})),
        Some(json!({"status": status, "comment": comment, "duplicate_of": duplicate_of})),
    )
    .await?;
    refresh_investigation(&mut *tx, &user.username, &current.investigation_id).await?;
    incidents::refresh(&mut *tx, &current.incident_id).await?;
    actions::load(&mut *tx, std::slice::from_ref(action_id))
        .await?
        .pop()
        .ok_or(AppError::Internal)
}

fn already_decided(current: &Current) -> AppError {
    let status = ActionStatus::parse(&current.status)
        .map(|s| s.label())
        .unwrap_or("decided");
    match (&current.decided_by, &current.decided_at) {
        (Some(who), Some(when)) => AppError::Conflict(format!(
            "the action is not pending: {status} by {who} at {when}"
        )),
        _ => AppError::Conflict(format!("the action is not pending: {status}")),
    }
}

/// The first approval of this type on this cluster within the window, if any. Takes the
/// (cluster, type) lock row first, so concurrent approvals — in this process or another
/// sharing the database — see each other.
async fn earlier_approval(
    tx: &mut SqliteConnection,
    cluster_key: &str,
    action_type: &str,
    window: Duration,
) -> Result<Option<String>, AppError> {
    let at = now();
    sqlx::query(
        "INSERT INTO approval_locks (cluster_key, action_type, touched_at) VALUES ($1, $2, $3)
         ON CONFLICT (cluster_key, action_type) DO UPDATE SET touched_at = excluded.touched_at",
    )
    .bind(cluster_key)
    .bind(action_type)
    .bind(db_time(&at))
    .execute(&mut *tx)
    .await?;
    let since = at - chrono::Duration::from_std(window).unwrap_or(chrono::Duration::MAX);
    Ok(sqlx::query_scalar(
        "SELECT id FROM actions
         WHERE cluster_key = $1 AND action_type = $2 AND duplicate_of IS NULL AND decided_at >= $3
           AND status IN ('approved', 'in_progress', 'completed', 'partially_completed')
         ORDER BY decided_at, id LIMIT 1",
    )
    .bind(cluster_key)
    .bind(action_type)
    .bind(db_time(&since))
    .fetch_optional(&mut *tx)
    .await?)
}

/// Queues an approved action for execution.
pub(crate) async fn enqueue(
    tx: &mut SqliteConnection,
    action_id: &str,
    at: &str,
) -> Result<(), AppError> {
    sqlx::query(
        "INSERT INTO jobs (id, action_id, status, created_at, updated_at) VALUES ($1, $2, 'queued', $3, $3)",
    )
    .bind(new_id())
    .bind(action_id)
    .bind(at)
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// An investigation's status from its actions' (DESIGN.md rule 5).
pub fn derive_status(
    current: InvestigationStatus,
    actions: &[ActionStatus],
) -> InvestigationStatus {
    use ActionStatus::*;
    if actions.is_empty() {
        return current;
    }
    if actions.contains(&Pending) {
        return InvestigationStatus::PendingAction;
    }
    if actions.iter().any(|s| matches!(s, Approved | InProgress)) {
        return InvestigationStatus::Running;
    }
    if actions.iter().all(|s| *s == Expired) {
        return InvestigationStatus::TerminatedBySystem;
    }
    if actions
        .iter()
        .any(|s| matches!(s, Expired | Failed | PartiallyCompleted))
    {
        return InvestigationStatus::PartiallyRemediated;
    }
    InvestigationStatus::Remediated
}

/// Recomputes an investigation's status in the caller's transaction; audits a change.
pub async fn refresh_investigation(
    tx: &mut SqliteConnection,
    actor: &str,
    investigation_id: &str,
) -> Result<InvestigationStatus, AppError> {
    // The investigation's status and its actions' in one round trip.
    let rows: Vec<(String, Option<String>)> = sqlx::query_as(
        "SELECT i.status, a.status FROM investigations i LEFT JOIN actions a ON a.investigation_id = i.id
         WHERE i.id = $1",
    )
    .bind(investigation_id)
    .fetch_all(&mut *tx)
    .await?;
    let current = rows
        .first()
        .and_then(|(s, _)| InvestigationStatus::parse(s))
        .ok_or(AppError::Internal)?;
    let statuses: Vec<ActionStatus> = rows
        .iter()
        .filter_map(|(_, a)| a.as_deref().and_then(ActionStatus::parse))
        .collect();
    let next = derive_status(current, &statuses);
    if next != current {
        sqlx::query("UPDATE investigations SET status = $2, updated_at = $3 WHERE id = $1")
            .bind(investigation_id)
            .bind(next.as_str())
            .bind(db_time(&now()))
            .execute(&mut *tx)
            .await?;
        audit::record(
            tx,
            actor,
            "investigation",
            investigation_id,
            "investigation_status_changed",
            Some(json!({"status": current})),
            Some(json!({"status": next})),
        )
        .await?;
    }
    Ok(next)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ActionStatus::*;
    use InvestigationStatus as I;

    #[test]
    fn any_pending_action_keeps_the_investigation_pending() {
        assert_eq!(
            derive_status(I::PendingAction, &[Approved, Pending]),
            I::PendingAction
        );
    }

    #[test]
    fn approved_actions_awaiting_execution_make_it_running() {
        assert_eq!(
            derive_status(I::PendingAction, &[Approved, Rejected]),
            I::Running
        );
        assert_eq!(
            derive_status(I::PendingAction, &[InProgress, Completed]),
            I::Running
        );
    }

    #[test]
    fn all_decided_and_done_is_remediated() {
        assert_eq!(
            derive_status(I::Running, &[Completed, Rejected, Duplicate]),
            I::Remediated
        );
    }

    #[test]
    fn some_expired_or_failed_is_partially_remediated() {
        assert_eq!(
            derive_status(I::Running, &[Completed, Expired]),
            I::PartiallyRemediated
        );
        assert_eq!(
            derive_status(I::Running, &[Failed, Rejected]),
            I::PartiallyRemediated
        );
    }

    #[test]
    fn all_expired_is_terminated_by_system() {
        assert_eq!(
            derive_status(I::PendingAction, &[Expired, Expired]),
            I::TerminatedBySystem
        );
    }

    #[test]
    fn no_actions_leaves_the_status_alone() {
        assert_eq!(derive_status(I::NoThreatsFound, &[]), I::NoThreatsFound);
    }
}
