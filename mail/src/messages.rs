//! What execution needs of a store: find the copies the index saw (by the store's own handle,
//! never by a header), move them, delete them for good.

use crate::{Destination, Folders, StoreError};
use model::MessageLocation;

/// One copy of a message, as found on the store.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Found {
    /// The folder's name on the store.
    pub folder: String,
    pub location: MessageLocation,
    /// The connector's own handle on this copy (a file path, a folder's UIDVALIDITY and UID).
    pub handle: String,
}

/// A copy the index saw, as execution asks for it: by the store's own handle on it, with
/// what recognises it if that handle no longer finds it. Never by a header alone.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Copy {
    /// The folder the index saw it in.
    pub folder: String,
    /// Maildir: the file's base name (without the `:2,` flags); IMAP: `UIDVALIDITY:UID`.
    pub key: String,
    /// [`crate::parse::content_hash`] and size, when the index recorded them.
    pub content_sha256: Option<String>,
    pub size: Option<u64>,
}

/// Where a copy is now.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Whereabouts {
    /// Here: the handle to act on.
    At(Found),
    /// Looked for in every folder of the mailbox, by handle and by content: it is not there
    /// any more, so it was deleted outside airdesk. Says where it looked.
    Gone(String),
    /// Not found, and nothing proves it gone (the index recorded nothing to recognise its
    /// content by). Says where it looked.
    Missing(String),
}

/// The outcome for one message of a move or delete.
pub type ItemOutcome = Result<(), String>;

/// Finding, moving and deleting messages.
#[async_trait::async_trait]
pub trait Messages: Send + Sync + std::fmt::Debug {
    /// The folders this store moves mail between.
    fn folders(&self) -> &Folders;

    /// Finds each copy: by its handle in its folder, then by its handle in the other folders
    /// (a move keeps a Maildir file's name), then by its content in every folder. One answer
    /// per copy, in order.
    async fn find(&self, mailbox: &str, copies: &[Copy]) -> Result<Vec<Whereabouts>, StoreError>;

    /// Moves found messages to a destination folder (creating it if missing), keeping their
    /// flags. One outcome per message, in order.
    async fn move_to(
        &self,
        mailbox: &str,
        messages: &[Found],
        to: Destination,
    ) -> Result<Vec<ItemOutcome>, StoreError>;

    /// Removes found messages for good (hard delete). One outcome per message, in order.
    async fn expunge(
        &self,
        mailbox: &str,
        messages: &[Found],
    ) -> Result<Vec<ItemOutcome>, StoreError>;

    /// Soft delete: moves to the hidden Recoverable Items folder, from where it can be restored.
    async fn soft_delete(
        &self,
        mailbox: &str,
        messages: &[Found],
    ) -> Result<Vec<ItemOutcome>, StoreError> {
        self.move_to(mailbox, messages, Destination::RecoverableItems)
            .await
    }

    /// Restores messages to the inbox.
    async fn restore(
        &self,
        mailbox: &str,
        messages: &[Found],
    ) -> Result<Vec<ItemOutcome>, StoreError> {
        self.move_to(mailbox, messages, Destination::Inbox).await
    }
}
