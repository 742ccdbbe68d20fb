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
    /// How many different people must approve it before it runs: 1, or 2 (four eyes).
    pub approvals_required: u8,
    /// The approvals given so far, oldest first: while an action that needs two waits for the
    /// second, the first is here ("Awaiting second approval — approved by …").
    pub approvals: Vec<Approval>,
    /// The approval policy's rule that decides how it is approved (`default` where none
    /// matched; `builtin:hard_delete`, `builtin:large_action` for the built-in floors).
    pub policy_rule: Option<String>,
    /// Who proposed or ingested it (a user name; none for airdesk's own playbook).
    pub proposed_by: Option<String>,
    /// For one pending action read alone: what it would touch now and how the approval policy
    /// treats it, counted when asked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub impact: Option<Impact>,
}

/// The blast radius of a pending action, counted now, and the policy's word on it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Impact {
    /// Copies it would touch now.
    pub copies: i64,
    /// Mailboxes it would touch now.
    pub mailboxes: i64,
    /// The mailbox groups of those mailboxes.
    pub groups: Vec<String>,
    /// The rule that applies (`default` where none matches).
    pub policy_rule: String,
    /// `approve`, `require_approval`, `require_two_approvals` or `forbid`.
    pub then: String,
    /// Approvals it needs now (none: forbidden).
    pub approvals_required: Option<u8>,
    pub reason: Option<String>,
}

impl Impact {
    /// One line for the decision dialog: "Touches 12 copies in 3 mailboxes now · rule
    /// small-clusters: two approvals".
    pub fn describe(&self) -> String {
        let copies = match self.copies {
            1 => "1 copy".to_owned(),
            n => format!("{n} copies"),
        };
        let mailboxes = match self.mailboxes {
            1 => "1 mailbox".to_owned(),
            n => format!("{n} mailboxes"),
        };
        let needs = match self.approvals_required {
            None => "forbidden".to_owned(),
            Some(0) => "approved by the policy".to_owned(),
            Some(1) => "one approval".to_owned(),
            Some(n) => format!("{n} approvals from different people"),
        };
        format!(
            "Touches {copies} in {mailboxes} now · rule {}: {needs}",
            self.policy_rule
        )
    }
}

/// One person's approval of an action.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Approval {
    pub by: String,
    pub at: DateTime<Utc>,
    pub comment: Option<String>,
}

impl Action {
    /// While an action that needs more approvals than it has waits: "Awaiting second
    /// approval — approved by alice".
    pub fn awaiting(&self) -> Option<String> {
        Approval::awaiting(self.status, &self.approvals, self.approvals_required)
    }
}

impl Approval {
    /// Who an action with these approvals, of `required`, still waits for, while it does.
    pub fn awaiting(
        status: super::ActionStatus,
        approvals: &[Approval],
        required: u8,
    ) -> Option<String> {
        let given = approvals.len();
        if status != super::ActionStatus::Pending || given == 0 || given >= usize::from(required) {
            return None;
        }
        let by: Vec<&str> = approvals.iter().map(|a| a.by.as_str()).collect();
        let which = if given == 1 { "second" } else { "another" };
        Some(format!(
            "Awaiting {which} approval — approved by {}",
            by.join(", ")
        ))
    }
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
