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
    /// the rules back as they were; `kept` says in words what was kept for that.
    Done {
        undo: String,
        addresses: Vec<String>,
        kept: String,
    },
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
    /// The addresses outside the organisation the mailbox's active rules forward to.
    async fn external_forwards(
        &self,
        mailbox: &str,
        internal: &InternalDomains,
    ) -> Result<Vec<String>, ForwardingError>;

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
