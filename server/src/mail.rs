//! Mail stores: where approved actions happen. A [`MailStore`] finds messages by mailbox and
//! Internet Message-ID, moves and deletes them, and reads and writes the mailbox's Sieve
//! scripts. Two connectors: [`maildir`] (the embedded default, Dovecot's on-disk layout) and
//! [`imap`] (any IMAP server through one service account, with ManageSieve for Sieve).

pub mod forwarding;
pub mod imap;
pub mod maildir;
pub mod managesieve;
pub mod sieve;

use std::sync::Arc;

use app::model::MessageLocation;

/// The folders actions move mail between, by their names on the store.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Folders {
    pub inbox: String,
    pub junk: String,
    pub deleted_items: String,
    /// Hidden from the user's mail client's usual view: soft-deleted mail waits here.
    pub recoverable_items: String,
}

impl Default for Folders {
    fn default() -> Self {
        Folders {
            inbox: "INBOX".into(),
            junk: "Junk".into(),
            deleted_items: "Deleted Items".into(),
            recoverable_items: "Recoverable Items".into(),
        }
    }
}

impl Folders {
    /// The folder's name for a destination.
    pub fn name(&self, to: Destination) -> &str {
        match to {
            Destination::Inbox => &self.inbox,
            Destination::Junk => &self.junk,
            Destination::DeletedItems => &self.deleted_items,
            Destination::RecoverableItems => &self.recoverable_items,
        }
    }

    /// What a folder name means to airdesk.
    pub fn location(&self, folder: &str) -> MessageLocation {
        if folder.eq_ignore_ascii_case(&self.inbox) {
            MessageLocation::Inbox
        } else if folder == self.junk {
            MessageLocation::Junk
        } else if folder == self.deleted_items {
            MessageLocation::DeletedItems
        } else if folder == self.recoverable_items {
            MessageLocation::RecoverableItems
        } else {
            MessageLocation::Other
        }
    }
}

/// Where a move takes mail.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Destination {
    Inbox,
    Junk,
    DeletedItems,
    RecoverableItems,
}

impl Destination {
    pub fn location(self) -> MessageLocation {
        match self {
            Destination::Inbox => MessageLocation::Inbox,
            Destination::Junk => MessageLocation::Junk,
            Destination::DeletedItems => MessageLocation::DeletedItems,
            Destination::RecoverableItems => MessageLocation::RecoverableItems,
        }
    }
}

/// One copy of a message, as found on the store.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Found {
    /// The Internet Message-ID as the action names it (with its angle brackets).
    pub internet_message_id: String,
    /// The folder's name on the store.
    pub folder: String,
    pub location: MessageLocation,
    /// The connector's own handle on this copy (a file path, a folder and UID).
    pub handle: String,
}

/// A Sieve script as stored for a mailbox.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SieveScript {
    pub name: String,
    pub text: String,
}

/// Why a store could not do what was asked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    /// The store could not be reached or broke off (connection refused, timeout, I/O error):
    /// worth retrying later.
    #[error("mail store unavailable: {0}")]
    Unavailable(String),
    /// The store answered and refused (no such mailbox, permission): retrying will not help.
    #[error("{0}")]
    Refused(String),
}

/// The outcome for one message of a move or delete.
pub type ItemOutcome = Result<(), String>;

/// A mail store airdesk acts on.
#[async_trait::async_trait]
pub trait MailStore: Send + Sync + std::fmt::Debug {
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

    /// The mailbox's active Sieve script, if it has one.
    async fn active_script(&self, mailbox: &str) -> Result<Option<SieveScript>, StoreError>;

    /// The text of a script by name, if it exists.
    async fn read_script(&self, mailbox: &str, name: &str) -> Result<Option<String>, StoreError>;

    /// Stores a script (replacing one of that name) without activating it.
    async fn put_script(&self, mailbox: &str, script: &SieveScript) -> Result<(), StoreError>;

    /// Makes the named script the active one.
    async fn activate_script(&self, mailbox: &str, name: &str) -> Result<(), StoreError>;
}

/// The store every worker shares.
pub type SharedStore = Arc<dyn MailStore>;

/// Compares Internet Message-IDs as stores write them: with or without the angle brackets,
/// surrounding space ignored.
pub fn same_message_id(a: &str, b: &str) -> bool {
    bare_id(a) == bare_id(b)
}

/// A message id without its angle brackets or surrounding space.
pub fn bare_id(id: &str) -> &str {
    id.trim()
        .trim_start_matches('<')
        .trim_end_matches('>')
        .trim()
}

/// Whether an address is outside the organisation's domains (a subdomain of an internal domain
/// is internal). An address that cannot be read (no `@`, a Sieve variable) counts as external:
/// when in doubt, forwarding is turned off.
pub fn is_external(address: &str, internal_domains: &[String]) -> bool {
    let address = address.trim();
    if address.contains("${") {
        return true;
    }
    let Some((_, domain)) = address.rsplit_once('@') else {
        return true;
    };
    let domain = domain.trim_end_matches('>').trim().to_ascii_lowercase();
    if domain.is_empty() {
        return true;
    }
    !internal_domains.iter().any(|internal| {
        let internal = internal.trim().to_ascii_lowercase();
        domain == internal || domain.ends_with(&format!(".{internal}"))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_ids_compare_with_or_without_brackets() {
        assert!(same_message_id("<a@b.test>", "a@b.test"));
        assert!(same_message_id(" <a@b.test> ", "<a@b.test>"));
        assert!(!same_message_id("<a@b.test>", "<a@c.test>"));
    }

    #[test]
    fn internal_domains_and_their_subdomains_are_internal() {
        let internal = vec!["example.test".to_string()];
        assert!(!is_external("bob@example.test", &internal));
        assert!(!is_external("bob@EXAMPLE.test", &internal));
        assert!(!is_external("bob@mail.example.test", &internal));
        assert!(is_external("bob@elsewhere.test", &internal));
        assert!(is_external("bob@notexample.test", &internal));
        assert!(is_external("${forward}", &internal));
        assert!(is_external("nobody", &internal));
    }

    #[test]
    fn folder_names_map_to_locations() {
        let folders = Folders::default();
        assert_eq!(folders.location("INBOX"), MessageLocation::Inbox);
        assert_eq!(folders.location("Junk"), MessageLocation::Junk);
        assert_eq!(
            folders.location("Recoverable Items"),
            MessageLocation::RecoverableItems
        );
        assert_eq!(folders.location("Archive"), MessageLocation::Other);
    }
}
