//! A user reports a delivered message as phish, or an admin asks about one: find the copy in
//! the index (bringing the index up to date once if it lacks it, in a scan shared with every
//! concurrent report), record the report so that it counts towards its cluster's
//! reporters, then investigate — or join the investigation that already covers the copy, so
//! a flood of reports of one campaign, each of the reporter's own copy, makes one
//! investigation, not one each (on one instance or several: the lease of the copy's sender
//! domain in the database lets one start it at a time).
//!
//! An investigation covers a copy when one of its email clusters holds it by the store's
//! handle (mailbox, folder, file) — what the index saw, not a header the sender wrote. Joining
//! by Message-ID would let a phish that reuses a reported message's id join an investigation
//! that found that message clean, and never be looked at.

use std::time::Duration;

mod rows;

use super::{started, Trigger};
use crate::db::{query, Db};
use crate::index::{self, IndexedMessage};
use crate::leases::{self, Leases};
use crate::limit::Limiter;
use crate::AppState;
use model::{message_id, Actor, AppError, CurrentUser, InvestigationCreated};
use rows::record;
pub(super) use rows::{link, reporters};

/// Reports one user may make: a burst, then one every ten seconds.
const REPORT_BURST: u32 = 30;
const REPORT_PERIOD: Duration = Duration::from_secs(10);

/// How many reports each user may make (per instance): reporting is open to every role, and
/// each report may scan the index and run the playbook.
#[derive(Debug)]
pub struct ReportQuota {
    users: Limiter<String>,
}

impl Default for ReportQuota {
    fn default() -> Self {
        ReportQuota {
            users: Limiter::new(REPORT_BURST, REPORT_PERIOD),
        }
    }
}

impl ReportQuota {
    fn admit(&self, username: &str) -> Result<(), AppError> {
        self.users.admit(&username.to_string(), || {
            format!("{REPORT_BURST} reports in a row is the most one user may make")
        })
    }
}

/// What became of a report: the investigation it started, or the one it joined.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reported {
    pub investigation_id: String,
    /// True when a report of the same copy had already started it.
    pub joined: bool,
}

/// A signed-in user reports a message in `mailbox` as phish. `content` is the
/// [`mail::parse::content_hash`] of the message as reported, when the report carries it: it
/// tells apart two copies that share a Message-ID (a phish may reuse a legitimate one's).
#[tracing::instrument(skip(state, user), fields(user = %user.username))]
pub async fn report(
    state: &AppState,
    user: &CurrentUser,
    mailbox: &str,
    internet_message_id: &str,
    content: Option<&str>,
) -> Result<Reported, AppError> {
    user.require_report()?;
    state.report_quota.admit(&user.username)?;
    let message = reported_message(state, mailbox, internet_message_id, content).await?;
    report_found(state, &user.username, &Actor::from(user), message).await
}

/// A report that came in by mail (the phish-report mailbox): `reporter` is the mailbox that
/// reported and holds the copy. The same quota, joining and audit as a signed-in user's.
#[tracing::instrument(skip(state, message), fields(reporter))]
pub async fn report_by_mail(
    state: &AppState,
    reporter: &str,
    message: IndexedMessage,
) -> Result<Reported, AppError> {
    state.report_quota.admit(reporter)?;
    report_found(state, reporter, &Actor::User(reporter.to_string()), message).await
}

/// Starts or joins the investigation of a reported copy.
async fn report_found(
    state: &AppState,
    reporter: &str,
    actor: &Actor,
    message: IndexedMessage,
) -> Result<Reported, AppError> {
    // Reports of one campaign, one at a time: the second finds what the first started. A
    // campaign's copies share their sender's domain (a sender that varies it per recipient
    // only costs the joining: each report is still investigated). In this instance a lock;
    // across instances the domain's lease in the database.
    let key = format!("from\n{}", message.sender_domain);
    let lock = state.report_locks.get(&key);
    let _turn = lock.lock().await;
    let holder = leases::holder();
    let leased = leases::wait_for(
        &state.db,
        Leases::Reports,
        &holder,
        &key,
        REPORT_LEASE,
        REPORT_LEASE,
    )
    .await?;
    if !leased {
        tracing::warn!(
            mailbox = message.mailbox,
            "another instance has been starting an investigation of this sender's mail for over two minutes; going on without"
        );
    }
    let reported = investigate_report(state, reporter, actor, message).await;
    if leased {
        let released = leases::release(&state.db, Leases::Reports, &holder, &[key]).await;
        if let Err(error) = released {
            tracing::warn!(%error, "cannot give back a report lease; it runs out by itself");
        }
    }
    reported
}

