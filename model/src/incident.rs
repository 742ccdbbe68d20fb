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

/// One incident and its investigations: its summary page shows their evidence and the
/// response to each piece. Each investigation comes with its clusters, forwarding findings and
/// actions, but not what only its own page shows — a cluster's messages, an action's per-copy
/// results, the list of reports and the log are left empty here (`email_count` and
/// `reporter_count` still count them).
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
