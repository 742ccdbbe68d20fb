//! Approval policy (DESIGN.md rule 8): how far each mailbox group is automated, and the
//! ordered rules that say whether an action is approved by itself, waits for one or two
//! people, or is forbidden.
//!
//! A policy is written in TOML (`--policy FILE`, see the README's "Approval policy") and is
//! checked whole — its TOML, every group's patterns and every rule's expression, each error
//! with its line — before it replaces the one in force ([`holder`]). Rules are CEL
//! expressions over an action's [`Facts`]; without a file, the built-in defaults hold: hard
//! delete, and any action touching more than 1,000 copies, need two approvals.

mod backtest;
mod facts;
mod file;
mod groups;
pub mod holder;
mod view;

use std::fmt;

use sha2::{Digest, Sha256};

pub use backtest::{backtest, Report, RuleTally};
pub use facts::Facts;
pub use file::PolicyError;
use groups::Group;
pub use holder::PolicyHolder;
use model::ActionType;
pub use model::{Defaults, GroupView, Level, PolicyView, RuleView, Then, Variable};

/// One rule of the file, compiled.
pub(crate) struct Rule {
    pub name: String,
    /// The expression as written, for `GET /api/v1/policy` and the Policy page.
    pub when: String,
    pub program: cel::Program,
    pub then: Then,
    pub reason: Option<String>,
    /// Whether whoever proposed or ingested a matching action is kept from approving it;
    /// unset, the policy's default for the action's source.
    pub separation_of_duties: Option<bool>,
    /// Where the rule starts in the file, for errors met when it is evaluated.
    pub line: usize,
}

/// A policy: groups, rules and defaults, and the hash of the text it came from.
pub struct Policy {
    hash: String,
    /// CEL's standard environment, built once: rules are compiled and evaluated in it.
    env: std::sync::Arc<cel::Env>,
    /// Where it came from: a file's path, or "built-in".
    origin: String,
    groups: Vec<Group>,
    rules: Vec<Rule>,
    defaults: Defaults,
}

impl fmt::Debug for Policy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Policy")
            .field("origin", &self.origin)
            .field("hash", &self.hash)
            .field("rules", &self.rules.len())
            .finish()
    }
}

/// What the policy says about one action, and why.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    pub then: Then,
    /// The rule that decided: a rule of the file, `builtin:hard_delete`,
    /// `builtin:large_action`, or `default`.
    pub rule: String,
    pub reason: Option<String>,
    /// How far the mailboxes it touches are automated (the strictest of their groups).
    pub level: Level,
    /// Whether its proposer is kept from approving it.
    pub separation_of_duties: bool,
    /// The hash of the policy that said so, for the audit trail.
    pub policy_hash: String,
}

impl Outcome {
    pub fn approvals_required(&self) -> Option<u8> {
        self.then.approvals_required()
    }

    /// The rule and its reason, for the words of a refusal: "rule big-clusters: …".
    pub fn cites(&self) -> String {
        match &self.reason {
            Some(reason) => format!("rule {}: {reason}", self.rule),
            None => format!("rule {}", self.rule),
        }
    }
}

impl Policy {
    /// The policy in force without a file: everything waits for a person, and the built-in
    /// defaults ask for two.
    pub fn builtin() -> Policy {
        Policy::parse("", "built-in").expect("the empty policy is valid")
    }

    /// Parses and checks a policy's text; `origin` names it in errors and the audit trail.
    pub fn parse(text: &str, origin: &str) -> Result<Policy, PolicyError> {
        let env = std::sync::Arc::new(cel::Env::stdlib());
        let (groups, rules, defaults) = file::parse(text, &env)?;
        let policy = Policy {
            hash: hex::encode(Sha256::digest(text.as_bytes())),
            env,
            origin: origin.to_owned(),
            groups,
            rules,
            defaults,
        };
        policy.try_every_rule()?;
        Ok(policy)
    }

    /// Evaluates every rule on an example action, so a rule naming a variable that does not
    /// exist, or giving something other than true or false, is refused when the policy is
    /// loaded rather than discovered when an action needs it.
    fn try_every_rule(&self) -> Result<(), PolicyError> {
        let context = Facts::example().context(self);
        for rule in &self.rules {
            let problem = match rule.program.execute(&context) {
                Ok(cel::Value::Bool(_)) => continue,
                Ok(other) => format!("gives {other:?}, not true or false"),
                Err(error) => error.to_string(),
            };
            return Err(PolicyError::at(
                rule.line,
                format!(
                    "rule {:?}: `when` fails on an example action: {problem}",
                    rule.name
                ),
            ));
        }
        Ok(())
    }

