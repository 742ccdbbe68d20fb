//! Moving (or expunging) an action's copies, a page of its cluster's members at a time and a
//! mailbox batch at a time: find each copy by the store's handle (never by a header), act on
//! those not yet where they should be, and say what became of each — including, when a copy
//! cannot be found, where it was looked for and whether that proves it gone.

use std::collections::{BTreeMap, VecDeque};

use futures_util::stream::FuturesUnordered;
use futures_util::StreamExt;

use super::jobs::{self, Claimed, ClaimedAction};
use super::{Executor, Outcome, Stop};
use crate::db::query;
use crate::index;
use mail::{Copy, Destination, Found, ItemOutcome, StoreError, Whereabouts};
use model::{ActionType, MessageLocation, MessageResult};

/// Members read from the database at once.
const PAGE: i64 = 5_000;

/// One copy of the action's cluster, as the index saw it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub(super) struct Member {
    id: i64,
    mailbox: String,
    folder: Option<String>,
    file: Option<String>,
    content_sha256: Option<String>,
    size: Option<i64>,
    internet_message_id: String,
}

impl Member {
    /// How the store is asked for it; `None` for a member the index never matched.
    fn copy(&self) -> Option<Copy> {
        Some(Copy {
            folder: self.folder.clone()?,
            key: self.file.clone()?,
            content_sha256: self.content_sha256.clone(),
            size: self.size.and_then(|s| u64::try_from(s).ok()),
        })
    }

    fn outcome(&self, result: MessageResult, location: Option<MessageLocation>) -> Outcome {
        Outcome {
            member: Some(self.id),
            internet_message_id: Some(self.internet_message_id.clone()),
            result,
            location,
            folder: None,
            detail: None,
        }
    }
}

impl Executor {
    /// Carries out an email action: every copy of its cluster that has no result yet.
    pub(super) async fn move_messages(&self, job: &Claimed, kind: ActionType) -> Result<(), Stop> {
        let destination = match kind {
            ActionType::MoveToInbox => Some(Destination::Inbox),
            ActionType::MoveToJunk => Some(Destination::Junk),
            ActionType::MoveToDeletedItems => Some(Destination::DeletedItems),
            ActionType::HardDelete => None,
            _ => Some(Destination::RecoverableItems),
        };
        let Some(cluster) = job.action.cluster_id.clone() else {
            return Ok(());
        };
        if self.match_named_copies(&cluster).await? {
            let window = self.state.rules.dedup_window;
            crate::actions::decide::reclaim(&self.state.db, &job.action.id, &cluster, kind, window)
                .await?;
        }
        self.run_batches(job, &cluster, destination).await
    }

    /// Copies named from outside that the index did not hold when they were recorded: bring
    /// their mailboxes' index up to date and match them to copies now. Answers whether there
    /// were any.
    async fn match_named_copies(&self, cluster: &str) -> Result<bool, Stop> {
        let mailboxes: Vec<String> = query(
            "SELECT DISTINCT mailbox FROM cluster_messages WHERE cluster_id = $1 AND folder IS NULL",
        )
        .bind(cluster)
        .scalars(&self.state.db)
        .await?;
        if mailboxes.is_empty() {
            return Ok(false);
        }
        // A mailbox that cannot be read now has not been looked in: that is the store being
        // unavailable (retried), never "not found".
        let report = index::scan_mailboxes(&self.state, &mailboxes).await?;
        if report.unreadable > 0 {
            return Err(Stop::Unavailable(format!(
                "{} of {} mailbox(es) could not be read to find the copies named in them",
                report.unreadable,
                mailboxes.len()
            )));
        }
        index::match_unmatched(&self.state.db, cluster).await?;
        Ok(true)
    }

    /// The next members of the cluster (by id, after `after`) this action has no result for.
    async fn members_left(
        &self,
        action: &ClaimedAction,
        cluster: &str,
        after: i64,
    ) -> Result<Vec<Member>, Stop> {
        Ok(query(
            "SELECT m.id, m.mailbox, m.folder, m.file, m.content_sha256, m.size, m.internet_message_id
             FROM cluster_messages m
             WHERE m.cluster_id = $1 AND m.id > $2
               AND NOT EXISTS (SELECT 1 FROM action_results r WHERE r.action_id = $3 AND r.member = m.id)
             ORDER BY m.id LIMIT $4",
        )
        .bind(cluster)
        .bind(after)
        .bind(&action.id)
        .bind(PAGE)
        .fetch_all(&self.state.db)
        .await?)
    }

