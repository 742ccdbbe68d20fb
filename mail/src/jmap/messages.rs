//! Finding, moving and deleting copies over JMAP. A copy is an Email id in one mailbox
//! (handle `emailId/mailboxId`). A move is one `Email/set` for a batch of Emails, patching
//! each one's `mailboxIds` (out of the copy's mailbox, into the destination), sent with
//! `ifInState` = the state in which the copies were just seen where execution found them:
//! a copy the user filed away in between is never patched into a second mailbox and counted
//! as moved, and a state that changed in between makes the batch look again.

use std::collections::{HashMap, HashSet};

use serde_json::{json, Map, Value};

use super::change::{moved_away, Plan};
use super::client::{expect, listed};
use super::folders::{get_call, Mailboxes};
use super::Jmap;
use crate::messages::{Copy, Found, ItemOutcome, Messages, Whereabouts};
use crate::parse::{content_hash, FINGERPRINT_BYTES};
use crate::{Destination, Folders, StoreError};

/// Most candidates of equal size whose content is compared when a copy's id finds nothing.
const CONTENT_CANDIDATES: usize = 50;

/// What a copy whose Email is in no mailbox of the account any more comes to.
pub const GONE: &str = "no longer in the mailbox";

/// A copy's handle: its Email id and the mailbox it is in.
pub fn handle(email: &str, mailbox_id: &str) -> String {
    format!("{email}/{mailbox_id}")
}

pub(super) fn split(handle: &str) -> Option<(&str, &str)> {
    handle.split_once('/').filter(|(e, m)| is_id(e) && is_id(m))
}

