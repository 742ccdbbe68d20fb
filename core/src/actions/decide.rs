//! Approve and reject (DESIGN.md rules 1, 2, 3 and 5): the one implementation behind the
//! portal's server functions and the REST API. A decision checks the role and the current
//! status, applies the duplicate rule, and makes the transition through `actions::state`.
//! Decisions that arrive together are decided together, in one write transaction and a fixed
//! number of statements ([`queue`]); each is still answered on its own: a refused one takes
//! none of the others with it.

mod approvals;
mod claims;
mod queue;

use std::collections::HashMap;
use std::time::Duration;

use tokio::sync::oneshot;

use super::state::{self, DecisionFields, Transition};
use super::{facts, read};
use crate::db::{query, Tx};
use crate::policy::{Outcome, Policy};
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

/// A comment is at most [`MAX_COMMENT`] characters as sent (the API's document says so of
/// the text as sent, so space around it counts too).
pub fn check_comment(comment: Option<&str>) -> Result<(), AppError> {
    if comment.is_some_and(|c| c.chars().count() > MAX_COMMENT) {
        return Err(AppError::Invalid(format!(
            "a comment is at most {MAX_COMMENT} characters"
        )));
    }
    Ok(())
}

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
    if let Err(error) = user.require_decide() {
        return every(error);
    }
    if let Err(error) = check_comment(comment) {
        return every(error);
    }
    let comment = comment.map(str::trim).filter(|c| !c.is_empty());
    let mut replies = Vec::with_capacity(action_ids.len());
    for action_id in action_ids {
        let (reply, answer) = oneshot::channel();
        let request = Request {
            actor: Actor::from(user),
            action_id: action_id.clone(),
            decision,
            comment: comment.map(str::to_string),
        };
        let sent = state.decisions.submit(state, request, reply).await;
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

/// Approves, as the policy's rule, actions the policy approves on its own (automation level
/// `full`). Each goes through the same writer, duplicate rule and checks as a person's
/// approval, on the facts of that moment: should the policy no longer approve it (its cluster
/// grew past a limit meanwhile, say), it stays Pending for a person.
pub(crate) async fn approve_automatically(state: &AppState, approvals: &[(String, Outcome)]) {
    let mut replies = Vec::with_capacity(approvals.len());
    for (action_id, outcome) in approvals {
        let (reply, answer) = oneshot::channel();
        let why = outcome.reason.as_deref().unwrap_or("its conditions hold");
        let comment = format!(
            "approved by the approval policy's rule {}: {why} (policy {})",
            outcome.rule, outcome.policy_hash
        );
        let request = Request {
            actor: Actor::policy(&outcome.rule),
            action_id: action_id.clone(),
            decision: Decision::Approve,
            comment: Some(comment),
        };
        if state.decisions.submit(state, request, reply).await.is_ok() {
            replies.push((action_id, answer));
        }
    }
    for (action_id, answer) in replies {
        match answer.await {
            Ok(Ok(action)) => {
                tracing::info!(action_id, status = %action.status, "approved by the approval policy")
            }
            Ok(Err(error)) => {
                tracing::info!(action_id, %error, "not approved automatically; it waits for a person")
            }
            Err(_) => tracing::warn!(action_id, "the decision writer went away"),
        }
    }
}

/// An action as a batch finds it: its status and decision, and what the approval policy reads
/// of it (one statement for both).
#[derive(sqlx::FromRow)]
struct Current {
    status: String,
    decided_by: Option<String>,
    decided_at: Option<chrono::DateTime<chrono::Utc>>,
    approvals_required: i64,
    #[sqlx(flatten)]
    row: facts::Row,
}

/// What became of one request of a batch before anything is written.
enum Plan {
    /// Refused: unknown, not pending, forbidden by the policy, or not this person's to give.
    Refused(AppError),
    /// It decides its action: a rejection, or the approval that completes the count.
    Decides,
    /// An approval of an action that needs more than this one: counted, and the action stays
    /// Pending for the next person.
    Counts,
    /// Another request earlier in the batch decides the same action; this one is told so.
    Loses(usize),
}

/// Decides a batch of requests inside one write transaction, in a number of statements that
/// does not grow with the batch: the actions are read once, each pending one is decided by the
/// first request that names it (a later one on the same action is a conflict, as it would be a
/// moment later), approvals claim their copies together, and every transition goes through
/// `actions::state` at once. The approval policy is applied to every approval on the facts of
/// this moment (DESIGN.md rule 8): a forbidden action is refused, its proposer may not approve
/// it, and one that needs two approvals counts the first and waits, in order, as if the
/// requests had come one by one. The outer error means the transaction failed and nothing was
/// decided; the inner results are per request, in order.
async fn decide_all(
    tx: &mut Tx<'_>,
    dedup_window: Duration,
    policy: &Policy,
    requests: &[Request],
) -> Result<Vec<Result<Action, AppError>>, AppError> {
    let mut select = query(format!(
        "SELECT a.status, a.decided_by, a.decided_at, a.approvals_required, {}
         FROM actions a {} WHERE a.id IN (",
        facts::COLUMNS,
        facts::JOINS
    ));
    select
        .push_list(requests.iter().map(|r| r.action_id.as_str()))
        .push(")");
    let current: Vec<Current> = select.fetch_all(&mut *tx).await?;
    let find = |id: &str| current.iter().find(|c| c.row.id == id);

    // What the policy says about each pending action someone approves, on its facts now.
    let approving: Vec<&facts::Row> = current
        .iter()
        .filter(|c| c.status == ActionStatus::Pending.as_str())
        .filter(|c| {
            requests
                .iter()
                .any(|r| r.decision == Decision::Approve && r.action_id == c.row.id)
        })
        .map(|c| &c.row)
        .collect();
    let facts = facts::of_rows(&mut *tx, &approving).await?;
    let outcomes: HashMap<&str, Outcome> = facts
        .iter()
        .map(|(id, facts)| (id.as_str(), policy.evaluate(facts)))
        .collect();
    let mut tally = approvals::given(&mut *tx, &current).await?;

    let mut plans = Vec::with_capacity(requests.len());
    let mut decided_by: HashMap<&str, usize> = HashMap::new();
    for (i, request) in requests.iter().enumerate() {
        let id = request.action_id.as_str();
        let plan = match find(id) {
            None => Plan::Refused(AppError::NotFound(format!("action {id:?}"))),
            Some(c) if c.status != ActionStatus::Pending.as_str() => Plan::Refused(
                already_decided(ActionStatus::parse(&c.status), &c.decided_by, &c.decided_at),
            ),
            Some(_) if decided_by.contains_key(id) => Plan::Loses(decided_by[id]),
            Some(_) if request.decision == Decision::Reject => Plan::Decides,
            Some(c) => match outcomes.get(id) {
                None => Plan::Refused(AppError::Internal),
                Some(outcome) => approvals::plan(c, outcome, &request.actor, tally.entry(id)),
            },
        };
        if matches!(plan, Plan::Decides) {
            decided_by.insert(id, i);
        }
        plans.push(plan);
    }
    let deciding: Vec<(&Request, &Current)> = requests
        .iter()
        .zip(&plans)
        .filter(|(_, plan)| matches!(plan, Plan::Decides))
        .filter_map(|(request, _)| find(&request.action_id).map(|c| (request, c)))
        .collect();
    let counted = approvals::record(tx, requests, &plans, &current, &outcomes).await?;

    // Approvals of clusters claim their copies, in the order they came.
    let claims: Vec<Claim> = deciding
        .iter()
        .filter(|(request, _)| request.decision == Decision::Approve)
        .filter_map(|(request, c)| {
            Some(Claim {
                action_id: &request.action_id,
                cluster_id: c.row.cluster_id.as_deref()?,
                action_type: &c.row.action_type,
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
        .chain(counted)
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
            Plan::Decides | Plan::Counts => action(&request.action_id)
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
