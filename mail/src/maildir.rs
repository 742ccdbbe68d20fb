//! The maildir backend: one Maildir++ per mailbox at `<mail root>/<address>/`, the layout
//! Dovecot reads with `mail_location = maildir:<mail root>/%u`, so airdesk can work on the same
//! files as a Dovecot server beside it.
//!
//! The inbox is the mailbox folder itself and every other folder a `.<name>` folder in it, each
//! with `cur/`, `new/` and `tmp/` ([`layout`]). A message file's name carries its flags
//! (`…:2,S`), so a move keeps the name and the flags with it. A move is one atomic rename that
//! never replaces a file ([`files`]), so mail is never lost, never overwritten, never
//! half-written, and two processes moving the same message cannot both succeed.
//! Sieve scripts live in `<address>/sieve/<name>.sieve` with the active one linked from
//! `<address>/.dovecot.sieve` (Dovecot's defaults).

mod check;
pub mod files;
mod find;
mod intake;
pub mod layout;
mod messages;
mod sieve;
mod source;

use std::path::PathBuf;

use crate::source::ReadLimits;
use crate::{Folders, StoreError};

pub use layout::Layout;
pub use sieve::MaildirSieve;

/// A Maildir++ tree: messages (execution) and the message source (the index).
#[derive(Debug, Clone)]
pub struct Maildir {
    layout: Layout,
    limits: ReadLimits,
    sieve_global: Option<PathBuf>,
}

impl Maildir {
    pub fn new(root: impl Into<PathBuf>, folders: Folders) -> Self {
        Maildir {
            layout: Layout::new(root, folders),
            limits: ReadLimits::default(),
            sieve_global: None,
        }
    }

    /// Where the administrator's global Sieve scripts are (`include :global`).
    pub fn with_sieve_global(mut self, dir: Option<PathBuf>) -> Self {
        self.sieve_global = dir;
        self
    }

    /// How the index reads messages from this tree.
    pub fn with_limits(mut self, limits: ReadLimits) -> Self {
        self.limits = limits;
        self
    }

    /// The mailboxes' Sieve scripts, for forwarding.
    pub fn sieve(&self) -> MaildirSieve {
        MaildirSieve::new(self.layout.clone(), self.sieve_global.clone())
    }
}

/// Runs file work off the async threads.
async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, StoreError> + Send + 'static,
) -> Result<T, StoreError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| StoreError::Unavailable(format!("file worker stopped: {e}")))?
}

fn unavailable(path: &std::path::Path, error: std::io::Error) -> StoreError {
    StoreError::Unavailable(format!("{}: {error}", path.display()))
}
