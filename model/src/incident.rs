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

/// One incident and its investigations, whole: its summary page shows their evidence and the
/// response to each piece.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IncidentDetail {
    pub incident: IncidentSummary,
    pub investigations: Vec<super::Investigation>,
}

/// The incidents queue's filter, as it appears in the URL.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct IncidentFilter {
    pub investigation_state: Option<InvestigationStatus>,
    pub sort: IncidentSort,
    /// Smallest first; the default is largest (latest, most severe) first.
    pub ascending: bool,
}
