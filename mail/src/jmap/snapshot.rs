//! What the index knows of a JMAP account between scans: every Email's mailboxes and the
//! account's Email state. The first scan walks the whole account (`Email/query` page by page,
//! each page's `mailboxIds` by back-reference); every later one asks `Email/changes` from the
//! state it holds and reads only the created and updated Emails' mailboxes, in the same
//! request — one round trip when nothing changed. A state the server can no longer calculate
//! changes from (`cannotCalculateChanges`) means one more walk.

use std::collections::HashMap;
use std::sync::Arc;

use serde_json::{json, Value};

use super::client::{expect, listed};
use super::folders::{get_call, Mailboxes};
use super::Jmap;
use crate::StoreError;

/// Ids one `Email/query` page asks for, and changes one `Email/changes` call asks for, at
/// most: never more than the server's `maxObjectsInGet`, since the `Email/get` beside each
/// call reads them all.
const PAGE: usize = 1024;

/// An account's Emails, as one scan saw them.
#[derive(Debug, Default)]
pub struct Snapshot {
    /// The account's Email state when it was read: where `Email/changes` starts next time.
    state: String,
    /// The account's Mailbox state: folders renamed, made or removed change it.
    mailbox_state: String,
    /// Each Email's mailbox ids.
    emails: HashMap<String, Vec<String>>,
    /// Each folder's Email ids, sorted (folders without any included).
    pub folders: HashMap<String, Vec<String>>,
    /// Each folder's stamp: a sum of its ids' hashes (so it changes when any one does, and
    /// only then) and their count, in folder order.
    pub stamps: Vec<(String, (i64, i64))>,
}

impl Snapshot {
    fn new(
        state: String,
        mailbox_state: String,
        emails: HashMap<String, Vec<String>>,
        mailboxes: &Mailboxes,
    ) -> Snapshot {
        let mut folders: HashMap<String, Vec<String>> = mailboxes
            .ids()
            .map(|(_, folder)| (folder.clone(), Vec::new()))
            .collect();
        for (id, boxes) in &emails {
            for folder in boxes.iter().filter_map(|b| mailboxes.folder(b)) {
                folders
                    .entry(folder.to_string())
                    .or_default()
                    .push(id.clone());
            }
        }
        let mut stamps: Vec<(String, (i64, i64))> = folders
            .iter_mut()
            .map(|(folder, ids)| {
                ids.sort_unstable();
                let sum = ids
                    .iter()
                    .fold(0i64, |sum, id| sum.wrapping_add(id_hash(id)));
                (folder.clone(), (sum, ids.len() as i64))
            })
            .collect();
        stamps.sort();
        Snapshot {
            state,
            mailbox_state,
            emails,
            folders,
            stamps,
        }
    }
}

/// A stable 64-bit number for an Email id.
fn id_hash(id: &str) -> i64 {
    use sha2::Digest;
    let digest = sha2::Sha256::digest(id.as_bytes());
    i64::from_be_bytes(digest[..8].try_into().unwrap_or_default())
}

/// The ids in a `mailboxIds` object that are set.
fn mailbox_ids(email: &Value) -> Vec<String> {
    email
        .get("mailboxIds")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
        .filter(|(_, v)| v.as_bool() == Some(true))
        .map(|(id, _)| id.clone())
        .collect()
}

fn string(value: &Value, field: &str) -> String {
    value
        .get(field)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string()
}

fn ids<'a>(value: &'a Value, field: &str) -> impl Iterator<Item = &'a str> {
    value
        .get(field)
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
}

impl Jmap {
    /// The account as it is now: caught up from the last snapshot, or walked whole when there
    /// is none or the server cannot say what changed since; kept for the next scan.
    pub(super) async fn snapshot(&self, mailbox: &str) -> Result<Arc<Snapshot>, StoreError> {
        let last = self.snapshots.lock().await.get(mailbox).cloned();
        let snapshot = match last {
            Some(last) => match self.catch_up(mailbox, last).await? {
                Some(snapshot) => snapshot,
                None => self.walk(mailbox).await?,
            },
            None => self.walk(mailbox).await?,
        };
        self.snapshots
            .lock()
            .await
            .insert(mailbox.to_string(), snapshot.clone());
        Ok(snapshot)
    }

    /// The last snapshot taken of an account, if any.
    pub(super) async fn last_snapshot(&self, mailbox: &str) -> Option<Arc<Snapshot>> {
        self.snapshots.lock().await.get(mailbox).cloned()
    }

    /// How many ids one call asks for.
    async fn per_call(&self) -> Result<usize, StoreError> {
        Ok(self
            .client
            .session()
            .await?
            .max_objects_in_get
            .clamp(1, PAGE))
    }