/// A JMAP Id (RFC 8620 1.2): 1 to 255 characters of the URL-safe base64 alphabet.
pub fn is_id(text: &str) -> bool {
    !text.is_empty()
        && text.len() <= 255
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// Each Email's mailboxes now, and the account's Email state then.
pub(super) struct Seen {
    pub state: String,
    pub mailboxes: HashMap<String, HashSet<String>>,
}

impl Jmap {
    /// `Email/get` of `ids`' mailboxes (after `before`, answered first).
    pub(super) async fn seen(
        &self,
        account: &str,
        mailbox: &str,
        ids: &[&str],
        before: Vec<Value>,
    ) -> Result<(Vec<super::client::Answer>, Seen), StoreError> {
        let mut calls = before;
        calls.push(json!(["Email/get", {
            "accountId": account, "ids": ids, "properties": ["id", "mailboxIds"],
        }, "e"]));
        let mut answers = self.client.call(calls).await?;
        let got = expect(answers.pop(), "Email/get", mailbox)?;
        let state = got
            .get("state")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        let mailboxes = listed(&got)
            .filter_map(|email| {
                let id = email.get("id")?.as_str()?.to_string();
                let boxes = email
                    .get("mailboxIds")?
                    .as_object()?
                    .iter()
                    .filter(|(_, v)| v.as_bool() == Some(true))
                    .map(|(k, _)| k.clone())
                    .collect();
                Some((id, boxes))
            })
            .collect();
        Ok((answers, Seen { state, mailboxes }))
    }

    /// Copies of this size whose content is the one the index fingerprinted.
    async fn by_content(
        &self,
        account: &str,
        mailbox: &str,
        sha256: &str,
        size: u64,
    ) -> Result<Vec<(String, HashSet<String>)>, StoreError> {
        let query = json!({
            "accountId": account,
            "filter": {"minSize": size, "maxSize": size + 1},
            "limit": CONTENT_CANDIDATES,
        });
        let mut matching = Vec::new();
        for (id, blob, email) in self.query_blobs(query, &["mailboxIds"], mailbox).await? {
            let (raw, _) = self
                .client
                .download(account, &blob, FINGERPRINT_BYTES as u64)
                .await?;
            if content_hash(&raw) == sha256 {
                let boxes = email
                    .get("mailboxIds")
                    .and_then(Value::as_object)
                    .map(|m| m.keys().cloned().collect())
                    .unwrap_or_default();
                matching.push((id.to_string(), boxes));
            }
        }
        Ok(matching)
    }

    /// The Emails an `Email/query` with these arguments finds, each with its id, blob id and
    /// the other properties asked for: one request, the `Email/get` by back-reference.
    pub(super) async fn query_blobs(
        &self,
        query: Value,
        properties: &[&str],
        mailbox: &str,
    ) -> Result<Vec<(String, String, Value)>, StoreError> {
        let account = query.get("accountId").cloned().unwrap_or(Value::Null);
        let mut wanted = vec!["id", "blobId"];
        wanted.extend_from_slice(properties);
        let calls = vec![
            json!(["Email/query", query, "q"]),
            json!(["Email/get", {
                "accountId": account,
                "#ids": {"resultOf": "q", "name": "Email/query", "path": "/ids"},
                "properties": wanted,
            }, "g"]),
        ];
        let mut answers = self.client.call(calls).await?;
        let got = expect(answers.pop(), "Email/get", mailbox)?;
        expect(answers.pop(), "Email/query", mailbox)?;
        Ok(listed(&got)
            .filter_map(|email| {
                let id = email.get("id")?.as_str()?.to_string();
                let blob = email.get("blobId")?.as_str()?.to_string();
                Some((id, blob, email.clone()))
            })
            .collect())
    }

    fn found(&self, mailboxes: &Mailboxes, email: &str, mailbox_id: &str) -> Found {
        let folder = mailboxes
            .folder(mailbox_id)
            .unwrap_or(mailbox_id)
            .to_string();
        Found {
            location: self.folders.location(&folder),
            folder,
            handle: handle(email, mailbox_id),
        }
    }
}

#[async_trait::async_trait]
impl Messages for Jmap {
    fn folders(&self) -> &Folders {
        &self.folders
    }

    #[tracing::instrument(level = "debug", skip_all, fields(store = "jmap", mailbox, copies = copies.len()))]
    async fn find(&self, mailbox: &str, copies: &[Copy]) -> Result<Vec<Whereabouts>, StoreError> {
        let account = self.account(mailbox).await?;
        let limit = self.client.session().await?.max_objects_in_get.max(1);
        let wanted: Vec<&str> = copies
            .iter()
            .map(|c| c.key.as_str())
            .filter(|k| is_id(k))
            .collect::<HashSet<_>>()
            .into_iter()
            .collect();
        let mut mailboxes = None;
        let mut now: HashMap<String, HashSet<String>> = HashMap::new();
        for (i, chunk) in wanted.chunks(limit).enumerate() {
            let before = if i == 0 {
                vec![get_call(&account, "m")]
            } else {
                Vec::new()
            };
            let (mut answers, seen) = self.seen(&account, mailbox, chunk, before).await?;
            if i == 0 {
                mailboxes =
                    Some(self.mailboxes_from(&expect(answers.pop(), "Mailbox/get", mailbox)?));
            }
            now.extend(seen.mailboxes);
        }
        let mailboxes = match mailboxes {
            Some(m) => m,
            None => self.mailboxes(&account, mailbox).await?,
        };
        let looked = mailboxes.names().join(", ");
        let mut answers = Vec::with_capacity(copies.len());
        for copy in copies {
            if let Some(boxes) = now.get(&copy.key) {
                let here = mailboxes.id(&copy.folder).filter(|id| boxes.contains(*id));
                let mut sorted: Vec<&String> = boxes.iter().collect();
                sorted.sort();
                if let Some(at) = here.or(sorted.first().map(|s| s.as_str())) {
                    answers.push(Whereabouts::At(self.found(&mailboxes, &copy.key, at)));
                    continue;
                }
            }
            let (Some(sha256), Some(size)) = (&copy.content_sha256, copy.size) else {
                answers.push(Whereabouts::Missing(format!(
                    "looked for its id in {looked}; nothing recorded to recognise its content by"
                )));
                continue;
            };
            let matching = self.by_content(&account, mailbox, sha256, size).await?;
            let at = matching.iter().find_map(|(email, boxes)| {
                let mut sorted: Vec<&String> = boxes.iter().collect();
                sorted.sort();
                sorted.first().map(|b| (email.as_str(), b.as_str()))
            });
            answers.push(match at {
                Some((email, at)) => Whereabouts::At(self.found(&mailboxes, email, at)),
                None => Whereabouts::Gone(format!("looked in {looked} by id and by content")),
            });
        }
        Ok(answers)
    }

    #[tracing::instrument(level = "debug", skip_all, fields(store = "jmap", mailbox, messages = messages.len()))]
    async fn move_to(
        &self,
        mailbox: &str,
        messages: &[Found],
        to: Destination,
    ) -> Result<Vec<ItemOutcome>, StoreError> {
        let name = self.folders.name(to).to_string();
        self.move_into(
            mailbox,
            messages,
            &name,
            to != Destination::RecoverableItems,
        )
        .await
    }

    #[tracing::instrument(level = "debug", skip_all, fields(store = "jmap", mailbox, messages = messages.len()))]
    async fn expunge(
        &self,
        mailbox: &str,
        messages: &[Found],
    ) -> Result<Vec<ItemOutcome>, StoreError> {
        // An Email in several mailboxes loses only the copies asked for; one left in none is
        // destroyed.
        let mut asked: HashMap<&str, HashSet<&str>> = HashMap::new();
        for (email, from) in messages.iter().filter_map(|m| split(&m.handle)) {
            asked.entry(email).or_default().insert(from);
        }
        self.change(mailbox, messages, |email, from, now| {
            if !now.contains(from) {
                return moved_away(from);
            }
            let leaving = asked.get(email).cloned().unwrap_or_default();
            if now.iter().all(|b| leaving.contains(b.as_str())) {
                Plan::Destroy
            } else {
                let mut patch = Map::new();
                patch.insert(format!("mailboxIds/{from}"), Value::Null);
                Plan::Patch(patch)
            }
        })
        .await
    }
}

impl Jmap {
    /// Moves copies into the folder named `folder` (created when missing; `subscribed` says
    /// whether mail clients list it).
    pub(super) async fn move_into(
        &self,
        mailbox: &str,
        messages: &[Found],
        folder: &str,
        subscribed: bool,
    ) -> Result<Vec<ItemOutcome>, StoreError> {
        let account = self.account(mailbox).await?;
        let mut mailboxes = self.mailboxes(&account, mailbox).await?;
        let dest = self
            .folder_id(&account, mailbox, &mut mailboxes, folder, subscribed)
            .await?;
        self.change(mailbox, messages, |_, from, now| {
            if from == dest && now.contains(from) {
                return Plan::Done(Ok(()));
            }
            if !now.contains(from) {
                return moved_away(from);
            }
            let mut patch = Map::new();
            patch.insert(format!("mailboxIds/{from}"), Value::Null);
            patch.insert(format!("mailboxIds/{dest}"), Value::Bool(true));
            Plan::Patch(patch)
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn handles_hold_two_jmap_ids_and_nothing_else() {
        assert_eq!(split(&handle("Mabc", "P-1_x")), Some(("Mabc", "P-1_x")));
        for wrong in ["", "Mabc", "Mabc/", "/P1", "M/a/b", "M c/P1", "M\n/P1"] {
            assert_eq!(split(wrong), None, "{wrong:?}");
        }
        assert!(!is_id(&"a".repeat(256)));
    }
}
