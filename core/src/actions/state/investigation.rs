//! An investigation's status: the rule it follows from its actions' (DESIGN.md rule 5), and
//! the state module's writes of it — opening one Running, concluding an ingest, and
//! recomputing it in the transaction that moved its actions ([`super`] audits the changes).

use serde_json::json;

use crate::audit::Event;
use crate::db::{self, query, Tx};
use crate::new_id;
use model::{ActionStatus, Actor, AppError, InvestigationStatus, InvestigationType};

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

/// An investigation whose status followed its actions to a new one.
pub(super) struct InvestigationChange<'a> {
    pub(super) id: String,
    pub(super) from: InvestigationStatus,
    pub(super) to: InvestigationStatus,
    pub(super) actor: &'a Actor,
}

impl InvestigationChange<'_> {
    pub(super) fn event(&self) -> Event<'_> {
        Event {
            actor: self.actor,
            entity_kind: "investigation",
            entity_id: &self.id,
            event: "investigation_status_changed",
            before: Some(json!({"status": self.from})),
            after: Some(json!({"status": self.to})),
        }
    }
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
pub(super) async fn refresh_investigations<'a>(
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
