//! The message index: every delivered copy in every mailbox of the Maildir store, read once
//! and kept current incrementally. A folder whose `new/` and `cur/` have not changed since the
//! last scan is not listed again; of a changed folder, only files the index does not hold are
//! read, and files that are gone are dropped (a move shows up as one of each). Parsing runs on
//! every core while the previous batch is written, one transaction per batch.

pub mod parse;

use std::collections::{HashMap, HashSet};
use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, UNIX_EPOCH};

use app::model::{AppError, ClusterBy, MessageLocation};
use app::server::clock::db_time;
use chrono::{DateTime, Utc};
use sqlx::{QueryBuilder, Sqlite, SqlitePool};
use tokio::sync::mpsc;

use crate::mail::imap::{Imap, RawMessage};
use crate::mail::Folders;
use parse::{parse, url_domain, Parsed};

/// How the indexer reads the store.
#[derive(Debug, Clone)]
pub struct IndexConfig {
    /// Messages larger than this are indexed from their headers only.
    pub max_body_bytes: u64,
    /// Files read per batch (one write transaction each).
    pub batch: usize,
    /// Parser threads; 0 = one per core.
    pub threads: usize,
}

impl Default for IndexConfig {
    fn default() -> Self {
        IndexConfig {
            max_body_bytes: 32 * 1024 * 1024,
            batch: 1000,
            threads: 0,
        }
    }
}

/// What one scan did (`unreadable` counts files, and mailboxes that could not be listed).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ScanReport {
    pub mailboxes: usize,
    pub folders_listed: usize,
    pub folders_unchanged: usize,
    pub added: usize,
    pub removed: usize,
    /// Files that could not be read (logged; the scan went on).
    pub unreadable: usize,
}

/// Where the indexed mail lives.
#[derive(Clone, Debug)]
enum Source {
    /// A Maildir++ tree: one directory per mailbox.
    Maildir(PathBuf),
    /// An IMAP server, read through the service account; IMAP cannot list every mailbox of a
    /// server, so the operator names them.
    Imap {
        store: std::sync::Arc<Imap>,
        mailboxes: Vec<String>,
    },
}

/// Where one new message is to be read from.
#[derive(Clone, Debug)]
enum Locator {
    File(PathBuf),
    Uid(u32),
}

/// The mail store's index.
#[derive(Clone, Debug)]
pub struct Indexer {
    pool: SqlitePool,
    source: Source,
    folders: Folders,
    config: IndexConfig,
}

/// One folder whose listing changed: what to read, what to drop, and the listing's stamp.
struct FolderWork {
    mailbox: String,
    folder: String,
    location: MessageLocation,
    add: Vec<(String, Locator)>,
    remove: Vec<i64>,
    stamp: (i64, i64),
    /// IMAP: the UIDVALIDITY the UIDs belong to.
    validity: u32,
}

/// One file, read.
struct Read1 {
    file: String,
    received_at: DateTime<Utc>,
    size: u64,
    parsed: Parsed,
}

/// A batch for the writer: folders with their files read.
struct Batch {
    folders: Vec<(FolderWork, Vec<Read1>)>,
}

impl Indexer {
    /// The index of the Maildir tree under `root`.
    pub fn new(
        pool: SqlitePool,
        root: impl Into<PathBuf>,
        folders: Folders,
        config: IndexConfig,
    ) -> Self {
        Indexer {
            pool,
            source: Source::Maildir(root.into()),
            folders,
            config,
        }
    }

    /// The index of `mailboxes` on an IMAP server. A folder is read again only when its
    /// UIDVALIDITY, UIDNEXT or message count changed; then only UIDs the index lacks are fetched.
    pub fn imap(
        pool: SqlitePool,
        store: std::sync::Arc<Imap>,
        mailboxes: Vec<String>,
        folders: Folders,
        config: IndexConfig,
    ) -> Self {
        Indexer {
            pool,
            source: Source::Imap { store, mailboxes },
            folders,
            config,
        }
    }

    async fn mailboxes(&self) -> Result<Vec<String>, AppError> {
        match &self.source {
            Source::Maildir(root) => {
                let root = root.clone();
                blocking(move || list_mailboxes(&root)).await
            }
            Source::Imap { mailboxes, .. } => Ok(mailboxes.clone()),
        }
    }

