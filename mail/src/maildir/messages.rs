//! Execution on a Maildir: copies found by the file's base name the index saw (see
//! [`super::find`]), moved with an atomic rename, deleted for good.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use super::files::{ensure_folder, move_file};
use super::{blocking, unavailable, Maildir};
use crate::{Copy, Destination, Folders, Found, ItemOutcome, Messages, StoreError, Whereabouts};

impl Maildir {
    fn move_blocking(
        &self,
        mailbox: &str,
        messages: &[Found],
        to: Destination,
    ) -> Result<Vec<ItemOutcome>, StoreError> {
        let dir = self.layout.existing_mailbox(mailbox)?;
        let target = self.layout.folder_dir(&dir, self.layout.folders().name(to));
        ensure_folder(&target).map_err(|e| unavailable(&target, e))?;
        Ok(messages
            .iter()
            .map(|message| {
                let source = self.owned_path(&dir, message)?;
                move_file(&source, &target).map_err(|e| format!("cannot move: {e}"))
            })
            .collect())
    }

    fn expunge_blocking(
        &self,
        mailbox: &str,
        messages: &[Found],
    ) -> Result<Vec<ItemOutcome>, StoreError> {
        let dir = self.layout.existing_mailbox(mailbox)?;
        Ok(messages
            .iter()
            .map(|message| {
                let path = self.owned_path(&dir, message)?;
                // A file that is not where it was found may have been filed away by the user
                // since: not deleted, so not done (execution looks for it again, and a copy
                // deleted by an earlier try is found gone everywhere).
                match fs::remove_file(&path) {
                    Ok(()) => Ok(()),
                    Err(e) if e.kind() == io::ErrorKind::NotFound => Err(format!(
                        "no longer in {} when it was deleted",
                        message.folder
                    )),
                    Err(e) => Err(format!("cannot delete: {e}")),
                }
            })
            .collect())
    }

    /// A found message's file, which must lie inside this mailbox.
    fn owned_path(&self, mailbox_dir: &Path, message: &Found) -> Result<PathBuf, String> {
        let path = PathBuf::from(&message.handle);
        if path.starts_with(mailbox_dir) && !message.handle.contains("/../") {
            Ok(path)
        } else {
            Err("the message handle is not in this mailbox".into())
        }
    }
}

#[async_trait::async_trait]
impl Messages for Maildir {
    fn folders(&self) -> &Folders {
        self.layout.folders()
    }

    #[tracing::instrument(level = "debug", skip(self, copies), fields(store = "maildir", copies = copies.len()))]
    async fn find(&self, mailbox: &str, copies: &[Copy]) -> Result<Vec<Whereabouts>, StoreError> {
        let (this, mailbox, copies) = (self.clone(), mailbox.to_string(), copies.to_vec());
        blocking(move || this.find_blocking(&mailbox, &copies)).await
    }

    #[tracing::instrument(level = "debug", skip(self, messages), fields(store = "maildir", messages = messages.len()))]
    async fn move_to(
        &self,
        mailbox: &str,
        messages: &[Found],
        to: Destination,
    ) -> Result<Vec<ItemOutcome>, StoreError> {
        let (this, mailbox, messages) = (self.clone(), mailbox.to_string(), messages.to_vec());
        blocking(move || this.move_blocking(&mailbox, &messages, to)).await
    }

    #[tracing::instrument(level = "debug", skip(self, messages), fields(store = "maildir", messages = messages.len()))]
    async fn expunge(
        &self,
        mailbox: &str,
        messages: &[Found],
    ) -> Result<Vec<ItemOutcome>, StoreError> {
        let (this, mailbox, messages) = (self.clone(), mailbox.to_string(), messages.to_vec());
        blocking(move || this.expunge_blocking(&mailbox, &messages)).await
    }
}
