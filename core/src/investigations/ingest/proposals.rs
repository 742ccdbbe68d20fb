//! The approval policy at proposal time (DESIGN.md rule 8): a group automated `none` gets no
//! proposals (the log says so), and each action proposed learns how many people must approve
//! it — or that the policy approves it on its own, which happens through the decision writer
//! once the investigation is committed.

use super::{Level, Policy, Recording};
use crate::actions::facts;
use crate::db::{query, Tx};
use crate::policy::{Outcome, Then};
use model::AppError;

impl Recording<'_> {
    /// Whether an action on this cluster's mailboxes (or this mailbox) may be proposed: not
    /// where a mailbox it would touch is in a group automated `none`.
    pub(super) async fn may_propose(
        &mut self,
        tx: &mut Tx<'_>,
        cluster_id: Option<&str>,
        mailbox: Option<&str>,
        entity: &str,
    ) -> Result<bool, AppError> {
        let mailboxes: Vec<String> = match (cluster_id, mailbox) {
            (Some(cluster), _) => {
                query("SELECT DISTINCT mailbox FROM cluster_messages WHERE cluster_id = $1")
                    .bind(cluster)
                    .scalars(&mut *tx)
                    .await?
            }
            (None, Some(mailbox)) => vec![mailbox.to_owned()],
            (None, None) => Vec::new(),
        };
        if self.policy.level_of(mailboxes.iter().map(String::as_str)) != Level::None {
            return Ok(true);
        }
        let groups: Vec<&str> = mailboxes
            .iter()
            .flat_map(|m| self.policy.groups_of(m))
            .fold(Vec::new(), |mut all, g| {
                if !all.contains(&g) {
                    all.push(g);
                }
                all
            });
        tracing::info!(
            investigation_id = self.investigation_id,
            entity,
            ?groups,
            "automation level none: no action proposed"
        );
        let detail = format!(
            "{entity}: no action proposed — a mailbox it touches is in a group automated none ({})",
            groups.join(", ")
        );
        self.log.add(tx, "Automation level", &detail).await?;
        self.withheld += 1;
        Ok(false)
    }
}

/// Evaluates the policy on every action just proposed, records the approvals each needs and
/// the rule that said so, and answers those the policy approves on its own.
pub(super) async fn settle(
    tx: &mut Tx<'_>,
    policy: &Policy,
    action_ids: &[String],
) -> Result<Vec<(String, Outcome)>, AppError> {
    let ids: Vec<&str> = action_ids.iter().map(String::as_str).collect();
    let facts = facts::load(&mut *tx, &ids).await?;
    let mut automatic = Vec::new();
    for id in action_ids {
        let Some(facts) = facts.get(id) else {
            continue;
        };
        let outcome = policy.evaluate(facts);
        let required = outcome.approvals_required().unwrap_or(1).max(1);
        query("UPDATE actions SET approvals_required = $2, policy_rule = $3 WHERE id = $1")
            .bind(id.as_str())
            .bind(i64::from(required))
            .bind(outcome.rule.as_str())
            .execute(&mut *tx)
            .await?;
        if outcome.then == Then::Approve {
            automatic.push((id.clone(), outcome));
        }
    }
    Ok(automatic)
}
