//! Writing what a scan read: one transaction per batch, then a checkpoint — a scan writes so
//! much at once that, left to the background checkpointer alone, the log would hold every
//! version of every page it touched.

use tokio::sync::mpsc;

use crate::db::{query, Db, Tx};
use mail::parse::{url_domain, url_pattern};
use mail::ReadMessage;
use model::{AppError, MessageLocation};

/// Folders with their new messages read.
pub(super) struct Batch {
    pub folders: Vec<Folder>,
}

pub(super) struct Folder {
    pub mailbox: String,
    pub folder: String,
    pub location: MessageLocation,
    /// Index rows of messages that are gone.
    pub remove: Vec<i64>,
    pub stamp: (i64, i64),
    pub messages: Vec<ReadMessage>,
}

/// Writes batches as they come; answers (added, removed).
pub(super) async fn write_all(
    db: Db,
    mut batches: mpsc::Receiver<Batch>,
) -> Result<(usize, usize), AppError> {
    let mut written = (0usize, 0usize);
    while let Some(batch) = batches.recv().await {
        let (added, removed) = write_batch(&db, batch).await?;
        written.0 += added;
        written.1 += removed;
    }
    Ok(written)
}

async fn write_batch(db: &Db, batch: Batch) -> Result<(usize, usize), AppError> {
    let mut tx = db.write().await?;
    let (mut added, mut removed) = (0, 0);
    for folder in batch.folders {
        for id in &folder.remove {
            query("DELETE FROM messages WHERE id = $1")
                .bind(*id)
                .execute(&mut tx)
                .await?;
        }
        removed += folder.remove.len();
        for message in &folder.messages {
            insert(&mut tx, &folder, message).await?;
            added += 1;
        }
        query(
            "INSERT INTO index_folders (mailbox, folder, new_mtime, cur_mtime) VALUES ($1, $2, $3, $4)
             ON CONFLICT (mailbox, folder) DO UPDATE SET new_mtime = excluded.new_mtime, cur_mtime = excluded.cur_mtime",
        )
        .bind(&folder.mailbox)
        .bind(&folder.folder)
        .bind(folder.stamp.0)
        .bind(folder.stamp.1)
        .execute(&mut tx)
        .await?;
    }
    tx.commit().await?;
    db.checkpoint().await?;
    Ok((added, removed))
}

async fn insert(tx: &mut Tx<'_>, folder: &Folder, message: &ReadMessage) -> Result<(), AppError> {
    let p = &message.parsed;
    let id: i64 = query(
        "INSERT INTO messages (mailbox, folder, file, location, internet_message_id, sender,
            sender_domain, sender_name, reply_to, recipients, subject, subject_fingerprint,
            received_at, spf, dkim, dmarc, size, body_read, content_sha256, urls_dropped)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20)
         ON CONFLICT (mailbox, folder, file) DO UPDATE SET location = excluded.location
         RETURNING id",
    )
    .bind(&folder.mailbox)
    .bind(&folder.folder)
    .bind(&message.key)
    .bind(folder.location)
    .bind(&p.internet_message_id)
    .bind(&p.sender)
    .bind(&p.sender_domain)
    .bind(&p.sender_name)
    .bind(&p.reply_to)
    .bind(p.recipients.join(", "))
    .bind(&p.subject)
    .bind(&p.subject_fingerprint)
    .bind(message.received_at)
    .bind(&p.auth.spf)
    .bind(&p.auth.dkim)
    .bind(&p.auth.dmarc)
    .bind(i64::try_from(message.size).unwrap_or(i64::MAX))
    .bind(p.body_read)
    .bind(&message.content_sha256)
    .bind(p.urls_dropped + p.hosts_dropped)
    .scalar(&mut *tx)
    .await?;
    if p.hosts_dropped > 0 {
        tracing::warn!(
            mailbox = folder.mailbox,
            key = message.key,
            dropped = p.hosts_dropped,
            "a message links to more hosts than the index keeps; it is marked so clusters by URL still find it"
        );
    }
    if !p.urls.is_empty() {
        let mut urls = query("INSERT INTO message_urls (message, url, domain, pattern) VALUES ");
        for (i, url) in p.urls.iter().enumerate() {
            urls.push(if i == 0 { "(" } else { ", (" });
            urls.push_bind(id).push(", ").push_bind(url).push(", ");
            urls.push_bind(url_domain(url)).push(", ");
            urls.push_bind(url_pattern(url)).push(")");
        }
        urls.push(" ON CONFLICT DO NOTHING");
        urls.execute(&mut *tx).await?;
    }
    for hosts in p.hosts.chunks(300) {
        let mut insert = query("INSERT INTO message_hosts (message, host) VALUES ");
        for (i, host) in hosts.iter().enumerate() {
            insert.push(if i == 0 { "(" } else { ", (" });
            insert.push_bind(id).push(", ").push_bind(host).push(")");
        }
        insert.push(" ON CONFLICT DO NOTHING");
        insert.execute(&mut *tx).await?;
    }
    if !p.attachments.is_empty() {
        let mut files = query("INSERT INTO message_attachments (message, sha256, name) VALUES ");
        for (i, a) in p.attachments.iter().enumerate() {
            files.push(if i == 0 { "(" } else { ", (" });
            files
                .push_bind(id)
                .push(", ")
                .push_bind(&a.sha256)
                .push(", ");
            files.push_bind(&a.name).push(")");
        }
        files.push(" ON CONFLICT DO NOTHING");
        files.execute(&mut *tx).await?;
    }
    Ok(())
}
