//! Reading the index: copies of one message, a cluster's members, what a message carries, and
//! the index page by page for `GET /messages`.

use chrono::{DateTime, Utc};

use crate::db::{query, Db};
use model::{AppError, Page, PageRequest};

/// One indexed copy, as the playbook and `GET /messages` see it.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow, serde::Serialize, utoipa::ToSchema)]
pub struct IndexedMessage {
    pub id: i64,
    pub mailbox: String,
    pub folder: String,
    /// The store's handle on the copy within its folder (a Maildir file's base name, or
    /// UIDVALIDITY:UID): with the mailbox and folder, what identifies it.
    #[serde(skip)]
    pub file: String,
    pub location: String,
    pub internet_message_id: String,
    pub sender: String,
    pub sender_domain: String,
    pub reply_to: Option<String>,
    pub recipients: String,
    pub subject: String,
    pub subject_fingerprint: String,
    pub received_at: DateTime<Utc>,
    pub spf: Option<String>,
    pub dkim: Option<String>,
    pub dmarc: Option<String>,
    pub content_sha256: Option<String>,
}

const COLUMNS: &str =
    "m.id, m.mailbox, m.folder, m.file, m.location, m.internet_message_id, m.sender,
    m.sender_domain, m.reply_to, m.recipients, m.subject, m.subject_fingerprint, m.received_at,
    m.spf, m.dkim, m.dmarc, m.content_sha256";

/// Copies of one message (in one mailbox, if given).
pub async fn find(
    db: &Db,
    mailbox: Option<&str>,
    internet_message_id: &str,
) -> Result<Vec<IndexedMessage>, AppError> {
    let mut select = query(format!(
        "SELECT {COLUMNS} FROM messages m WHERE m.internet_message_id = "
    ));
    select.push_bind(internet_message_id);
    if let Some(mailbox) = mailbox {
        select.push(" AND m.mailbox = ").push_bind(mailbox);
    }
    select.push(" ORDER BY m.id");
    Ok(select.fetch_all(db).await?)
}

/// The URLs and attachment hashes (with names) of one indexed copy.
pub async fn indicators_of(
    db: &Db,
    id: i64,
) -> Result<(Vec<String>, Vec<(String, String)>), AppError> {
    let urls = query("SELECT url FROM message_urls WHERE message = $1 ORDER BY url")
        .bind(id)
        .scalars(db)
        .await?;
    let attachments =
        query("SELECT sha256, name FROM message_attachments WHERE message = $1 ORDER BY sha256")
            .bind(id)
            .fetch_all(db)
            .await?;
    Ok((urls, attachments))
}

/// The filters of `GET /messages`, already normalised.
#[derive(Debug, Clone, Default)]
pub struct MessageFilter {
    pub mailbox: Option<String>,
    pub internet_message_id: Option<String>,
    pub sender: Option<String>,
    pub url: Option<String>,
}

/// A page of the index in the order it was written; the cursor is the last row's id.
#[tracing::instrument(skip(db))]
pub async fn list(
    db: &Db,
    filter: &MessageFilter,
    after: i64,
    page: &PageRequest,
) -> Result<Page<IndexedMessage>, AppError> {
    let mut select = query(format!("SELECT {COLUMNS} FROM messages m WHERE m.id > "));
    select.push_bind(after);
    if let Some(mailbox) = &filter.mailbox {
        select.push(" AND m.mailbox = ").push_bind(mailbox);
    }
    if let Some(id) = &filter.internet_message_id {
        select.push(" AND m.internet_message_id = ").push_bind(id);
    }
    if let Some(sender) = &filter.sender {
        select.push(" AND m.sender = ").push_bind(sender);
    }
    if let Some(url) = &filter.url {
        select
            .push(" AND m.id IN (SELECT message FROM message_urls WHERE url = ")
            .push_bind(url)
            .push(")");
    }
    select.push(" ORDER BY m.id LIMIT ").push_bind(page.fetch());
    let mut items: Vec<IndexedMessage> = select.fetch_all(db).await?;
    let next = page.next_cursor(&mut items, |m| m.id.to_string());
    Ok(Page { items, next })
}