    /// Every folder of a mailbox with its stamp: the mtimes of `new/` and `cur/` (Maildir), or
    /// UIDVALIDITY and UIDNEXT with the message count (IMAP).
    async fn folders_of(&self, mailbox: &str) -> Result<Vec<(String, (i64, i64))>, AppError> {
        match &self.source {
            Source::Maildir(root) => {
                let dir = root.join(mailbox);
                let inbox = self.folders.inbox.clone();
                blocking(move || {
                    Ok(list_folders(&dir, &inbox)?
                        .into_iter()
                        .map(|(folder, path)| {
                            let stamp = folder_stamp(&path);
                            (folder, stamp)
                        })
                        .collect())
                })
                .await
            }
            Source::Imap { store, .. } => Ok(store
                .folder_stamps(mailbox)
                .await
                .map_err(store_failed)?
                .into_iter()
                .map(|(folder, validity, next, count)| {
                    (
                        folder,
                        (
                            i64::from(validity),
                            (i64::from(next) << 32) | i64::from(count),
                        ),
                    )
                })
                .collect()),
        }
    }

    /// The messages in a folder by stable name, and (IMAP) the folder's UIDVALIDITY.
    async fn list(
        &self,
        mailbox: &str,
        folder: &str,
    ) -> Result<(HashMap<String, Locator>, u32), AppError> {
        match &self.source {
            Source::Maildir(root) => {
                let dir = if folder.eq_ignore_ascii_case(&self.folders.inbox) {
                    root.join(mailbox)
                } else {
                    root.join(mailbox).join(format!(".{folder}"))
                };
                let files = blocking(move || list_files(&dir)).await?;
                Ok((
                    files
                        .into_iter()
                        .map(|(k, v)| (k, Locator::File(v)))
                        .collect(),
                    0,
                ))
            }
            Source::Imap { store, .. } => {
                let (validity, uids) = store
                    .folder_uids(mailbox, folder)
                    .await
                    .map_err(store_failed)?;
                Ok((
                    uids.into_iter()
                        .map(|uid| (format!("{validity}:{uid}"), Locator::Uid(uid)))
                        .collect(),
                    validity,
                ))
            }
        }
    }

    /// Brings the index up to date with the store.
    pub async fn scan(&self) -> Result<ScanReport, AppError> {
        let mut report = ScanReport::default();
        let stamps: HashMap<(String, String), (i64, i64)> =
            sqlx::query_as::<_, (String, String, i64, i64)>(
                "SELECT mailbox, folder, new_mtime, cur_mtime FROM index_folders",
            )
            .fetch_all(&self.pool)
            .await?
            .into_iter()
            .map(|(m, f, n, c)| ((m, f), (n, c)))
            .collect();

        let (tx, mut rx) = mpsc::channel::<Batch>(2);
        let pool = self.pool.clone();
        let writer = tokio::spawn(async move {
            let mut written = (0usize, 0usize);
            while let Some(batch) = rx.recv().await {
                let (added, removed) = write_batch(&pool, batch).await?;
                written.0 += added;
                written.1 += removed;
            }
            Ok::<_, AppError>(written)
        });

        let mailboxes = self.mailboxes().await?;
        report.mailboxes = mailboxes.len();
        let mut pending: Vec<FolderWork> = Vec::new();
        let mut pending_files = 0;
        for mailbox in mailboxes {
            // One mailbox that cannot be read (logged) does not stop the others.
            let Ok(folders) = self.folders_of(&mailbox).await else {
                report.unreadable += 1;
                continue;
            };
            for (folder, stamp) in folders {
                if stamps.get(&(mailbox.clone(), folder.clone())) == Some(&stamp) {
                    report.folders_unchanged += 1;
                    continue;
                }
                report.folders_listed += 1;
                let (listed, validity) = self.list(&mailbox, &folder).await?;
                let known: Vec<(i64, String)> = sqlx::query_as(
                    "SELECT id, file FROM messages WHERE mailbox = $1 AND folder = $2",
                )
                .bind(&mailbox)
                .bind(&folder)
                .fetch_all(&self.pool)
                .await?;
                let known_names: HashSet<&str> = known.iter().map(|(_, f)| f.as_str()).collect();
                let remove = known
                    .iter()
                    .filter(|(_, f)| !listed.contains_key(f))
                    .map(|(id, _)| *id)
                    .collect();
                let add: Vec<(String, Locator)> = listed
                    .into_iter()
                    .filter(|(name, _)| !known_names.contains(name.as_str()))
                    .collect();
                pending_files += add.len();
                pending.push(FolderWork {
                    location: self.folders.location(&folder),
                    mailbox: mailbox.clone(),
                    folder,
                    add,
                    remove,
                    stamp,
                    validity,
                });
                if pending_files >= self.config.batch {
                    let batch = self.read(std::mem::take(&mut pending), &mut report).await?;
                    pending_files = 0;
                    if tx.send(batch).await.is_err() {
                        break;
                    }
                }
            }
        }
        if !pending.is_empty() {
            let batch = self.read(pending, &mut report).await?;
            let _ = tx.send(batch).await;
        }
        drop(tx);
        let (added, removed) = writer.await.map_err(|_| AppError::Internal)??;
        report.added = added;
        report.removed = removed;
        Ok(report)
    }

