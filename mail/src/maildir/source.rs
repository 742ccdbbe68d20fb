//! The index's reading of a Maildir tree: mailbox directories, each folder stamped by the
//! modification times of its `new/` and `cur/`, the files of a changed folder, and the new
//! files read and parsed on every core.

use std::fs;
use std::io::Read;
use std::path::Path;
use std::time::UNIX_EPOCH;

use chrono::{DateTime, Utc};

use super::layout::{folder_stamp, list_files};
use super::{blocking, unavailable, Maildir};
use crate::parse::parse;
use crate::source::{in_parallel, Listing, MessageSource, ReadBatch, ReadMessage, ReadRequest};
use crate::StoreError;

#[async_trait::async_trait]
impl MessageSource for Maildir {
    async fn mailboxes(&self) -> Result<Vec<String>, StoreError> {
        let layout = self.layout.clone();
        blocking(move || {
            layout
                .list_mailboxes()
                .map_err(|e| StoreError::Unavailable(format!("listing mailboxes: {e}")))
        })
        .await
    }

    #[tracing::instrument(level = "debug", skip(self), fields(store = "maildir"))]
    async fn folder_stamps(&self, mailbox: &str) -> Result<Vec<(String, (i64, i64))>, StoreError> {
        let (layout, mailbox) = (self.layout.clone(), mailbox.to_string());
        blocking(move || {
            let dir = layout.mailbox_dir(&mailbox)?;
            let folders = layout
                .list_folders(&dir)
                .map_err(|e| unavailable(&dir, e))?;
            Ok(folders
                .into_iter()
                .map(|(folder, path)| (folder, folder_stamp(&path)))
                .collect())
        })
        .await
    }

    #[tracing::instrument(level = "debug", skip(self), fields(store = "maildir"))]
    async fn list(&self, mailbox: &str, folder: &str) -> Result<Listing, StoreError> {
        let (layout, mailbox, folder) =
            (self.layout.clone(), mailbox.to_string(), folder.to_string());
        blocking(move || {
            let dir = layout.folder_dir(&layout.mailbox_dir(&mailbox)?, &folder);
            let files = list_files(&dir).map_err(|e| unavailable(&dir, e))?;
            Ok(Listing {
                messages: files
                    .into_iter()
                    .map(|(key, path)| (key, path.to_string_lossy().into_owned()))
                    .collect(),
                generation: 0,
            })
        })
        .await
    }

    #[tracing::instrument(level = "debug", skip_all, fields(store = "maildir", folders = requests.len()))]
    async fn read(&self, requests: Vec<ReadRequest>) -> Result<ReadBatch, StoreError> {
        let limits = self.limits.clone();
        blocking(move || {
            // Every file of every folder at once, so all cores stay busy on small folders too.
            let jobs: Vec<(usize, &str, &str)> = requests
                .iter()
                .enumerate()
                .flat_map(|(i, r)| {
                    r.messages
                        .iter()
                        .map(move |(k, h)| (i, k.as_str(), h.as_str()))
                })
                .collect();
            let read = in_parallel(&jobs, limits.threads(), |(i, key, path)| {
                (*i, read_one(key, Path::new(path), limits.max_body_bytes))
            });
            let mut batch = ReadBatch {
                folders: requests.iter().map(|_| Vec::new()).collect(),
                unreadable: 0,
            };
            for (i, message) in read {
                match message {
                    Some(message) => batch.folders[i].push(message),
                    None => batch.unreadable += 1,
                }
            }
            Ok(batch)
        })
        .await
    }
}

/// Reads one file; None (and a log line) when it cannot be read at all.
fn read_one(key: &str, path: &Path, max_body: u64) -> Option<ReadMessage> {
    let outcome = (|| -> std::io::Result<ReadMessage> {
        let meta = fs::metadata(path)?;
        let size = meta.len();
        let full = size <= max_body;
        let mut bytes = Vec::new();
        let file = fs::File::open(path)?;
        if full {
            file.take(max_body).read_to_end(&mut bytes)?;
        } else {
            // Headers only: the first 256 KiB hold them in any message worth reading.
            file.take(256 * 1024).read_to_end(&mut bytes)?;
        }
        let parsed = parse(&bytes, full);
        let received_at = delivered_at(key)
            .or_else(|| {
                meta.modified()
                    .ok()
                    .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
                    .and_then(|d| DateTime::from_timestamp(d.as_secs() as i64, 0))
            })
            .or(parsed.date)
            .unwrap_or_default();
        Ok(ReadMessage {
            key: key.to_string(),
            received_at,
            size,
            parsed,
        })
    })();
    match outcome {
        Ok(read) => {
            if !read.parsed.body_read {
                tracing::info!(path = %path.display(), "indexed from its headers only (too large)");
            }
            Some(read)
        }
        Err(error) => {
            tracing::warn!(path = %path.display(), %error, "cannot read message; skipped");
            None
        }
    }
}

/// A Maildir file name starts with the delivery time in seconds: `1732093200.M1P2.host`.
/// That, not the sender's Date header, is when the message arrived.
fn delivered_at(name: &str) -> Option<DateTime<Utc>> {
    let seconds: i64 = name.split('.').next()?.parse().ok()?;
    (seconds > 0)
        .then(|| DateTime::from_timestamp(seconds, 0))
        .flatten()
}
