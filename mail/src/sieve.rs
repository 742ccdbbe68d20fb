//! Forwarding kept as Sieve scripts (RFC 5228), the way Dovecot and most IMAP servers keep it.
//! [`lex`] and [`script`] read the language; [`scripts`] follows a mailbox's active script
//! through every script it `include`s (personal and global, depth-limited, cycles refused) and
//! says what forwards outside — a redirect to anything not provably internal, a notification,
//! a program — or cannot be read. [`SieveForwarding`] turns all of it off by activating copies
//! with those commands replaced by comments (and includes pointed at disabled copies), keeping
//! every original, untouched, for undo. A backend only says how to reach a mailbox's scripts
//! ([`SieveScripts`]): files beside a Maildir, or ManageSieve.

pub mod lex;
pub mod script;
pub mod scripts;

use model::InternalDomains;

use crate::forwarding::{ForwardFinding, Forwarding, ForwardingError, TurnOff};
use crate::StoreError;
use scripts::Tree;

/// The name of the script airdesk writes and activates.
pub const SCRIPT: &str = "airdesk-no-forwarding";

/// A Sieve script as stored for a mailbox.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SieveScript {
    pub name: String,
    pub text: String,
}

/// Where a backend keeps a mailbox's Sieve scripts.
#[async_trait::async_trait]
pub trait SieveScripts: Send + Sync + std::fmt::Debug {
    /// The mailbox's active script, if it has one.
    async fn active_script(&self, mailbox: &str) -> Result<Option<SieveScript>, StoreError>;

    /// The text of a script by name, if it exists.
    async fn read_script(&self, mailbox: &str, name: &str) -> Result<Option<String>, StoreError>;

    /// A global script (`include :global`), if this backend can read them; `None` otherwise.
    async fn read_global(&self, _name: &str) -> Result<Option<String>, StoreError> {
        Ok(None)
    }

    /// Stores a script (replacing one of that name) without activating it.
    async fn put_script(&self, mailbox: &str, script: &SieveScript) -> Result<(), StoreError>;

    /// Makes the named script the active one.
    async fn activate_script(&self, mailbox: &str, name: &str) -> Result<(), StoreError>;
}

/// [`Forwarding`] for any store that keeps Sieve scripts.
#[derive(Debug, Clone)]
pub struct SieveForwarding<S>(pub S);

#[async_trait::async_trait]
impl<S: SieveScripts> Forwarding for SieveForwarding<S> {
    #[tracing::instrument(level = "debug", skip(self, internal))]
    async fn external_forwards(
        &self,
        mailbox: &str,
        internal: &InternalDomains,
    ) -> Result<Vec<ForwardFinding>, ForwardingError> {
        Ok(match Tree::load(&self.0, mailbox).await? {
            Some(tree) => tree.findings(internal),
            None => Vec::new(),
        })
    }

    #[tracing::instrument(level = "debug", skip(self, internal))]
    async fn turn_off(
        &self,
        mailbox: &str,
        internal: &InternalDomains,
    ) -> Result<TurnOff, ForwardingError> {
        let Some(tree) = Tree::load(&self.0, mailbox).await? else {
            return Ok(TurnOff::NothingToDo);
        };
        let findings = tree.findings(internal);
        if findings.is_empty() {
            return Ok(TurnOff::NothingToDo);
        }
        let copies = tree.disabled_copies(internal);
        // Included copies first, the main one last: what it includes exists when it runs.
        for copy in copies.iter().rev() {
            self.0.put_script(mailbox, copy).await?;
        }
        self.0.activate_script(mailbox, SCRIPT).await?;
        let what: Vec<String> = findings.iter().map(ForwardFinding::describe).collect();
        Ok(TurnOff::Done {
            detail: format!(
                "turned off {}; the original Sieve script \"{}\" is kept for undo",
                what.join(", "),
                tree.active()
            ),
            undo: tree.active().to_string(),
            addresses: findings.into_iter().map(|f| f.target).collect(),
        })
    }

    #[tracing::instrument(level = "debug", skip(self))]
    async fn restore(&self, mailbox: &str, original: &str) -> Result<String, StoreError> {
        if self.0.read_script(mailbox, original).await?.is_none() {
            return Err(StoreError::Refused(format!(
                "the original Sieve script {original:?} is gone"
            )));
        }
        self.0.activate_script(mailbox, original).await?;
        Ok(format!("the Sieve script \"{original}\" is active again"))
    }
}
