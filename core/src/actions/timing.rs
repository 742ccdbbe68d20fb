//! What a status change tells the metrics: how long a pending action waited for its decision,
//! or how long from proposal to the end of execution — recorded once the change commits.

use super::state::Transition;
use model::{ActionStatus, ActionType, Actor};

/// A decision's wait or an execution's whole time, for the metrics once the move commits.
pub(super) enum Timing {
    Decided(Option<ActionType>, ActionStatus, Actor, std::time::Duration),
    Remediated(Option<ActionType>, ActionStatus, std::time::Duration),
}

impl Timing {
    pub(super) fn of(
        t: &Transition<'_>,
        action_type: &str,
        created_at: chrono::DateTime<chrono::Utc>,
        at: chrono::DateTime<chrono::Utc>,
    ) -> Option<Self> {
        let action_type = ActionType::parse(action_type);
        let since = (at - created_at).to_std().unwrap_or_default();
        match (t.from, t.to) {
            (ActionStatus::Pending, to) => {
                Some(Timing::Decided(action_type, to, t.actor.clone(), since))
            }
            (
                ActionStatus::InProgress,
                to @ (ActionStatus::Completed
                | ActionStatus::PartiallyCompleted
                | ActionStatus::Failed),
            ) => Some(Timing::Remediated(action_type, to, since)),
            _ => None,
        }
    }

    pub(super) fn record(self) {
        match self {
            Timing::Decided(action_type, to, actor, waited) => {
                crate::metrics::decided(action_type, to, &actor, waited)
            }
            Timing::Remediated(action_type, to, took) => {
                crate::metrics::remediated(action_type, to, took)
            }
        }
    }
}
