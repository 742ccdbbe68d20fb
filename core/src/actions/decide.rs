//! Approve and reject (DESIGN.md rules 1, 2, 3 and 5): the one implementation behind the
//! portal's server functions and the REST API. Each decision is atomic — its own savepoint in
//! a write transaction — and checks the role and the current status, applies the duplicate
//! rule, and makes the transition through `actions::state`; decisions that arrive together
//! commit together ([`queue`]).

mod queue;

use std::time::Duration;

use tokio::sync::oneshot;

use super::read;
use super::state::{self, DecisionFields, Transition};
use crate::db::{self, query, Tx};
use crate::AppState;
use model::{Action, ActionStatus, Actor, AppError, CurrentUser};

pub(crate) use queue::Queue;
use queue::Request;

/// What a person decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    Approve,
    Reject,
}

/// Longest comment kept with a decision.
pub const MAX_COMMENT: usize = 2_000;

/// Approves or rejects one pending action. A decision on anything but Pending is a conflict
/// that names who decided it and when.
#[tracing::instrument(skip(state, user, comment), fields(user = %user.username))]
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
#[tracing::instrument(skip_all, fields(user = %user.username, actions = action_ids.len(), ?decision))]
pub async fn decide_many(
    state: &AppState,
    user: &CurrentUser,
    action_ids: &[String],
    decision: Decision,
    comment: Option<&str>,
) -> Vec<Result<Action, AppError>> {
    let every = |error: AppError| action_ids.iter().map(|_| Err(error.clone())).collect();
    if !user.role.can_decide() {
        return every(AppError::Forbidden("Search and purge".into()));
    }
    let comment = comment.map(str::trim).filter(|c| !c.is_empty());
    if comment.is_some_and(|c| c.chars().count() > MAX_COMMENT) {
        return every(AppError::Invalid(format!(
            "a comment is at most {MAX_COMMENT} characters"
        )));
    }
    let mut replies = Vec::with_capacity(action_ids.len());
    for action_id in action_ids {
        let (reply, answer) = oneshot::channel();
        let request = Request {
            actor: Actor::from(user),
            action_id: action_id.clone(),
            decision,
            comment: comment.map(str::to_string),
            reply,
        };
        let sent = state.decisions.submit(state, request).await;
        replies.push(sent.ok().map(|()| answer));
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

#[derive(sqlx::FromRow)]
struct Current {
    status: String,
    action_type: String,
    cluster_key: Option<String>,
    decided_by: Option<String>,
    decided_at: Option<chrono::DateTime<chrono::Utc>>,
}

/// One decision inside the batch's transaction: checks the current status, applies the
/// duplicate rule, and makes the transition.
async fn decide_in(
    tx: &mut Tx<'_>,
    dedup_window: Duration,
    request: &Request,
) -> Result<Action, AppError> {
    let Request {
        actor,
        action_id,
        decision,
        comment,
        ..
    } = request;
    let current: Current = query(
        "SELECT status, action_type, cluster_key, decided_by, decided_at FROM actions WHERE id = $1",
    )
    .bind(action_id)
    .fetch_optional(&mut *tx)
    .await?
    .ok_or_else(|| AppError::NotFound(format!("action {action_id:?}")))?;
    if current.status != ActionStatus::Pending.as_str() {
        return Err(already_decided(&current));
    }
    let (to, duplicate_of) = match (decision, &current.cluster_key) {
        (Decision::Reject, _) => (ActionStatus::Rejected, None),
        (Decision::Approve, None) => (ActionStatus::Approved, None),
        (Decision::Approve, Some(key)) => {
            match earlier_approval(tx, key, &current.action_type, dedup_window).await? {
                Some(first) => (ActionStatus::Duplicate, Some(first)),
                None => (ActionStatus::Approved, None),
            }
        }
    };
    let event = match to {
        ActionStatus::Approved => "action_approved",
        ActionStatus::Duplicate => "action_deduplicated",
        _ => "action_rejected",
    };
    let moved = state::transition(
        tx,
        Transition {
            action_id,
            from: ActionStatus::Pending,
            to,
            actor,
            event,
            decision: Some(DecisionFields {
                comment: comment.as_deref(),
                duplicate_of: duplicate_of.as_deref(),
            }),
            outcome: None,
        },
    )
    .await?;
    if !moved {
        // Unreachable while the write lock is held; kept so a change there cannot decide twice.
        return Err(AppError::Conflict(
            "the action was decided meanwhile".into(),
        ));
    }
    read::load(&mut *tx, std::slice::from_ref(action_id))
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
            "the action is not pending: {status} by {who} at {}",
            when.format("%Y-%m-%dT%H:%M:%S%.6fZ")
        )),
        _ => AppError::Conflict(format!("the action is not pending: {status}")),
    }
}

/// The first approval of this type on this cluster within the window, if any. Takes the
/// (cluster, type) lock row first, so concurrent approvals — in this process or another
/// sharing the database — see each other.
async fn earlier_approval(
    tx: &mut Tx<'_>,
    cluster_key: &str,
    action_type: &str,
    window: Duration,
) -> Result<Option<String>, AppError> {
    let at = db::now();
    query(
        "INSERT INTO approval_locks (cluster_key, action_type, touched_at) VALUES ($1, $2, $3)
         ON CONFLICT (cluster_key, action_type) DO UPDATE SET touched_at = excluded.touched_at",
    )
    .bind(cluster_key)
    .bind(action_type)
    .bind(at)
    .execute(&mut *tx)
    .await?;
    let since = chrono::Duration::from_std(window)
        .ok()
        .and_then(|window| at.checked_sub_signed(window))
        .unwrap_or(chrono::DateTime::<chrono::Utc>::MIN_UTC);
    Ok(query(
        "SELECT id FROM actions
         WHERE cluster_key = $1 AND action_type = $2 AND duplicate_of IS NULL AND decided_at >= $3
           AND status IN ('approved', 'in_progress', 'completed', 'partially_completed')
         ORDER BY decided_at, id LIMIT 1",
    )
    .bind(cluster_key)
    .bind(action_type)
    .bind(since)
    .optional_scalar(&mut *tx)
    .await?)
}
