//! The one place an action's status changes, and an investigation's with it (DESIGN.md rules
//! 5 and 7). [`transition`] moves an action from one status to the next only if it is still
//! in the first — so of two racing writers exactly one moves it — writes the audit event in
//! the same transaction, queues execution when the action becomes Approved, and brings the
//! investigation's status and the incident's counts along. Creating an action or an
//! investigation is here too, since creating one sets its first status.

use serde_json::json;

use crate::audit::{self, Event};
use crate::db::{self, query, Tx};
use crate::{incidents, new_id};
use model::{
    ActionSource, ActionStatus, ActionType, Actor, AppError, InvestigationStatus, InvestigationType,
};

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
}

/// Moves the action if it is still in `from`; `Ok(false)` when it is not (someone else moved
/// it first), and then nothing was written.
pub(crate) async fn transition(tx: &mut Tx<'_>, t: Transition<'_>) -> Result<bool, AppError> {
    let at = db::now();
    let mut update = query("UPDATE actions SET status = $1, updated_at = $2")
        .bind(t.to)
        .bind(at);
    if let Some(decision) = &t.decision {
        update.push(", decided_by = ").push_bind(t.actor.name());
        update.push(", decided_at = ").push_bind(at);
        update.push(", comment = ").push_bind(decision.comment);
        update
            .push(", duplicate_of = ")
            .push_bind(decision.duplicate_of);
    }
    if let Some(outcome) = t.outcome {
        update.push(", outcome = ").push_bind(outcome);
    }
    update.push(" WHERE id = ").push_bind(t.action_id);
    update.push(" AND status = ").push_bind(t.from);
    update.push(" RETURNING investigation_id, incident_id");
    let Some((investigation_id, incident_id)): Option<(String, String)> =
        update.fetch_optional(&mut *tx).await?
    else {
        return Ok(false);
    };
    if t.to == ActionStatus::Approved {
        enqueue(tx, t.action_id).await?;
    }
    let mut after = json!({"status": t.to});
    if let Some(decision) = &t.decision {
        after["comment"] = json!(decision.comment);
        after["duplicate_of"] = json!(decision.duplicate_of);
    }
    if let Some(outcome) = t.outcome {
        after["outcome"] = json!(outcome);
    }
    audit::record(
        tx,
        Event {
            actor: t.actor,
            entity_kind: "action",
            entity_id: t.action_id,
            event: t.event,
            before: Some(json!({"status": t.from})),
            after: Some(after),
        },
    )
    .await?;
    refresh_investigation(tx, t.actor, &investigation_id).await?;
    incidents::refresh(tx, &incident_id).await?;
    Ok(true)
}

/// Queues an approved action for execution: an action becomes Approved only together with
/// its job, so nothing approved can be forgotten.
async fn enqueue(tx: &mut Tx<'_>, action_id: &str) -> Result<(), AppError> {
    query(
        "INSERT INTO jobs (id, action_id, status, created_at, updated_at) VALUES ($1, $2, 'queued', $3, $3)",
    )
    .bind(new_id())
    .bind(action_id)
    .bind(db::now())
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// A new action: what it does, to what, and where it comes from.
pub(crate) struct NewAction<'a> {
    pub investigation_id: &'a str,
    pub incident_id: &'a str,
    pub action_type: ActionType,
    /// `cluster`, `mailbox` or `message`.
    pub target_kind: &'a str,
    pub cluster_id: Option<&'a str>,
    pub cluster_key: Option<&'a str>,
    pub mailbox: Option<&'a str>,
    pub internet_message_id: Option<&'a str>,
    pub forward_to: Option<&'a str>,
    pub source: ActionSource,
}

