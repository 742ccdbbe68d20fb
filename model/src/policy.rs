//! The approval policy as the API and the portal's Policy page show it: the vocabulary of
//! levels and outcomes, the defaults, and the view of groups and rules. The policy itself —
//! parsing, CEL, evaluation — lives in the core, on the server only.

use serde::{Deserialize, Serialize};

use super::enums::word_enum;
use super::ActionSource;

word_enum!(
    /// How far a mailbox group's actions are automated: `full` (actions a rule approves run
    /// without waiting), `semi` (every action waits for approval; the default), `none`
    /// (investigations run and report, but propose no actions). Ordered from least to most
    /// restrictive: an action touching mailboxes of several groups gets the strictest.
    Level {
        Full = "full" / "Full automation",
        Semi = "semi" / "Semi automation",
        None = "none" / "No automated response",
    }
);

word_enum!(
    /// What a rule does with the actions it matches, from least to most strict: `approve`
    /// (approved at once, recorded as decided by `policy:<rule>`, only where every mailbox it
    /// touches is automated `full`), `require_approval` (one person), `require_two_approvals`
    /// (two different people, four eyes), `forbid` (nobody may approve it).
    Then {
        Approve = "approve" / "Approve automatically",
        RequireApproval = "require_approval" / "One approval",
        RequireTwoApprovals = "require_two_approvals" / "Two approvals (four eyes)",
        Forbid = "forbid" / "Forbidden",
    }
);

impl Then {
    /// How many different people must approve; none may for a forbidden action.
    pub fn approvals_required(self) -> Option<u8> {
        match self {
            Then::Approve => Some(0),
            Then::RequireApproval => Some(1),
            Then::RequireTwoApprovals => Some(2),
            Then::Forbid => None,
        }
    }
}

/// The settings that hold where no rule says otherwise.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Defaults {
    /// The level of a mailbox in no group.
    pub level: Level,
    /// Approvals a hard delete needs at least.
    pub hard_delete_approvals: u8,
    /// Above this many copies (counted now) an action needs `large_action_approvals`.
    pub large_action_copies: i64,
    pub large_action_approvals: u8,
    /// Sources whose proposer may not approve (`api`, `manual`, `automated`).
    pub separation_of_duties: Vec<ActionSource>,
}

impl Default for Defaults {
    fn default() -> Self {
        Defaults {
            level: Level::Semi,
            hard_delete_approvals: 2,
            large_action_copies: 1_000,
            large_action_approvals: 2,
            separation_of_duties: vec![ActionSource::Api],
        }
    }
}

/// A policy as `GET /api/v1/policy` returns it and the Policy page shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PolicyView {
    /// SHA-256 of the policy's text, as audit events name it.
    pub hash: String,
    /// Where it came from: the file's path, or `built-in defaults`.
    pub origin: String,
    pub groups: Vec<GroupView>,
    pub rules: Vec<RuleView>,
    pub defaults: Defaults,
    /// What a rule's `when` can read.
    pub variables: Vec<Variable>,
}

/// A mailbox group: its level and who is in it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct GroupView {
    pub name: String,
    pub level: Level,
    pub addresses: Vec<String>,
    pub domains: Vec<String>,
    pub globs: Vec<String>,
}

/// One rule, in the order rules are evaluated.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RuleView {
    pub name: String,
    /// The CEL expression as written.
    pub when: String,
    pub then: Then,
    pub reason: Option<String>,
    /// Whether the proposer is kept from approving; unset, the default for the source.
    pub separation_of_duties: Option<bool>,
}

/// A variable rules can read, and what it holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Variable {
    pub name: String,
    pub meaning: String,
}
