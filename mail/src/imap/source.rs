//! The index's reading of an IMAP server: STATUS (UIDVALIDITY UIDNEXT MESSAGES) stamps each
//! folder without selecting it; a changed folder's UIDs come from one UID SEARCH ALL; new
//! messages from UID FETCH of just those UIDs — their sizes first, then their content in
//! fetches of at most [`FETCH_BYTES`], each parsed on every core before the next.

use futures_util::TryStreamExt;

use super::conn::Conn;
use super::messages::uid_set;
use super::{imap_error, Imap};
use crate::parse::{content_hash, parse, FINGERPRINT_BYTES};
use crate::source::{
    in_parallel, plausible_arrival, Listing, MessageSource, ReadBatch, ReadMessage, ReadRequest,
};
use crate::StoreError;

/// One message as the indexer reads it over IMAP.
#[derive(Debug, Clone)]
pub(super) struct RawMessage {
    pub(super) uid: u32,
    /// When the server received it (INTERNALDATE), not the sender's Date header.
    received_at: Option<chrono::DateTime<chrono::Utc>>,
    pub(super) size: u32,
    /// At most the first `limit` bytes asked for.
    pub(super) bytes: Vec<u8>,
}

/// What the message index needs over IMAP: cheap stamps to skip unchanged folders, the UIDs of
/// a changed one, and the new messages themselves.
impl Imap {
    /// Every selectable folder of `mailbox` with (UIDVALIDITY, UIDNEXT, MESSAGES) from STATUS:
    /// one round trip per folder, no SELECT.
    async fn status_stamps(
        &self,
        mailbox: &str,
    ) -> Result<Vec<(String, u32, u32, u32)>, StoreError> {
        self.with_session(mailbox, async move |conn: &mut Conn| {
            // A pooled session may hold a folder selected since the last scan: NOOP brings its
            // view up to date (STATUS of a selected folder may answer from the stale view).
            conn.session.noop().await.map_err(imap_error)?;
            conn.folders = None; // folders come and go between scans
            let mut stamps = Vec::new();
            for folder in conn.folders().await? {
                let status = match conn
                    .session
                    .status(&folder, "(UIDVALIDITY UIDNEXT MESSAGES)")
                    .await
                    .map_err(imap_error)
                {
                    Ok(status) => status,
                    // One folder the server will not open (a stray file where a folder should
                    // be, say) must not hide the mailbox's other folders from the index.
                    Err(StoreError::Refused(why)) => {
                        tracing::warn!(
                            mailbox,
                            folder,
                            why,
                            "the server refused a folder's STATUS; not indexed"
                        );
                        continue;
                    }
                    Err(unavailable) => return Err(unavailable),
                };
                stamps.push((
                    folder,
                    status.uid_validity.unwrap_or(0),
                    status.uid_next.unwrap_or(0),
                    status.exists,
                ));
            }
            Ok(stamps)
        })
        .await
    }

    /// A folder's UIDVALIDITY and every UID in it.
    pub(super) async fn folder_uids(
        &self,
        mailbox: &str,
        folder: &str,
    ) -> Result<(u32, Vec<u32>), StoreError> {
        self.with_session(mailbox, async move |conn: &mut Conn| {
            let (exists, validity) = conn.select(folder).await?;
            if exists == 0 {
                return Ok((validity.unwrap_or(0), Vec::new()));
            }
            let mut uids: Vec<u32> = conn
                .session
                .uid_search("ALL")
                .await
                .map_err(imap_error)?
                .into_iter()
                .collect();
            uids.sort_unstable();
            Ok((validity.unwrap_or(0), uids))
        })
        .await
    }