    /// Reads the new messages of these folders: over the network first (IMAP), then parsed
    /// on every core.
    async fn read(
        &self,
        work: Vec<FolderWork>,
        report: &mut ScanReport,
    ) -> Result<Batch, AppError> {
        let threads = match self.config.threads {
            0 => std::thread::available_parallelism().map_or(2, |n| n.get()),
            n => n,
        };
        let max_body = self.config.max_body_bytes;
        // (folder index, name, what to parse)
        let mut jobs: Vec<(usize, String, Job)> = Vec::new();
        for (i, w) in work.iter().enumerate() {
            match &self.source {
                Source::Maildir(_) => jobs.extend(w.add.iter().filter_map(|(name, at)| match at {
                    Locator::File(path) => Some((i, name.clone(), Job::File(path.clone()))),
                    Locator::Uid(_) => None,
                })),
                Source::Imap { store, .. } => {
                    let uids: Vec<u32> = w
                        .add
                        .iter()
                        .filter_map(|(_, at)| match at {
                            Locator::Uid(uid) => Some(*uid),
                            Locator::File(_) => None,
                        })
                        .collect();
                    let fetched = store
                        .fetch_raw(&w.mailbox, &w.folder, w.validity, &uids, max_body + 1)
                        .await
                        .map_err(store_failed)?;
                    jobs.extend(
                        fetched.into_iter().map(|raw| {
                            (i, format!("{}:{}", w.validity, raw.uid), Job::Fetched(raw))
                        }),
                    );
                }
            }
        }
        let (batch, unreadable) = blocking(move || {
            let chunk = jobs.len().div_ceil(threads).max(1);
            let results: Vec<Vec<(usize, Option<Read1>)>> = std::thread::scope(|scope| {
                let handles: Vec<_> = jobs
                    .chunks(chunk)
                    .map(|part| {
                        scope.spawn(move || {
                            part.iter()
                                .map(|(i, name, job)| (*i, job.read(name, max_body)))
                                .collect::<Vec<_>>()
                        })
                    })
                    .collect();
                handles
                    .into_iter()
                    .map(|h| h.join().unwrap_or_default())
                    .collect()
            });
            let mut by_folder: Vec<Vec<Read1>> = work.iter().map(|_| Vec::new()).collect();
            let mut unreadable = 0;
            for (i, read) in results.into_iter().flatten() {
                match read {
                    Some(read) => by_folder[i].push(read),
                    None => unreadable += 1,
                }
            }
            Ok((
                Batch {
                    folders: work.into_iter().zip(by_folder).collect(),
                },
                unreadable,
            ))
        })
        .await?;
        report.unreadable += unreadable;
        Ok(batch)
    }
}

/// One new message to parse.
enum Job {
    File(PathBuf),
    Fetched(RawMessage),
}

