//! Change or undo a completed action (DESIGN.md rule 6): a new action linked to the original,
//! decided by the person who chose it, and queued for execution at once — unless the approval
//! policy wants a second person for what it becomes (a hard delete, by default): then it waits,
//! Pending, with the chooser's approval counted. An email action can
//! become any of [`CHANGE_TARGETS`]; turning forwarding off is undone by Restore mail
//! forwarding, which puts the mailbox's original rules back.

use super::read;
use super::state::{self, NewAction};
use crate::AppState;
use model::{Action, ActionSource, ActionStatus, ActionType, Actor, AppError, CurrentUser};

/// What an email action can be changed to.
pub const CHANGE_TARGETS: [ActionType; 5] = [
    ActionType::MoveToInbox,
    ActionType::MoveToJunk,
    ActionType::MoveToDeletedItems,
    ActionType::SoftDelete,
    ActionType::HardDelete,
];

#[derive(sqlx::FromRow)]
struct Original {
    action_type: String,
    status: String,
    investigation_id: String,
    incident_id: String,
    target_kind: String,
    cluster_id: Option<String>,
    cluster_key: Option<String>,
    mailbox: Option<String>,
    internet_message_id: Option<String>,
}

/// Creates and queues the change of action `id` to `to`.
#[tracing::instrument(skip(state, user), fields(user = %user.username))]
pub async fn change(
    state: &AppState,
    user: &CurrentUser,
    id: &str,
    to: ActionType,
) -> Result<Action, AppError> {
    user.require_decide()?;
    if !CHANGE_TARGETS.contains(&to) && to != ActionType::RestoreForwarding {
        return Err(AppError::Invalid(format!(
            "an action can be changed to {}, or restore_forwarding",
            names(&CHANGE_TARGETS)
        )));
    }
    let mut tx = state.db.write().await?;
    let original: Original = crate::db::query(
        "SELECT action_type, status, investigation_id, incident_id, target_kind, cluster_id, cluster_key, mailbox,
                internet_message_id
         FROM actions WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(&mut tx)
    .await?
    .ok_or_else(|| AppError::NotFound(format!("action {id:?}")))?;
    let kind = ActionType::parse(&original.action_type).ok_or(AppError::Internal)?;
    let status = ActionStatus::parse(&original.status).ok_or(AppError::Internal)?;
    check_change(kind, status, to)?;
    let later: Option<String> = crate::db::query(
        "SELECT id FROM actions WHERE changed_from = $1 AND status NOT IN ('rejected', 'failed') LIMIT 1",
    )
    .bind(id)
    .optional_scalar(&mut tx)
    .await?;
    if let Some(later) = later {
        return Err(AppError::Conflict(format!(
            "already changed by action {later}: change that one instead"
        )));
    }
    let new = NewAction {
        investigation_id: &original.investigation_id,
        incident_id: &original.incident_id,
        action_type: to,
        target_kind: &original.target_kind,
        cluster_id: original.cluster_id.as_deref(),
        cluster_key: original.cluster_key.as_deref(),
        mailbox: original.mailbox.as_deref(),
        internet_message_id: original.internet_message_id.as_deref(),
        forward_to: None,
        source: ActionSource::Manual,
        proposed_by: Some(&user.username),
    };
    // The policy judges the change as the action it becomes (a hard delete needs two people
    // by default): one that needs more than its chooser waits, Pending, for the next person.
    let mut facts = super::facts::load(&mut tx, &[id])
        .await?
        .remove(id)
        .ok_or(AppError::Internal)?;
    facts.action_type = to;
    facts.source = ActionSource::Manual;
    facts.proposer = Some(user.username.clone());
    let outcome = state.policy.current().evaluate(&facts);
    let Some(required) = outcome.approvals_required() else {
        return Err(AppError::Refused(format!(
            "the approval policy forbids this change ({})",
            outcome.cites()
        )));
    };
    let actor = Actor::from(user);
    let new_id = if required > 1 {
        let waiting = state::Awaiting {
            required,
            rule: &outcome.rule,
        };
        state::add_change_awaiting(&mut tx, &new, (id, kind), &actor, waiting).await?
    } else {
        state::add_change(&mut tx, &new, (id, kind), &actor).await?
    };
    let action = read::load(&mut tx, std::slice::from_ref(&new_id))
        .await?
        .pop()
        .ok_or(AppError::Internal)?;
    tx.commit().await?;
    tracing::info!(original = id, action_id = %new_id, to = %to, "action changed");
    Ok(action)
}

/// Whether an action of type `kind` in `status` may become `to`.
fn check_change(kind: ActionType, status: ActionStatus, to: ActionType) -> Result<(), AppError> {
    let refused = match (kind, to) {
        (ActionType::TurnOffForwarding, ActionType::RestoreForwarding) => None,
        (ActionType::TurnOffForwarding, _) => Some(
            "turning forwarding off is not an email action: it can only be undone (restore_forwarding)",
        ),
        (ActionType::RestoreForwarding, _) => {
            Some("restoring forwarding cannot be changed; turn it off again instead")
        }
        (_, ActionType::RestoreForwarding) => {
            Some("restore_forwarding undoes Turn off external mail forwarding only")
        }
        (ActionType::HardDelete, _) => {
            Some("hard-deleted mail is gone: the action cannot be changed")
        }
        _ => None,
    };
    if let Some(why) = refused {
        return Err(AppError::Conflict(why.into()));
    }
    if !matches!(
        status,
        ActionStatus::Completed | ActionStatus::PartiallyCompleted
    ) {
        return Err(AppError::Conflict(format!(
            "only a completed action can be changed; this one is {}",
            status.label()
        )));
    }
    Ok(())
}

fn names(types: &[ActionType]) -> String {
    types
        .iter()
        .map(|t| t.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use ActionStatus::*;
    use ActionType::*;

    #[test]
    fn only_completed_email_actions_change_and_hard_deletes_never() {
        assert!(check_change(SoftDeleteCluster, Completed, MoveToInbox).is_ok());
        assert!(check_change(SoftDeleteCluster, PartiallyCompleted, HardDelete).is_ok());
        assert!(check_change(SoftDeleteCluster, Approved, MoveToInbox).is_err());
        assert!(check_change(HardDelete, Completed, MoveToInbox).is_err());
        assert!(check_change(TurnOffForwarding, Completed, MoveToJunk).is_err());
        assert!(check_change(TurnOffForwarding, Completed, RestoreForwarding).is_ok());
        assert!(check_change(SoftDeleteCluster, Completed, RestoreForwarding).is_err());
    }
}
