//! The policy as `GET /api/v1/policy` and the Policy page show it: its hash, groups, rules,
//! defaults, and the variables rules can read.

use super::{facts, Group, Policy, PolicyView, RuleView, Variable};

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
