//! The message index: every delivered copy in every mailbox of the store, read once through the
//! store's message source and kept current incrementally. A folder whose stamp has not changed
//! since the last scan is not listed again; of a changed folder, only messages the index does
//! not hold are read, and those that are gone are dropped (a move shows up as one of each).
//! Reading and parsing runs on every core while the previous batch is written ([`write`]), one
//! transaction per batch. The playbook and `GET /messages` read it ([`queries`]).

pub(crate) mod coalesce;
mod members;
mod queries;
mod selection;
mod write;

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use tokio::sync::mpsc;

use crate::db::query;
use crate::leases::{self, Leases};
use crate::AppState;
use mail::{ReadRequest, StoreError};
use model::{AppError, MessageLocation};

pub(crate) use members::{insert_listed, match_unmatched};
pub use queries::{find, indicators_of, list, IndexedMessage, MessageFilter};
pub use selection::Selection;

/// How the indexer works through the store.
#[derive(Debug, Clone)]
pub struct IndexConfig {
    /// Messages read per batch (one write transaction each).
    pub batch: usize,
    /// How long an instance's claim on scanning a mailbox holds if it never gives it back.
    pub lease: Duration,
}

impl Default for IndexConfig {
    fn default() -> Self {
        IndexConfig {
            batch: 1000,
            lease: Duration::from_secs(300),
        }
    }
}

/// How long execution waits for another instance's scan of a mailbox it needs current.
const LEASE_PATIENCE: Duration = Duration::from_secs(60);

/// What one scan did (`unreadable` counts messages, and mailboxes that could not be listed).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ScanReport {
    pub mailboxes: usize,
    pub folders_listed: usize,
    pub folders_unchanged: usize,
    pub added: usize,
    pub removed: usize,
    /// Messages that could not be read (logged; the scan went on).
    pub unreadable: usize,
    /// Changed mailboxes left to the instance scanning them now.
    pub scanned_elsewhere: usize,
}

/// Whether a mailbox another instance is scanning is skipped or waited for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Need {
    /// A round of keeping the index current: the other instance's scan covers it.
    Eventually,
    /// The caller acts on what the index says next (execution): wait for the other scan.
    Now,
}

/// One folder whose listing changed: what to read, what to drop, and the listing's stamp.
struct FolderWork {
    mailbox: String,
    folder: String,
    location: MessageLocation,
    remove: Vec<i64>,
    stamp: (i64, i64),
    read: ReadRequest,
}

/// Brings the index up to date with the store.
#[tracing::instrument(skip_all)]
pub async fn scan(state: &AppState) -> Result<ScanReport, AppError> {
    let mailboxes = state.mail.source.mailboxes().await.map_err(|e| {
        crate::metrics::connector_error(
            state.mail.kind,
            "index",
            crate::metrics::store_error_kind(&e),
        );
        store_failed(e)
    })?;
    let report = scan_these(state, mailboxes, Need::Eventually).await?;
    crate::metrics::index_scanned();
    Ok(report)
}

/// Whether the store has this mailbox and the index reads it.
pub async fn is_indexed(state: &AppState, mailbox: &str) -> Result<bool, AppError> {
    let mailboxes = state.mail.source.mailboxes().await.map_err(store_failed)?;
    Ok(mailboxes.iter().any(|m| m == mailbox))
}

/// Brings the index of these mailboxes up to date (execution, before it matches copies named
/// from outside).
#[tracing::instrument(skip_all, fields(mailboxes = mailboxes.len()))]
pub async fn scan_mailboxes(
    state: &AppState,
    mailboxes: &[String],
) -> Result<ScanReport, AppError> {
    // In one order everywhere: a scan waiting for one mailbox's lease while holding others'
    // can then never wait on a scan that waits on it.
    let mut mailboxes = mailboxes.to_vec();
    mailboxes.sort();
    mailboxes.dedup();
    scan_these(state, mailboxes, Need::Now).await
}

/// Scans, holding each changed mailbox's lease while its changes are read and written; gives
/// every lease back at the end, whatever happened.
async fn scan_these(
    state: &AppState,
    mailboxes: Vec<String>,
    need: Need,
) -> Result<ScanReport, AppError> {
    let mut held = Held {
        holder: leases::holder(),
        mailboxes: Vec::new(),
    };
    let scanned = scan_leased(state, mailboxes, need, &mut held).await;
    if let Err(error) =
        leases::release(&state.db, Leases::Mailboxes, &held.holder, &held.mailboxes).await
    {
        tracing::warn!(%error, "could not give back the index leases; they run out by themselves");
    }
    scanned
}

/// The leases one scan holds.
struct Held {
    holder: String,
    mailboxes: Vec<String>,
}

