//! Mail stores, by capability: what execution needs ([`Messages`]: find, move, delete), what
//! the message index reads ([`MessageSource`]), and a mailbox's forwarding rules
//! ([`Forwarding`]: read, turn off, restore). Each backend is a folder that implements them:
//! [`maildir`] (the embedded default, Dovecot's on-disk layout) and [`imap`] (any IMAP server
//! through one service account, with ManageSieve for forwarding). [`Backend`] picks one, once,
//! at start-up. Sieve is how both backends keep forwarding rules, not part of any interface.

pub mod backend;
pub mod check;
pub mod forwarding;
pub mod imap;
pub mod intake;
pub mod jmap;
pub mod maildir;
pub mod messages;
pub mod oauth;
pub mod parse;
mod pool;
pub mod sieve;
pub mod source;
pub mod tls;

pub use backend::{Backend, Connector};
pub use forwarding::{ForwardFinding, Forwarding, ForwardingError, TurnOff};
pub use intake::{Intake, Waiting};
pub use messages::{Copy, Found, ItemOutcome, Messages, Whereabouts};
pub use source::{Listing, MessageSource, ReadBatch, ReadLimits, ReadMessage, ReadRequest};

use model::MessageLocation;

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

#[cfg(test)]
mod tests {
    use super::*;

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
