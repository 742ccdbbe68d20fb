//! Evidence and the response to it, as the incident and investigation pages list it: one row
//! per email cluster or forwarding mailbox, with its verdict and the action answering it.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{Action, ActionStatus, ActionType, AlertView, Investigation, InvestigationStatus};
use super::{ClusterBy, Verdict};

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
    /// An email cluster as evidence.
    pub fn cluster(
        investigation_id: &str,
        cluster_by: ClusterBy,
        cluster_value: &str,
        verdict: Verdict,
        action: Option<EvidenceAction>,
    ) -> Self {
        EvidenceRow {
            kind: EvidenceKind::EmailCluster,
            entity: format!("{}: {}", cluster_by.label(), cluster_value),
            verdict,
            investigation_id: investigation_id.to_owned(),
            action,
        }
    }

    /// A mailbox forwarding mail elsewhere as evidence.
    pub fn mailbox(
        investigation_id: &str,
        mailbox: &str,
        forward_to: &str,
        verdict: Verdict,
        action: Option<EvidenceAction>,
    ) -> Self {
        EvidenceRow {
            kind: EvidenceKind::Mailbox,
            entity: format!("{mailbox} forwards to {forward_to}"),
            verdict,
            investigation_id: investigation_id.to_owned(),
            action,
        }
    }

    /// Every piece of evidence an investigation collected, each with the action answering it:
    /// the proposed one (not a later change); for a mailbox, its turn-off, one per mailbox
    /// covering every way it forwards. The incident page's reader makes the same choice in SQL.
    pub fn of(investigation: &Investigation) -> Vec<EvidenceRow> {
        let proposed = |matches: &dyn Fn(&Action) -> bool| {
            investigation
                .actions
                .iter()
                .filter(|a| a.changed_from.is_none())
                .find(|a| matches(a))
                .map(EvidenceAction::from)
        };
        let id = investigation.id.as_str();
        let clusters = investigation.clusters.iter().map(|cluster| {
            let action = proposed(&|a| a.target.cluster_id.as_deref() == Some(cluster.id.as_str()));
            EvidenceRow::cluster(
                id,
                cluster.cluster_by,
                &cluster.cluster_value,
                cluster.verdict,
                action,
            )
        });
        let mailboxes = investigation.forwarding.iter().map(|forwarding| {
            let action = proposed(&|a| {
                a.target.mailbox.as_deref() == Some(forwarding.mailbox.as_str())
                    && a.action_type == ActionType::TurnOffForwarding
            });
            EvidenceRow::mailbox(
                id,
                &forwarding.mailbox,
                &forwarding.forward_to,
                forwarding.verdict,
                action,
            )
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
