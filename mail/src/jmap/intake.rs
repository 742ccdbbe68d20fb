//! A report mailbox over JMAP: the inbox's oldest Emails (`Email/query`, then `Email/get` of
//! their blobs by back-reference, in one request), each downloaded up to a size; filing is the
//! same guarded move as execution's.

use serde_json::{json, Value};

use super::messages::{handle, GONE};
use super::Jmap;
use crate::intake::{Intake, Waiting};
use crate::{Found, StoreError};

#[async_trait::async_trait]
impl Intake for Jmap {
    async fn waiting(
        &self,
        mailbox: &str,
        max_messages: usize,
        max_bytes: u64,
    ) -> Result<Vec<Waiting>, StoreError> {
        let account = self.account(mailbox).await?;
        let mailboxes = self.mailboxes(&account, mailbox).await?;
        let Some(inbox) = mailboxes.id(&self.folders.inbox).map(str::to_string) else {
            return Ok(Vec::new());
        };
        let query = json!({
            "accountId": account,
            "filter": {"inMailbox": inbox},
            "sort": [{"property": "receivedAt", "isAscending": true}],
            "limit": max_messages,
        });
        let mut waiting = Vec::new();
        // One at a time: each is read whole (up to max_bytes) before the next.
        for (id, blob, email) in self.query_blobs(query, &["size"], mailbox).await? {
            let (raw, _) = self.client.download(&account, &blob, max_bytes).await?;
            waiting.push(Waiting {
                handle: handle(&id, &inbox),
                size: email.get("size").and_then(Value::as_u64).unwrap_or(0),
                raw,
            });
        }
        Ok(waiting)
    }

    async fn file(&self, mailbox: &str, handle: &str, folder: &str) -> Result<(), StoreError> {
        let account = self.account(mailbox).await?;
        let mut mailboxes = self.mailboxes(&account, mailbox).await?;
        self.folder_id(&account, mailbox, &mut mailboxes, folder, true)
            .await?;
        let found = Found {
            folder: self.folders.inbox.clone(),
            location: model::MessageLocation::Inbox,
            handle: handle.to_string(),
        };
        let outcome = self
            .move_into(mailbox, std::slice::from_ref(&found), folder, true)
            .await?;
        match outcome.into_iter().next() {
            // Filed already (another instance), or gone: nothing left to read twice.
            Some(Err(why)) if why != GONE && !why.starts_with("no longer in mailbox") => {
                Err(StoreError::Refused(why))
            }
            _ => Ok(()),
        }
    }
}
