//! A user reports a delivered message as phish, or an admin asks about one: find the copy in
//! the index (bringing the index up to date once if it lacks it), record the report so that it
//! counts towards its cluster's reporters, then investigate.

use super::{started, Trigger};
use crate::db::{self, query, Db};
use crate::index::{self, IndexedMessage, Selection};
use crate::{new_id, AppState};
use model::{message_id, AppError, CurrentUser, InvestigationCreated};

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
) -> Result<InvestigationCreated, AppError> {
    user.require_report()?;
    let message = reported_message(state, mailbox, internet_message_id, content).await?;
    record(&state.db, &user.username, &message).await?;
    let trigger = Trigger::Report {
        reported_by: user.username.clone(),
        message: Box::new(message),
    };
    started(state, trigger).await
}

/// An admin asks about one delivered message.
#[tracing::instrument(skip(state, user), fields(user = %user.username))]
pub async fn manual_message(
    state: &AppState,
    user: &CurrentUser,
    mailbox: &str,
    internet_message_id: &str,
) -> Result<InvestigationCreated, AppError> {
    user.require_administer()?;
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
    // Lenient on purpose: the index keeps whatever the header said, spaces and all.
    let bare = message_id::bare(message_id);
    if bare.is_empty() || bare.len() + 2 > message_id::MAX_LEN {
        return Err(AppError::Invalid(
            "internet_message_id must be 1 to 998 characters".into(),
        ));
    }
    let id = &message_id::bracketed(bare);
    let mut found = index::find(&state.db, Some(&mailbox), id).await?;
    if found.is_empty() {
        index::scan(state).await?;
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

/// Records a user's report before investigating, so it counts towards its own cluster.
async fn record(db: &Db, reported_by: &str, message: &IndexedMessage) -> Result<(), AppError> {
    query(
        "INSERT INTO reports (id, mailbox, internet_message_id, reported_by, reported_at)
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (mailbox, internet_message_id) DO NOTHING",
    )
    .bind(new_id())
    .bind(&message.mailbox)
    .bind(&message.internet_message_id)
    .bind(reported_by)
    .bind(db::now())
    .execute(db)
    .await?;
    Ok(())
}

/// Links a report to the investigation it started.
pub(super) async fn link(
    state: &AppState,
    reported_by: &str,
    message: &IndexedMessage,
    investigation_id: &str,
) -> Result<(), AppError> {
    query(
        "INSERT INTO reports (id, mailbox, internet_message_id, reported_by, reported_at, investigation_id)
         VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (mailbox, internet_message_id) DO UPDATE SET investigation_id = excluded.investigation_id",
    )
    .bind(new_id())
    .bind(&message.mailbox)
    .bind(&message.internet_message_id)
    .bind(reported_by)
    .bind(db::now())
    .bind(investigation_id)
    .execute(&state.db)
    .await?;
    Ok(())
}

/// The different users who reported any of a cluster's copies.
pub(super) async fn reporters(db: &Db, selection: &Selection) -> Result<Vec<String>, AppError> {
    let mut select =
        query("SELECT DISTINCT reported_by FROM reports WHERE (mailbox, internet_message_id) IN (");
    selection.push_select(&mut select, "m.mailbox, m.internet_message_id");
    select.push(")");
    Ok(select.scalars(db).await?)
}

/// The investigation a report started: its alert, for the REST answer.
pub async fn alert_of(db: &Db, investigation_id: &str) -> Result<String, AppError> {
    Ok(query("SELECT alert_id FROM investigations WHERE id = $1")
        .bind(investigation_id)
        .scalar(db)
        .await?)
}
