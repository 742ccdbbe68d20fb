//! Change or undo a completed action (DESIGN.md rule 6): a new action linked to the original,
//! decided by the person who chose it, and queued for execution at once. An email action can
//! become any of [`CHANGE_TARGETS`]; turning forwarding off is undone by Restore mail
//! forwarding, which makes the mailbox's original Sieve script active again.

use serde_json::json;

use super::clock::{db_time, now};
use super::decisions::{enqueue, refresh_investigation};
use super::{actions, audit, db, incidents, new_id, AppState};
use crate::model::{Action, ActionSource, ActionStatus, ActionType, AppError, CurrentUser};

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
pub async fn change(
    state: &AppState,
    user: &CurrentUser,
    id: &str,
    to: ActionType,
) -> Result<Action, AppError> {
    if !user.role.can_decide() {
        return Err(AppError::Forbidden("Search and purge".into()));
    }
    if !CHANGE_TARGETS.contains(&to) && to != ActionType::RestoreForwarding {
        return Err(AppError::Invalid(format!(
            "an action can be changed to {}, or restore_forwarding",
            names(&CHANGE_TARGETS)
        )));
    }
    let mut tx = db::begin_write(&state.writer).await?;
    let original: Original = sqlx::query_as(
        "SELECT action_type, status, investigation_id, incident_id, target_kind, cluster_id, cluster_key, mailbox,
                internet_message_id
         FROM actions WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(&mut *tx)
    .await?
    .ok_or_else(|| AppError::NotFound(format!("action {id:?}")))?;
    let kind = ActionType::parse(&original.action_type).ok_or(AppError::Internal)?;
    let status = ActionStatus::parse(&original.status).ok_or(AppError::Internal)?;
    match (kind, to) {
        (ActionType::TurnOffForwarding, ActionType::RestoreForwarding) => {}
        (ActionType::TurnOffForwarding, _) => {
            return Err(AppError::Conflict(
                "turning forwarding off is not an email action: it can only be undone (restore_forwarding)".into(),
            ))
        }
        (ActionType::RestoreForwarding, _) => {
            return Err(AppError::Conflict(
                "restoring forwarding cannot be changed; turn it off again instead".into(),
            ))
        }
        (_, ActionType::RestoreForwarding) => {
            return Err(AppError::Conflict(
                "restore_forwarding undoes Turn off external mail forwarding only".into(),
            ))
        }
        _ => {}
    }
    if kind == ActionType::HardDelete {
        return Err(AppError::Conflict(
            "hard-deleted mail is gone: the action cannot be changed".into(),
        ));
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
    let later: Option<String> = sqlx::query_scalar(
        "SELECT id FROM actions WHERE changed_from = $1 AND status NOT IN ('rejected', 'failed') LIMIT 1",
    )
    .bind(id)
    .fetch_optional(&mut *tx)
    .await?;
    if let Some(later) = later {
        return Err(AppError::Conflict(format!(
            "already changed by action {later}: change that one instead"
        )));
    }

    let new = new_id();
    let at = db_time(&now());
    sqlx::query(
        "INSERT INTO actions (id, investigation_id, incident_id, action_type, status, target_kind, cluster_id,
                              cluster_key, mailbox, internet_message_id, source, created_at, updated_at,
                              decided_by, decided_at, changed_from)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12, $13, $12, $14)",
    )
    .bind(&new)
    .bind(&original.investigation_id)
    .bind(&original.incident_id)
    .bind(to.as_str())
    .bind(ActionStatus::Approved.as_str())
    .bind(&original.target_kind)
    .bind(&original.cluster_id)
    .bind(&original.cluster_key)
    .bind(&original.mailbox)
    .bind(&original.internet_message_id)
    .bind(ActionSource::Manual.as_str())
    .bind(&at)
    .bind(&user.username)
    .bind(id)
    .execute(&mut *tx)
    .await?;
    enqueue(&mut tx, &new, &at).await?;
    audit::record(
        &mut tx,
        &user.username,
        "action",
        &new,
        "action_changed",
        Some(json!({"action": id, "type": kind})),
        Some(json!({"action": new, "type": to, "status": ActionStatus::Approved})),
    )
    .await?;
    refresh_investigation(&mut tx, &user.username, &original.investigation_id).await?;
    incidents::refresh(&mut tx, &original.incident_id).await?;
    let action = actions::load(&mut tx, std::slice::from_ref(&new))
        .await?
        .pop()
        .ok_or(AppError::Internal)?;
    tx.commit().await?;
    tracing::info!(original = id, action_id = %new, to = %to, user = %user.username, "action changed");
    Ok(action)
}

fn names(types: &[ActionType]) -> String {
    types
        .iter()
        .map(|t| t.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}