/// Proposes an action: Pending, waiting for a person. The investigation's status is settled
/// by its ingest once every proposal is written ([`conclude_ingest`]).
pub(crate) async fn propose(
    tx: &mut Tx<'_>,
    new: &NewAction<'_>,
    actor: &Actor,
) -> Result<String, AppError> {
    let id = insert_action(tx, new, ActionStatus::Pending, None).await?;
    let after = json!({"type": new.action_type, "status": ActionStatus::Pending});
    audit::record(
        tx,
        Event {
            actor,
            entity_kind: "action",
            entity_id: &id,
            event: "action_proposed",
            before: None,
            after: Some(after),
        },
    )
    .await?;
    Ok(id)
}

/// A change or undo of `original` (DESIGN.md rule 6): a new action, Approved at once by the
/// person who chose it and queued for execution.
pub(crate) async fn add_change(
    tx: &mut Tx<'_>,
    new: &NewAction<'_>,
    original: (&str, ActionType),
    actor: &Actor,
) -> Result<String, AppError> {
    let id = insert_action(tx, new, ActionStatus::Approved, Some((original.0, actor))).await?;
    enqueue(tx, &id).await?;
    audit::record(
        tx,
        Event {
            actor,
            entity_kind: "action",
            entity_id: &id,
            event: "action_changed",
            before: Some(json!({"action": original.0, "type": original.1})),
            after: Some(
                json!({"action": id, "type": new.action_type, "status": ActionStatus::Approved}),
            ),
        },
    )
    .await?;
    refresh_investigation(tx, actor, new.investigation_id).await?;
    incidents::refresh(tx, new.incident_id).await?;
    Ok(id)
}

async fn insert_action(
    tx: &mut Tx<'_>,
    new: &NewAction<'_>,
    status: ActionStatus,
    changed: Option<(&str, &Actor)>,
) -> Result<String, AppError> {
    let id = new_id();
    let at = db::now();
    query(
        "INSERT INTO actions (id, investigation_id, incident_id, action_type, status, target_kind, cluster_id,
                              cluster_key, mailbox, internet_message_id, forward_to, source, created_at,
                              updated_at, decided_by, decided_at, changed_from)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $13, $14, $15, $16)",
    )
    .bind(&id)
    .bind(new.investigation_id)
    .bind(new.incident_id)
    .bind(new.action_type)
    .bind(status)
    .bind(new.target_kind)
    .bind(new.cluster_id)
    .bind(new.cluster_key)
    .bind(new.mailbox)
    .bind(new.internet_message_id)
    .bind(new.forward_to)
    .bind(new.source)
    .bind(at)
    .bind(changed.map(|(_, actor)| actor.name()))
    .bind(changed.map(|_| at))
    .bind(changed.map(|(original, _)| original))
    .execute(&mut *tx)
    .await?;
    Ok(id)
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

/// An ingested investigation's status once its proposals are written: Pending action, or No
/// threats found when it proposed nothing. Its `investigation_created` event records it.
pub(crate) async fn conclude_ingest(
    tx: &mut Tx<'_>,
    investigation_id: &str,
    proposed: usize,
) -> Result<InvestigationStatus, AppError> {
    let status = if proposed == 0 {
        InvestigationStatus::NoThreatsFound
    } else {
        InvestigationStatus::PendingAction
    };
    query("UPDATE investigations SET status = $2, updated_at = $3 WHERE id = $1")
        .bind(investigation_id)
        .bind(status)
        .bind(db::now())
        .execute(&mut *tx)
        .await?;
    Ok(status)
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
async fn refresh_investigation(
    tx: &mut Tx<'_>,
    actor: &Actor,
    investigation_id: &str,
) -> Result<InvestigationStatus, AppError> {
    // The investigation's status and its actions' in one round trip.
    let rows: Vec<(String, Option<String>)> = query(
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
        query("UPDATE investigations SET status = $2, updated_at = $3 WHERE id = $1")
            .bind(investigation_id)
            .bind(next)
            .bind(db::now())
            .execute(&mut *tx)
            .await?;
        let event = Event {
            actor,
            entity_kind: "investigation",
            entity_id: investigation_id,
            event: "investigation_status_changed",
            before: Some(json!({"status": current})),
            after: Some(json!({"status": next})),
        };
        audit::record(tx, event).await?;
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
