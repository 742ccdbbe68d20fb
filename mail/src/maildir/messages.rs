//! Execution on a Maildir: find a mailbox's copies of messages by reading every folder's
//! headers, move them with an atomic rename, delete them for good.

use std::collections::{HashMap, HashSet};
use std::fs;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use mail_parser::MessageParser;
use model::message_id;

use super::files::{ensure_folder, move_file};
use super::{blocking, unavailable, Maildir};
use crate::{Destination, Folders, Found, ItemOutcome, Messages, StoreError};

/// How much of a message file is read to find its headers.
const HEADER_BYTES: u64 = 64 * 1024;

impl Maildir {
    fn locate_blocking(&self, mailbox: &str, ids: &[String]) -> Result<Vec<Found>, StoreError> {
        let dir = self.layout.existing_mailbox(mailbox)?;
        let wanted: HashSet<&str> = ids.iter().map(|id| message_id::bare(id)).collect();
        let by_bare: HashMap<&str, &String> =
            ids.iter().map(|id| (message_id::bare(id), id)).collect();
        let parser = MessageParser::new().with_message_ids();
        let mut found = Vec::new();
        for (folder, folder_dir) in self
            .layout
            .list_folders(&dir)
            .map_err(|e| unavailable(&dir, e))?
        {
            for sub in ["cur", "new"] {
                let sub_dir = folder_dir.join(sub);
                let entries = match fs::read_dir(&sub_dir) {
                    Ok(entries) => entries,
                    Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
                    Err(e) => return Err(unavailable(&sub_dir, e)),
                };
                for entry in entries {
                    let entry = entry.map_err(|e| unavailable(&sub_dir, e))?;
                    let path = entry.path();
                    let Some(id) = message_id_of(&parser, &path) else {
                        continue;
                    };
                    if wanted.contains(id.as_str()) {
                        found.push(Found {
                            internet_message_id: by_bare[id.as_str()].clone(),
                            folder: folder.clone(),
                            location: self.layout.folders().location(&folder),
                            handle: path.to_string_lossy().into_owned(),
                        });
                    }
                }
            }
        }
        Ok(found)
    }

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
                match fs::remove_file(&path) {
                    Ok(()) => Ok(()),
                    Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
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

    #[tracing::instrument(level = "debug", skip(self, internet_message_ids), fields(store = "maildir", ids = internet_message_ids.len()))]
    async fn locate(
        &self,
        mailbox: &str,
        internet_message_ids: &[String],
    ) -> Result<Vec<Found>, StoreError> {
        let (this, mailbox, ids) = (
            self.clone(),
            mailbox.to_string(),
            internet_message_ids.to_vec(),
        );
        blocking(move || this.locate_blocking(&mailbox, &ids)).await
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

/// The Message-ID of a message file (without angle brackets), read from its headers.
fn message_id_of(parser: &MessageParser, path: &Path) -> Option<String> {
    let mut head = Vec::with_capacity(4096);
    fs::File::open(path)
        .ok()?
        .take(HEADER_BYTES)
        .read_to_end(&mut head)
        .ok()?;
    let message = parser.parse_headers(&head)?;
    message
        .message_id()
        .map(|id| message_id::bare(id).to_string())
}
