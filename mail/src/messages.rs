//! What execution needs of a store: find a mailbox's copies of some messages, move them,
//! delete them for good.

use crate::{Destination, Folders, StoreError};
use model::MessageLocation;

/// One copy of a message, as found on the store.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Found {
    /// The Internet Message-ID as the action names it (with its angle brackets).
    pub internet_message_id: String,
    /// The folder's name on the store.
    pub folder: String,
    pub location: MessageLocation,
    /// The connector's own handle on this copy (a file path, a folder's UIDVALIDITY and UID).
    pub handle: String,
}

/// The outcome for one message of a move or delete.
pub type ItemOutcome = Result<(), String>;

/// Finding, moving and deleting messages.
#[async_trait::async_trait]
pub trait Messages: Send + Sync + std::fmt::Debug {
    /// The folders this store moves mail between.
    fn folders(&self) -> &Folders;

    /// Finds the messages with these Internet Message-IDs in every folder of `mailbox`,
    /// in as few requests as the protocol allows. A message id that is not there is absent
    /// from the answer; one found in two folders appears twice.
    async fn locate(
        &self,
        mailbox: &str,
        internet_message_ids: &[String],
    ) -> Result<Vec<Found>, StoreError>;

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