    /// SHA-256 of the text, so the audit trail and `GET /api/v1/policy` say which policy.
    pub fn hash(&self) -> &str {
        &self.hash
    }

    pub fn origin(&self) -> &str {
        &self.origin
    }

    pub fn defaults(&self) -> &Defaults {
        &self.defaults
    }

    /// The groups a mailbox belongs to, in file order.
    pub fn groups_of(&self, mailbox: &str) -> Vec<&str> {
        self.groups
            .iter()
            .filter(|group| group.contains(mailbox))
            .map(|group| group.name.as_str())
            .collect()
    }

    /// The level of a set of mailboxes: the strictest of theirs. A mailbox's level is that of
    /// the first group (in file order) it belongs to; in none, the default level.
    pub fn level_of<'m>(&self, mailboxes: impl IntoIterator<Item = &'m str>) -> Level {
        mailboxes
            .into_iter()
            .map(|mailbox| {
                self.groups
                    .iter()
                    .find(|group| group.contains(mailbox))
                    .map_or(self.defaults.level, |group| group.level)
            })
            .max()
            .unwrap_or(self.defaults.level)
    }

    /// What the policy says about an action with these facts: the first rule that matches
    /// (none: one approval), made stricter by the built-in floors, and never an automatic
    /// approval where a touched mailbox's group is not automated `full`. A rule whose
    /// expression fails to evaluate holds the action for at least one person: an error never
    /// approves anything.
    pub fn evaluate(&self, facts: &Facts) -> Outcome {
        let level = self.level_of(facts.mailboxes.iter().map(String::as_str));
        let context = facts.context(self);
        let mut outcome = None;
        for rule in &self.rules {
            match rule.program.execute(&context) {
                Ok(cel::Value::Bool(false)) => continue,
                Ok(cel::Value::Bool(true)) => {
                    outcome = Some((rule.then, rule, rule.reason.clone()));
                }
                Ok(other) => {
                    outcome = Some(self.failed(rule, format!("gave {other:?}, not true or false")));
                }
                Err(error) => outcome = Some(self.failed(rule, error.to_string())),
            }
            break;
        }
        let (mut then, mut rule, mut reason, separation) = match outcome {
            Some((then, rule, reason)) => {
                (then, rule.name.clone(), reason, rule.separation_of_duties)
            }
            None => (Then::RequireApproval, "default".to_owned(), None, None),
        };
        for (floor, name, why) in self.floors(facts) {
            if floor > then {
                (then, rule, reason) = (floor, name.to_owned(), Some(why));
            }
        }
        if then == Then::Approve && level != Level::Full {
            then = Then::RequireApproval;
            reason = Some(format!(
                "{rule} approves it, but a mailbox it touches is in a group automated {}",
                level.as_str()
            ));
        }
        Outcome {
            then,
            rule,
            reason,
            level,
            separation_of_duties: separation
                .unwrap_or_else(|| self.defaults.separation_of_duties.contains(&facts.source)),
            policy_hash: self.hash.clone(),
        }
    }

    fn failed<'r>(&self, rule: &'r Rule, error: String) -> (Then, &'r Rule, Option<String>) {
        tracing::warn!(rule = %rule.name, line = rule.line, %error, "a policy rule could not be evaluated; holding the action for a person");
        let then = rule.then.max(Then::RequireApproval);
        (
            then,
            rule,
            Some(format!(
                "rule {} could not be evaluated: {error}",
                rule.name
            )),
        )
    }

    /// The built-in floors no rule goes below.
    fn floors(&self, facts: &Facts) -> Vec<(Then, &'static str, String)> {
        let mut floors = Vec::new();
        let by_count = |approvals: u8| match approvals {
            0 => Then::Approve,
            1 => Then::RequireApproval,
            _ => Then::RequireTwoApprovals,
        };
        if facts.action_type == ActionType::HardDelete {
            floors.push((
                by_count(self.defaults.hard_delete_approvals),
                "builtin:hard_delete",
                "a hard delete cannot be undone".to_owned(),
            ));
        }
        if facts.copies > self.defaults.large_action_copies {
            floors.push((
                by_count(self.defaults.large_action_approvals),
                "builtin:large_action",
                format!(
                    "it touches {} copies, more than {}",
                    facts.copies, self.defaults.large_action_copies
                ),
            ));
        }
        floors
    }
}

#[cfg(test)]
mod tests;