impl Job {
    fn read(&self, name: &str, max_body: u64) -> Option<Read1> {
        match self {
            Job::File(path) => read_one(name, path, max_body),
            Job::Fetched(raw) => {
                let full = u64::from(raw.size) <= max_body;
                let parsed = parse(&raw.bytes, full);
                Some(Read1 {
                    file: name.to_string(),
                    received_at: raw.received_at.or(parsed.date).unwrap_or_default(),
                    size: u64::from(raw.size),
                    parsed,
                })
            }
        }
    }
}

fn store_failed(error: crate::mail::StoreError) -> AppError {
    tracing::warn!(%error, "cannot read the mail store for the index");
    AppError::Internal
}

/// Reads one file; None (and a log line) when it cannot be read at all.
fn read_one(name: &str, path: &Path, max_body: u64) -> Option<Read1> {
    let outcome = (|| -> std::io::Result<Read1> {
        let meta = fs::metadata(path)?;
        let size = meta.len();
        let full = size <= max_body;
        let mut bytes = Vec::new();
        let file = fs::File::open(path)?;
        if full {
            file.take(max_body).read_to_end(&mut bytes)?;
        } else {
            // Headers only: the first 256 KiB hold them in any message worth reading.
            file.take(256 * 1024).read_to_end(&mut bytes)?;
        }
        let parsed = parse(&bytes, full);
        let received_at = delivered_at(name)
            .or_else(|| {
                meta.modified()
                    .ok()
                    .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
                    .and_then(|d| DateTime::from_timestamp(d.as_secs() as i64, 0))
            })
            .or(parsed.date)
            .unwrap_or_default();
        Ok(Read1 {
            file: name.to_string(),
            received_at,
            size,
            parsed,
        })
    })();
    match outcome {
        Ok(read) => {
            if !read.parsed.body_read {
                tracing::info!(path = %path.display(), "indexed from its headers only (too large)");
            }
            Some(read)
        }
        Err(error) => {
            tracing::warn!(path = %path.display(), %error, "cannot read message; skipped");
            None
        }
    }
}

/// A Maildir file name starts with the delivery time in seconds: `1732093200.M1P2.host`.
/// That, not the sender's Date header, is when the message arrived.
fn delivered_at(name: &str) -> Option<DateTime<Utc>> {
    let seconds: i64 = name.split('.').next()?.parse().ok()?;
    (seconds > 0)
        .then(|| DateTime::from_timestamp(seconds, 0))
        .flatten()
}

async fn write_batch(pool: &SqlitePool, batch: Batch) -> Result<(usize, usize), AppError> {
    let mut tx = pool.begin().await?;
    let (mut added, mut removed) = (0, 0);
    for (work, reads) in batch.folders {
        for id in &work.remove {
            sqlx::query("DELETE FROM messages WHERE id = $1")
                .bind(id)
                .execute(&mut *tx)
                .await?;
        }
        removed += work.remove.len();
        for read in reads {
            let p = &read.parsed;
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO messages (mailbox, folder, file, location, internet_message_id, sender,
                    sender_domain, sender_name, reply_to, recipients, subject, subject_fingerprint,
                    received_at, spf, dkim, dmarc, size, body_read)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)
                 ON CONFLICT (mailbox, folder, file) DO UPDATE SET location = excluded.location
                 RETURNING id",
            )
            .bind(&work.mailbox)
            .bind(&work.folder)
            .bind(&read.file)
            .bind(work.location.as_str())
            .bind(&p.internet_message_id)
            .bind(&p.sender)
            .bind(&p.sender_domain)
            .bind(&p.sender_name)
            .bind(&p.reply_to)
            .bind(p.recipients.join(", "))
            .bind(&p.subject)
            .bind(&p.subject_fingerprint)
            .bind(db_time(&read.received_at))
            .bind(&p.auth.spf)
            .bind(&p.auth.dkim)
            .bind(&p.auth.dmarc)
            .bind(read.size as i64)
            .bind(p.body_read)
            .fetch_one(&mut *tx)
            .await?;
            if !p.urls.is_empty() {
                let mut q = QueryBuilder::<Sqlite>::new(
                    "INSERT OR IGNORE INTO message_urls (message, url, domain) ",
                );
                q.push_values(&p.urls, |mut b, url| {
                    b.push_bind(id).push_bind(url).push_bind(url_domain(url));
                });
                q.build().execute(&mut *tx).await?;
            }
            if !p.attachments.is_empty() {
                let mut q = QueryBuilder::<Sqlite>::new(
                    "INSERT OR IGNORE INTO message_attachments (message, sha256, name) ",
                );
                q.push_values(&p.attachments, |mut b, a| {
                    b.push_bind(id).push_bind(&a.sha256).push_bind(&a.name);
                });
                q.build().execute(&mut *tx).await?;
            }
            added += 1;
        }
        sqlx::query(
            "INSERT INTO index_folders (mailbox, folder, new_mtime, cur_mtime) VALUES ($1, $2, $3, $4)
             ON CONFLICT (mailbox, folder) DO UPDATE SET new_mtime = excluded.new_mtime, cur_mtime = excluded.cur_mtime",
        )
        .bind(&work.mailbox)
        .bind(&work.folder)
        .bind(work.stamp.0)
        .bind(work.stamp.1)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    // Commits leave checkpoints to a background task in `serve` (db::checkpoint_periodically);
    // a scan writes so much at once that it checkpoints as it goes, or the WAL would hold
    // every version of every page it touched.
    sqlx::query("PRAGMA wal_checkpoint(PASSIVE)")
        .execute(pool)
        .await?;
    Ok((added, removed))
}

