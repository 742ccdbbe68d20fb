//! What the approval policy reads about actions ([`crate::policy::Facts`]), loaded for many
//! at once (and a pending action's impact, built from them): the action, its investigation
//! and incident, and the copies and mailboxes it would
//! touch *now* — a cluster's members as the index holds them at this moment, not the count
//! frozen when the investigation ran, so a second wave that grew a cluster past a limit is
//! held by the limit.

use std::collections::HashMap;

use crate::db::{query, Target};
use crate::policy::Facts;
use model::{
    Action, ActionSource, ActionStatus, ActionType, AppError, Impact, InvestigationType, Severity,
    Verdict,
};

/// The columns [`Row`] reads, from `actions a` joined with [`JOINS`].
pub(crate) const COLUMNS: &str =
    "a.id, a.action_type, a.target_kind, a.source, a.cluster_id, a.mailbox, a.proposed_by,
        inc.severity, i.investigation_type,
        COALESCE(c.verdict, (SELECT f.verdict FROM mailbox_forwarding f
                             WHERE f.investigation_id = a.investigation_id AND f.mailbox = a.mailbox
                             LIMIT 1)) AS verdict,
        c.email_count AS cluster_size";

/// What [`COLUMNS`] read besides `actions a`.
pub(crate) const JOINS: &str = "JOIN investigations i ON i.id = a.investigation_id
        JOIN incidents inc ON inc.id = a.incident_id
        LEFT JOIN email_clusters c ON c.id = a.cluster_id";

/// An action's row with what the facts need of its investigation, incident and cluster.
#[derive(sqlx::FromRow)]
pub(crate) struct Row {
    pub id: String,
    pub action_type: String,
    target_kind: String,
    source: String,
    pub cluster_id: Option<String>,
    mailbox: Option<String>,
    pub proposed_by: Option<String>,
    severity: String,
    investigation_type: String,
    verdict: Option<String>,
    cluster_size: Option<i64>,
}

/// The facts of each action named, keyed by id (unknown ids are left out).
pub(crate) async fn load<'a>(
    on: impl Into<Target<'a>>,
    ids: &[&str],
) -> Result<HashMap<String, Facts>, AppError> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let mut on = on.into();
    let mut select = query(format!(
        "SELECT {COLUMNS} FROM actions a {JOINS} WHERE a.id IN ("
    ));
    select.push_list(ids.iter().copied()).push(")");
    let rows: Vec<Row> = select.fetch_all(on.reborrow()).await?;
    of_rows(on, &rows.iter().collect::<Vec<_>>()).await
}

/// The facts of actions whose rows the caller read (with [`COLUMNS`]), keyed by id: their
/// copies now are counted here, in one statement for every cluster named.
pub(crate) async fn of_rows<'a>(
    on: impl Into<Target<'a>>,
    rows: &[&Row],
) -> Result<HashMap<String, Facts>, AppError> {
    let clusters: Vec<&str> = rows
        .iter()
        .filter_map(|r| r.cluster_id.as_deref())
        .collect();
    let mut members: HashMap<String, Vec<(String, i64)>> = HashMap::new();
    if !clusters.is_empty() {
        let mut count = query(
            "SELECT cluster_id, mailbox, COUNT(*) FROM cluster_messages WHERE cluster_id IN (",
        );
        count
            .push_list(clusters.iter().copied())
            .push(") GROUP BY cluster_id, mailbox");
        let counted: Vec<(String, String, i64)> = count.fetch_all(on).await?;
        for (cluster, mailbox, copies) in counted {
            members.entry(cluster).or_default().push((mailbox, copies));
        }
    }

    let mut facts = HashMap::with_capacity(rows.len());
    for row in rows {
        let (copies, mailboxes) = match (&row.cluster_id, &row.mailbox) {
            (Some(cluster), _) => {
                let of = members.get(cluster).map(Vec::as_slice).unwrap_or_default();
                (
                    of.iter().map(|(_, n)| n).sum(),
                    of.iter().map(|(m, _)| m.clone()).collect(),
                )
            }
            (None, Some(mailbox)) if row.target_kind == "message" => (1, vec![mailbox.clone()]),
            (None, Some(mailbox)) => (0, vec![mailbox.clone()]),
            (None, None) => (0, Vec::new()),
        };
        let bad = |what: &str| {
            tracing::error!(action_id = %row.id, what, "an action's stored vocabulary does not parse");
            AppError::Internal
        };
        facts.insert(
            row.id.clone(),
            Facts {
                action_type: ActionType::parse(&row.action_type).ok_or_else(|| bad("type"))?,
                target: row.target_kind.clone(),
                source: ActionSource::parse(&row.source).ok_or_else(|| bad("source"))?,
                verdict: row.verdict.as_deref().and_then(Verdict::parse),
                severity: Severity::parse(&row.severity).ok_or_else(|| bad("severity"))?,
                investigation_type: InvestigationType::parse(&row.investigation_type)
                    .ok_or_else(|| bad("investigation type"))?,
                cluster_size: row.cluster_size.unwrap_or(0),
                copies,
                mailboxes,
                proposer: row.proposed_by.clone(),
            },
        );
    }
    Ok(facts)
}

/// One action; a pending one with its impact: what it would touch now and how the approval
/// policy in force treats it.
#[tracing::instrument(skip(state))]
pub async fn get_with_impact(state: &crate::AppState, id: &str) -> Result<Action, AppError> {
    let mut action = super::read::get(&state.db, id).await?;
    if action.status != ActionStatus::Pending {
        return Ok(action);
    }
    let policy = state.policy.current();
    if let Some(facts) = load(&state.db, &[id]).await?.remove(id) {
        let outcome = policy.evaluate(&facts);
        let mut groups: Vec<String> = Vec::new();
        for mailbox in &facts.mailboxes {
            for group in policy.groups_of(mailbox) {
                if !groups.iter().any(|g| g == group) {
                    groups.push(group.to_owned());
                }
            }
        }
        action.impact = Some(Impact {
            copies: facts.copies,
            mailboxes: i64::try_from(facts.mailboxes.len()).unwrap_or(i64::MAX),
            groups,
            approvals_required: outcome.approvals_required(),
            then: serde_json::to_value(outcome.then)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default(),
            policy_rule: outcome.rule,
            reason: outcome.reason,
        });
    }
    Ok(action)
}
