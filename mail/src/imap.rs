//! The imap backend: any IMAP server, through one service account that may open every mailbox
//! (with Dovecot, a master user: `alice@example.test*admin`). Connections come from a bounded
//! [`pool`] per server; execution's finding and moving is in [`messages`], the index's reading
//! in [`source`]; forwarding rules go through ManageSieve ([`managesieve`] speaks the
//! protocol, `sieve` keeps the scripts).

mod find;
pub mod managesieve;
mod messages;
mod pool;
mod settings;
mod sieve;
mod source;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::Semaphore;

use crate::source::ReadLimits;
use crate::{Folders, StoreError};

pub use settings::ImapSettings;
pub use sieve::ManageSieve;

/// An idle pooled connection older than this is closed rather than reused.
const MAX_IDLE: Duration = Duration::from_secs(60);

/// One IMAP server.
#[derive(Clone)]
pub struct Imap {
    settings: Arc<ImapSettings>,
    folders: Folders,
    permits: Arc<Semaphore>,
    idle: Arc<Mutex<Vec<pool::Pooled>>>,
    /// IMAP cannot list a server's mailboxes: the index reads these.
    index_mailboxes: Arc<Vec<String>>,
    limits: ReadLimits,
}

impl std::fmt::Debug for Imap {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Imap")
            .field("address", &self.settings.address)
            .field("user", &self.settings.user)
            .field("folders", &self.folders)
            .finish_non_exhaustive()
    }
}

impl Imap {
    pub fn new(settings: ImapSettings, folders: Folders) -> Self {
        let permits = Arc::new(Semaphore::new(settings.max_connections.max(1)));
        Imap {
            settings: Arc::new(settings),
            folders,
            permits,
            idle: Arc::new(Mutex::new(Vec::new())),
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

    /// The mailboxes' Sieve scripts over ManageSieve, with the same service account.
    pub fn sieve(&self) -> ManageSieve {
        ManageSieve::new(self.settings.clone())
    }
}

fn imap_error(error: async_imap::error::Error) -> StoreError {
    use async_imap::error::Error;
    match error {
        Error::No(text) | Error::Bad(text) => StoreError::Refused(text),
        Error::Validate(e) => StoreError::Refused(e.to_string()),
        other => StoreError::Unavailable(other.to_string()),
    }
}
