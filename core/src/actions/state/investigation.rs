//! An investigation's status: the rule it follows from its actions' (DESIGN.md rule 5), and
//! the change the state module ([`super`]) writes and audits when its actions move it.

use serde_json::json;

use crate::audit::Event;
use model::{ActionStatus, Actor, InvestigationStatus};

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
