//! The policy file's TOML, read and checked: unknown keys, duplicate names, patterns that do
//! not parse and expressions that do not compile are each refused with their line.

use std::fmt;

use serde::Deserialize;
use toml::Spanned;

use super::groups::Group;
use super::{Defaults, Level, Rule, Then};
use model::ActionSource;

/// Why a policy was refused, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyError {
    /// 1-based line of the file, where known.
    pub line: Option<usize>,
    pub reason: String,
}

impl PolicyError {
    pub(super) fn at(line: usize, reason: String) -> Self {
        PolicyError {
            line: Some(line),
            reason,
        }
    }
}

impl fmt::Display for PolicyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "line {line}: {}", self.reason),
            None => f.write_str(&self.reason),
        }
    }
}

impl std::error::Error for PolicyError {}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    defaults: DefaultsFile,
    #[serde(default)]
    groups: Vec<GroupFile>,
    #[serde(default)]
    rules: Vec<RuleFile>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct DefaultsFile {
    level: Option<Level>,
    hard_delete_approvals: Option<u8>,
    large_action_copies: Option<i64>,
    large_action_approvals: Option<u8>,
    separation_of_duties: Option<Vec<ActionSource>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct GroupFile {
    pub name: Spanned<String>,
    pub level: Option<Level>,
    #[serde(default)]
    pub addresses: Vec<String>,
    #[serde(default)]
    pub domains: Vec<String>,
    #[serde(default)]
    pub globs: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleFile {
    name: Spanned<String>,
    when: Spanned<String>,
    then: Then,
    reason: Option<String>,
    separation_of_duties: Option<bool>,
}

/// The longest policy file read (a policy is a page of rules, not a database).
pub(super) const MAX_BYTES: usize = 1 << 20;

pub(super) fn parse(
    text: &str,
    env: &cel::Env,
) -> Result<(Vec<Group>, Vec<Rule>, Defaults), PolicyError> {
    if text.len() > MAX_BYTES {
        return Err(PolicyError {
            line: None,
            reason: format!("the file is over {MAX_BYTES} bytes"),
        });
    }
    let line_of = |offset: usize| text[..offset.min(text.len())].matches('\n').count() + 1;
    let file: File = toml::from_str(text).map_err(|error| PolicyError {
        line: error.span().map(|span| line_of(span.start)),
        reason: error.message().to_owned(),
    })?;

    let builtin = Defaults::default();
    let defaults = Defaults {
        level: file.defaults.level.unwrap_or(builtin.level),
        hard_delete_approvals: file
            .defaults
            .hard_delete_approvals
            .unwrap_or(builtin.hard_delete_approvals),
        large_action_copies: file
            .defaults
            .large_action_copies
            .unwrap_or(builtin.large_action_copies),
        large_action_approvals: file
            .defaults
            .large_action_approvals
            .unwrap_or(builtin.large_action_approvals),
        separation_of_duties: file
            .defaults
            .separation_of_duties
            .unwrap_or(builtin.separation_of_duties),
    };
    if defaults.large_action_copies < 0 {
        return Err(PolicyError {
            line: None,
            reason: "defaults.large_action_copies cannot be negative".to_owned(),
        });
    }

    let mut groups: Vec<Group> = Vec::with_capacity(file.groups.len());
    for group in file.groups {
        let line = line_of(group.name.span().start);
        let name = group.name.get_ref();
        check_name("group", name).map_err(|reason| PolicyError::at(line, reason))?;
        if groups.iter().any(|g| &g.name == name) {
            return Err(PolicyError::at(
                line,
                format!("a second group named {name:?}"),
            ));
        }
        let level = group.level.unwrap_or(defaults.level);
        groups.push(Group::new(group, level).map_err(|reason| PolicyError::at(line, reason))?);
    }

    let mut rules: Vec<Rule> = Vec::with_capacity(file.rules.len());
    for rule in file.rules {
        let line = line_of(rule.name.span().start);
        let name = rule.name.into_inner();
        check_name("rule", &name).map_err(|reason| PolicyError::at(line, reason))?;
        if rules.iter().any(|r| r.name == name) {
            return Err(PolicyError::at(
                line,
                format!("a second rule named {name:?}"),
            ));
        }
        let when_line = line_of(rule.when.span().start);
        let when = rule.when.into_inner();
        let program = env.compile(&when).map_err(|error| {
            PolicyError::at(
                when_line,
                format!("rule {name:?}: `when` does not parse: {error}"),
            )
        })?;
        rules.push(Rule {
            name,
            when,
            program,
            then: rule.then,
            reason: rule.reason,
            separation_of_duties: rule.separation_of_duties,
            line,
        });
    }
    Ok((groups, rules, defaults))
}

/// Names appear in `decided_by` (`policy:<rule>`) and the audit trail: short, plain words.
fn check_name(kind: &str, name: &str) -> Result<(), String> {
    let plain = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.');
    if name.is_empty() || name.len() > 64 || !name.chars().all(plain) {
        return Err(format!(
            "{kind} name {name:?}: use 1 to 64 letters, digits, '-', '_' or '.'"
        ));
    }
    Ok(())
}
