//! The imap backend: any IMAP server, through one service account that may open every mailbox
//! (with Dovecot, a master user: `alice@example.test*admin`). Connections ([`conn`]) come from
//! bounded pools, one for execution and one for the index; execution's finding and moving is
//! in [`messages`], the index's reading in [`source`]; forwarding rules go through ManageSieve
//! ([`managesieve`] speaks the protocol, `sieve` keeps the scripts, pooled the same way).

mod check;
mod conn;
mod find;
mod intake;
pub mod managesieve;
mod messages;
mod settings;
mod sieve;
mod source;

use std::sync::Arc;

use crate::pool::Pool;
use crate::source::ReadLimits;
use crate::{Folders, StoreError};

pub use settings::{Endpoint, ImapSettings};
pub use sieve::ManageSieve;

/// One IMAP server.
#[derive(Clone)]
pub struct Imap {
    settings: Arc<ImapSettings>,
    folders: Folders,
    /// This connector's connections; the index reads through a clone with a pool of its own.
    pool: Pool<conn::Conn>,
    /// IMAP cannot list a server's mailboxes: the index reads these.
    index_mailboxes: Arc<Vec<String>>,
    limits: ReadLimits,
}

impl std::fmt::Debug for Imap {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Imap")
            .field("imap", &self.settings.imap)
            .field("user", &self.settings.user)
            .field("folders", &self.folders)
            .finish_non_exhaustive()
    }
}

impl Imap {
    pub fn new(settings: ImapSettings, folders: Folders) -> Self {
        let pool = Pool::new("IMAP", settings.max_connections, settings.timeout);
        Imap {
            settings: Arc::new(settings),
            folders,
            pool,
            index_mailboxes: Arc::new(Vec::new()),
            limits: ReadLimits::default(),
        }
    }

    /// The mailboxes the index reads, and how.
    pub fn with_index(mut self, mailboxes: Vec<String>, limits: ReadLimits) -> Self {
        self.index_mailboxes = Arc::new(mailboxes);
        self.limits = limits;
        self
    }

    /// The same server through a pool of its own of `size` connections: what the index reads
    /// with, so a long scan never holds the connections execution needs.
    pub fn with_own_pool(mut self, size: usize) -> Self {
        self.pool = Pool::new("IMAP", size, self.settings.timeout);
        self
    }

    /// The mailboxes' Sieve scripts over ManageSieve, with the same service account, through a
    /// pool of its own (each call makes a new one: execution and investigations each take one).
    pub fn sieve(&self) -> ManageSieve {
        ManageSieve::new(self.settings.clone())
    }
}

/// Response codes of a NO that says "not now" (RFC 5530). Not `[SERVERBUG]`: Dovecot gives it
/// for a folder it lists and can never open (a home's `.dovecot.sieve`), which the index must
/// skip rather than retry the whole mailbox for.
const TRANSIENT: [&str; 2] = ["[UNAVAILABLE]", "[INUSE]"];

fn imap_error(error: async_imap::error::Error) -> StoreError {
    use async_imap::error::Error;
    match error {
        // RFC 5530's codes for "try again later": not a folder closed to us (nor a copy in it
        // missing), but the job's to retry.
        Error::No(text) if TRANSIENT.iter().any(|code| text.contains(code)) => {
            StoreError::Unavailable(text)
        }
        Error::No(text) | Error::Bad(text) => StoreError::Refused(text),
        Error::Validate(e) => StoreError::Refused(e.to_string()),
        other => StoreError::Unavailable(other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use async_imap::error::Error;

    #[test]
    fn a_no_that_says_not_now_is_unavailable_and_any_other_is_refused() {
        for transient in ["[UNAVAILABLE] Backend down", "[INUSE] Mailbox is locked"] {
            let error = imap_error(Error::No(transient.into()));
            assert!(matches!(error, StoreError::Unavailable(_)), "{error:?}");
        }
        for refused in [
            "Mailbox doesn't exist: Junk",
            "[NONEXISTENT] Unknown mailbox",
        ] {
            let error = imap_error(Error::No(refused.into()));
            assert!(matches!(error, StoreError::Refused(_)), "{error:?}");
        }
        let bad = imap_error(Error::Bad("[SERVERBUG] syntax".into()));
        assert!(matches!(bad, StoreError::Refused(_)), "{bad:?}");
    }
}
