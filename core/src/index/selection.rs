//! A cluster as a query over the index: every copy received since a time that shares one
//! value. Its members are written, counted and judged in SQL, so a cluster of a million copies
//! never has to sit in memory, and no cap silently leaves its newest copies out.

use chrono::{DateTime, Utc};

use crate::db::{query, Db, Query, Tx};
use mail::parse::url_host;
use model::{AppError, ClusterBy};

/// The copies of one cluster.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Selection {
    pub by: ClusterBy,
    /// As the index keeps it (a normalised URL, a lower-cased address or host …).
    pub value: String,
    pub since: DateTime<Utc>,
}

impl Selection {
    /// Appends this cluster's condition on the index's `messages m`.
    pub(crate) fn push_condition(&self, q: &mut Query) {
        q.push("(");
        match self.by {
            ClusterBy::Url | ClusterBy::UrlPattern => {
                let column = if self.by == ClusterBy::Url {
                    "url"
                } else {
                    "pattern"
                };
                q.push(&format!(
                    "m.id IN (SELECT message FROM message_urls WHERE {column} = "
                ))
                .push_bind(&self.value)
                .push(")");
                // A message whose links were too many to keep them all may hold this one among
                // those dropped: it is found by the link's host (failing closed).
                if let Some(host) = url_host(&self.value) {
                    q.push(" OR (m.urls_dropped > 0 AND m.id IN (SELECT message FROM message_hosts WHERE host = ")
                        .push_bind(host)
                        .push("))");
                }
            }
            ClusterBy::UrlDomain => {
                q.push("m.id IN (SELECT message FROM message_hosts WHERE host = ")
                    .push_bind(&self.value)
                    .push(")");
            }
            ClusterBy::AttachmentHash => {
                q.push("m.id IN (SELECT message FROM message_attachments WHERE sha256 = ")
                    .push_bind(&self.value)
                    .push(")");
            }
            ClusterBy::Sender => {
                q.push("m.sender = ").push_bind(&self.value);
            }
            ClusterBy::SenderDomain => {
                q.push("m.sender_domain = ").push_bind(&self.value);
            }
            ClusterBy::SubjectFingerprint => {
                q.push("m.subject_fingerprint = ").push_bind(&self.value);
            }
        }
        q.push(") AND m.received_at >= ").push_bind(self.since);
    }

    /// A query of the selected copies: `SELECT <columns> FROM messages m WHERE <this>`.
    pub(crate) fn select(&self, columns: &str) -> Query {
        let mut q = query(format!("SELECT {columns} FROM messages m WHERE "));
        self.push_condition(&mut q);
        q
    }

    /// Appends `SELECT <columns> FROM messages m WHERE <this>` to a query (for `IN (…)`).
    pub(crate) fn push_select(&self, q: &mut Query, columns: &str) {
        q.push(&format!("SELECT {columns} FROM messages m WHERE "));
        self.push_condition(q);
    }

    /// How many copies, in how many mailboxes.
    pub async fn count(&self, db: &Db) -> Result<(i64, i64), AppError> {
        Ok(self
            .select("COUNT(*), COUNT(DISTINCT m.mailbox)")
            .fetch_one(db)
            .await?)
    }

    /// The mailboxes the copies are in.
    pub async fn mailboxes(&self, db: &Db) -> Result<Vec<String>, AppError> {
        let mut q = self.select("DISTINCT m.mailbox");
        q.push(" ORDER BY m.mailbox");
        Ok(q.scalars(db).await?)
    }

    /// Sender domains of copies that failed SPF, DKIM or DMARC.
    pub async fn failed_auth_domains(&self, db: &Db) -> Result<Vec<String>, AppError> {
        let mut q = self.select("DISTINCT m.sender_domain");
        q.push(
            " AND m.sender_domain <> '' AND (m.spf IN ('fail', 'softfail', 'permerror')
               OR m.dkim IN ('fail', 'softfail', 'permerror') OR m.dmarc IN ('fail', 'softfail', 'permerror'))
             ORDER BY m.sender_domain",
        );
        Ok(q.scalars(db).await?)
    }

    /// Writes every selected copy as a member of the cluster, with its handle and
    /// fingerprint; answers how many.
    pub(crate) async fn insert_members(
        &self,
        tx: &mut Tx<'_>,
        cluster_id: &str,
    ) -> Result<u64, AppError> {
        let mut q = query(
            "INSERT INTO cluster_messages (cluster_id, mailbox, folder, file, content_sha256, size,
                internet_message_id, sender, subject, received_at, location) ",
        );
        q.push("SELECT ").push_bind(cluster_id);
        q.push(
            ", m.mailbox, m.folder, m.file, m.content_sha256, m.size, m.internet_message_id,
               m.sender, m.subject, m.received_at, m.location FROM messages m WHERE ",
        );
        self.push_condition(&mut q);
        q.push(" ORDER BY m.mailbox, m.id ON CONFLICT DO NOTHING");
        Ok(q.execute(&mut *tx).await?)
    }
}
