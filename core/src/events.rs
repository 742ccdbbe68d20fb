//! Events other systems hear of: an action pending, approved, rejected, duplicate, expired,
//! completed or failed; an investigation started, waiting for approval or ended; the policy
//! reloaded. Each is derived from the audit event that records the change and written to the
//! outbox by the same transaction ([`append`], called where the audit trail is appended), so
//! an event is announced exactly when its change commits. Consumers read the outbox in `seq`
//! order from a cursor of their own: webhook endpoints ([`webhooks`]) and the reporters'
//! notifier ([`notify`]).

mod cursor;
pub mod notify;
pub mod webhooks;

use chrono::{DateTime, Utc};
use serde_json::{json, Value};

use crate::audit::Pending;
use crate::db::{query, StorageError, Tx};
use crate::new_id;
use model::{ActionStatus, InvestigationStatus};

/// Every event type, as endpoints name them in their filters (CloudEvents `type` adds the
/// `airdesk.` prefix).
pub const TYPES: &[&str] = &[
    "investigation.started",
    "investigation.pending_action",
    "investigation.ended",
    "investigation.report_joined",
    "action.pending",
    "action.approved",
    "action.rejected",
    "action.duplicate",
    "action.expired",
    "action.completed",
    "action.partially_completed",
    "action.failed",
    "policy.reloaded",
];

/// The prefix of every CloudEvents `type` airdesk sends.
pub const TYPE_PREFIX: &str = "airdesk.";

/// An event on its way to the outbox.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Outgoing {
    pub event_type: &'static str,
    pub subject_kind: &'static str,
    pub subject: String,
    pub actor: String,
    pub data: Value,
}

/// The public events an audit event stands for: none for most (sign-ins, tokens, an
/// approval that still waits for a second person), one for a decision or an action's end,
/// two for an investigation that ended as soon as it started (No threats found).
pub(crate) fn from_audit(event: &Pending) -> Vec<Outgoing> {
    let after: Value = event
        .after
        .as_deref()
        .and_then(|text| serde_json::from_str(text).ok())
        .unwrap_or(Value::Null);
    let before: Value = event
        .before
        .as_deref()
        .and_then(|text| serde_json::from_str(text).ok())
        .unwrap_or(Value::Null);
    let status = after.get("status").and_then(Value::as_str);
    let outgoing = |event_type: &'static str, subject_kind: &'static str| Outgoing {
        event_type,
        subject_kind,
        subject: event.entity_id.clone(),
        actor: event.actor.clone(),
        data: json!({"before": before, "after": after}),
    };
    match (event.entity_kind.as_str(), event.event.as_str()) {
        ("action", name) if name.starts_with("action_") => status
            .and_then(ActionStatus::parse)
            .and_then(action_type)
            .map(|t| vec![outgoing(t, "action")])
            .unwrap_or_default(),
        ("investigation", "investigation_created") => {
            let mut events = vec![outgoing("investigation.started", "investigation")];
            events.extend(
                status
                    .and_then(InvestigationStatus::parse)
                    .and_then(investigation_type)
                    .map(|t| outgoing(t, "investigation")),
            );
            events
        }
        ("investigation", "investigation_status_changed") => status
            .and_then(InvestigationStatus::parse)
            .and_then(investigation_type)
            .map(|t| vec![outgoing(t, "investigation")])
            .unwrap_or_default(),
        // A report that joined an investigation already under way (or over): its reporter
        // is one more to tell what came of it.
        ("report", "message_reported") => after
            .get("joined_investigation")
            .and_then(Value::as_str)
            .map(|investigation| {
                vec![Outgoing {
                    subject: investigation.to_string(),
                    ..outgoing("investigation.report_joined", "investigation")
                }]
            })
            .unwrap_or_default(),
        (_, "policy_reloaded") => vec![outgoing("policy.reloaded", "policy")],
        _ => Vec::new(),
    }
}

/// The event an action's new status announces (In progress announces none: it is execution
/// starting, not news).
fn action_type(status: ActionStatus) -> Option<&'static str> {
    use ActionStatus::*;
    Some(match status {
        Pending => "action.pending",
        Approved => "action.approved",
        Rejected => "action.rejected",
        Duplicate => "action.duplicate",
        Expired => "action.expired",
        Completed => "action.completed",
        PartiallyCompleted => "action.partially_completed",
        Failed => "action.failed",
        InProgress => return None,
    })
}

/// The event an investigation's new status announces.
fn investigation_type(status: InvestigationStatus) -> Option<&'static str> {
    use InvestigationStatus::*;
    match status {
        PendingAction => Some("investigation.pending_action"),
        Remediated | PartiallyRemediated | NoThreatsFound | Failed | TerminatedByUser
        | TerminatedBySystem => Some("investigation.ended"),
        Starting | Running => None,
    }
}

/// Whether an investigation in `status` is over (its end was announced).
pub(crate) fn has_ended(status: InvestigationStatus) -> bool {
    investigation_type(status) == Some("investigation.ended")
}