    /// Every member left, a mailbox batch at a time and several mailboxes at once: a store's
    /// round trips overlap; each batch records its own results with the lease renewal. Pages
    /// of members are read as the batches before them are taken up, so the last mailboxes of
    /// a page overlap the first of the next instead of waiting for the slowest. The first
    /// failure stops the job: batches not yet started are skipped, but those in flight finish
    /// and record what they did — cancelling one halfway would lose that, and could cut a
    /// write transaction short.
    async fn run_batches(
        &self,
        job: &Claimed,
        cluster: &str,
        destination: Option<Destination>,
    ) -> Result<(), Stop> {
        let size = self.config.batch.max(1);
        let parallel = self.config.parallel_mailboxes.max(1);
        let mut waiting: VecDeque<(String, Vec<Member>)> = VecDeque::new();
        // Pages by member id: members of later pages are never in flight in earlier ones.
        let mut after = Some(0);
        let mut in_flight = FuturesUnordered::new();
        let mut first_stop = None;
        loop {
            while first_stop.is_none() && in_flight.len() < parallel {
                if waiting.is_empty() {
                    let Some(from) = after else { break };
                    match self.members_left(&job.action, cluster, from).await {
                        Ok(members) => {
                            after = members.last().map(|m| m.id);
                            waiting.extend(by_mailbox(members, size));
                        }
                        Err(stop) => first_stop = Some(stop),
                    }
                }
                let Some((mailbox, members)) = waiting.pop_front() else {
                    break;
                };
                in_flight.push(self.run_batch(job, mailbox, members, destination));
            }
            let Some(run) = in_flight.next().await else {
                break;
            };
            if let Err(stop) = run {
                first_stop.get_or_insert(stop);
            }
        }
        first_stop.map_or(Ok(()), Err)
    }

    /// One mailbox batch: acted on, and its results recorded with the lease renewal.
    async fn run_batch(
        &self,
        job: &Claimed,
        mailbox: String,
        members: Vec<Member>,
        destination: Option<Destination>,
    ) -> Result<(), Stop> {
        let outcomes = self.apply(&mailbox, &members, destination).await?;
        jobs::record(&self.state.db, &self.config, job, &mailbox, &outcomes).await
    }

    /// Finds the members' copies and moves (or expunges) each one not yet where it should be.
    #[tracing::instrument(level = "debug", skip(self, members), fields(copies = members.len()))]
    async fn apply(
        &self,
        mailbox: &str,
        members: &[Member],
        destination: Option<Destination>,
    ) -> Result<Vec<Outcome>, Stop> {
        let (matched, unmatched): (Vec<&Member>, Vec<&Member>) =
            members.iter().partition(|m| m.copy().is_some());
        let mut outcomes: Vec<Outcome> = unmatched.into_iter().map(never_indexed).collect();
        if matched.is_empty() {
            return Ok(outcomes);
        }
        let copies: Vec<Copy> = matched.iter().filter_map(|m| m.copy()).collect();
        let store = &self.state.mail.messages;
        let whereabouts = match store.find(mailbox, &copies).await {
            Ok(found) => found,
            Err(StoreError::Refused(why)) => {
                crate::metrics::connector_error(self.state.mail.kind, "locate", "refused");
                outcomes.extend(matched.iter().map(|m| failed(m, &why)));
                return Ok(outcomes);
            }
            Err(StoreError::Unavailable(why)) => return Err(Stop::Unavailable(why)),
        };
        let plan = Plan::new(self, destination);
        let mut to_handle: Vec<(&Member, Found)> = Vec::new();
        for (member, where_now) in matched.into_iter().zip(whereabouts) {
            match plan.judge(member, where_now) {
                Ok(outcome) => outcomes.push(outcome),
                Err(found) => to_handle.push((member, found)),
            }
        }
        let results = plan.act(self, mailbox, &to_handle).await?;
        let mut retry = Vec::new();
        for ((member, _), result) in to_handle.into_iter().zip(results) {
            match result {
                Ok(()) => outcomes.push(plan.done(member)),
                Err(error) => retry.push((member, error)),
            }
        }
        if !retry.is_empty() {
            outcomes.extend(plan.recheck(self, mailbox, retry).await?);
        }
        Ok(outcomes)
    }
}

/// Where the action takes its copies.
struct Plan {
    destination: Option<Destination>,
    destination_folder: Option<String>,
}

impl Plan {
    fn new(executor: &Executor, destination: Option<Destination>) -> Self {
        let folders = executor.state.mail.folders();
        Plan {
            destination,
            destination_folder: destination.map(|d| folders.name(d).to_string()),
        }
    }

    fn location(&self) -> MessageLocation {
        self.destination
            .map_or(MessageLocation::Purged, Destination::location)
    }

    fn in_place(&self, found: &Found) -> bool {
        self.destination_folder
            .as_deref()
            .is_some_and(|folder| found.folder == folder)
    }

