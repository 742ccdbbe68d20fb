//! Cluster members named from outside (mailbox and Message-ID), matched to the copies the
//! index holds so that execution acts on the store's handles: among the copies in that mailbox
//! with that Message-ID, those whose sender and subject agree (or the only one). A member the index
//! cannot match yet stays unmatched until execution brings the mailbox's index up to date and
//! tries again; still unmatched, it is "not found", never done.

use crate::db::{query, Db, Tx};
use model::{AppError, IngestMessage, MessageLocation};

/// Members named from outside, each matched to the index's copies in its mailbox with that
/// Message-ID — those whose sender and subject agree, or the only one — so that execution acts on
/// the store's handles. A message the index does not hold yet is written unmatched, and
/// execution matches it once the index has caught up. Answers how many members were written.
pub(crate) async fn insert_listed(
    tx: &mut Tx<'_>,
    cluster_id: &str,
    messages: &[IngestMessage],
) -> Result<u64, AppError> {
    let mut written = 0;
    for message in messages {
        let copies = copies_of(tx, message).await?;
        if copies.is_empty() {
            written += insert_member(tx, cluster_id, message, None).await?;
        }
        for copy in &copies {
            written += insert_member(tx, cluster_id, message, Some(copy)).await?;
        }
    }
    Ok(written)
}

/// The index's copies of a named message: those whose sender and subject agree; the only copy
/// with that Message-ID, when there is one and it does not agree (a subject decoded
/// differently, say).
async fn copies_of(tx: &mut Tx<'_>, message: &IngestMessage) -> Result<Vec<IndexCopy>, AppError> {
    let copies: Vec<IndexCopy> = query(
        "SELECT folder, file, content_sha256, size, sender, subject, location FROM messages
         WHERE mailbox = $1 AND internet_message_id = $2 ORDER BY id",
    )
    .bind(message.mailbox.as_str())
    .bind(message.internet_message_id.as_str())
    .fetch_all(&mut *tx)
    .await?;
    let agrees = |c: &IndexCopy| {
        c.sender.eq_ignore_ascii_case(message.sender.trim())
            && c.subject.trim() == message.subject.trim()
    };
    if copies.iter().any(agrees) || copies.len() > 1 {
        // Several copies carry the Message-ID and none is the one described: which one was
        // meant cannot be told, and a header alone never picks a copy. None is acted on.
        Ok(copies.into_iter().filter(agrees).collect())
    } else {
        Ok(copies)
    }
}

/// A copy in the index, as a listed member is matched to it.
#[derive(sqlx::FromRow)]
struct IndexCopy {
    folder: String,
    file: String,
    content_sha256: Option<String>,
    size: i64,
    sender: String,
    subject: String,
    location: String,
}

async fn insert_member(
    tx: &mut Tx<'_>,
    cluster_id: &str,
    message: &IngestMessage,
    copy: Option<&IndexCopy>,
) -> Result<u64, AppError> {
    let location = match copy {
        Some(copy) => MessageLocation::parse(&copy.location).unwrap_or(MessageLocation::Other),
        None => message.location.unwrap_or(MessageLocation::Inbox),
    };
    Ok(query(
        "INSERT INTO cluster_messages (cluster_id, mailbox, folder, file, content_sha256, size,
             internet_message_id, sender, subject, received_at, location)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) ON CONFLICT DO NOTHING",
    )
    .bind(cluster_id)
    .bind(message.mailbox.as_str())
    .bind(copy.map(|c| c.folder.as_str()))
    .bind(copy.map(|c| c.file.as_str()))
    .bind(copy.and_then(|c| c.content_sha256.as_deref()))
    .bind(copy.map(|c| c.size))
    .bind(message.internet_message_id.as_str())
    .bind(&message.sender)
    .bind(&message.subject)
    .bind(message.received_at)
    .bind(location)
    .execute(&mut *tx)
    .await?)
}

/// Matches a cluster's unmatched members to the index (after it has caught up with their
/// mailboxes); a member that matches several copies becomes one member per copy.
pub(crate) async fn match_unmatched(db: &Db, cluster_id: &str) -> Result<(), AppError> {
    let unmatched: Vec<Unmatched> = query(
        "SELECT id, mailbox, internet_message_id, sender, subject, received_at, location
         FROM cluster_messages WHERE cluster_id = $1 AND folder IS NULL ORDER BY id",
    )
    .bind(cluster_id)
    .fetch_all(db)
    .await?;
    if unmatched.is_empty() {
        return Ok(());
    }
    let mut tx = db.write().await?;
    for member in unmatched {
        let Ok(message) = member.as_ingest() else {
            continue;
        };
        let copies = copies_of(&mut tx, &message).await?;
        if copies.is_empty() {
            continue;
        }
        query("DELETE FROM cluster_messages WHERE id = $1")
            .bind(member.id)
            .execute(&mut tx)
            .await?;
        for copy in copies {
            insert_member(&mut tx, cluster_id, &message, Some(&copy)).await?;
        }
    }
    tx.commit().await?;
    Ok(())
}

#[derive(sqlx::FromRow)]
struct Unmatched {
    id: i64,
    mailbox: String,
    internet_message_id: String,
    sender: String,
    subject: String,
    received_at: chrono::DateTime<chrono::Utc>,
    location: String,
}

impl Unmatched {
    fn as_ingest(&self) -> Result<IngestMessage, String> {
        Ok(IngestMessage {
            mailbox: model::EmailAddress::parse(&self.mailbox)?,
            internet_message_id: model::InternetMessageId::parse(&self.internet_message_id)?,
            sender: self.sender.clone(),
            subject: self.subject.clone(),
            received_at: self.received_at,
            location: MessageLocation::parse(&self.location),
        })
    }
}
