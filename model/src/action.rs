//! A remediation action: what it does, to what, who decided it and what happened.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{ActionSource, ActionStatus, ActionType, ClusterBy, MessageLocation, MessageResult};

/// An action as the API returns it (shared/API.md).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Action {
    pub id: String,
    #[serde(rename = "type")]
    pub action_type: ActionType,
    pub status: ActionStatus,
    pub investigation_id: String,
    pub incident_id: String,
    /// The investigation's title, so lists need no second request.
    pub investigation_title: String,
    /// The incident's title, likewise.
    pub incident_title: String,
    pub target: ActionTarget,
    pub source: ActionSource,
    pub created_at: DateTime<Utc>,
    pub decided_by: Option<String>,
    pub decided_at: Option<DateTime<Utc>>,
    pub comment: Option<String>,
    pub duplicate_of: Option<String>,
    pub changed_from: Option<String>,
    /// For a duplicate: "De-duplicated: its 12 copies were approved at … by … (action …)";
    /// for one an earlier approval partly covered: "De-duplicated 12 copies already handled
    /// by action …; 3 new copies remediated (…)"; for an action that ran, what execution came
    /// to ("12 succeeded, 1 not found") or why it failed.
    pub details: Option<String>,
    /// Per-copy results, at most 1,000: failures and copies not found first.
    pub results: Vec<ActionResult>,
}

/// What an action acts on: an email cluster, a mailbox, or one message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ActionTarget {
    /// `cluster`, `mailbox` or `message`.
    pub kind: String,
    pub cluster_id: Option<String>,
    pub cluster_by: Option<ClusterBy>,
    pub cluster_value: Option<String>,
    /// Messages in the cluster when the investigation ran.
    pub email_count: Option<i64>,
    pub mailbox: Option<String>,
    pub internet_message_id: Option<String>,
    /// For forwarding: where mail was being sent.
    pub forward_to: Option<String>,
}

impl ActionTarget {
    /// The entity in words, for lists: `URL: http://…`, `alice@example.test`.
    pub fn describe(&self) -> String {
        match (&self.cluster_by, &self.cluster_value, &self.mailbox) {
            (Some(by), Some(value), _) => format!("{}: {}", by.label(), value),
            (_, _, Some(mailbox)) => mailbox.clone(),
            _ => self.kind.clone(),
        }
    }
}

/// What happened to one message when the action ran.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ActionResult {
    pub mailbox: String,
    pub internet_message_id: Option<String>,
    pub result: MessageResult,
    pub location: Option<MessageLocation>,
    pub detail: Option<String>,
}
