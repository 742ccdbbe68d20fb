//! Forwarding kept as Sieve scripts (RFC 5228), the way Dovecot and most IMAP servers keep it:
//! [`script`] reads the language; [`SieveForwarding`] turns a mailbox's external forwarding
//! off by activating a copy of its active script with every outside `redirect` replaced by a
//! comment, and keeps the original, untouched, for undo. A backend only says how to reach a
//! mailbox's scripts ([`SieveScripts`]): files beside a Maildir, or ManageSieve.

pub mod script;

use model::InternalDomains;

use crate::forwarding::{Forwarding, ForwardingError, TurnOff};
use crate::StoreError;

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
    ) -> Result<Vec<String>, ForwardingError> {
        let Some(active) = self.0.active_script(mailbox).await? else {
            return Ok(Vec::new());
        };
        script::external_forwards(&active.text, internal).map_err(unreadable)
    }

    #[tracing::instrument(level = "debug", skip(self, internal))]
    async fn turn_off(
        &self,
        mailbox: &str,
        internal: &InternalDomains,
    ) -> Result<TurnOff, ForwardingError> {
        let Some(active) = self.0.active_script(mailbox).await? else {
            return Ok(TurnOff::NothingToDo);
        };
        let Some((text, addresses)) =
            script::turn_off_external_forwarding(&active.text, internal).map_err(unreadable)?
        else {
            return Ok(TurnOff::NothingToDo);
        };
        let header = format!(
            "# airdesk: a copy of the script \"{}\" with external forwarding turned off.\n\
             # The original is kept beside it; undo makes it active again.\n",
            active.name.replace(['\r', '\n'], " ")
        );
        let copy = SieveScript {
            name: SCRIPT.into(),
            text: format!("{header}{text}"),
        };
        self.0.put_script(mailbox, &copy).await?;
        self.0.activate_script(mailbox, SCRIPT).await?;
        Ok(TurnOff::Done {
            kept: format!("the original Sieve script \"{}\"", active.name),
            undo: active.name,
            addresses,
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

fn unreadable(error: script::SieveError) -> ForwardingError {
    ForwardingError::Unreadable(format!("the Sieve script was left as it was: {error}"))
}
