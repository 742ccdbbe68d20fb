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
use crate::parse::{content_hash, parse, Parsed, FINGERPRINT_BYTES};
use crate::source::{
    in_parallel, plausible_arrival, Listing, MessageSource, ReadBatch, ReadMessage, ReadRequest,
};
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
            // Headers only: the first MiB holds them in any message worth reading, and is
            // what the content fingerprint covers.
            file.take(FINGERPRINT_BYTES as u64)
                .read_to_end(&mut bytes)?;
        }
        let parsed = parse(&bytes, full);
        let received_at = arrival(key, path, &meta, &parsed);
        Ok(ReadMessage {
            key: key.to_string(),
            received_at,
            size,
            content_sha256: content_hash(&bytes),
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

/// When the message arrived: the delivery time in its file name, else the file's mtime, else
/// its Date header — the first of them that can be right.
fn arrival(key: &str, path: &Path, meta: &fs::Metadata, parsed: &Parsed) -> DateTime<Utc> {
    let now = Utc::now();
    let mtime = meta
        .modified()
        .ok()
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .and_then(|d| DateTime::from_timestamp(d.as_secs() as i64, 0));
    let named = delivered_at(key);
    if let Some(named) = named.filter(|t| !plausible_arrival(*t, now)) {
        tracing::warn!(path = %path.display(), %named, "the file name's delivery time cannot be right; using the file's time");
    }
    [named, mtime, parsed.date]
        .into_iter()
        .flatten()
        .find(|t| plausible_arrival(*t, now))
        .unwrap_or(now)
}

/// A Maildir file name starts with the delivery time in seconds: `1732093200.M1P2.host`.
/// That, not the sender's Date header, is when the message arrived.
fn delivered_at(name: &str) -> Option<DateTime<Utc>> {
    let seconds: i64 = name.split('.').next()?.parse().ok()?;
    (seconds > 0)
        .then(|| DateTime::from_timestamp(seconds, 0))
        .flatten()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_impossible_delivery_time_falls_back_to_the_files_time() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("1764150000000.M1P1.host");
        fs::write(&path, b"Subject: x\r\n\r\nbody").unwrap();
        let read = read_one("1764150000000.M1P1.host", &path, 1024).unwrap();
        let age = Utc::now() - read.received_at;
        assert!(age < chrono::Duration::minutes(5), "{}", read.received_at);
        let sane = read_one("1764150000.M1P1.host", &path, 1024).unwrap();
        assert_eq!(sane.received_at.timestamp(), 1_764_150_000);
    }
}
