//! What a rule's `when` can read about an action: the names below are the whole vocabulary,
//! and a rule naming anything else is refused when the policy is loaded.

use cel::Value;

use super::Policy;
use model::{ActionSource, ActionType, InvestigationType, Severity, Verdict};

/// Every variable a rule may use, with what it holds (the README lists the same).
pub(super) const VARIABLES: &[(&str, &str)] = &[
    (
        "action_type",
        "what the action does: soft_delete_email_cluster, hard_delete, …",
    ),
    ("target", "cluster, mailbox or message"),
    ("source", "automated, manual or api"),
    (
        "verdict",
        "the investigation's verdict: malicious, suspicious, clean (or \"\")",
    ),
    (
        "severity",
        "the incident's severity: informational, low, medium, high",
    ),
    ("investigation_type", "user_reported, manual, zapped_url, …"),
    (
        "cluster_size",
        "messages in the cluster when the investigation ran (0 for no cluster)",
    ),
    (
        "copies",
        "copies the action would touch now, counted when the rule is evaluated",
    ),
    (
        "mailboxes",
        "mailboxes the action would touch now (their number)",
    ),
    ("groups", "the groups of those mailboxes (a list of names)"),
    (
        "proposer",
        "who proposed or ingested it: a user name, or \"\" for airdesk itself",
    ),
];

/// An action and its context, as the rules see it.
#[derive(Debug, Clone, PartialEq)]
pub struct Facts {
    pub action_type: ActionType,
    /// `cluster`, `mailbox` or `message`.
    pub target: String,
    pub source: ActionSource,
    pub verdict: Option<Verdict>,
    pub severity: Severity,
    pub investigation_type: InvestigationType,
    pub cluster_size: i64,
    /// Copies it would touch now.
    pub copies: i64,
    /// The mailboxes it would touch now.
    pub mailboxes: Vec<String>,
    pub proposer: Option<String>,
}

impl Facts {
    /// An action every well-formed rule can be evaluated on.
    pub(super) fn example() -> Facts {
        Facts {
            action_type: ActionType::SoftDeleteCluster,
            target: "cluster".to_owned(),
            source: ActionSource::Api,
            verdict: Some(Verdict::Malicious),
            severity: Severity::High,
            investigation_type: InvestigationType::UserReported,
            cluster_size: 3,
            copies: 3,
            mailboxes: vec!["someone@example.test".to_owned()],
            proposer: Some("someone".to_owned()),
        }
    }

    pub(super) fn context(&self, policy: &Policy) -> cel::Context<'static, 'static> {
        let mut groups: Vec<&str> = Vec::new();
        for mailbox in &self.mailboxes {
            for group in policy.groups_of(mailbox) {
                if !groups.contains(&group) {
                    groups.push(group);
                }
            }
        }
        let mut context = cel::Context::with_env(policy.env.clone());
        let mut add = |name: &str, value: Value| context.add_variable_from_value(name, value);
        add("action_type", self.action_type.as_str().into());
        add("target", self.target.as_str().into());
        add("source", self.source.as_str().into());
        add("verdict", self.verdict.map_or("", Verdict::as_str).into());
        add("severity", self.severity.as_str().into());
        add(
            "investigation_type",
            self.investigation_type.as_str().into(),
        );
        add("cluster_size", Value::Int(self.cluster_size));
        add("copies", Value::Int(self.copies));
        add("mailboxes", Value::Int(self.mailboxes.len() as i64));
        let groups = groups.into_iter().map(Value::from).collect();
        add("groups", Value::List(std::sync::Arc::new(groups)));
        add("proposer", self.proposer.as_deref().unwrap_or("").into());
        context
    }
}
