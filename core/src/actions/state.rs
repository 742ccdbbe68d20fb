//! The one place an action's status changes, and an investigation's with it (DESIGN.md rules
//! 5 and 7). [`transition`] moves an action from one status to the next only if it is still
//! in the first — so of two racing writers exactly one moves it — writes the audit event in
//! the same transaction, queues execution when the action becomes Approved, and brings the
//! investigation's status and the incident's counts along. Creating an action ([`new`]) or an
//! investigation ([`investigation`]) is in this module too, since creating one sets its first
//! status; no file outside it writes either status (core/tests/architecture.rs).

use std::collections::HashMap;

use serde_json::json;

use super::timing::Timing;
use crate::audit::{self, Event};
use crate::db::{self, query, Tx};
use crate::{incidents, new_id};

mod investigation;
mod new;

pub use investigation::derive_status;
use investigation::InvestigationChange;
use model::{ActionStatus, Actor, AppError, InvestigationStatus, InvestigationType};
pub(crate) use new::{add_change, add_change_awaiting, propose, Awaiting, NewAction};

/// A change of one action's status.
pub(crate) struct Transition<'a> {
    pub action_id: &'a str,
    pub from: ActionStatus,
    pub to: ActionStatus,
    pub actor: &'a Actor,
    /// The audit event's name: `action_approved`, `action_expired`, …
    pub event: &'static str,
    /// For a person's decision: who, with what comment, and what it duplicates.
    pub decision: Option<DecisionFields<'a>>,
    /// For the end of execution: what it came to, in words.
    pub outcome: Option<&'a str>,
}

/// What a decision records beside the status.
pub(crate) struct DecisionFields<'a> {
    pub comment: Option<&'a str>,
    pub duplicate_of: Option<&'a str>,
    /// For an approval of a cluster: how its copies split between earlier approvals that
    /// still hold them and this one (DESIGN.md rule 3, by copies).
    pub copies: Option<Copies>,
}

/// How an approval's copies split: those earlier approvals hold, and those it carries out.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Copies {
    pub duplicate: i64,
    pub new: i64,
}

/// Moves the action if it is still in `from`; `Ok(false)` when it is not (someone else moved
/// it first), and then nothing was written.
pub(crate) async fn transition(tx: &mut Tx<'_>, t: Transition<'_>) -> Result<bool, AppError> {
    let moved = transition_all(tx, std::slice::from_ref(&t)).await?;
    Ok(moved.first().copied().unwrap_or(false))
}

/// Transitions per UPDATE: eleven values each, well inside every engine's limit.
const TRANSITIONS_PER_UPDATE: usize = 500;

