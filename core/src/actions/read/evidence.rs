//! The evidence of an incident's investigations with the action answering each piece, read
//! as rows: an incident of a large campaign gathers hundreds of clusters, and its page shows
//! of each answering action only its row and flyout, so each action is read as those few
//! columns (not whole) in the same query as its evidence.

use std::collections::HashMap;

use super::results::approvals_of;
use super::CameTo;
use crate::db::{query, Target};
use model::{
    ActionStatus, ActionTarget, ActionType, AppError, Approval, ClusterBy, EvidenceAction,
    EvidenceRow, Verdict,
};

/// Of the action answering a piece of evidence (none when the columns are null), what its
/// row shows. The proposed action, not a later change: `changed_from IS NULL` in the join.
const ANSWER: &str = "a.id, a.action_type, a.status, a.target_kind, a.mailbox AS target_mailbox,
        a.decided_by, a.approvals_required, a.duplicate_of, a.outcome, a.duplicate_copies,
        a.new_copies, d.decided_by AS first_decided_by, d.decided_at AS first_decided_at";

#[derive(sqlx::FromRow)]
struct Answer {
    id: Option<String>,
    action_type: Option<String>,
    status: Option<String>,
    target_kind: Option<String>,
    target_mailbox: Option<String>,
    decided_by: Option<String>,
    approvals_required: Option<i64>,
    #[sqlx(flatten)]
    came_to: CameTo,
}

#[derive(sqlx::FromRow)]
struct ClusterEvidence {
    investigation_id: String,
    cluster_id: String,
    cluster_by: String,
    cluster_value: String,
    verdict: String,
    #[sqlx(flatten)]
    answer: Answer,
}

#[derive(sqlx::FromRow)]
struct MailboxEvidence {
    investigation_id: String,
    mailbox: String,
    forward_to: String,
    verdict: String,
    #[sqlx(flatten)]
    answer: Answer,
}

/// Each investigation's evidence of the incident, by investigation id: its clusters in the
/// order they were found, then its forwarding mailboxes by address, each with its answer —
/// the rows [`EvidenceRow::of`] makes from an investigation read whole.
pub async fn of_incident<'a>(
    on: impl Into<Target<'a>>,
    incident_id: &str,
) -> Result<HashMap<String, Vec<EvidenceRow>>, AppError> {
    let mut on = on.into();
    // An action answers a cluster of its own investigation; of several, the first proposed.
    let clusters: Vec<ClusterEvidence> = query(format!(
        "SELECT c.investigation_id, c.id AS cluster_id, c.cluster_by, c.cluster_value, c.verdict, {ANSWER}
         FROM email_clusters c JOIN investigations i ON i.id = c.investigation_id
         LEFT JOIN actions a ON a.investigation_id = c.investigation_id AND a.cluster_id = c.id
           AND a.changed_from IS NULL
         LEFT JOIN actions d ON d.id = a.duplicate_of
         WHERE i.incident_id = $1 ORDER BY c.position, c.id, a.created_at, a.id"
    ))
    .bind(incident_id)
    .fetch_all(on.reborrow())
    .await?;
    // A mailbox is answered by its one turn-off, which covers every way it forwards.
    let mailboxes: Vec<MailboxEvidence> = query(format!(
        "SELECT f.investigation_id, f.mailbox, f.forward_to, f.verdict, {ANSWER}
         FROM mailbox_forwarding f JOIN investigations i ON i.id = f.investigation_id
         LEFT JOIN actions a ON a.investigation_id = f.investigation_id AND a.mailbox = f.mailbox
           AND a.action_type = 'turn_off_forwarding' AND a.changed_from IS NULL
         LEFT JOIN actions d ON d.id = a.duplicate_of
         WHERE i.incident_id = $1
         ORDER BY f.investigation_id, f.mailbox, f.forward_to, a.created_at, a.id"
    ))
    .bind(incident_id)
    .fetch_all(on.reborrow())
    .await?;
    let answers = clusters
        .iter()
        .map(|c| &c.answer)
        .chain(mailboxes.iter().map(|m| &m.answer));
    let wanted = answers.filter_map(|a| Some((a.id.as_deref()?, a.approvals_required?)));
    let approvals = approvals_of(&mut on, wanted).await?;

    // The joins give a piece of evidence once per proposed action answering it, those rows
    // next to each other: the first counts.
    let mut evidence: HashMap<String, Vec<EvidenceRow>> = HashMap::new();
    let mut last = None;
    for row in clusters {
        if last.as_ref() == Some(&row.cluster_id) {
            continue;
        }
        last = Some(row.cluster_id);
        let cluster_by = ClusterBy::parse(&row.cluster_by).unwrap_or(ClusterBy::Sender);
        let target = ActionTarget {
            cluster_by: Some(cluster_by),
            cluster_value: Some(row.cluster_value.clone()),
            ..row.answer.target()
        };
        let action = row.answer.evidence(target, &approvals)?;
        let verdict = Verdict::parse(&row.verdict).unwrap_or(Verdict::Clean);
        let id = row.investigation_id;
        let found = EvidenceRow::cluster(&id, cluster_by, &row.cluster_value, verdict, action);
        evidence.entry(id).or_default().push(found);
    }
    let mut last = None;
    for row in mailboxes {
        let key = (row.investigation_id, row.mailbox, row.forward_to);
        if last.as_ref() == Some(&key) {
            continue;
        }
        let target = row.answer.target();
        let action = row.answer.evidence(target, &approvals)?;
        let verdict = Verdict::parse(&row.verdict).unwrap_or(Verdict::Clean);
        let found = EvidenceRow::mailbox(&key.0, &key.1, &key.2, verdict, action);
        evidence.entry(key.0.clone()).or_default().push(found);
        last = Some(key);
    }
    Ok(evidence)
}

impl Answer {
    /// What the action acts on, as far as its columns here say.
    fn target(&self) -> ActionTarget {
        ActionTarget {
            kind: self.target_kind.clone().unwrap_or_default(),
            cluster_id: None,
            cluster_by: None,
            cluster_value: None,
            email_count: None,
            mailbox: self.target_mailbox.clone(),
            internet_message_id: None,
            forward_to: None,
        }
    }

    /// The answering action as its row and flyout show it; none when nothing answers.
    fn evidence(
        self,
        target: ActionTarget,
        approvals: &HashMap<String, Vec<Approval>>,
    ) -> Result<Option<EvidenceAction>, AppError> {
        let (Some(id), Some(action_type), Some(status)) = (self.id, self.action_type, self.status)
        else {
            return Ok(None);
        };
        let bad = |what: &str, value: &str| {
            tracing::error!(what, value, "unknown word in the actions table");
            AppError::Internal
        };
        let action_type =
            ActionType::parse(&action_type).ok_or_else(|| bad("type", &action_type))?;
        let status = ActionStatus::parse(&status).ok_or_else(|| bad("status", &status))?;
        // One action may answer several rows (a mailbox forwarding two ways).
        let given = approvals.get(&id).map(Vec::as_slice).unwrap_or_default();
        let required = self.approvals_required.unwrap_or(1);
        let awaiting = Approval::awaiting(status, given, u8::try_from(required).unwrap_or(u8::MAX));
        Ok(Some(EvidenceAction {
            // Who it waits for is its details while it waits, as everywhere actions are shown.
            details: awaiting.clone().or_else(|| self.came_to.details(status)),
            awaiting,
            target: target.describe(),
            decided_by: self.decided_by,
            action_type,
            status,
            id,
        }))
    }
}