    /// Each message's size (RFC822.SIZE, no content): what [`fetch_chunks`] divides the
    /// fetches by. Empty when the folder's UIDVALIDITY is no longer `validity`.
    async fn sizes(
        &self,
        mailbox: &str,
        folder: &str,
        validity: u32,
        uids: &[u32],
    ) -> Result<Vec<(u32, u32)>, StoreError> {
        let uids = uids.to_vec();
        self.with_session(mailbox, async move |conn: &mut Conn| {
            if conn.selected(folder).await?.unwrap_or(0) != validity {
                return Ok(Vec::new());
            }
            let mut sizes = Vec::with_capacity(uids.len());
            for chunk in uids.chunks(1000) {
                let fetches: Vec<_> = conn
                    .session
                    .uid_fetch(uid_set(chunk), "(UID RFC822.SIZE)")
                    .await
                    .map_err(imap_error)?
                    .try_collect()
                    .await
                    .map_err(imap_error)?;
                sizes.extend(
                    fetches
                        .iter()
                        .filter_map(|fetch| Some((fetch.uid?, fetch.size.unwrap_or(0)))),
                );
            }
            Ok(sizes)
        })
        .await
    }

    /// The first `limit` bytes of each message, with its size and arrival time; empty when the
    /// folder's UIDVALIDITY is no longer `validity` (the next scan starts it over).
    pub(super) async fn fetch_raw(
        &self,
        mailbox: &str,
        folder: &str,
        validity: u32,
        uids: &[u32],
        limit: u64,
    ) -> Result<Vec<RawMessage>, StoreError> {
        let uids = uids.to_vec();
        self.with_session(mailbox, async move |conn: &mut Conn| {
            if conn.selected(folder).await?.unwrap_or(0) != validity {
                return Ok(Vec::new());
            }
            let fetches: Vec<_> = conn
                .session
                .uid_fetch(
                    uid_set(&uids),
                    format!("(UID INTERNALDATE RFC822.SIZE BODY.PEEK[]<0.{limit}>)"),
                )
                .await
                .map_err(imap_error)?
                .try_collect()
                .await
                .map_err(imap_error)?;
            Ok(fetches
                .iter()
                .filter_map(|fetch| {
                    Some(RawMessage {
                        uid: fetch.uid?,
                        received_at: fetch.internal_date().map(|d| d.with_timezone(&chrono::Utc)),
                        size: fetch.size.unwrap_or(0),
                        bytes: fetch.body().map(<[u8]>::to_vec).unwrap_or_default(),
                    })
                })
                .collect())
        })
        .await
    }

    /// Parses fetched messages on the parser threads.
    async fn parse_raw(
        &self,
        raw: Vec<RawMessage>,
        validity: u32,
    ) -> Result<Vec<ReadMessage>, StoreError> {
        let max_body = self.limits.max_body_bytes;
        let threads = self.limits.threads();
        tokio::task::spawn_blocking(move || {
            in_parallel(&raw, threads, |raw| {
                let parsed = parse(&raw.bytes, u64::from(raw.size) <= max_body);
                let now = chrono::Utc::now();
                if let Some(internal) = raw.received_at.filter(|t| !plausible_arrival(*t, now)) {
                    tracing::warn!(uid = raw.uid, %internal, "the server's INTERNALDATE cannot be right; using the Date header");
                }
                let received_at = [raw.received_at, parsed.date]
                    .into_iter()
                    .flatten()
                    .find(|t| plausible_arrival(*t, now))
                    .unwrap_or(now);
                ReadMessage {
                    key: super::messages::handle(validity, raw.uid),
                    received_at,
                    size: u64::from(raw.size),
                    content_sha256: content_hash(&raw.bytes),
                    parsed,
                }
            })
        })
        .await
        .map_err(|e| StoreError::Unavailable(format!("parser stopped: {e}")))
    }
}

/// Content asked for by one UID FETCH at most: what a scan holds in memory before parsing,
/// whatever the folder's size (a single larger message is fetched alone).
const FETCH_BYTES: u64 = 16 * 1024 * 1024;

/// Most messages one UID FETCH names.
const FETCH_MESSAGES: usize = 200;