/// Moves each action that is still in its transition's `from` — a batch of decisions, a round
/// of expiry — and answers, in order, which moved. The same rules as one [`transition`], in a
/// number of statements that does not grow with the batch: the actions in one UPDATE, their
/// jobs in one INSERT, the audit events in one append (each action's, then each
/// investigation's whose status changed, attributed to the last actor that moved it), and
/// each investigation and incident brought along once. Every id appears once.
pub(crate) async fn transition_all(
    tx: &mut Tx<'_>,
    transitions: &[Transition<'_>],
) -> Result<Vec<bool>, AppError> {
    debug_assert!(
        {
            let ids: std::collections::HashSet<_> =
                transitions.iter().map(|t| t.action_id).collect();
            ids.len() == transitions.len()
        },
        "one transition per action"
    );
    let at = db::now();
    // id -> (investigation, incident) of every action that moved.
    let mut moved: HashMap<String, (String, String)> = HashMap::new();
    let mut timings: Vec<Timing> = Vec::new();
    for chunk in transitions.chunks(TRANSITIONS_PER_UPDATE) {
        let rows: Vec<(
            String,
            String,
            String,
            String,
            chrono::DateTime<chrono::Utc>,
        )> = update_actions(chunk, at).fetch_all(&mut *tx).await?;
        for (id, inv, inc, action_type, created_at) in rows {
            let t = chunk.iter().find(|t| t.action_id == id);
            if let Some(timing) = t.and_then(|t| Timing::of(t, &action_type, created_at, at)) {
                timings.push(timing);
            }
            moved.insert(id, (inv, inc));
        }
    }
    tx.after_commit(move || timings.into_iter().for_each(Timing::record));
    let done: Vec<&Transition> = transitions
        .iter()
        .filter(|t| moved.contains_key(t.action_id))
        .collect();
    let approved: Vec<&str> = done
        .iter()
        .filter(|t| t.to == ActionStatus::Approved)
        .map(|t| t.action_id)
        .collect();
    enqueue(tx, &approved, at).await?;
    let mut events: Vec<Event> = done
        .iter()
        .map(|t| Event {
            actor: t.actor,
            entity_kind: "action",
            entity_id: t.action_id,
            event: t.event,
            before: Some(json!({"status": t.from})),
            after: Some(after(t)),
        })
        .collect();
    // Each investigation once, with the actor of the last transition that touched it.
    let mut investigations: Vec<(&str, &Actor)> = Vec::new();
    let mut incidents: Vec<&str> = Vec::new();
    for t in &done {
        let (investigation, incident) = &moved[t.action_id];
        match investigations
            .iter_mut()
            .find(|(id, _)| id == investigation)
        {
            Some(entry) => entry.1 = t.actor,
            None => investigations.push((investigation, t.actor)),
        }
        if !incidents.contains(&incident.as_str()) {
            incidents.push(incident);
        }
    }
    let changed = refresh_investigations(tx, &investigations).await?;
    events.extend(changed.iter().map(InvestigationChange::event));
    audit::record_all(tx, events);
    incidents::refresh_all(tx, &incidents).await?;
    Ok(transitions
        .iter()
        .map(|t| moved.contains_key(t.action_id))
        .collect())
}

/// The UPDATE behind [`transition_all`]: each action moves only from its `from`, so of two
/// racing writers exactly one moves it; decision fields are written only for decisions.
fn update_actions(transitions: &[Transition<'_>], at: chrono::DateTime<chrono::Utc>) -> db::Query {
    let mut update = query(
        "WITH v (id, from_status, to_status, decided, decided_by, comment, duplicate_of,
                 duplicate_copies, new_copies, outcome) AS (VALUES ",
    );
    // Padding rows name no action, so move nothing.
    update.push_rows(transitions, |update, t| {
        let t = t.map(|(_, t)| t);
        let decision = t.and_then(|t| t.decision.as_ref());
        let copies = decision.and_then(|d| d.copies);
        update.push_bind(t.map_or("", |t| t.action_id)).push(", ");
        update.push_bind(t.map(|t| t.from)).push(", ");
        update.push_bind(t.map(|t| t.to)).push(", ");
        update.push_bind(decision.is_some()).push(", ");
        update
            .push_bind(t.filter(|_| decision.is_some()).map(|t| t.actor.name()))
            .push(", ");
        update
            .push_bind(decision.and_then(|d| d.comment))
            .push(", ");
        update
            .push_bind(decision.and_then(|d| d.duplicate_of))
            .push(", ");
        update.push_bind(copies.map(|c| c.duplicate)).push(", ");
        update.push_bind(copies.map(|c| c.new)).push(", ");
        update.push_bind(t.and_then(|t| t.outcome));
    });
    update.push(
        ")
         UPDATE actions SET status = v.to_status, updated_at = ",
    );
    update.push_bind(at);
    update.push(
        ",
            decided_by = CASE WHEN v.decided THEN v.decided_by ELSE actions.decided_by END,
            decided_at = CASE WHEN v.decided THEN ",
    );
    update.push_bind(at);
    update.push(
        " ELSE actions.decided_at END,
            comment = CASE WHEN v.decided THEN v.comment ELSE actions.comment END,
            duplicate_of = CASE WHEN v.decided THEN v.duplicate_of ELSE actions.duplicate_of END,
            duplicate_copies = COALESCE(v.duplicate_copies, actions.duplicate_copies),
            new_copies = COALESCE(v.new_copies, actions.new_copies),
            outcome = COALESCE(v.outcome, actions.outcome)
         FROM v WHERE actions.id = v.id AND actions.status = v.from_status
         RETURNING actions.id, actions.investigation_id, actions.incident_id, actions.action_type,
                   actions.created_at",
    );
    update
}

/// What an action's audit event records after the move.
fn after(t: &Transition<'_>) -> serde_json::Value {
    let mut after = json!({"status": t.to});
    if let Some(decision) = &t.decision {
        after["comment"] = json!(decision.comment);
        after["duplicate_of"] = json!(decision.duplicate_of);
    }
    if let Some(outcome) = t.outcome {
        after["outcome"] = json!(outcome);
    }
    after
}

/// Queues approved actions for execution: an action becomes Approved only together with its
/// job, so nothing approved can be forgotten.
async fn enqueue(
    tx: &mut Tx<'_>,
    action_ids: &[&str],
    at: chrono::DateTime<chrono::Utc>,
) -> Result<(), AppError> {
    for chunk in action_ids.chunks(TRANSITIONS_PER_UPDATE) {
        let mut insert =
            query("INSERT INTO jobs (id, action_id, status, created_at, updated_at) VALUES ");
        for (i, action_id) in chunk.iter().enumerate() {
            insert.push(if i == 0 { "(" } else { ", (" });
            insert.push_bind(new_id()).push(", ");
            insert.push_bind(*action_id).push(", 'queued', ");
            insert.push_bind(at).push(", ");
            insert.push_bind(at).push(")");
        }
        insert.execute(&mut *tx).await?;
    }
    tx.after_commit(super::execute::wake_workers);
    Ok(())
}

/// A new investigation of an incident, Running while its result is written.
pub(crate) struct NewInvestigation<'a> {
    pub incident_id: &'a str,
    pub alert_id: &'a str,
    pub title: &'a str,
    pub investigation_type: InvestigationType,
}

pub(crate) async fn open_investigation(
    tx: &mut Tx<'_>,
    new: &NewInvestigation<'_>,
) -> Result<String, AppError> {
    let id = new_id();
    query(
    "INSERT INTO investigations (id, incident_id, alert_id, title, investigation_type, status, created_at, updated_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $7)",
)
.bind(&id)
.bind(new.incident_id)
.bind(new.alert_id)
.bind(new.title)
.bind(new.investigation_type)
.bind(InvestigationStatus::Running)
.bind(db::now())
.execute(&mut *tx)
.await?;
    Ok(id)
}

/// An ingested investigation's status once its proposals are written: Pending action; No
/// threats found when nothing called for an action; Partially remediated when threats were
/// found but the approval policy's automation level `none` kept every action from being
/// proposed (never "No threats found" for a threat left in place). Its
/// `investigation_created` event records it.
pub(crate) async fn conclude_ingest(
    tx: &mut Tx<'_>,
    investigation_id: &str,
    proposed: usize,
    withheld: usize,
) -> Result<InvestigationStatus, AppError> {
    let status = match (proposed, withheld) {
        (0, 0) => InvestigationStatus::NoThreatsFound,
        (0, _) => InvestigationStatus::PartiallyRemediated,
        _ => InvestigationStatus::PendingAction,
    };
    query("UPDATE investigations SET status = $2, updated_at = $3 WHERE id = $1")
        .bind(investigation_id)
        .bind(status)
        .bind(db::now())
        .execute(&mut *tx)
        .await?;
    Ok(status)
}

/// Recomputes these investigations' statuses from their actions' in the caller's transaction
/// and writes those that changed; the caller audits the changes it is given back.
async fn refresh_investigations<'a>(
    tx: &mut Tx<'_>,
    investigations: &[(&str, &'a Actor)],
) -> Result<Vec<InvestigationChange<'a>>, AppError> {
    if investigations.is_empty() {
        return Ok(Vec::new());
    }
    // Writers that lock only their rows (execution) may move other actions of the same
    // investigations meanwhile: each takes the investigations first, so the status is
    // derived by one at a time, from what the other committed.
    tx.lock_rows("investigations", investigations.iter().map(|(id, _)| *id))
        .await?;
    // Every investigation's status and the distinct statuses of its actions (all the rule
    // needs), in one round trip.
    let mut select = query(
    "SELECT i.id, i.status, a.status FROM investigations i LEFT JOIN actions a ON a.investigation_id = i.id
     WHERE i.id IN (",
);
    select
        .push_list(investigations.iter().map(|(id, _)| *id))
        .push(") GROUP BY i.id, i.status, a.status");
    let rows: Vec<(String, String, Option<String>)> = select.fetch_all(&mut *tx).await?;
    let mut changes = Vec::new();
    for (id, actor) in investigations {
        let mine = rows.iter().filter(|(of, _, _)| of == id);
        let current = rows
            .iter()
            .find(|(of, _, _)| of == id)
            .and_then(|(_, s, _)| InvestigationStatus::parse(s))
            .ok_or(AppError::Internal)?;
        let statuses: Vec<ActionStatus> = mine
            .filter_map(|(_, _, a)| a.as_deref().and_then(ActionStatus::parse))
            .collect();
        let next = derive_status(current, &statuses);
        if next != current {
            changes.push(InvestigationChange {
                id: id.to_string(),
                from: current,
                to: next,
                actor,
            });
        }
    }
    // One UPDATE per status they move to (there are few).
    let mut targets: Vec<InvestigationStatus> = changes.iter().map(|c| c.to).collect();
    targets.sort_by_key(|s| s.as_str());
    targets.dedup();
    let at = db::now();
    for to in targets {
        let mut update =
            query("UPDATE investigations SET status = $1, updated_at = $2 WHERE id IN (")
                .bind(to)
                .bind(at);
        update
            .push_list(changes.iter().filter(|c| c.to == to).map(|c| c.id.as_str()))
            .push(")");
        update.execute(&mut *tx).await?;
    }
    Ok(changes)
}