/// How long one instance may take to start a reported copy's investigation before another
/// may (the lease), and how long a report of the same campaign elsewhere waits for it.
const REPORT_LEASE: Duration = Duration::from_secs(120);

/// Records the report, and joins the investigation of the copy or starts one.
async fn investigate_report(
    state: &AppState,
    reporter: &str,
    actor: &Actor,
    message: IndexedMessage,
) -> Result<Reported, AppError> {
    if let Some(investigation_id) = record(state, reporter, actor, &message).await? {
        return Ok(Reported {
            investigation_id,
            joined: true,
        });
    }
    let trigger = Trigger::Report {
        reported_by: reporter.to_string(),
        message: Box::new(message),
    };
    let created = started(state, trigger).await?;
    Ok(Reported {
        investigation_id: created.id,
        joined: false,
    })
}

/// Someone who may hunt (Search and purge) asks about one delivered message.
#[tracing::instrument(skip(state, user), fields(user = %user.username))]
pub async fn manual_message(
    state: &AppState,
    user: &CurrentUser,
    mailbox: &str,
    internet_message_id: &str,
) -> Result<InvestigationCreated, AppError> {
    user.require_hunt()?;
    let message = reported_message(state, mailbox, internet_message_id, None).await?;
    let trigger = Trigger::ManualMessage {
        requested_by: user.username.clone(),
        message: Box::new(message),
    };
    started(state, trigger).await
}

/// The indexed copy a user reports; the index is brought up to date once if it lacks it (the
/// message may have arrived since the last scan). When several copies in the mailbox carry the
/// Message-ID, the one whose content matches the report is it; without that, the one received
/// last (a phish reusing a legitimate message's id arrives after it).
pub async fn reported_message(
    state: &AppState,
    mailbox: &str,
    message_id: &str,
    content: Option<&str>,
) -> Result<IndexedMessage, AppError> {
    let mailbox = mailbox.trim().to_ascii_lowercase();
    // No mailbox has a control character (and PostgreSQL text cannot hold NUL): not there.
    // A Message-ID's are dropped below, as the index dropped them.
    if mailbox.chars().any(char::is_control) {
        return Err(AppError::NotFound(format!(
            "mailbox {mailbox:?} in the index"
        )));
    }
    // Lenient on purpose: the index keeps whatever the header said, spaces and all.
    let bare = message_id::bare(message_id);
    if bare.is_empty() || bare.len() + 2 > message_id::MAX_LEN {
        return Err(AppError::Invalid(
            "internet_message_id must be 1 to 998 characters".into(),
        ));
    }
    let id = &message_id::bracketed(bare);
    let mut found = index::find(&state.db, Some(&mailbox), id).await?;
    let matches = |found: &[IndexedMessage]| {
        content.is_none_or(|hash| {
            found
                .iter()
                .any(|m| m.content_sha256.as_deref() == Some(hash))
        })
    };
    if found.is_empty() || !matches(&found) {
        // Missing, or only other copies under its Message-ID (a phish may reuse the id of a
        // message the index already holds): the reported one may have arrived since.
        index::coalesce::scan(state).await?;
        found = index::find(&state.db, Some(&mailbox), id).await?;
    }
    if (found.is_empty() || !matches(&found)) && index::is_indexed(state, &mailbox).await? {
        // The shared scan leaves a mailbox another instance is scanning to it: wait for that
        // scan (the mailbox's lease), then look at the mailbox once more, before saying the
        // message is not there.
        index::scan_mailboxes(state, std::slice::from_ref(&mailbox)).await?;
        found = index::find(&state.db, Some(&mailbox), id).await?;
    }
    if found.len() > 1 {
        tracing::info!(
            copies = found.len(),
            mailbox,
            "several copies share the reported Message-ID"
        );
    }
    let matching = content.and_then(|hash| {
        found
            .iter()
            .position(|m| m.content_sha256.as_deref() == Some(hash))
    });
    let latest = found
        .iter()
        .enumerate()
        .max_by_key(|(_, m)| (m.received_at, m.id))
        .map(|(i, _)| i);
    match matching.or(latest) {
        Some(i) => Ok(found.swap_remove(i)),
        None => Err(AppError::NotFound(format!(
            "message {id} in the index of mailbox {mailbox:?}"
        ))),
    }
}

/// The investigation a report started: its alert, for the REST answer.
pub async fn alert_of(db: &Db, investigation_id: &str) -> Result<String, AppError> {
    Ok(query("SELECT alert_id FROM investigations WHERE id = $1")
        .bind(investigation_id)
        .scalar(db)
        .await?)
}
