//! A mailbox's forwarding rules: which outside addresses it forwards to, turning that off, and
//! undoing it. How a store keeps the rules (Sieve scripts, a JMAP or Graph setting) is the
//! backend's business; undo gets back whatever `turn_off` handed out.

use model::InternalDomains;

use crate::StoreError;

/// What turning forwarding off did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TurnOff {
    /// The mailbox had no active rules, or none forwarding outside.
    NothingToDo,
    /// Forwarding to `addresses` is off. `undo` is what [`Forwarding::restore`] needs to put
    /// the rules back as they were; `detail` says in words what was turned off and kept.
    Done {
        undo: String,
        addresses: Vec<String>,
        detail: String,
    },
}

/// One way a mailbox's rules send mail (or word of it) outside, or rules that cannot be read
/// and so cannot be trusted not to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForwardFinding {
    /// Where it goes as the rule writes it: an address, a variable, a program; or what could
    /// not be read.
    pub target: String,
    /// How: `redirect`, `notify`, `pipe`, `execute`, `include` (an included script that cannot
    /// be read) or `unreadable`.
    pub how: String,
    /// Where the rule is (`the Sieve script "rules"`), and why it counts.
    pub detail: String,
}

impl ForwardFinding {
    /// "bob@elsewhere.test (redirect in the Sieve script "rules")".
    pub fn describe(&self) -> String {
        format!("{} ({} {})", self.target, self.how, self.detail)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ForwardingError {
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The rules cannot be read safely; nothing was changed.
    #[error("{0}")]
    Unreadable(String),
}

/// Reading and turning off a mailbox's forwarding.
#[async_trait::async_trait]
pub trait Forwarding: Send + Sync + std::fmt::Debug {
    /// Every way the mailbox's active rules send mail outside `internal`, or cannot be read.
    async fn external_forwards(
        &self,
        mailbox: &str,
        internal: &InternalDomains,
    ) -> Result<Vec<ForwardFinding>, ForwardingError>;

    /// Turns off every forward to an address outside `internal`, keeping every other rule.
    /// Running it again finds nothing left to do.
    async fn turn_off(
        &self,
        mailbox: &str,
        internal: &InternalDomains,
    ) -> Result<TurnOff, ForwardingError>;

    /// Undo: the rules as they were before the `turn_off` that handed out `undo`. Answers what
    /// was done, in words.
    async fn restore(&self, mailbox: &str, undo: &str) -> Result<String, StoreError>;
}
