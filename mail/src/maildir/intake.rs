//! A report mailbox on a Maildir: the inbox's files, oldest first; filing is a rename.

use std::fs;
use std::io::Read;
use std::path::PathBuf;

use super::files::{ensure_folder, move_file};
use super::layout::list_files;
use super::{blocking, unavailable, Maildir};
use crate::intake::{Intake, Waiting};
use crate::StoreError;

#[async_trait::async_trait]
impl Intake for Maildir {
    async fn waiting(
        &self,
        mailbox: &str,
        max_messages: usize,
        max_bytes: u64,
    ) -> Result<Vec<Waiting>, StoreError> {
        let (this, mailbox) = (self.clone(), mailbox.to_string());
        blocking(move || {
            let dir = this.layout.existing_mailbox(&mailbox)?;
            let inbox = this.layout.folder_dir(&dir, &this.layout.folders().inbox);
            let files = list_files(&inbox).map_err(|e| unavailable(&inbox, e))?;
            // Maildir names start with the delivery time: sorted, oldest first.
            let mut paths: Vec<(String, PathBuf)> = files.into_iter().collect();
            paths.sort();
            let mut waiting = Vec::new();
            for (_, path) in paths.into_iter().take(max_messages) {
                let read = (|| -> std::io::Result<Waiting> {
                    let file = fs::File::open(&path)?;
                    let size = file.metadata()?.len();
                    let mut raw = Vec::new();
                    file.take(max_bytes).read_to_end(&mut raw)?;
                    Ok(Waiting {
                        handle: path.to_string_lossy().into_owned(),
                        size,
                        raw,
                    })
                })();
                match read {
                    Ok(message) => waiting.push(message),
                    // Filed meanwhile by another instance.
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                    Err(e) => return Err(unavailable(&path, e)),
                }
            }
            Ok(waiting)
        })
        .await
    }

    async fn file(&self, mailbox: &str, handle: &str, folder: &str) -> Result<(), StoreError> {
        let (this, mailbox, handle, folder) = (
            self.clone(),
            mailbox.to_string(),
            handle.to_string(),
            folder.to_string(),
        );
        blocking(move || {
            let dir = this.layout.existing_mailbox(&mailbox)?;
            let source = PathBuf::from(&handle);
            if !source.starts_with(&dir) || handle.contains("/../") {
                return Err(StoreError::Refused(
                    "the handle is not in this mailbox".into(),
                ));
            }
            let target = this.layout.folder_dir(&dir, &folder);
            ensure_folder(&target).map_err(|e| unavailable(&target, e))?;
            match move_file(&source, &target) {
                Ok(()) => Ok(()),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
                Err(e) => Err(unavailable(&source, e)),
            }
        })
        .await
    }
}
