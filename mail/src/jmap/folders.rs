//! A JMAP account's mailboxes as airdesk's folders: the inbox, junk and trash by their roles
//! (named as [`Folders`] names them, so locations read the same on every backend), every other
//! one by its path; and the destination folders created when missing.

use std::collections::HashMap;

use serde_json::{json, Value};

use super::client::{expect, listed};
use super::Jmap;
use crate::StoreError;

/// The account's mailboxes: folder name ↔ mailbox id.
#[derive(Debug, Default, Clone)]
pub struct Mailboxes {
    by_name: HashMap<String, String>,
    by_id: HashMap<String, String>,
}

impl Mailboxes {
    pub fn id(&self, folder: &str) -> Option<&str> {
        self.by_name.get(folder).map(String::as_str)
    }

    pub fn folder(&self, id: &str) -> Option<&str> {
        self.by_id.get(id).map(String::as_str)
    }

    /// Every folder, by name.
    pub fn names(&self) -> Vec<String> {
        let mut names: Vec<String> = self.by_name.keys().cloned().collect();
        names.sort();
        names
    }

    pub fn ids(&self) -> impl Iterator<Item = (&String, &String)> {
        self.by_id.iter()
    }
}

/// The `Mailbox/get` call that [`Jmap::mailboxes_from`] reads.
pub fn get_call(account: &str, call_id: &str) -> Value {
    json!(["Mailbox/get", {
        "accountId": account,
        "properties": ["id", "name", "parentId", "role"],
    }, call_id])
}

impl Jmap {
    /// Reads a `Mailbox/get` answer.
    pub(super) fn mailboxes_from(&self, list: &Value) -> Mailboxes {
        let list: Vec<&Value> = listed(list).collect();
        let field = |m: &Value, name: &str| m.get(name).and_then(Value::as_str).map(str::to_string);
        let parents: HashMap<String, (String, Option<String>)> = list
            .iter()
            .filter_map(|m| Some((field(m, "id")?, (field(m, "name")?, field(m, "parentId")))))
            .collect();
        let path = |id: &str| {
            let mut parts = Vec::new();
            let mut at = Some(id.to_string());
            while let Some(id) = at.take() {
                let Some((name, parent)) = parents.get(&id) else {
                    break;
                };
                parts.push(name.clone());
                if parts.len() > 64 {
                    break;
                }
                at = parent.clone();
            }
            parts.reverse();
            parts.join("/")
        };
        let mut mailboxes = Mailboxes::default();
        for m in &list {
            let Some(id) = field(m, "id") else { continue };
            let name = match field(m, "role").as_deref() {
                Some("inbox") => self.folders.inbox.clone(),
                Some("junk") => self.folders.junk.clone(),
                Some("trash") => self.folders.deleted_items.clone(),
                _ => path(&id),
            };
            // A role wins over a mailbox that merely has the name.
            if m.get("role").and_then(Value::as_str).is_some()
                || !mailboxes.by_name.contains_key(&name)
            {
                mailboxes.by_name.insert(name.clone(), id.clone());
            }
            mailboxes.by_id.insert(id, name);
        }
        mailboxes
    }

    /// The account's mailboxes now.
    pub(super) async fn mailboxes(
        &self,
        account: &str,
        mailbox: &str,
    ) -> Result<Mailboxes, StoreError> {
        let mut answers = self.client.call(vec![get_call(account, "m")]).await?;
        let list = expect(answers.pop(), "Mailbox/get", mailbox)?;
        Ok(self.mailboxes_from(&list))
    }

    /// A folder's mailbox id, created at the top level when missing.
    pub(super) async fn folder_id(
        &self,
        account: &str,
        mailbox: &str,
        mailboxes: &mut Mailboxes,
        name: &str,
        subscribed: bool,
    ) -> Result<String, StoreError> {
        if let Some(id) = mailboxes.id(name) {
            return Ok(id.to_string());
        }
        let create = json!(["Mailbox/set", {
            "accountId": account,
            "create": {"new": {"name": name, "parentId": null, "isSubscribed": subscribed}},
        }, "c"]);
        let mut answers = self
            .client
            .call(vec![create, get_call(account, "m")])
            .await?;
        let list = expect(answers.pop(), "Mailbox/get", mailbox)?;
        let set = expect(answers.pop(), "Mailbox/set", mailbox)?;
        *mailboxes = self.mailboxes_from(&list);
        // Created now, or by someone else just before (then ours was refused as a duplicate).
        mailboxes.id(name).map(str::to_string).ok_or_else(|| {
            let why = set
                .pointer("/notCreated/new")
                .map(Value::to_string)
                .unwrap_or_else(|| "not created".into());
            StoreError::Refused(format!("cannot create folder {name:?} in {mailbox}: {why}"))
        })
    }
}
