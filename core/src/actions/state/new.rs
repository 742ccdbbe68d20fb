//! Creating actions, which sets their first status: proposals (Pending) and changes of a
//! completed action (Approved and queued, or Pending for four eyes).

use serde_json::json;

use super::enqueue;
use super::investigation::InvestigationChange;
use super::refresh_investigations;
use crate::audit::{self, Event};
use crate::db::{self, query, Tx};
use crate::{incidents, new_id};
use model::{ActionSource, ActionStatus, ActionType, Actor, AppError};

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
    /// The person who proposed or ingested it (separation of duties keeps them from
    /// approving it).
    pub proposed_by: Option<&'a str>,
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
    );
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
    enqueue(tx, &[id.as_str()], db::now()).await?;
    let after = json!({"action": id, "type": new.action_type, "status": ActionStatus::Approved});
    record_change(tx, new, original, actor, &id, after).await?;
    Ok(id)
}

/// A change's audit event, and its investigation and incident brought along.
async fn record_change(
    tx: &mut Tx<'_>,
    new: &NewAction<'_>,
    original: (&str, ActionType),
    actor: &Actor,
    id: &str,
    after: serde_json::Value,
) -> Result<(), AppError> {
    audit::record(
        tx,
        Event {
            actor,
            entity_kind: "action",
            entity_id: id,
            event: "action_changed",
            before: Some(json!({"action": original.0, "type": original.1})),
            after: Some(after),
        },
    );
    let changed = refresh_investigations(tx, &[(new.investigation_id, actor)]).await?;
    audit::record_all(tx, changed.iter().map(InvestigationChange::event));
    incidents::refresh_all(tx, &[new.incident_id]).await?;
    Ok(())
}

/// How many people a new action waits for, and the policy rule that says so.
pub(crate) struct Awaiting<'a> {
    pub required: u8,
    pub rule: &'a str,
}

/// A change the policy wants more than one person for (four eyes): a new action linked to
/// `original`, Pending, with the approval of the person who chose it counted — the next
/// approval, by someone else, runs it as any approval does.
pub(crate) async fn add_change_awaiting(
    tx: &mut Tx<'_>,
    new: &NewAction<'_>,
    original: (&str, ActionType),
    actor: &Actor,
    awaiting: Awaiting<'_>,
) -> Result<String, AppError> {
    let id = insert_action(tx, new, ActionStatus::Pending, None).await?;
    query("UPDATE actions SET changed_from = $2, approvals_required = $3, policy_rule = $4 WHERE id = $1")
        .bind(&id)
        .bind(original.0)
        .bind(i64::from(awaiting.required))
        .bind(awaiting.rule)
        .execute(&mut *tx)
        .await?;
    query("INSERT INTO action_approvals (action_id, username, approved_at) VALUES ($1, $2, $3)")
        .bind(&id)
        .bind(actor.name())
        .bind(db::now())
        .execute(&mut *tx)
        .await?;
    let after = json!({
        "action": id, "type": new.action_type, "status": ActionStatus::Pending,
        "approvals_required": awaiting.required, "policy_rule": awaiting.rule,
    });
    record_change(tx, new, original, actor, &id, after).await?;
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
                              updated_at, decided_by, decided_at, changed_from, proposed_by)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $13, $14, $15, $16, $17)",
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
    .bind(new.proposed_by)
    .execute(&mut *tx)
    .await?;
    Ok(id)
}
