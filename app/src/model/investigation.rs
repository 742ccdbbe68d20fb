//! Investigations and the evidence they collected.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{Action, ClusterBy, InvestigationStatus, InvestigationType, MessageLocation, Verdict};

/// One row of the investigations queue.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct InvestigationSummary {
    pub id: String,
    pub incident_id: String,
    pub title: String,
    pub investigation_type: InvestigationType,
    pub status: InvestigationStatus,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Distinct mailboxes the evidence touches.
    pub user_count: i64,
    /// Malicious or suspicious entities.
    pub threat_count: i64,
    pub action_count: i64,
}

/// An investigation with its evidence, actions and log (shared/API.md).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Investigation {
    pub id: String,
    pub incident_id: String,
    pub title: String,
    pub investigation_type: InvestigationType,
    pub status: InvestigationStatus,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub clusters: Vec<ClusterView>,
    pub forwarding: Vec<ForwardingView>,
    pub actions: Vec<Action>,
    pub log: Vec<LogEntry>,
}

/// An email cluster as the investigation saw it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ClusterView {
    pub id: String,
    pub cluster_by: ClusterBy,
    pub cluster_value: String,
    pub verdict: Verdict,
    /// Frozen when the investigation ran.
    pub email_count: i64,
    pub messages: Vec<ClusterMessage>,
}

/// One delivered copy in one mailbox.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ClusterMessage {
    pub mailbox: String,
    pub internet_message_id: String,
    pub sender: String,
    pub subject: String,
    pub received_at: DateTime<Utc>,
    pub location: MessageLocation,
}

/// A mailbox that forwards mail, as the investigation found it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ForwardingView {
    pub mailbox: String,
    pub forward_to: String,
    pub verdict: Verdict,
}

/// One step of the investigation's log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct LogEntry {
    pub at: DateTime<Utc>,
    pub step: String,
    pub detail: String,
}

/// What `POST /api/v1/investigations` answers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct InvestigationCreated {
    pub id: String,
    pub incident_id: String,
    pub status: InvestigationStatus,
    pub actions: Vec<Action>,
}
