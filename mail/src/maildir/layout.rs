//! Where things are in a Maildir++ tree: mailboxes, their folders, the messages in a folder.
//! Execution and the index both find their way through here.

use std::collections::HashMap;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::time::UNIX_EPOCH;

use super::unavailable;
use crate::{Folders, StoreError};

/// The tree under the mail root, and what its folders are called.
#[derive(Debug, Clone)]
pub struct Layout {
    root: PathBuf,
    folders: Folders,
}

impl Layout {
    pub fn new(root: impl Into<PathBuf>, folders: Folders) -> Self {
        Layout {
            root: root.into(),
            folders,
        }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn folders(&self) -> &Folders {
        &self.folders
    }

    /// The mailbox's folder, refusing anything that could step outside the mail root.
    pub fn mailbox_dir(&self, mailbox: &str) -> Result<PathBuf, StoreError> {
        let plausible = !mailbox.is_empty()
            && mailbox.len() <= 320
            && !mailbox.starts_with('.')
            && mailbox.contains('@')
            && !mailbox
                .chars()
                .any(|c| c == '/' || c == '\\' || c.is_control());
        if !plausible {
            return Err(StoreError::Refused(format!(
                "{mailbox:?} is not a mailbox address"
            )));
        }
        Ok(self.root.join(mailbox))
    }

    /// The mailbox's folder, which must exist (a Maildir with `cur/`).
    pub fn existing_mailbox(&self, mailbox: &str) -> Result<PathBuf, StoreError> {
        let dir = self.mailbox_dir(mailbox)?;
        match fs::metadata(dir.join("cur")) {
            Ok(meta) if meta.is_dir() => Ok(dir),
            Ok(_) => Err(StoreError::Refused(format!("no mailbox {mailbox}"))),
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                Err(StoreError::Refused(format!("no mailbox {mailbox}")))
            }
            Err(e) => Err(unavailable(&dir, e)),
        }
    }

    /// A folder's directory: the inbox is the mailbox itself, others are `.<name>`.
    pub fn folder_dir(&self, mailbox_dir: &Path, folder: &str) -> PathBuf {
        if folder.eq_ignore_ascii_case(&self.folders.inbox) {
            mailbox_dir.to_path_buf()
        } else {
            mailbox_dir.join(format!(".{folder}"))
        }
    }

    /// Every folder of a mailbox, inbox first: (name, directory).
    pub fn list_folders(&self, mailbox_dir: &Path) -> io::Result<Vec<(String, PathBuf)>> {
        let mut folders = vec![(self.folders.inbox.clone(), mailbox_dir.to_path_buf())];
        for entry in fs::read_dir(mailbox_dir)? {
            let entry = entry?;
            let Some(name) = entry.file_name().to_str().map(str::to_string) else {
                continue;
            };
            if let Some(folder) = name.strip_prefix('.') {
                if !folder.is_empty() && entry.path().join("cur").is_dir() {
                    folders.push((folder.to_string(), entry.path()));
                }
            }
        }
        Ok(folders)
    }

    /// Mailbox directories: names that look like addresses and hold a Maildir, sorted.
    pub fn list_mailboxes(&self) -> io::Result<Vec<String>> {
        let mut found = Vec::new();
        let entries = match fs::read_dir(&self.root) {
            Ok(entries) => entries,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(found),
            Err(e) => return Err(e),
        };
        for entry in entries {
            let entry = entry?;
            let Some(name) = entry.file_name().to_str().map(str::to_string) else {
                continue;
            };
            if name.contains('@') && !name.starts_with('.') && entry.path().join("cur").is_dir() {
                found.push(name);
            }
        }
        found.sort();
        Ok(found)
    }
}

/// A folder's stamp: the modification times of `new/` and `cur/` in nanoseconds (0 when
/// missing). Delivering, moving or removing a message changes one of them.
pub fn folder_stamp(dir: &Path) -> (i64, i64) {
    let stamp = |sub: &str| {
        fs::metadata(dir.join(sub))
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
            .map_or(0, |d| d.as_nanos() as i64)
    };
    (stamp("new"), stamp("cur"))
}

/// The message files of a folder by stable name (the file name without `:2,flags`), so a
/// flag change is not a new message.
pub fn list_files(dir: &Path) -> io::Result<HashMap<String, PathBuf>> {
    let mut files = HashMap::new();
    for sub in ["new", "cur"] {
        let entries = match fs::read_dir(dir.join(sub)) {
            Ok(entries) => entries,
            Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
            Err(e) => return Err(e),
        };
        for entry in entries {
            let entry = entry?;
            let Some(name) = entry.file_name().to_str().map(str::to_string) else {
                continue;
            };
            if name.starts_with('.') || !entry.file_type()?.is_file() {
                continue;
            }
            let stable = name.split(':').next().unwrap_or(&name).to_string();
            files.insert(stable, entry.path());
        }
    }
    Ok(files)
}
