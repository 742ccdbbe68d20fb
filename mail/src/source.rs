//! What the message index reads from a store: its mailboxes, each folder with a cheap stamp
//! that changes when the folder's messages do, a changed folder's listing, and the new
//! messages themselves, parsed ([`crate::parse`]) as they are read so that a batch never holds
//! more than one raw message per thread.

use std::collections::HashMap;

use chrono::{DateTime, Utc};

use crate::parse::Parsed;
use crate::StoreError;

/// How much of each message is read, and by how many threads.
#[derive(Debug, Clone)]
pub struct ReadLimits {
    /// Messages larger than this are read from their headers only.
    pub max_body_bytes: u64,
    /// Parser threads; 0 = one per core.
    pub threads: usize,
}

impl Default for ReadLimits {
    fn default() -> Self {
        ReadLimits {
            max_body_bytes: 32 * 1024 * 1024,
            threads: 0,
        }
    }
}

impl ReadLimits {
    /// The threads to parse with.
    pub fn threads(&self) -> usize {
        match self.threads {
            0 => std::thread::available_parallelism().map_or(2, |n| n.get()),
            n => n,
        }
    }
}

/// The messages of one folder: each one's stable key (what the index remembers it by: a
/// Maildir file name without its flags, `UIDVALIDITY:UID`) and the handle to read it with.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Listing {
    pub messages: HashMap<String, String>,
    /// The folder's generation (IMAP UIDVALIDITY; 0 where there is none). Reading with a
    /// generation the folder no longer has reads nothing: the next scan starts it over.
    pub generation: u32,
}

/// Messages to read from one folder.
#[derive(Debug, Clone)]
pub struct ReadRequest {
    pub mailbox: String,
    pub folder: String,
    pub generation: u32,
    /// (key, handle) from the folder's [`Listing`].
    pub messages: Vec<(String, String)>,
}

/// One message, read and parsed.
#[derive(Debug, Clone)]
pub struct ReadMessage {
    pub key: String,
    /// When the store received it (a Maildir file name's time, IMAP INTERNALDATE), not the
    /// sender's Date header, which only stands in when the store says nothing.
    pub received_at: DateTime<Utc>,
    pub size: u64,
    /// [`crate::parse::content_hash`] of the message: how a copy is recognised when its
    /// handle no longer finds it.
    pub content_sha256: String,
    pub parsed: Parsed,
}

/// An arrival time a store gave that cannot be right — in the future, or before any mailbox
/// could have held it (a 13-digit file name read as seconds lands in the year 56474) — is
/// replaced by the next witness, and logged: a wrong one would put the message outside every
/// look-back window, where no hunt finds it.
pub fn plausible_arrival(at: DateTime<Utc>, now: DateTime<Utc>) -> bool {
    let earliest = DateTime::from_timestamp(788_918_400, 0).unwrap_or_default(); // 1995-01-01
    at >= earliest && at <= now + chrono::Duration::days(1)
}

/// What reading some requests came to: for each request, in order, the messages read.
#[derive(Debug, Default)]
pub struct ReadBatch {
    pub folders: Vec<Vec<ReadMessage>>,
    /// Messages that could not be read at all (logged; the others were read).
    pub unreadable: usize,
}

/// What the index reads.
#[async_trait::async_trait]
pub trait MessageSource: Send + Sync + std::fmt::Debug {
    /// Every mailbox to index.
    async fn mailboxes(&self) -> Result<Vec<String>, StoreError>;

    /// Every folder of a mailbox with its stamp: equal stamps mean nothing changed.
    async fn folder_stamps(&self, mailbox: &str) -> Result<Vec<(String, (i64, i64))>, StoreError>;

    /// The messages in one folder.
    async fn list(&self, mailbox: &str, folder: &str) -> Result<Listing, StoreError>;

    /// Reads and parses the requested messages.
    async fn read(&self, requests: Vec<ReadRequest>) -> Result<ReadBatch, StoreError>;
}

/// Runs `work` on every item across `threads` threads, keeping the input's order.
pub(crate) fn in_parallel<T: Sync, R: Send>(
    items: &[T],
    threads: usize,
    work: impl Fn(&T) -> R + Sync,
) -> Vec<R> {
    if items.is_empty() {
        return Vec::new();
    }
    let chunk = items.len().div_ceil(threads.max(1)).max(1);
    let work = &work;
    std::thread::scope(|scope| {
        let handles: Vec<_> = items
            .chunks(chunk)
            .map(|part| scope.spawn(move || part.iter().map(work).collect::<Vec<R>>()))
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap_or_default())
            .collect()
    })
}
