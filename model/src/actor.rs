//! Who made a change: the name the audit trail records beside every event.

use crate::CurrentUser;

/// Who acts. People act under their username; airdesk's own work acts as `system`, with the
/// task that did it kept for the logs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Actor {
    /// A signed-in person or their API token.
    User(String),
    /// airdesk itself.
    System(SystemTask),
    /// An operator at the command line (`airdesk user add`, `airdesk token create`).
    CommandLine,
    /// Demo data being seeded.
    Demo,
    /// The indicators file loaded at start (`--indicators-file`).
    IndicatorsFile,
    /// An automatic approval by a rule of the approval policy: `policy:<rule>`.
    Policy(String),
    /// airdesk's playbook, investigating because someone or something asked:
    /// `playbook:<who>` (a user's name, `indicators-file`). Not a person: what it proposes is
    /// automated, and the one who asked may still approve it.
    Playbook(String),
}

/// Which part of airdesk acted on its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SystemTask {
    /// Pending actions not decided in time (DESIGN.md rule 4).
    Expiry,
    /// Carrying out approved actions on mail.
    Execution,
    /// airdesk's own investigations.
    Playbook,
    /// Loading the approval policy.
    Policy,
    /// Sign-in, recording a failed attempt by someone not (yet) known.
    SignIn,
}

impl Actor {
    /// The name recorded in the audit trail and in `decided_by`.
    pub fn name(&self) -> &str {
        match self {
            Actor::User(name) => name,
            Actor::System(_) => "system",
            Actor::CommandLine => "cli",
            Actor::Demo => "demo",
            Actor::IndicatorsFile => "indicators-file",
            Actor::Policy(decided_by) => decided_by,
            Actor::Playbook(started) => started,
        }
    }

    /// What the logs say about who acted: the system's task, or the name.
    pub fn describe(&self) -> String {
        match self {
            Actor::System(task) => format!("system ({task:?})").to_lowercase(),
            other => other.name().to_string(),
        }
    }
}

impl Actor {
    /// The approval policy's rule `rule`, deciding on its own.
    pub fn policy(rule: &str) -> Actor {
        Actor::Policy(format!("policy:{rule}"))
    }

    /// The playbook, started by `who`.
    pub fn playbook_for(who: &str) -> Actor {
        Actor::Playbook(format!("playbook:{who}"))
    }

    /// The person behind it, if a person acted (they may not approve what they proposed).
    pub fn person(&self) -> Option<&str> {
        match self {
            Actor::User(name) => Some(name),
            _ => None,
        }
    }
}

impl From<&CurrentUser> for Actor {
    fn from(user: &CurrentUser) -> Self {
        Actor::User(user.username.clone())
    }
}

impl std::fmt::Display for Actor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_system_task_is_recorded_as_system() {
        for task in [
            SystemTask::Expiry,
            SystemTask::Execution,
            SystemTask::Playbook,
            SystemTask::Policy,
        ] {
            assert_eq!(Actor::System(task).name(), "system");
        }
        assert_eq!(
            Actor::System(SystemTask::Expiry).describe(),
            "system (expiry)"
        );
        assert_eq!(Actor::User("analyst".into()).name(), "analyst");
    }
}
