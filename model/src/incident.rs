//! Incidents: the queue an analyst starts from.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{IncidentSort, IncidentStatus, InvestigationStatus, Severity};

/// One row of the incidents queue.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct IncidentSummary {
    pub id: String,
    pub title: String,
    pub severity: Severity,
    pub status: IncidentStatus,
    /// The Automated investigation state: the most urgent status among its investigations.
    pub investigation_state: InvestigationStatus,
    pub alert_count: i64,
    pub investigation_count: i64,
    pub pending_action_count: i64,
    pub first_activity_at: DateTime<Utc>,
    pub last_activity_at: DateTime<Utc>,
}

/// One incident as its summary page shows it: its investigations, and every piece of evidence
/// they found with the action answering each — not the investigations whole (their messages,
/// results, reports and logs are on each investigation's own page), so that an incident
/// gathering hundreds of investigations stays a page of rows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IncidentDetail {
    pub incident: IncidentSummary,
    /// Oldest first.
    pub investigations: Vec<super::InvestigationBrief>,
    /// In the investigations' order; within one, clusters first, then mailboxes.
    pub evidence: Vec<super::EvidenceRow>,
}

/// The incidents queue's filter, as it appears in the URL.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct IncidentFilter {
    pub investigation_state: Option<InvestigationStatus>,
    pub sort: IncidentSort,
    /// Smallest first; the default is largest (latest, most severe) first.
    pub ascending: bool,
}
