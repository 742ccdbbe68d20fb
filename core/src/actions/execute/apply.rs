//! Moving (or expunging) an action's messages, a mailbox batch at a time: find where each copy
//! is now, act on the copies not yet where they should be, and say what became of each message.

use std::collections::BTreeMap;

use std::sync::atomic::{AtomicBool, Ordering};

use futures_util::StreamExt;

use super::jobs::{self, Claimed, ClaimedAction};
use super::{Executor, Outcome, Stop};
use crate::db::query;
use mail::{Destination, Found, ItemOutcome, StoreError};
use model::{message_id, ActionType, MessageLocation, MessageResult};

impl Executor {
    /// Carries out an email action: every message it covers that has no result yet.
    pub(super) async fn move_messages(&self, job: &Claimed, kind: ActionType) -> Result<(), Stop> {
        let destination = match kind {
            ActionType::MoveToInbox => Some(Destination::Inbox),
            ActionType::MoveToJunk => Some(Destination::Junk),
            ActionType::MoveToDeletedItems => Some(Destination::DeletedItems),
            ActionType::HardDelete => None,
            _ => Some(Destination::RecoverableItems),
        };
        let todo = self.messages_left(&job.action).await?;
        let mut by_mailbox: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for (mailbox, id) in todo {
            by_mailbox.entry(mailbox).or_default().push(id);
        }
        let batch = self.config.batch.max(1);
        let batches: Vec<(String, Vec<String>)> = by_mailbox
            .into_iter()
            .flat_map(|(mailbox, ids)| {
                ids.chunks(batch)
                    .map(|chunk| (mailbox.clone(), chunk.to_vec()))
                    .collect::<Vec<_>>()
            })
            .collect();
        // Several mailboxes at once: a store's round trips overlap; each batch still records
        // its own results with the lease renewal. The first failure stops the job: batches
        // not yet started are skipped, but those in flight finish and record what they did —
        // cancelling one halfway would lose that, and could cut a write transaction short.
        let stopped = AtomicBool::new(false);
        let stopped = &stopped;
        let mut runs = futures_util::stream::iter(batches)
            .map(|(mailbox, ids)| async move {
                if stopped.load(Ordering::Relaxed) {
                    return Ok(());
                }
                let outcomes = self.apply(&mailbox, &ids, destination).await?;
                jobs::record(&self.state.db, &self.config, job, &mailbox, &outcomes).await
            })
            .buffer_unordered(self.config.parallel_mailboxes.max(1));
        let mut first_stop = None;
        while let Some(run) = runs.next().await {
            if let Err(stop) = run {
                stopped.store(true, Ordering::Relaxed);
                first_stop.get_or_insert(stop);
            }
        }
        first_stop.map_or(Ok(()), Err)
    }

    /// The action's messages that have no result yet.
    async fn messages_left(&self, action: &ClaimedAction) -> Result<Vec<(String, String)>, Stop> {
        if let Some(cluster) = &action.cluster_id {
            return Ok(query(
                "SELECT m.mailbox, m.internet_message_id FROM cluster_messages m
                 WHERE m.cluster_id = $1 AND NOT EXISTS (
                     SELECT 1 FROM action_results r WHERE r.action_id = $2 AND r.mailbox = m.mailbox
                        AND r.internet_message_id = m.internet_message_id)
                 ORDER BY m.mailbox, m.internet_message_id",
            )
            .bind(cluster)
            .bind(&action.id)
            .fetch_all(&self.state.db)
            .await?);
        }
        let (Some(mailbox), Some(id)) = (&action.mailbox, &action.internet_message_id) else {
            return Ok(Vec::new());
        };
        let done: i64 = query(
            "SELECT COUNT(*) FROM action_results WHERE action_id = $1 AND mailbox = $2
                AND internet_message_id = $3",
        )
        .bind(&action.id)
        .bind(mailbox)
        .bind(id)
        .scalar(&self.state.db)
        .await?;
        Ok(if done == 0 {
            vec![(mailbox.clone(), id.clone())]
        } else {
            Vec::new()
        })
    }

    /// Finds the messages and moves (or expunges) each copy not yet where it should be.
    #[tracing::instrument(level = "debug", skip(self, ids), fields(messages = ids.len()))]
    async fn apply(
        &self,
        mailbox: &str,
        ids: &[String],
        destination: Option<Destination>,
    ) -> Result<Vec<Outcome>, Stop> {
        let store = &self.state.mail.messages;
        let found = match store.locate(mailbox, ids).await {
            Ok(found) => found,
            Err(StoreError::Refused(why)) => {
                return Ok(ids.iter().map(|id| failed(id, &why)).collect());
            }
            Err(StoreError::Unavailable(why)) => return Err(Stop::Unavailable(why)),
        };
        let plan = Plan::new(self, found, destination);
        let results = plan.act(self, mailbox).await?;
        let (mut outcomes, failures) = plan.outcomes(ids, &results);
        if !failures.is_empty() {
            outcomes.extend(plan.recheck(self, mailbox, failures).await?);
        }
        Ok(outcomes)
    }
}