    /// Every Email of the account with its mailboxes: one walk lists every folder, where
    /// `inMailbox` queries would take one request per folder.
    async fn walk(&self, mailbox: &str) -> Result<Arc<Snapshot>, StoreError> {
        let account = self.account(mailbox).await?;
        let per_call = self.per_call().await?;
        let mut position = 0;
        let mut emails = HashMap::new();
        let mut state = String::new();
        let mut names: Option<(Mailboxes, String)> = None;
        loop {
            let mut calls = Vec::new();
            if names.is_none() {
                calls.push(get_call(&account, "m"));
            }
            calls.push(json!(["Email/query", {
                "accountId": account,
                "sort": [{"property": "receivedAt", "isAscending": true}],
                "position": position,
                "limit": per_call,
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
                names = Some((self.mailboxes_from(&list), string(&list, "state")));
            }
            if position == 0 {
                state = string(&got, "state");
            }
            for email in listed(&got) {
                if let Some(id) = email.get("id").and_then(Value::as_str) {
                    emails.insert(id.to_string(), mailbox_ids(email));
                }
            }
            let count = page
                .get("ids")
                .and_then(Value::as_array)
                .map_or(0, Vec::len);
            if count < per_call {
                break;
            }
            position += count;
        }
        let (mailboxes, mailbox_state) = names.unwrap_or_default();
        Ok(Arc::new(Snapshot::new(
            state,
            mailbox_state,
            emails,
            &mailboxes,
        )))
    }

    /// `last` brought up to date with `Email/changes`; `last` itself when nothing changed;
    /// `None` when the server cannot calculate the changes since its state.
    async fn catch_up(
        &self,
        mailbox: &str,
        last: Arc<Snapshot>,
    ) -> Result<Option<Arc<Snapshot>>, StoreError> {
        let account = self.account(mailbox).await?;
        let per_call = self.per_call().await?;
        let mut state = last.state.clone();
        let mut emails: Option<HashMap<String, Vec<String>>> = None;
        let mut names: Option<(Mailboxes, String)> = None;
        loop {
            let mut calls = Vec::new();
            if names.is_none() {
                calls.push(get_call(&account, "m"));
            }
            calls.push(json!(["Email/changes", {
                "accountId": account, "sinceState": state, "maxChanges": per_call,
            }, "c"]));
            for (path, call_id) in [("/created", "n"), ("/updated", "u")] {
                calls.push(json!(["Email/get", {
                    "accountId": account,
                    "#ids": {"resultOf": "c", "name": "Email/changes", "path": path},
                    "properties": ["id", "mailboxIds"],
                }, call_id]));
            }
            let mut answers = self.client.call(calls).await?;
            let (updated, created) = (answers.pop(), answers.pop());
            let changes = match expect(answers.pop(), "Email/changes", mailbox) {
                Err(StoreError::Refused(why)) if why.contains("cannotCalculateChanges") => {
                    tracing::info!(mailbox, "JMAP cannot say what changed since the last scan; reading the whole account");
                    return Ok(None);
                }
                answer => answer?,
            };
            let created = expect(created, "Email/get", mailbox)?;
            let updated = expect(updated, "Email/get", mailbox)?;
            if names.is_none() {
                let list = expect(answers.pop(), "Mailbox/get", mailbox)?;
                names = Some((self.mailboxes_from(&list), string(&list, "state")));
            }
            let new_state = string(&changes, "newState");
            let more = changes.get("hasMoreChanges").and_then(Value::as_bool) == Some(true);
            let unchanged = new_state == last.state
                && names
                    .as_ref()
                    .is_some_and(|(_, s)| *s == last.mailbox_state);
            if unchanged && emails.is_none() && !more {
                return Ok(Some(last));
            }
            let emails = emails.get_or_insert_with(|| last.emails.clone());
            for id in ids(&changes, "destroyed")
                .chain(ids(&created, "notFound"))
                .chain(ids(&updated, "notFound"))
            {
                emails.remove(id);
            }
            for email in listed(&created).chain(listed(&updated)) {
                if let Some(id) = email.get("id").and_then(Value::as_str) {
                    emails.insert(id.to_string(), mailbox_ids(email));
                }
            }
            if new_state.is_empty() || new_state == state && more {
                // A server that promises more changes but does not move on would loop forever.
                return Ok(None);
            }
            state = new_state;
            if !more {
                break;
            }
        }
        let (mailboxes, mailbox_state) = names.unwrap_or_default();
        Ok(Some(Arc::new(Snapshot::new(
            state,
            mailbox_state,
            emails.unwrap_or_default(),
            &mailboxes,
        ))))
    }
}
