//! Changing copies over JMAP: one `Email/set` per batch, sent with `ifInState` = the state in
//! which the batch's Emails were just seen. What to do with each copy is decided from where
//! its Email is then (a [`Plan`]); a copy no longer where it was found is never patched, and a
//! state that moved on in between makes the batch look again.

use std::collections::{BTreeMap, HashSet};

use serde_json::{json, Map, Value};

use super::client::expect;
use super::messages::{split, GONE};
use super::Jmap;
use crate::messages::{Found, ItemOutcome};
use crate::StoreError;

/// How many times a batch is tried again when the account changed between looking and acting.
const ATTEMPTS: usize = 5;

/// What to do with one copy.
pub(super) enum Plan {
    Done(ItemOutcome),
    Patch(Map<String, Value>),
    Destroy,
}

pub(super) fn moved_away(from: &str) -> Plan {
    Plan::Done(Err(format!(
        "no longer in mailbox {from}: moved since it was found"
    )))
}

impl Jmap {
    /// Patches (or destroys) a batch of copies under `ifInState`, looking again when the
    /// account changed in between. `plan` says, from the Emails' mailboxes now, what to do
    /// with each copy: a patch of its Email, destroying it, or an outcome without asking.
    pub(super) async fn change(
        &self,
        mailbox: &str,
        messages: &[Found],
        plan: impl Fn(&str, &str, &HashSet<String>) -> Plan,
    ) -> Result<Vec<ItemOutcome>, StoreError> {
        let account = self.account(mailbox).await?;
        let limit = {
            let session = self.client.session().await?;
            session.max_objects_in_set.min(session.max_objects_in_get)
        };
        let mut outcomes = Vec::with_capacity(messages.len());
        for batch in messages.chunks(limit.max(1)) {
            outcomes.extend(self.change_batch(&account, mailbox, batch, &plan).await?);
        }
        Ok(outcomes)
    }

    async fn change_batch(
        &self,
        account: &str,
        mailbox: &str,
        batch: &[Found],
        plan: &impl Fn(&str, &str, &HashSet<String>) -> Plan,
    ) -> Result<Vec<ItemOutcome>, StoreError> {
        let handles: Vec<Option<(&str, &str)>> = batch.iter().map(|m| split(&m.handle)).collect();
        let ids: Vec<&str> = handles
            .iter()
            .flatten()
            .map(|(email, _)| *email)
            .collect::<HashSet<_>>()
            .into_iter()
            .collect();
        for _ in 0..ATTEMPTS {
            let (_, seen) = self.seen(account, mailbox, &ids, Vec::new()).await?;
            let mut outcomes: Vec<Option<ItemOutcome>> = vec![None; batch.len()];
            let mut patches: BTreeMap<&str, Map<String, Value>> = BTreeMap::new();
            let mut destroy: BTreeMap<&str, ()> = BTreeMap::new();
            for (i, handle) in handles.iter().enumerate() {
                let Some((email, from)) = handle else {
                    outcomes[i] = Some(Err(format!("not a JMAP handle: {:?}", batch[i].handle)));
                    continue;
                };
                let Some(now) = seen.mailboxes.get(*email) else {
                    outcomes[i] = Some(Err(GONE.into()));
                    continue;
                };
                match plan(email, from, now) {
                    Plan::Done(outcome) => outcomes[i] = Some(outcome),
                    Plan::Patch(patch) => patches.entry(email).or_default().extend(patch),
                    Plan::Destroy => {
                        destroy.insert(email, ());
                    }
                }
            }
            // An Email both patched and destroyed (two of its copies): removing both copies
            // from their mailboxes is what is asked.
            let destroy: Vec<&str> = destroy
                .into_keys()
                .filter(|email| !patches.contains_key(email))
                .collect();
            if patches.is_empty() && destroy.is_empty() {
                return Ok(outcomes.into_iter().map(|o| o.unwrap_or(Ok(()))).collect());
            }
            let set = json!(["Email/set", {
                "accountId": account,
                "ifInState": seen.state,
                "update": patches,
                "destroy": destroy,
            }, "s"]);
            let mut answers = self.client.call(vec![set]).await?;
            let answer = answers.pop();
            if answer.as_ref().is_some_and(|(name, args)| {
                name == "error" && args.get("type").and_then(Value::as_str) == Some("stateMismatch")
            }) {
                tracing::debug!(mailbox, "the mailbox changed while acting; looking again");
                continue;
            }
            let answer = expect(answer, "Email/set", mailbox)?;
            let done = |email: &str| {
                let updated = answer
                    .get("updated")
                    .and_then(Value::as_object)
                    .is_some_and(|u| u.contains_key(email));
                let destroyed = answer
                    .get("destroyed")
                    .and_then(Value::as_array)
                    .is_some_and(|d| d.iter().any(|v| v.as_str() == Some(email)));
                if updated || destroyed {
                    return Ok(());
                }
                let why = ["notUpdated", "notDestroyed"]
                    .iter()
                    .find_map(|k| answer.get(*k).and_then(|m| m.get(email)))
                    .map(|e| {
                        let kind = e.get("type").and_then(Value::as_str).unwrap_or("refused");
                        match (
                            e.get("description").and_then(Value::as_str),
                            e.get("properties"),
                        ) {
                            (Some(d), _) => format!("{kind}: {d}"),
                            (None, Some(p)) => format!("{kind}: {p}"),
                            (None, None) => kind.to_string(),
                        }
                    })
                    .unwrap_or_else(|| "the server did not say it was done".into());
                Err(why)
            };
            return Ok(handles
                .iter()
                .zip(outcomes)
                .map(|(handle, outcome)| match (outcome, handle) {
                    (Some(outcome), _) => outcome,
                    (None, Some((email, _))) => done(email),
                    (None, None) => Err("not a JMAP handle".into()),
                })
                .collect());
        }
        Err(StoreError::Unavailable(format!(
            "mailbox {mailbox} kept changing while acting ({ATTEMPTS} tries)"
        )))
    }
}
