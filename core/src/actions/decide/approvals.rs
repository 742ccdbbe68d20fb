//! Four eyes and separation of duties (DESIGN.md rule 8): how many people an approval needs,
//! who may give one, and the approvals counted while an action waits for the next person.

use std::collections::hash_map::Entry;
use std::collections::HashMap;

use serde_json::json;

use super::{Current, Decision, Plan, Request};
use crate::audit::{self, Event};
use crate::db::{self, query, Target, Tx};
use crate::policy::{Outcome, Then};
use model::{Actor, AppError};

/// The approvals an action has so far: who gave them.
pub(super) type Tally<'a> = HashMap<&'a str, Vec<String>>;

/// The people who already approved each pending action that needs more than one approval,
/// in one query.
pub(super) async fn given<'c>(
    on: impl Into<Target<'_>>,
    current: &'c [Current],
) -> Result<Tally<'c>, AppError> {
    let mut tally: Tally = HashMap::new();
    let waiting: Vec<&str> = current
        .iter()
        .filter(|c| c.approvals_required > 1 && c.status == "pending")
        .map(|c| c.row.id.as_str())
        .collect();
    if waiting.is_empty() {
        return Ok(tally);
    }
    let mut select = query("SELECT action_id, username FROM action_approvals WHERE action_id IN (");
    select.push_list(waiting.iter().copied()).push(")");
    let rows: Vec<(String, String)> = select.fetch_all(on).await?;
    for (action_id, username) in rows {
        if let Some(c) = current.iter().find(|c| c.row.id == action_id) {
            tally.entry(c.row.id.as_str()).or_default().push(username);
        }
    }
    Ok(tally)
}

/// How many different people must approve: what the action was proposed with, raised (never
/// lowered) by what the policy says now, and at least one.
pub(super) fn required(current: &Current, outcome: &Outcome) -> usize {
    let now = outcome.approvals_required().unwrap_or(1);
    usize::try_from(current.approvals_required)
        .unwrap_or(1)
        .max(usize::from(now))
        .max(1)
}

/// What one approval of a pending action comes to.
pub(super) fn plan(
    current: &Current,
    outcome: &Outcome,
    actor: &Actor,
    tally: Entry<'_, &str, Vec<String>>,
) -> Plan {
    // The policy approving on its own: only while the policy still says so.
    if let Actor::Policy(_) = actor {
        return match outcome.then {
            Then::Approve => Plan::Decides,
            _ => Plan::Refused(AppError::Conflict(format!(
                "the approval policy no longer approves it on its own ({})",
                outcome.cites()
            ))),
        };
    }
    if outcome.then == Then::Forbid {
        return Plan::Refused(AppError::Refused(format!(
            "the approval policy forbids this action ({})",
            outcome.cites()
        )));
    }
    let person = actor.name();
    if outcome.separation_of_duties && current.row.proposed_by.as_deref() == Some(person) {
        return Plan::Refused(AppError::Refused(format!(
            "{person} proposed or ingested this action, so another person must approve it (separation of duties, rule {})",
            outcome.rule
        )));
    }
    let required = required(current, outcome);
    let approvals = tally.or_default();
    if approvals.iter().any(|by| by == person) {
        return Plan::Refused(AppError::Conflict(format!(
            "{person} already approved this action; it needs {required} approvals from different people"
        )));
    }
    approvals.push(person.to_owned());
    if approvals.len() < required {
        Plan::Counts
    } else {
        Plan::Decides
    }
}

/// Writes the approvals of actions that need more than one — each counted one, and the one
/// that completes the count — raises a stored requirement the policy raised, and audits each
/// approval that leaves its action waiting. Answers the ids left waiting.
pub(super) async fn record(
    tx: &mut Tx<'_>,
    requests: &[Request],
    plans: &[Plan],
    current: &[Current],
    outcomes: &HashMap<&str, Outcome>,
) -> Result<Vec<String>, AppError> {
    let find = |id: &str| current.iter().find(|c| c.row.id == id);
    let mut rows: Vec<(&Request, usize, &Outcome)> = Vec::new();
    for (request, plan) in requests.iter().zip(plans) {
        let counts = matches!(plan, Plan::Counts);
        let decides = matches!(plan, Plan::Decides) && request.decision == Decision::Approve;
        if !(counts || decides) || matches!(request.actor, Actor::Policy(_)) {
            continue;
        }
        let (Some(c), Some(outcome)) = (
            find(&request.action_id),
            outcomes.get(request.action_id.as_str()),
        ) else {
            continue;
        };
        let required = required(c, outcome);
        if required > 1 {
            rows.push((request, required, outcome));
        }
    }
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let at = db::now();
    let mut insert =
        query("INSERT INTO action_approvals (action_id, username, approved_at, comment) VALUES ");
    for (i, (request, ..)) in rows.iter().enumerate() {
        insert.push(if i == 0 { "(" } else { ", (" });
        insert.push_bind(request.action_id.as_str()).push(", ");
        insert.push_bind(request.actor.name()).push(", ");
        insert.push_bind(at).push(", ");
        insert.push_bind(request.comment.as_deref()).push(")");
    }
    insert.execute(&mut *tx).await?;

    let mut waiting = Vec::new();
    for (request, required, outcome) in &rows {
        let id = request.action_id.as_str();
        let stored = find(id).map_or(1, |c| c.approvals_required);
        if i64::try_from(*required).unwrap_or(i64::MAX) > stored {
            query("UPDATE actions SET approvals_required = $2, policy_rule = $3 WHERE id = $1")
                .bind(id)
                .bind(i64::try_from(*required).unwrap_or(2))
                .bind(outcome.rule.as_str())
                .execute(&mut *tx)
                .await?;
        }
        let plan = requests
            .iter()
            .zip(plans)
            .find(|(r, _)| std::ptr::eq(*r, *request))
            .map(|(_, plan)| plan);
        if matches!(plan, Some(Plan::Counts)) {
            waiting.push(id.to_owned());
            audit::record(
                tx,
                Event {
                    actor: &request.actor,
                    entity_kind: "action",
                    entity_id: id,
                    event: "action_approval_counted",
                    before: Some(json!({"status": "pending"})),
                    after: Some(json!({
                        "status": "pending", "approved_by": request.actor.name(),
                        "approvals_required": required, "policy_rule": outcome.rule,
                    })),
                },
            );
        }
    }
    Ok(waiting)
}