/// Divides messages (UID, size) into fetches of at most `budget` bytes of content (each
/// message counted up to the `limit` fetched of it) and [`FETCH_MESSAGES`] messages.
fn fetch_chunks(sizes: &[(u32, u32)], limit: u64, budget: u64) -> Vec<Vec<u32>> {
    let mut chunks = Vec::new();
    let mut chunk = Vec::new();
    let mut bytes = 0;
    for &(uid, size) in sizes {
        let fetched = u64::from(size).min(limit);
        if !chunk.is_empty() && (bytes + fetched > budget || chunk.len() == FETCH_MESSAGES) {
            chunks.push(std::mem::take(&mut chunk));
            bytes = 0;
        }
        chunk.push(uid);
        bytes += fetched;
    }
    if !chunk.is_empty() {
        chunks.push(chunk);
    }
    chunks
}

#[async_trait::async_trait]
impl MessageSource for Imap {
    async fn mailboxes(&self) -> Result<Vec<String>, StoreError> {
        Ok(self.index_mailboxes.to_vec())
    }

    #[tracing::instrument(level = "debug", skip(self), fields(store = "imap"))]
    async fn folder_stamps(&self, mailbox: &str) -> Result<Vec<(String, (i64, i64))>, StoreError> {
        Ok(self
            .status_stamps(mailbox)
            .await?
            .into_iter()
            .map(|(folder, validity, next, count)| {
                let stamp = (
                    i64::from(validity),
                    (i64::from(next) << 32) | i64::from(count),
                );
                (folder, stamp)
            })
            .collect())
    }

    #[tracing::instrument(level = "debug", skip(self), fields(store = "imap"))]
    async fn list(&self, mailbox: &str, folder: &str) -> Result<Listing, StoreError> {
        let (validity, uids) = self.folder_uids(mailbox, folder).await?;
        Ok(Listing {
            messages: uids
                .into_iter()
                .map(|uid| (super::messages::handle(validity, uid), uid.to_string()))
                .collect(),
            generation: validity,
        })
    }

    /// Reads new messages a bounded number of bytes at a time: their sizes first, then
    /// fetches of at most [`FETCH_BYTES`], each parsed before the next is asked for.
    #[tracing::instrument(level = "debug", skip_all, fields(store = "imap", folders = requests.len()))]
    async fn read(&self, requests: Vec<ReadRequest>) -> Result<ReadBatch, StoreError> {
        let limit = (self.limits.max_body_bytes + 1).max(FINGERPRINT_BYTES as u64);
        let mut batch = ReadBatch {
            folders: requests.iter().map(|_| Vec::new()).collect(),
            unreadable: 0,
        };
        for (i, request) in requests.iter().enumerate() {
            let uids: Vec<u32> = request
                .messages
                .iter()
                .filter_map(|(_, handle)| handle.parse().ok())
                .collect();
            let (mailbox, folder, validity) =
                (&request.mailbox, &request.folder, request.generation);
            let sizes = self.sizes(mailbox, folder, validity, &uids).await?;
            for chunk in fetch_chunks(&sizes, limit, FETCH_BYTES) {
                let raw = self
                    .fetch_raw(mailbox, folder, validity, &chunk, limit)
                    .await?;
                batch.folders[i].extend(self.parse_raw(raw, validity).await?);
            }
        }
        Ok(batch)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fetches_are_bounded_by_bytes_and_messages() {
        let mb = 1024 * 1024;
        let sizes = [(1, 6 * mb), (2, 6 * mb), (3, 6 * mb), (4, 1)];
        assert_eq!(
            fetch_chunks(&sizes, 64 * u64::from(mb), 16 * u64::from(mb)),
            vec![vec![1, 2], vec![3, 4]]
        );
        // A message larger than the budget is fetched alone, and counted up to the limit.
        let sizes = [(1, 1), (2, 40 * mb), (3, 1)];
        assert_eq!(
            fetch_chunks(&sizes, 32 * u64::from(mb), 16 * u64::from(mb)),
            vec![vec![1], vec![2], vec![3]]
        );
        let many: Vec<(u32, u32)> = (1..=450).map(|uid| (uid, 10)).collect();
        let chunks = fetch_chunks(&many, 100, u64::MAX);
        assert_eq!(
            chunks.iter().map(Vec::len).collect::<Vec<_>>(),
            vec![200, 200, 50]
        );
        assert!(fetch_chunks(&[], 100, 100).is_empty());
    }
}
