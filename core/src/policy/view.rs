//! The policy as `GET /api/v1/policy` and the Policy page show it: its hash, groups, rules,
//! defaults, and the variables rules can read.

use super::{facts, Defaults, Group, GroupView, Policy, Then};

impl Policy {
    /// The rules as the API and the Policy page show them.
    pub fn describe(&self) -> PolicyView {
        PolicyView {
            hash: self.hash.clone(),
            origin: self.origin.clone(),
            groups: self.groups.iter().map(Group::describe).collect(),
            rules: self
                .rules
                .iter()
                .map(|rule| RuleView {
                    name: rule.name.clone(),
                    when: rule.when.clone(),
                    then: rule.then,
                    reason: rule.reason.clone(),
                    separation_of_duties: rule.separation_of_duties,
                })
                .collect(),
            defaults: self.defaults.clone(),
            variables: facts::VARIABLES
                .iter()
                .map(|(name, meaning)| Variable {
                    name: (*name).to_owned(),
                    meaning: (*meaning).to_owned(),
                })
                .collect(),
        }
    }
}

/// A policy as `GET /api/v1/policy` returns it.
#[derive(Debug, Clone, PartialEq, serde::Serialize, utoipa::ToSchema)]
pub struct PolicyView {
    pub hash: String,
    pub origin: String,
    pub groups: Vec<GroupView>,
    pub rules: Vec<RuleView>,
    pub defaults: Defaults,
    /// What a rule's `when` can read.
    pub variables: Vec<Variable>,
}

/// A variable rules can read, and what it holds.
#[derive(Debug, Clone, PartialEq, serde::Serialize, utoipa::ToSchema)]
pub struct Variable {
    pub name: String,
    pub meaning: String,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, utoipa::ToSchema)]
pub struct RuleView {
    pub name: String,
    pub when: String,
    pub then: Then,
    pub reason: Option<String>,
    pub separation_of_duties: Option<bool>,
}