/// The copies found, and the ones to act on.
struct Plan {
    found: Vec<Found>,
    to_handle: Vec<Found>,
    destination: Option<Destination>,
    destination_folder: Option<String>,
}

impl Plan {
    fn new(executor: &Executor, found: Vec<Found>, destination: Option<Destination>) -> Self {
        let folders = executor.state.mail.folders();
        let destination_folder = destination.map(|d| folders.name(d).to_string());
        let mut plan = Plan {
            found,
            to_handle: Vec::new(),
            destination,
            destination_folder,
        };
        plan.to_handle = plan
            .found
            .iter()
            .filter(|f| !plan.in_place(f))
            .cloned()
            .collect();
        plan
    }

    fn in_place(&self, found: &Found) -> bool {
        self.destination_folder
            .as_deref()
            .is_some_and(|folder| found.folder == folder)
    }

    fn copies_of<'a>(&self, found: &'a [Found], id: &str) -> Vec<&'a Found> {
        found
            .iter()
            .filter(|f| message_id::same(&f.internet_message_id, id))
            .collect()
    }

    fn location(&self) -> MessageLocation {
        self.destination
            .map_or(MessageLocation::Purged, Destination::location)
    }

    /// Moves or expunges every copy to handle; one outcome per copy, in order.
    async fn act(&self, executor: &Executor, mailbox: &str) -> Result<Vec<ItemOutcome>, Stop> {
        if self.to_handle.is_empty() {
            return Ok(Vec::new());
        }
        let store = &executor.state.mail.messages;
        let done = match self.destination {
            Some(d) => store.move_to(mailbox, &self.to_handle, d).await,
            None => store.expunge(mailbox, &self.to_handle).await,
        };
        match done {
            Ok(results) => Ok(results),
            Err(StoreError::Unavailable(why)) => Err(Stop::Unavailable(why)),
            Err(StoreError::Refused(why)) => {
                Ok(self.to_handle.iter().map(|_| Err(why.clone())).collect())
            }
        }
    }

    /// What each message came to, and the ones whose move failed (with the reason).
    fn outcomes(
        &self,
        ids: &[String],
        results: &[ItemOutcome],
    ) -> (Vec<Outcome>, Vec<(String, String)>) {
        let mut outcomes = Vec::with_capacity(ids.len());
        let mut failures = Vec::new();
        for id in ids {
            if self.copies_of(&self.found, id).is_empty() {
                outcomes.push(Outcome {
                    internet_message_id: Some(id.clone()),
                    result: MessageResult::NotFound,
                    location: None,
                    detail: Some("not in any folder of the mailbox".into()),
                });
                continue;
            }
            let mine = |f: &&Found| message_id::same(&f.internet_message_id, id);
            let error = self
                .to_handle
                .iter()
                .zip(results)
                .filter(|(f, _)| mine(f))
                .find_map(|(_, r)| r.as_ref().err());
            let moved = self.to_handle.iter().any(|f| mine(&f));
            match error {
                Some(error) => failures.push((id.clone(), error.clone())),
                None => outcomes.push(Outcome {
                    internet_message_id: Some(id.clone()),
                    result: if moved {
                        MessageResult::Success
                    } else {
                        MessageResult::AlreadyInDestination
                    },
                    location: Some(self.location()),
                    detail: None,
                }),
            }
        }
        (outcomes, failures)
    }

    /// Someone else may have moved failed messages meanwhile (a user, another process): look
    /// again, and count those now where they should be as already there.
    async fn recheck(
        &self,
        executor: &Executor,
        mailbox: &str,
        failures: Vec<(String, String)>,
    ) -> Result<Vec<Outcome>, Stop> {
        let ids: Vec<String> = failures.iter().map(|(id, _)| id.clone()).collect();
        let again = match executor.state.mail.messages.locate(mailbox, &ids).await {
            Ok(again) => Some(again),
            Err(StoreError::Unavailable(why)) => return Err(Stop::Unavailable(why)),
            Err(StoreError::Refused(_)) => None,
        };
        Ok(failures
            .into_iter()
            .map(|(id, error)| {
                let settled = again.as_ref().is_some_and(|again| {
                    let copies = self.copies_of(again, &id);
                    match self.destination {
                        Some(_) => !copies.is_empty() && copies.iter().all(|f| self.in_place(f)),
                        None => copies.is_empty(),
                    }
                });
                if settled {
                    Outcome {
                        internet_message_id: Some(id),
                        result: MessageResult::AlreadyInDestination,
                        location: Some(self.location()),
                        detail: None,
                    }
                } else {
                    failed(&id, &error)
                }
            })
            .collect())
    }
}

pub(super) fn failed(id: &str, why: &str) -> Outcome {
    Outcome {
        internet_message_id: Some(id.to_string()),
        result: MessageResult::Failed,
        location: None,
        detail: Some(why.to_string()),
    }
}
