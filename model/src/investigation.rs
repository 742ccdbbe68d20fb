//! Investigations and the evidence they collected.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{
    Action, ClusterBy, InvestigationStatus, InvestigationType, MessageLocation, Severity, Verdict,
};

/// One row of the investigations queue.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Investigation {
    pub id: String,
    pub incident_id: String,
    pub title: String,
    pub investigation_type: InvestigationType,
    pub status: InvestigationStatus,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// What started it.
    pub alert: AlertView,
    pub clusters: Vec<ClusterView>,
    pub forwarding: Vec<ForwardingView>,
    /// The users who reported a copy this investigation covers, first report first (at most
    /// [`Investigation::REPORTS_SHOWN`]; `reporter_count` says how many there are in all).
    #[serde(default)]
    pub reports: Vec<ReportView>,
    #[serde(default)]
    pub reporter_count: i64,
    pub actions: Vec<Action>,
    pub log: Vec<LogEntry>,
}

impl Investigation {
    /// Reports an investigation lists.
    pub const REPORTS_SHOWN: i64 = 100;
}

/// A user's report that started or joined an investigation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReportView {
    /// Who reported: a mailbox (by the report mailbox) or a portal user's name.
    pub reported_by: String,
    /// The mailbox whose copy was reported.
    pub mailbox: String,
    pub reported_at: DateTime<Utc>,
}

/// An alert: a user report, a detection, a manual request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AlertView {
    pub id: String,
    pub title: String,
    pub severity: Severity,
    pub created_at: DateTime<Utc>,
    /// The investigation it started.
    pub investigation_id: String,
}

/// An email cluster as the investigation saw it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ClusterView {
    pub id: String,
    pub cluster_by: ClusterBy,
    pub cluster_value: String,
    pub verdict: Verdict,
    /// Frozen when the investigation ran.
    pub email_count: i64,
    /// The first messages (at most [`ClusterView::MESSAGES_SHOWN`]); `email_count` says how
    /// many there are in all.
    pub messages: Vec<ClusterMessage>,
}

impl ClusterView {
    /// The most messages a cluster lists when read (a cluster may hold a million copies).
    pub const MESSAGES_SHOWN: i64 = 1_000;
}

/// One delivered copy in one mailbox.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ForwardingView {
    pub mailbox: String,
    pub forward_to: String,
    pub verdict: Verdict,
    /// How it was found, when that matters: "in the included script \"fwd\"", "the script
    /// cannot be read: …".
    #[serde(default)]
    pub detail: Option<String>,
}

/// One step of the investigation's log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LogEntry {
    pub at: DateTime<Utc>,
    pub step: String,
    pub detail: String,
}

/// What `POST /api/v1/investigations` answers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct InvestigationCreated {
    pub id: String,
    pub incident_id: String,
    pub status: InvestigationStatus,
    pub actions: Vec<Action>,
}

/// One point of an investigation's status timeline.
#[derive(Debug, Clone, PartialEq)]
pub struct Milestone {
    pub at: DateTime<Utc>,
    pub what: String,
}

impl Investigation {
    /// The actions the investigation itself proposed (not later changes or undos).
    fn proposed(&self) -> impl Iterator<Item = &Action> {
        self.actions.iter().filter(|a| a.changed_from.is_none())
    }

    /// How long the investigation waited for people: from its first proposed action to the
    /// last decision on one; `None` as the end while any is still pending.
    pub fn approval_wait(&self) -> Option<(DateTime<Utc>, Option<DateTime<Utc>>)> {
        let start = self.proposed().map(|a| a.created_at).min()?;
        if self
            .proposed()
            .any(|a| a.status == super::ActionStatus::Pending)
        {
            return Some((start, None));
        }
        let end = self.proposed().filter_map(|a| a.decided_at).max();
        Some((start, end.or(Some(start))))
    }