/// Mailbox directories: names that look like addresses and hold a Maildir.
fn list_mailboxes(root: &Path) -> std::io::Result<Vec<String>> {
    let mut found = Vec::new();
    let entries = match fs::read_dir(root) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(found),
        Err(e) => return Err(e),
    };
    for entry in entries {
        let entry = entry?;
        let Some(name) = entry.file_name().to_str().map(str::to_string) else {
            continue;
        };
        if name.contains('@') && !name.starts_with('.') && entry.path().join("cur").is_dir() {
            found.push(name);
        }
    }
    found.sort();
    Ok(found)
}

/// (folder name, directory), inbox first.
fn list_folders(dir: &Path, inbox: &str) -> std::io::Result<Vec<(String, PathBuf)>> {
    let mut folders = vec![(inbox.to_string(), dir.to_path_buf())];
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        let Some(name) = entry.file_name().to_str().map(str::to_string) else {
            continue;
        };
        if let Some(folder) = name.strip_prefix('.') {
            if !folder.is_empty() && entry.path().join("cur").is_dir() {
                folders.push((folder.to_string(), entry.path()));
            }
        }
    }
    Ok(folders)
}

/// The modification times of `new/` and `cur/` in nanoseconds (0 when missing).
fn folder_stamp(dir: &Path) -> (i64, i64) {
    let stamp = |sub: &str| {
        fs::metadata(dir.join(sub))
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
            .map_or(0, |d| d.as_nanos() as i64)
    };
    (stamp("new"), stamp("cur"))
}

/// The messages of a folder by stable name (the file name without `:2,flags`).
fn list_files(dir: &Path) -> std::io::Result<HashMap<String, PathBuf>> {
    let mut files = HashMap::new();
    for sub in ["new", "cur"] {
        let entries = match fs::read_dir(dir.join(sub)) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => return Err(e),
        };
        for entry in entries {
            let entry = entry?;
            let Some(name) = entry.file_name().to_str().map(str::to_string) else {
                continue;
            };
            if name.starts_with('.') || !entry.file_type()?.is_file() {
                continue;
            }
            let stable = name.split(':').next().unwrap_or(&name).to_string();
            files.insert(stable, entry.path());
        }
    }
    Ok(files)
}

async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> std::io::Result<T> + Send + 'static,
) -> Result<T, AppError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|_| AppError::Internal)?
        .map_err(|error| {
            tracing::error!(%error, "cannot read the mail store");
            AppError::Internal
        })
}

/// Keeps the index current: a scan every `every`, for as long as the server runs.
pub async fn keep_current(indexer: Indexer, every: Duration) {
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let started = Instant::now();
        match indexer.scan().await {
            Ok(r) if r.added + r.removed > 0 => tracing::info!(
                added = r.added,
                removed = r.removed,
                unreadable = r.unreadable,
                took_ms = started.elapsed().as_millis() as u64,
                "message index updated"
            ),
            Ok(_) => {}
            Err(error) => tracing::warn!(%error, "message index scan failed; next try soon"),
        }
    }
}

