//! What a mailbox people send reports to needs of a store: the messages waiting in its inbox,
//! read whole (up to a size), and each filed into a folder once handled — so nothing is read
//! twice, across restarts and instances alike.

use crate::StoreError;

/// A message waiting in the inbox.
#[derive(Debug, Clone)]
pub struct Waiting {
    /// The store's handle on it (a file path; `UIDVALIDITY:UID`), for [`Intake::file`].
    pub handle: String,
    /// Its size on the store.
    pub size: u64,
    /// Its first `max_bytes` bytes (all of it when `size` is no larger).
    pub raw: Vec<u8>,
}

#[async_trait::async_trait]
pub trait Intake: Send + Sync + std::fmt::Debug {
    /// Up to `max_messages` messages in the mailbox's inbox, oldest first.
    async fn waiting(
        &self,
        mailbox: &str,
        max_messages: usize,
        max_bytes: u64,
    ) -> Result<Vec<Waiting>, StoreError>;

    /// Moves a waiting message into `folder` of the same mailbox (created if missing). A
    /// message no longer there (another instance filed it) is not an error.
    async fn file(&self, mailbox: &str, handle: &str, folder: &str) -> Result<(), StoreError>;
}
