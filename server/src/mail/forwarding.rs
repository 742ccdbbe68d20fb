//! Turning a mailbox's external forwarding off, and back on: the active Sieve script is copied
//! with every `redirect` to an outside address replaced by a comment, the copy becomes the
//! active script, and the original stays on the store, untouched, for undo.

use super::sieve::{self, SieveError};
use super::{MailStore, SieveScript, StoreError};

/// The name of the script airdesk writes and activates.
pub const SCRIPT: &str = "airdesk-no-forwarding";

/// What turning forwarding off did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TurnOff {
    /// The mailbox had no active script, or none forwarding outside.
    NothingToDo,
    /// `script` is active now; `original` was, and is kept for undo.
    Done {
        original: String,
        addresses: Vec<String>,
    },
}

#[derive(Debug, thiserror::Error)]
pub enum ForwardingError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Sieve(#[from] SieveError),
}

/// Turns off every redirect to an address outside `internal_domains` in the mailbox's active
/// script. Running it again finds nothing left to do.
pub async fn turn_off(
    store: &dyn MailStore,
    mailbox: &str,
    internal_domains: &[String],
) -> Result<TurnOff, ForwardingError> {
    let Some(active) = store.active_script(mailbox).await? else {
        return Ok(TurnOff::NothingToDo);
    };
    let Some((text, addresses)) =
        sieve::turn_off_external_forwarding(&active.text, internal_domains)?
    else {
        return Ok(TurnOff::NothingToDo);
    };
    let header = format!(
        "# airdesk: a copy of the script \"{}\" with external forwarding turned off.\n\
         # The original is kept beside it; undo makes it active again.\n",
        active.name.replace(['\r', '\n'], " ")
    );
    store
        .put_script(
            mailbox,
            &SieveScript {
                name: SCRIPT.into(),
                text: format!("{header}{text}"),
            },
        )
        .await?;
    store.activate_script(mailbox, SCRIPT).await?;
    Ok(TurnOff::Done {
        original: active.name,
        addresses,
    })
}

/// Undo: makes the original script active again.
pub async fn restore(
    store: &dyn MailStore,
    mailbox: &str,
    original: &str,
) -> Result<(), StoreError> {
    if store.read_script(mailbox, original).await?.is_none() {
        return Err(StoreError::Refused(format!(
            "the original Sieve script {original:?} is gone"
        )));
    }
    store.activate_script(mailbox, original).await
}
