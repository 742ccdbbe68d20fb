//! Approve and reject (DESIGN.md rules 1, 2, 3 and 5): the one implementation behind the
//! portal's server functions and the REST API. Each decision is atomic — its own savepoint in
//! a write transaction — and checks the role and the current status, applies the duplicate
//! rule, and makes the transition through `actions::state`; decisions that arrive together
//! commit together ([`queue`]).

mod claims;
mod queue;

use std::time::Duration;

use tokio::sync::oneshot;

use super::read;
use super::state::{self, DecisionFields, Transition};
use crate::db::{query, Tx};
use crate::AppState;
use claims::{Claim, Coverage};
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
    id: String,
    status: String,
    action_type: String,
    cluster_id: Option<String>,
    decided_by: Option<String>,
    decided_at: Option<chrono::DateTime<chrono::Utc>>,
}

/// What became of one request of a batch before anything is written.
enum Plan {
    /// Refused: unknown, or not pending.
    Refused(AppError),
    /// The first request in the batch on its action: it decides it.
    Decides,
    /// Another request earlier in the batch decides the same action; this one is told so.
    Loses(usize),
}

/// Decides a batch of requests inside one write transaction, in a number of statements that
/// does not grow with the batch: the actions are read once, each pending one is decided by the
/// first request that names it (a later one on the same action is a conflict, as it would be a
/// moment later), approvals claim their copies together, and every transition goes through
/// `actions::state` at once. The outer error means the transaction failed and nothing was
/// decided; the inner results are per request, in order.
async fn decide_all(
    tx: &mut Tx<'_>,
    dedup_window: Duration,
    requests: &[Request],
) -> Result<Vec<Result<Action, AppError>>, AppError> {
    let mut select = query(
        "SELECT id, status, action_type, cluster_id, decided_by, decided_at FROM actions WHERE id IN (",
    );
    select
        .push_list(requests.iter().map(|r| r.action_id.as_str()))
        .push(")");
    let current: Vec<Current> = select.fetch_all(&mut *tx).await?;
    let find = |id: &str| current.iter().find(|c| c.id == id);

    let mut plans = Vec::with_capacity(requests.len());
    for (i, request) in requests.iter().enumerate() {
        let id = request.action_id.as_str();
        let plan = match find(id) {
            None => Plan::Refused(AppError::NotFound(format!("action {id:?}"))),
            Some(c) if c.status != ActionStatus::Pending.as_str() => Plan::Refused(
                already_decided(ActionStatus::parse(&c.status), &c.decided_by, &c.decided_at),
            ),
            Some(_) => match requests[..i].iter().position(|r| r.action_id == id) {
                Some(first) => Plan::Loses(first),
                None => Plan::Decides,
            },
        };
        plans.push(plan);
    }
    let deciding: Vec<(&Request, &Current)> = requests
        .iter()
        .zip(&plans)
        .filter(|(_, plan)| matches!(plan, Plan::Decides))
        .filter_map(|(request, _)| find(&request.action_id).map(|c| (request, c)))
        .collect();

    // Approvals of clusters claim their copies, in the order they came.
    let claims: Vec<Claim> = deciding
        .iter()
        .filter(|(request, _)| request.decision == Decision::Approve)
        .filter_map(|(request, c)| {
            Some(Claim {
                action_id: &request.action_id,
                cluster_id: c.cluster_id.as_deref()?,
                action_type: &c.action_type,
            })
        })
        .collect();
    let coverages = claims::claim_all(tx, &claims, dedup_window).await?;
    let coverage_of = |id: &str| {
        claims
            .iter()
            .position(|c| c.action_id == id)
            .map(|i| &coverages[i])
    };

    let transitions: Vec<Transition> = deciding
        .iter()
        .map(|(request, _)| {
            let coverage = coverage_of(&request.action_id);
            let to = match (request.decision, coverage) {
                (Decision::Reject, _) => ActionStatus::Rejected,
                (Decision::Approve, Some(c)) if c.ours == 0 && !c.theirs.is_empty() => {
                    ActionStatus::Duplicate
                }
                (Decision::Approve, _) => ActionStatus::Approved,
            };
            Transition {
                action_id: &request.action_id,
                from: ActionStatus::Pending,
                to,
                actor: &request.actor,
                event: match to {
                    ActionStatus::Approved => "action_approved",
                    ActionStatus::Duplicate => "action_deduplicated",
                    _ => "action_rejected",
                },
                decision: Some(DecisionFields {
                    comment: request.comment.as_deref(),
                    duplicate_of: coverage.and_then(Coverage::first_holder),
                    copies: coverage.map(Coverage::copies),
                }),
                outcome: None,
            }
        })
        .collect();
    let moved = state::transition_all(tx, &transitions).await?;

    // Approvals that execute leave the copies earlier ones hold to them.
    let executing: Vec<Claim> = claims
        .iter()
        .zip(&coverages)
        .filter(|(claim, coverage)| {
            !coverage.theirs.is_empty()
                && transitions
                    .iter()
                    .any(|t| t.action_id == claim.action_id && t.to == ActionStatus::Approved)
        })
        .map(|(claim, _)| *claim)
        .collect();
    claims::mark_duplicates(tx, &executing).await?;

    let decided: Vec<String> = transitions
        .iter()
        .zip(&moved)
        .filter(|(_, moved)| **moved)
        .map(|(t, _)| t.action_id.to_string())
        .collect();
    let actions = read::load(&mut *tx, &decided).await?;
    let action = |id: &str| actions.iter().find(|a| a.id == id);
    Ok(requests
        .iter()
        .zip(plans)
        .map(|(request, plan)| match plan {
            Plan::Refused(error) => Err(error),
            // Unreachable while the write lock is held; kept so a change there cannot decide
            // twice.
            Plan::Decides => action(&request.action_id)
                .cloned()
                .ok_or_else(|| AppError::Conflict("the action was decided meanwhile".into())),
            Plan::Loses(first) => Err(match action(&requests[first].action_id) {
                Some(winner) => {
                    already_decided(Some(winner.status), &winner.decided_by, &winner.decided_at)
                }
                None => AppError::Conflict("the action was decided meanwhile".into()),
            }),
        })
        .collect())
}