    /// Started, actions proposed, each decision, and where it ended, oldest first.
    pub fn timeline(&self) -> Vec<Milestone> {
        use super::ActionStatus as S;
        let mut points = vec![Milestone {
            at: self.created_at,
            what: format!("Investigation started: {}", self.alert.title),
        }];
        if let Some((start, _)) = self.approval_wait() {
            points.push(Milestone {
                at: start,
                what: format!(
                    "{} action(s) proposed: Pending action",
                    self.proposed().count()
                ),
            });
        }
        for action in self.proposed() {
            let Some(at) = action.decided_at else {
                continue;
            };
            let who = action.decided_by.as_deref().unwrap_or("system");
            let what = match action.status {
                S::Rejected => format!("Rejected by {who}"),
                S::Expired => "Expired without a decision".to_string(),
                _ => format!("Approved by {who}"),
            };
            points.push(Milestone {
                at,
                what: format!("{what}: {}", action.action_type.label()),
            });
        }
        use super::InvestigationStatus as I;
        if !matches!(self.status, I::Starting | I::Running | I::PendingAction) {
            points.push(Milestone {
                at: self.updated_at,
                what: self.status.label().to_string(),
            });
        }
        points.sort_by_key(|p| p.at);
        points
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{ActionSource, ActionStatus, ActionTarget, ActionType};

    fn at(minute: u32) -> DateTime<Utc> {
        format!("2026-11-20T09:{minute:02}:00Z").parse().unwrap()
    }

    fn action(created: u32, status: ActionStatus, decided: Option<u32>) -> Action {
        Action {
            id: format!("a{created}"),
            action_type: ActionType::SoftDeleteCluster,
            status,
            investigation_id: "i".into(),
            incident_id: "n".into(),
            investigation_title: "t".into(),
            incident_title: "t".into(),
            target: ActionTarget {
                kind: "cluster".into(),
                cluster_id: None,
                cluster_by: None,
                cluster_value: None,
                email_count: None,
                mailbox: None,
                internet_message_id: None,
                forward_to: None,
            },
            source: ActionSource::Automated,
            created_at: at(created),
            decided_by: decided.map(|_| "analyst".into()),
            decided_at: decided.map(at),
            comment: None,
            duplicate_of: None,
            changed_from: None,
            details: None,
            results: Vec::new(),
            approvals_required: 1,
            approvals: Vec::new(),
            policy_rule: None,
            proposed_by: None,
            impact: None,
        }
    }

    fn investigation(status: InvestigationStatus, actions: Vec<Action>) -> Investigation {
        Investigation {
            id: "i".into(),
            incident_id: "n".into(),
            title: "t".into(),
            investigation_type: InvestigationType::UserReported,
            status,
            created_at: at(0),
            updated_at: at(30),
            alert: AlertView {
                id: "al".into(),
                title: "Email reported by user as phish".into(),
                severity: Severity::High,
                created_at: at(0),
                investigation_id: "i".into(),
            },
            clusters: Vec::new(),
            forwarding: Vec::new(),
            reports: Vec::new(),
            reporter_count: 0,
            actions,
            log: Vec::new(),
        }
    }

    #[test]
    fn the_wait_runs_from_the_first_proposal_to_the_last_decision() {
        let waiting = investigation(
            InvestigationStatus::PendingAction,
            vec![
                action(2, ActionStatus::Completed, Some(10)),
                action(1, ActionStatus::Pending, None),
            ],
        );
        assert_eq!(waiting.approval_wait(), Some((at(1), None)));

        let mut done = waiting.clone();
        done.actions[1] = action(1, ActionStatus::Rejected, Some(20));
        assert_eq!(done.approval_wait(), Some((at(1), Some(at(20)))));

        // A later change is not part of the investigation's wait.
        let mut changed = action(25, ActionStatus::Completed, Some(25));
        changed.changed_from = Some("a2".into());
        done.actions.push(changed);
        assert_eq!(done.approval_wait(), Some((at(1), Some(at(20)))));

        assert_eq!(
            investigation(InvestigationStatus::NoThreatsFound, Vec::new()).approval_wait(),
            None
        );
    }

    #[test]
    fn the_timeline_tells_the_story_in_order() {
        let done = investigation(
            InvestigationStatus::Remediated,
            vec![
                action(1, ActionStatus::Completed, Some(12)),
                action(1, ActionStatus::Rejected, Some(5)),
            ],
        );
        let story: Vec<String> = done.timeline().into_iter().map(|m| m.what).collect();
        assert_eq!(
            story,
            [
                "Investigation started: Email reported by user as phish",
                "2 action(s) proposed: Pending action",
                "Rejected by analyst: Soft delete email cluster",
                "Approved by analyst: Soft delete email cluster",
                "Remediated",
            ]
        );
        let running = investigation(InvestigationStatus::PendingAction, Vec::new());
        assert_eq!(running.timeline().len(), 1);
    }
}