/// One indexed copy, as the playbook and `GET /messages` see it.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow, serde::Serialize, utoipa::ToSchema)]
pub struct IndexedMessage {
    pub id: i64,
    pub mailbox: String,
    pub folder: String,
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
}

const COLUMNS: &str = "m.id, m.mailbox, m.folder, m.location, m.internet_message_id, m.sender,
    m.sender_domain, m.reply_to, m.recipients, m.subject, m.subject_fingerprint, m.received_at,
    m.spf, m.dkim, m.dmarc";

/// Copies of one message (by mailbox, if given).
pub async fn find(
    pool: &SqlitePool,
    mailbox: Option<&str>,
    internet_message_id: &str,
) -> Result<Vec<IndexedMessage>, AppError> {
    let mut q = QueryBuilder::<Sqlite>::new(format!(
        "SELECT {COLUMNS} FROM messages m WHERE m.internet_message_id = "
    ));
    q.push_bind(internet_message_id);
    if let Some(mailbox) = mailbox {
        q.push(" AND m.mailbox = ").push_bind(mailbox);
    }
    q.push(" ORDER BY m.id");
    Ok(q.build_query_as().fetch_all(pool).await?)
}

/// The URLs and attachment hashes of one indexed copy.
pub async fn indicators_of(
    pool: &SqlitePool,
    id: i64,
) -> Result<(Vec<String>, Vec<(String, String)>), AppError> {
    let urls = sqlx::query_scalar("SELECT url FROM message_urls WHERE message = $1 ORDER BY url")
        .bind(id)
        .fetch_all(pool)
        .await?;
    let attachments = sqlx::query_as(
        "SELECT sha256, name FROM message_attachments WHERE message = $1 ORDER BY sha256",
    )
    .bind(id)
    .fetch_all(pool)
    .await?;
    Ok((urls, attachments))
}

/// Every copy received since `since` that shares `value` as its `by` (a URL cluster also
/// matches by URL domain when `value` is a bare domain), at most `limit`, oldest first.
pub async fn cluster(
    pool: &SqlitePool,
    by: ClusterBy,
    value: &str,
    since: DateTime<Utc>,
    limit: i64,
) -> Result<Vec<IndexedMessage>, AppError> {
    let mut q = QueryBuilder::<Sqlite>::new(format!("SELECT {COLUMNS} FROM messages m "));
    match by {
        ClusterBy::Url => {
            q.push("JOIN message_urls u ON u.message = m.id WHERE u.url = ")
                .push_bind(value);
        }
        ClusterBy::AttachmentHash => {
            q.push("WHERE m.id IN (SELECT message FROM message_attachments WHERE sha256 = ")
                .push_bind(value)
                .push(")");
        }
        ClusterBy::Sender => {
            q.push("WHERE m.sender = ").push_bind(value);
        }
        ClusterBy::SubjectFingerprint => {
            q.push("WHERE m.subject_fingerprint = ").push_bind(value);
        }
    }
    q.push(" AND m.received_at >= ").push_bind(db_time(&since));
    q.push(" ORDER BY m.received_at, m.id LIMIT ")
        .push_bind(limit);
    Ok(q.build_query_as().fetch_all(pool).await?)
}

/// Copies that carry a URL on `domain` (for domain indicators), since `since`.
pub async fn by_url_domain(
    pool: &SqlitePool,
    domain: &str,
    since: DateTime<Utc>,
    limit: i64,
) -> Result<Vec<(IndexedMessage, String)>, AppError> {
    #[derive(sqlx::FromRow)]
    struct Row {
        #[sqlx(flatten)]
        message: IndexedMessage,
        url: String,
    }
    let rows: Vec<Row> = sqlx::query_as(&format!(
        "SELECT {COLUMNS}, u.url FROM message_urls u JOIN messages m ON m.id = u.message
         WHERE u.domain = $1 AND m.received_at >= $2 ORDER BY m.received_at, m.id LIMIT $3"
    ))
    .bind(domain)
    .bind(db_time(&since))
    .bind(limit)
    .fetch_all(pool)
    .await?;
    Ok(rows.into_iter().map(|r| (r.message, r.url)).collect())
}