/// The 409 for a decision on an action someone already decided. It names that decision — who,
/// when, approve or reject — not the status now, which moves on as execution runs: every
/// loser of a race is told the same thing, on whichever instance it asked.
fn already_decided(
    status: Option<ActionStatus>,
    decided_by: &Option<String>,
    decided_at: &Option<chrono::DateTime<chrono::Utc>>,
) -> AppError {
    match (decided_by, decided_at) {
        (Some(who), Some(when)) => {
            let decision = match status {
                Some(ActionStatus::Rejected) => "rejected",
                _ => "approved",
            };
            AppError::Conflict(format!(
                "the action is not pending: {decision} by {who} at {}",
                when.format("%Y-%m-%dT%H:%M:%S%.6fZ")
            ))
        }
        _ => AppError::Conflict(format!(
            "the action is not pending: {}",
            status.map(|s| s.label()).unwrap_or("decided")
        )),
    }
}

/// After execution matched copies named from outside to the index, claims again by handle:
/// an approval that named a copy before the index held it claimed it by Message-ID, and
/// another may have claimed the same copy by its handle meanwhile. Whichever holds the
/// handle carries the copy out; here the other records it as that one's duplicate, so each
/// copy is acted on once however the approvals named it, on any instance.
pub(crate) async fn reclaim(
    db: &crate::db::Db,
    action_id: &str,
    cluster_id: &str,
    action_type: model::ActionType,
    window: Duration,
) -> Result<(), AppError> {
    let mut tx = db.write().await?;
    let claim = Claim {
        action_id,
        cluster_id,
        action_type: action_type.as_str(),
    };
    let coverage = claims::claim_all(&mut tx, &[claim], window)
        .await?
        .pop()
        .ok_or(AppError::Internal)?;
    claims::record_counts(&mut tx, action_id, coverage.copies()).await?;
    if !coverage.theirs.is_empty() {
        claims::mark_duplicates(&mut tx, &[claim]).await?;
    }
    tx.commit().await?;
    Ok(())
}