    /// What a copy's whereabouts come to: an outcome, or the copy to act on.
    fn judge(&self, member: &Member, where_now: Whereabouts) -> Result<Outcome, Found> {
        match where_now {
            Whereabouts::At(found) if self.in_place(&found) => {
                let mut outcome =
                    member.outcome(MessageResult::AlreadyInDestination, Some(self.location()));
                outcome.folder = Some(found.folder);
                Ok(outcome)
            }
            Whereabouts::At(found) => Err(found),
            Whereabouts::Gone(looked) => {
                let mut outcome =
                    member.outcome(MessageResult::Gone, Some(MessageLocation::Purged));
                outcome.detail = Some(format!("deleted outside airdesk: {looked}"));
                Ok(outcome)
            }
            Whereabouts::Missing(looked) => {
                let mut outcome = member.outcome(MessageResult::NotFound, None);
                outcome.detail = Some(looked);
                Ok(outcome)
            }
        }
    }

    /// A copy moved (or expunged) as asked.
    fn done(&self, member: &Member) -> Outcome {
        let mut outcome = member.outcome(MessageResult::Success, Some(self.location()));
        outcome.folder = self.destination_folder.clone();
        outcome
    }

    /// Moves or expunges the copies; one outcome per copy, in order.
    async fn act(
        &self,
        executor: &Executor,
        mailbox: &str,
        to_handle: &[(&Member, Found)],
    ) -> Result<Vec<ItemOutcome>, Stop> {
        if to_handle.is_empty() {
            return Ok(Vec::new());
        }
        let found: Vec<Found> = to_handle.iter().map(|(_, f)| f.clone()).collect();
        let store = &executor.state.mail.messages;
        let done = match self.destination {
            Some(d) => store.move_to(mailbox, &found, d).await,
            None => store.expunge(mailbox, &found).await,
        };
        match done {
            Ok(results) => Ok(results),
            Err(StoreError::Unavailable(why)) => Err(Stop::Unavailable(why)),
            Err(StoreError::Refused(why)) => {
                crate::metrics::connector_error(executor.state.mail.kind, "move", "refused");
                Ok(found.iter().map(|_| Err(why.clone())).collect())
            }
        }
    }

    /// Someone else may have moved or deleted a copy meanwhile (a user, another process):
    /// look again, and count those now where they should be, or gone, as such.
    async fn recheck(
        &self,
        executor: &Executor,
        mailbox: &str,
        retry: Vec<(&Member, String)>,
    ) -> Result<Vec<Outcome>, Stop> {
        let copies: Vec<Copy> = retry.iter().filter_map(|(m, _)| m.copy()).collect();
        let again = match executor.state.mail.messages.find(mailbox, &copies).await {
            Ok(again) => again,
            Err(StoreError::Unavailable(why)) => return Err(Stop::Unavailable(why)),
            Err(StoreError::Refused(_)) => Vec::new(),
        };
        let mut again = again.into_iter();
        Ok(retry
            .into_iter()
            .map(|(member, error)| match again.next() {
                Some(Whereabouts::At(found)) if self.in_place(&found) => {
                    let mut outcome =
                        member.outcome(MessageResult::AlreadyInDestination, Some(self.location()));
                    outcome.folder = Some(found.folder);
                    outcome
                }
                Some(gone @ Whereabouts::Gone(_)) => self
                    .judge(member, gone)
                    .unwrap_or_else(|_| failed(member, &error)),
                _ => failed(member, &error),
            })
            .collect())
    }
}

/// A member named from outside that the index holds no copy of: nothing to act on by handle,
/// and nothing proves the message gone.
fn never_indexed(member: &Member) -> Outcome {
    let mut outcome = member.outcome(MessageResult::NotFound, None);
    outcome.detail = Some(format!(
        "the index holds no copy of {} in {} with the sender and subject named, even after bringing it up to date: nothing to act on",
        member.internet_message_id, member.mailbox
    ));
    outcome
}

fn failed(member: &Member, why: &str) -> Outcome {
    let mut outcome = member.outcome(MessageResult::Failed, None);
    outcome.detail = Some(why.to_string());
    outcome
}

/// A page of members as batches of at most `size` copies of one mailbox each.
fn by_mailbox(members: Vec<Member>, size: usize) -> Vec<(String, Vec<Member>)> {
    let mut by_mailbox: BTreeMap<String, Vec<Member>> = BTreeMap::new();
    for member in members {
        by_mailbox
            .entry(member.mailbox.clone())
            .or_default()
            .push(member);
    }
    by_mailbox
        .into_iter()
        .flat_map(|(mailbox, members)| {
            members
                .chunks(size)
                .map(|chunk| (mailbox.clone(), chunk.to_vec()))
                .collect::<Vec<_>>()
        })
        .collect()
}
