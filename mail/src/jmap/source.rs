//! What the index reads over JMAP: the configured mailboxes (accounts), each folder with a
//! stamp and its Email ids (from the account's snapshot, kept up to date with `Email/changes`:
//! see `snapshot.rs`), and the new messages — `Email/get` of their blob ids and arrival
//! times, the raw message downloaded (at most what the parser reads), parsed on the parser
//! threads.

use futures_util::{StreamExt, TryStreamExt};
use serde_json::{json, Value};

use super::client::{expect, listed};
use super::Jmap;
use crate::parse::{content_hash, parse, FINGERPRINT_BYTES};
use crate::source::{in_parallel, plausible_arrival};
use crate::{Listing, MessageSource, ReadBatch, ReadMessage, ReadRequest, StoreError};

/// Downloads in flight at once while reading.
const DOWNLOADS: usize = 8;

/// One message as the server gave it.
struct Raw {
    id: String,
    received_at: Option<chrono::DateTime<chrono::Utc>>,
    size: u64,
    bytes: Vec<u8>,
}

#[async_trait::async_trait]
impl MessageSource for Jmap {
    async fn mailboxes(&self) -> Result<Vec<String>, StoreError> {
        Ok(self.index_mailboxes.as_ref().clone())
    }

    /// Each folder's stamp, from the account brought up to date (which
    /// [`MessageSource::list`] then reads from): unchanged folders keep theirs.
    #[tracing::instrument(level = "debug", skip(self), fields(store = "jmap"))]
    async fn folder_stamps(&self, mailbox: &str) -> Result<Vec<(String, (i64, i64))>, StoreError> {
        Ok(self.snapshot(mailbox).await?.stamps.clone())
    }

    #[tracing::instrument(level = "debug", skip(self), fields(store = "jmap"))]
    async fn list(&self, mailbox: &str, folder: &str) -> Result<Listing, StoreError> {
        let snapshot = match self.last_snapshot(mailbox).await {
            Some(snapshot) => snapshot,
            None => self.snapshot(mailbox).await?,
        };
        Ok(Listing {
            messages: snapshot
                .folders
                .get(folder)
                .into_iter()
                .flatten()
                .map(|id| (id.clone(), id.clone()))
                .collect(),
            generation: 0,
        })
    }

    #[tracing::instrument(level = "debug", skip_all, fields(store = "jmap", folders = requests.len()))]
    async fn read(&self, requests: Vec<ReadRequest>) -> Result<ReadBatch, StoreError> {
        let limit = (self.limits.max_body_bytes + 1).max(FINGERPRINT_BYTES as u64);
        let per_get = self
            .client
            .session()
            .await?
            .max_objects_in_get
            .clamp(1, 500);
        let mut batch = ReadBatch {
            folders: requests.iter().map(|_| Vec::new()).collect(),
            unreadable: 0,
        };
        for (i, request) in requests.iter().enumerate() {
            let account = self.account(&request.mailbox).await?;
            let ids: Vec<&str> = request.messages.iter().map(|(_, h)| h.as_str()).collect();
            for chunk in ids.chunks(per_get) {
                let get = json!(["Email/get", {
                    "accountId": account, "ids": chunk,
                    "properties": ["id", "blobId", "size", "receivedAt"],
                }, "g"]);
                let mut answers = self.client.call(vec![get]).await?;
                let got = expect(answers.pop(), "Email/get", &request.mailbox)?;
                let emails: Vec<Value> = listed(&got).cloned().collect();
                batch.unreadable += chunk.len().saturating_sub(emails.len());
                let account = &account;
                let raw: Vec<Option<Raw>> = futures_util::stream::iter(emails)
                    .map(|email| async move {
                        let (Some(id), Some(blob)) = (
                            email.get("id").and_then(Value::as_str),
                            email.get("blobId").and_then(Value::as_str),
                        ) else {
                            return Ok(None);
                        };
                        let (bytes, _) = self.client.download(account, blob, limit).await?;
                        Ok::<_, StoreError>(Some(Raw {
                            id: id.to_string(),
                            received_at: email
                                .get("receivedAt")
                                .and_then(Value::as_str)
                                .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
                                .map(|t| t.with_timezone(&chrono::Utc)),
                            size: email.get("size").and_then(Value::as_u64).unwrap_or(0),
                            bytes,
                        }))
                    })
                    .buffered(DOWNLOADS)
                    .try_collect()
                    .await?;
                batch.unreadable += raw.iter().filter(|r| r.is_none()).count();
                let raw: Vec<Raw> = raw.into_iter().flatten().collect();
                batch.folders[i].extend(self.parse_raw(raw).await?);
            }
        }
        Ok(batch)
    }
}

impl Jmap {
    /// Parses downloaded messages on the parser threads.
    async fn parse_raw(&self, raw: Vec<Raw>) -> Result<Vec<ReadMessage>, StoreError> {
        let max_body = self.limits.max_body_bytes;
        let threads = self.limits.threads();
        tokio::task::spawn_blocking(move || {
            in_parallel(&raw, threads, |raw| {
                let parsed = parse(&raw.bytes, raw.size <= max_body);
                let now = chrono::Utc::now();
                let received_at = [raw.received_at, parsed.date]
                    .into_iter()
                    .flatten()
                    .find(|t| plausible_arrival(*t, now))
                    .unwrap_or(now);
                ReadMessage {
                    key: raw.id.clone(),
                    received_at,
                    size: raw.size,
                    content_sha256: content_hash(&raw.bytes),
                    parsed,
                }
            })
        })
        .await
        .map_err(|e| StoreError::Unavailable(format!("parser stopped: {e}")))
    }
}