/// Rows per INSERT into the outbox (eight values each).
const EVENTS_PER_INSERT: usize = 500;

/// Writes the public events a committing transaction's audit events stand for. Called while
/// the audit head is held ([`crate::audit::append`]), so rows take their `seq` in commit
/// order.
pub(crate) async fn append(
    tx: &mut Tx<'_>,
    audited: &[Pending],
    at: DateTime<Utc>,
) -> Result<(), StorageError> {
    let outgoing: Vec<Outgoing> = audited.iter().flat_map(from_audit).collect();
    for chunk in outgoing.chunks(EVENTS_PER_INSERT) {
        let mut insert =
            query("INSERT INTO outbox (id, at, type, subject_kind, subject, actor, data) VALUES ");
        for (i, event) in chunk.iter().enumerate() {
            insert.push(if i == 0 { "(" } else { ", (" });
            insert.push_bind(new_id()).push(", ");
            insert.push_bind(at).push(", ");
            insert.push_bind(event.event_type).push(", ");
            insert.push_bind(event.subject_kind).push(", ");
            insert.push_bind(event.subject.as_str()).push(", ");
            insert.push_bind(event.actor.as_str()).push(", ");
            insert.push_bind(event.data.to_string()).push(")");
        }
        insert.execute(&mut *tx).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn audited(kind: &str, event: &str, after: Value) -> Pending {
        Pending {
            actor: "alice".into(),
            entity_kind: kind.into(),
            entity_id: "a1".into(),
            event: event.into(),
            before: None,
            after: Some(after.to_string()),
        }
    }

    fn types(event: &Pending) -> Vec<&'static str> {
        from_audit(event).iter().map(|e| e.event_type).collect()
    }

    #[test]
    fn each_decision_announces_its_outcome() {
        for (event, status, announced) in [
            ("action_proposed", "pending", "action.pending"),
            ("action_approved", "approved", "action.approved"),
            ("action_rejected", "rejected", "action.rejected"),
            ("action_deduplicated", "duplicate", "action.duplicate"),
            ("action_expired", "expired", "action.expired"),
            ("action_completed", "completed", "action.completed"),
            (
                "action_completed",
                "partially_completed",
                "action.partially_completed",
            ),
            ("action_failed", "failed", "action.failed"),
            ("action_changed", "approved", "action.approved"),
        ] {
            let e = audited("action", event, json!({"status": status}));
            assert_eq!(types(&e), vec![announced], "{event} -> {status}");
        }
    }

    #[test]
    fn execution_starting_and_a_first_of_two_approvals_are_not_announced() {
        assert!(types(&audited(
            "action",
            "action_started",
            json!({"status": "in_progress"})
        ))
        .is_empty());
        assert!(types(&audited(
            "action",
            "action_approval_counted",
            json!({"approvals": 1})
        ))
        .is_empty());
        assert!(types(&audited("user", "signed_in", json!({"status": "approved"}))).is_empty());
    }

    #[test]
    fn an_investigation_that_ends_as_it_starts_announces_both() {
        let e = audited(
            "investigation",
            "investigation_created",
            json!({"status": "no_threats_found"}),
        );
        assert_eq!(
            types(&e),
            vec!["investigation.started", "investigation.ended"]
        );
        let e = audited(
            "investigation",
            "investigation_created",
            json!({"status": "pending_action"}),
        );
        assert_eq!(
            types(&e),
            vec!["investigation.started", "investigation.pending_action"]
        );
    }

    #[test]
    fn an_investigation_ends_in_every_final_status_and_only_then() {
        for status in InvestigationStatus::ALL {
            let e = audited(
                "investigation",
                "investigation_status_changed",
                json!({"status": status}),
            );
            let expected: Vec<&str> = match status {
                InvestigationStatus::PendingAction => vec!["investigation.pending_action"],
                InvestigationStatus::Starting | InvestigationStatus::Running => vec![],
                _ => vec!["investigation.ended"],
            };
            assert_eq!(types(&e), expected, "{status}");
        }
    }

    #[test]
    fn a_report_is_announced_only_when_it_joins_an_investigation() {
        let joined = audited(
            "report",
            "message_reported",
            json!({"reported_by": "bob@example.test", "joined_investigation": "i1"}),
        );
        let events = from_audit(&joined);
        assert_eq!(events.len(), 1);
        assert_eq!(events[0].event_type, "investigation.report_joined");
        assert_eq!(
            (events[0].subject_kind, events[0].subject.as_str()),
            ("investigation", "i1")
        );
        let started = audited(
            "report",
            "message_reported",
            json!({"reported_by": "bob@example.test", "joined_investigation": null}),
        );
        assert!(types(&started).is_empty());
    }

    #[test]
    fn every_announced_type_is_listed() {
        for status in ActionStatus::ALL {
            if let Some(t) = action_type(*status) {
                assert!(TYPES.contains(&t), "{t}");
            }
        }
        for status in InvestigationStatus::ALL {
            if let Some(t) = investigation_type(*status) {
                assert!(TYPES.contains(&t), "{t}");
            }
        }
    }
}
