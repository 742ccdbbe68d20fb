//! What the index reads over JMAP: the configured mailboxes (accounts), each folder with a
//! stamp (the account's Email state and the folder's count: any change in the account lists
//! its folders again, and the index then reads only the ids it does not hold), a folder's Email
//! ids (from a snapshot of the whole account, one request per thousand Emails), and the new
//! messages — `Email/get` of their blob ids and arrival times, the raw message downloaded (at
//! most what the parser reads), parsed on the parser threads.

use futures_util::{StreamExt, TryStreamExt};
use serde_json::{json, Value};

use super::client::{expect, listed};
use super::Jmap;
use crate::parse::{content_hash, parse, FINGERPRINT_BYTES};
use crate::source::{in_parallel, plausible_arrival};
use crate::{Listing, MessageSource, ReadBatch, ReadMessage, ReadRequest, StoreError};

/// Ids one `Email/query` page asks for.
const PAGE: usize = 1024;

/// Downloads in flight at once while reading.
const DOWNLOADS: usize = 8;

/// An account's Emails by folder, as one scan saw them.
#[derive(Debug, Default)]
pub struct Snapshot {
    /// The account's Email state when it was read.
    state: String,
    /// Each folder's Email ids.
    folders: std::collections::HashMap<String, Vec<String>>,
}

/// One message as the server gave it.
struct Raw {
    id: String,
    received_at: Option<chrono::DateTime<chrono::Utc>>,
    size: u64,
    bytes: Vec<u8>,
}

/// A stable number for the account's state string (the stamp is two integers).
fn state_number(state: &str) -> i64 {
    use sha2::Digest;
    let digest = sha2::Sha256::digest(state.as_bytes());
    i64::from_be_bytes(digest[..8].try_into().unwrap_or_default())
}

#[async_trait::async_trait]
impl MessageSource for Jmap {
    async fn mailboxes(&self) -> Result<Vec<String>, StoreError> {
        Ok(self.index_mailboxes.as_ref().clone())
    }

    /// Each folder's stamp: the account's Email state and the folder's count, from a fresh
    /// snapshot of the account (which [`MessageSource::list`] then reads from).
    #[tracing::instrument(level = "debug", skip(self), fields(store = "jmap"))]
    async fn folder_stamps(&self, mailbox: &str) -> Result<Vec<(String, (i64, i64))>, StoreError> {
        let snapshot = self.snapshot(mailbox).await?;
        let state = state_number(&snapshot.state);
        let mut stamps: Vec<(String, (i64, i64))> = snapshot
            .folders
            .iter()
            .map(|(folder, ids)| (folder.clone(), (state, ids.len() as i64)))
            .collect();
        // In one order every time, as the other backends give them.
        stamps.sort();
        Ok(stamps)
    }

    #[tracing::instrument(level = "debug", skip(self), fields(store = "jmap"))]
    async fn list(&self, mailbox: &str, folder: &str) -> Result<Listing, StoreError> {
        let cached = self.snapshots.lock().await.get(mailbox).cloned();
        let snapshot = match cached {
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
    /// Every Email of the account with the folders it is in: `Email/query` of the whole
    /// account page by page, each page's `Email/get` of `mailboxIds` by back-reference in the
    /// same request. Kept for [`MessageSource::list`] until the next snapshot: one walk of
    /// the account lists every folder, where `inMailbox` queries would take one per folder.
    async fn snapshot(&self, mailbox: &str) -> Result<std::sync::Arc<Snapshot>, StoreError> {
        let account = self.account(mailbox).await?;
        let mut position = 0;
        let mut folders: std::collections::HashMap<String, Vec<String>> = Default::default();
        let mut state = String::new();
        let mut names = None;
        loop {
            let mut calls = Vec::new();
            if names.is_none() {
                calls.push(super::folders::get_call(&account, "m"));
            }
            calls.push(json!(["Email/query", {
                "accountId": account,
                "sort": [{"property": "receivedAt", "isAscending": true}],
                "position": position,
                "limit": PAGE,
            }, "q"]));
            calls.push(json!(["Email/get", {
                "accountId": account,
                "#ids": {"resultOf": "q", "name": "Email/query", "path": "/ids"},
                "properties": ["id", "mailboxIds"],
            }, "g"]));
            let mut answers = self.client.call(calls).await?;
            let got = expect(answers.pop(), "Email/get", mailbox)?;
            let page = expect(answers.pop(), "Email/query", mailbox)?;
            if names.is_none() {
                let list = expect(answers.pop(), "Mailbox/get", mailbox)?;
                let mailboxes = self.mailboxes_from(&list);
                for (_, folder) in mailboxes.ids() {
                    folders.entry(folder.clone()).or_default();
                }
                names = Some(mailboxes);
            }
            let mailboxes = names.as_ref().expect("read above");
            if position == 0 {
                state = got
                    .get("state")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string();
            }
            for email in listed(&got) {
                let Some(id) = email.get("id").and_then(Value::as_str) else {
                    continue;
                };
                let boxes = email.get("mailboxIds").and_then(Value::as_object);
                for (mailbox_id, _) in boxes
                    .into_iter()
                    .flatten()
                    .filter(|(_, v)| v.as_bool() == Some(true))
                {
                    if let Some(folder) = mailboxes.folder(mailbox_id) {
                        folders
                            .entry(folder.to_string())
                            .or_default()
                            .push(id.to_string());
                    }
                }
            }
            let ids = page
                .get("ids")
                .and_then(Value::as_array)
                .map_or(0, Vec::len);
            if ids < PAGE {
                break;
            }
            position += ids;
        }
        let snapshot = std::sync::Arc::new(Snapshot { state, folders });
        self.snapshots
            .lock()
            .await
            .insert(mailbox.to_string(), snapshot.clone());
        Ok(snapshot)
    }

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