async fn scan_leased(
    state: &AppState,
    mailboxes: Vec<String>,
    need: Need,
    held: &mut Held,
) -> Result<ScanReport, AppError> {
    let source = &state.mail.source;
    let mut report = ScanReport::default();
    let stamps: HashMap<(String, String), (i64, i64)> =
        query("SELECT mailbox, folder, new_mtime, cur_mtime FROM index_folders")
            .fetch_all::<(String, String, i64, i64)>(&state.db)
            .await?
            .into_iter()
            .map(|(m, f, n, c)| ((m, f), (n, c)))
            .collect();
    let (tx, rx) = mpsc::channel::<write::Batch>(2);
    let writer = tokio::spawn(write::write_all(state.db.clone(), rx));
    report.mailboxes = mailboxes.len();
    let mut pending: Vec<FolderWork> = Vec::new();
    let mut pending_messages = 0;
    for mailbox in mailboxes {
        // One mailbox that cannot be read (logged) does not stop the others.
        let folders = match source.folder_stamps(&mailbox).await {
            Ok(folders) => folders,
            Err(error) => {
                tracing::warn!(mailbox, %error, "cannot list the mailbox's folders; skipped");
                report.unreadable += 1;
                continue;
            }
        };
        let changed = folders
            .iter()
            .any(|(folder, stamp)| stamps.get(&(mailbox.clone(), folder.clone())) != Some(stamp));
        if changed && !lease(state, &held.holder, &mailbox, need).await? {
            report.scanned_elsewhere += 1;
            continue;
        }
        if changed {
            held.mailboxes.push(mailbox.clone());
        }
        for (folder, stamp) in folders {
            if stamps.get(&(mailbox.clone(), folder.clone())) == Some(&stamp) {
                report.folders_unchanged += 1;
                continue;
            }
            report.folders_listed += 1;
            let work = changes(state, &mailbox, folder, stamp).await?;
            pending_messages += work.read.messages.len();
            pending.push(work);
            if pending_messages >= state.index.batch {
                let batch = read(state, std::mem::take(&mut pending), &mut report).await?;
                pending_messages = 0;
                if tx.send(batch).await.is_err() {
                    break;
                }
            }
        }
    }
    if !pending.is_empty() {
        let batch = read(state, pending, &mut report).await?;
        let _ = tx.send(batch).await;
    }
    drop(tx);
    let (added, removed) = writer.await.map_err(|_| AppError::Internal)??;
    report.added = added;
    report.removed = removed;
    Ok(report)
}

/// Takes the mailbox's scanning lease, or waits for it when the caller needs it now.
async fn lease(
    state: &AppState,
    holder: &str,
    mailbox: &str,
    need: Need,
) -> Result<bool, AppError> {
    let lease = state.index.lease;
    let taken = match need {
        Need::Eventually => {
            leases::take(&state.db, Leases::Mailboxes, holder, mailbox, lease).await?
        }
        Need::Now => {
            leases::wait_for(
                &state.db,
                Leases::Mailboxes,
                holder,
                mailbox,
                lease,
                LEASE_PATIENCE,
            )
            .await?
        }
    };
    match (taken, need) {
        (true, _) => {}
        (false, Need::Eventually) => {
            tracing::debug!(
                mailbox,
                "another instance is scanning the mailbox; left to it"
            )
        }
        (false, Need::Now) => tracing::warn!(
            mailbox,
            "another instance has been scanning the mailbox for over a minute; going on without"
        ),
    }
    Ok(taken)
}

/// What changed in one folder since the index last saw it.
async fn changes(
    state: &AppState,
    mailbox: &str,
    folder: String,
    stamp: (i64, i64),
) -> Result<FolderWork, AppError> {
    let listing = state
        .mail
        .source
        .list(mailbox, &folder)
        .await
        .map_err(store_failed)?;
    let known: Vec<(i64, String)> =
        query("SELECT id, file FROM messages WHERE mailbox = $1 AND folder = $2")
            .bind(mailbox)
            .bind(&folder)
            .fetch_all(&state.db)
            .await?;
    let known_keys: HashSet<&str> = known.iter().map(|(_, f)| f.as_str()).collect();
    let remove = known
        .iter()
        .filter(|(_, f)| !listing.messages.contains_key(f))
        .map(|(id, _)| *id)
        .collect();
    let add: Vec<(String, String)> = listing
        .messages
        .into_iter()
        .filter(|(key, _)| !known_keys.contains(key.as_str()))
        .collect();
    Ok(FolderWork {
        location: state.mail.folders().location(&folder),
        mailbox: mailbox.to_string(),
        read: ReadRequest {
            mailbox: mailbox.to_string(),
            folder: folder.clone(),
            generation: listing.generation,
            messages: add,
        },
        folder,
        remove,
        stamp,
    })
}

/// Reads the new messages of these folders.
async fn read(
    state: &AppState,
    work: Vec<FolderWork>,
    report: &mut ScanReport,
) -> Result<write::Batch, AppError> {
    let requests = work.iter().map(|w| w.read.clone()).collect();
    let read = state
        .mail
        .source
        .read(requests)
        .await
        .map_err(store_failed)?;
    report.unreadable += read.unreadable;
    Ok(write::Batch {
        folders: work
            .into_iter()
            .zip(read.folders)
            .map(|(w, messages)| write::Folder {
                mailbox: w.mailbox,
                folder: w.folder,
                location: w.location,
                remove: w.remove,
                stamp: w.stamp,
                messages,
            })
            .collect(),
    })
}

fn store_failed(error: StoreError) -> AppError {
    tracing::warn!(%error, "cannot read the mail store for the index");
    AppError::Internal
}

/// Keeps the index current: a scan every `every`, for as long as the server runs.
pub async fn keep_current(state: AppState, every: Duration) {
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let started = Instant::now();
        match scan(&state).await {
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
