//! Evidence and the response to it, as the incident and investigation pages list it: one row
//! per email cluster or forwarding mailbox, with its verdict and the action answering it.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::Verdict;
use super::{Action, ActionStatus, ActionType, AlertView, Investigation, InvestigationStatus};

/// What a piece of evidence is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EvidenceKind {
    EmailCluster,
    Mailbox,
}

impl EvidenceKind {
    pub fn label(self) -> &'static str {
        match self {
            EvidenceKind::EmailCluster => "Email cluster",
            EvidenceKind::Mailbox => "Mailbox",
        }
    }
}

/// One piece of evidence and the action answering it (the proposed one, not a later change).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EvidenceRow {
    pub kind: EvidenceKind,
    /// What it is, in words: `URL: http://…`, `bob@… forwards to …`.
    pub entity: String,
    pub verdict: Verdict,
    pub investigation_id: String,
    pub action: Option<EvidenceAction>,
}

/// Of the action answering a piece of evidence, what its row and flyout show.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EvidenceAction {
    pub id: String,
    pub action_type: ActionType,
    pub status: ActionStatus,
    /// What it acts on, in words.
    pub target: String,
    pub decided_by: Option<String>,
    pub details: Option<String>,
    /// Who a pending action still waits for, once someone approved it.
    pub awaiting: Option<String>,
}

impl From<&Action> for EvidenceAction {
    fn from(action: &Action) -> Self {
        EvidenceAction {
            id: action.id.clone(),
            action_type: action.action_type,
            status: action.status,
            target: action.target.describe(),
            decided_by: action.decided_by.clone(),
            details: action.details.clone(),
            awaiting: action.awaiting(),
        }
    }
}

impl EvidenceRow {
    /// Every piece of evidence an investigation collected, each with the action answering it.
    pub fn of(investigation: &Investigation) -> Vec<EvidenceRow> {
        let proposed = |matches: &dyn Fn(&Action) -> bool| {
            investigation
                .actions
                .iter()
                .filter(|a| a.changed_from.is_none())
                .find(|a| matches(a))
                .map(EvidenceAction::from)
        };
        let clusters = investigation.clusters.iter().map(|cluster| EvidenceRow {
            kind: EvidenceKind::EmailCluster,
            entity: format!("{}: {}", cluster.cluster_by.label(), cluster.cluster_value),
            verdict: cluster.verdict,
            investigation_id: investigation.id.clone(),
            action: proposed(&|a| a.target.cluster_id.as_deref() == Some(cluster.id.as_str())),
        });
        let mailboxes = investigation
            .forwarding
            .iter()
            .map(|forwarding| EvidenceRow {
                kind: EvidenceKind::Mailbox,
                entity: format!(
                    "{} forwards to {}",
                    forwarding.mailbox, forwarding.forward_to
                ),
                verdict: forwarding.verdict,
                investigation_id: investigation.id.clone(),
                // One turn-off per mailbox covers every way it forwards.
                action: proposed(&|a| {
                    a.target.mailbox.as_deref() == Some(forwarding.mailbox.as_str())
                        && a.action_type == ActionType::TurnOffForwarding
                }),
            });
        clusters.chain(mailboxes).collect()
    }
}

/// An investigation as an incident's page lists it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InvestigationBrief {
    pub id: String,
    pub title: String,
    pub status: InvestigationStatus,
    pub created_at: DateTime<Utc>,
    /// What started it.
    pub alert: AlertView,
}

impl From<&Investigation> for InvestigationBrief {
    fn from(investigation: &Investigation) -> Self {
        InvestigationBrief {
            id: investigation.id.clone(),
            title: investigation.title.clone(),
            status: investigation.status,
            created_at: investigation.created_at,
            alert: investigation.alert.clone(),
        }
    }
}
