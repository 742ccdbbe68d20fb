//! Finding the copies the index saw over IMAP: a copy's handle is its folder's UIDVALIDITY and
//! its UID, valid until the folder is recreated. One `UID FETCH` per folder asks which are
//! still there; a copy that is not is looked for by content in every folder — `UID SEARCH`
//! for its exact size (nothing the sender wrote), then its fingerprint over the first MiB.
//! Message-IDs play no part.

use std::collections::HashMap;

use futures_util::TryStreamExt;

use super::conn::Conn;
use super::messages::{handle, parse_handle, uid_set};
use super::{imap_error, Imap};
use crate::parse::{content_hash, FINGERPRINT_BYTES};
use crate::{Copy, Found, StoreError, Whereabouts};

/// Sizes asked for in one SEARCH.
const SIZES_PER_SEARCH: usize = 40;

impl Imap {
    pub(super) async fn find_copies(
        &self,
        mailbox: &str,
        copies: &[Copy],
    ) -> Result<Vec<Whereabouts>, StoreError> {
        let folders = self.folders.clone();
        self.with_session(mailbox, async move |conn: &mut Conn| {
            let names = conn.folders().await?;
            let mut answers: Vec<Option<Whereabouts>> = vec![None; copies.len()];
            let mut by_folder: HashMap<&str, Vec<usize>> = HashMap::new();
            for (i, copy) in copies.iter().enumerate() {
                by_folder.entry(copy.folder.as_str()).or_default().push(i);
            }
            for (folder, group) in by_folder {
                if !names.iter().any(|n| n == folder) {
                    continue;
                }
                for (i, uid) in still_there(conn, folder, copies, &group).await? {
                    answers[i] = Some(Whereabouts::At(Found {
                        folder: folder.to_string(),
                        location: folders.location(folder),
                        handle: handle(conn_validity(conn), uid),
                    }));
                }
            }
            let lost: Vec<usize> = (0..copies.len())
                .filter(|i| answers[*i].is_none())
                .collect();
            if !lost.is_empty() {
                let search = by_content(conn, &names, copies, &lost).await?;
                for i in lost {
                    answers[i] = Some(match search.found.get(&i) {
                        Some((folder, handle)) => Whereabouts::At(Found {
                            folder: folder.clone(),
                            location: folders.location(folder),
                            handle: handle.clone(),
                        }),
                        None => not_there(&copies[i], &names, &search.refused),
                    });
                }
            }
            Ok(answers.into_iter().flatten().collect())
        })
        .await
    }
}

/// The UIDVALIDITY of the selected folder (0 when the server gave none).
fn conn_validity(conn: &Conn) -> u32 {
    conn.selected_validity().unwrap_or(0)
}

/// Selects `folder` and answers which of the group's copies are still there: (copy, UID).
async fn still_there(
    conn: &mut Conn,
    folder: &str,
    copies: &[Copy],
    group: &[usize],
) -> Result<Vec<(usize, u32)>, StoreError> {
    let (exists, validity) = match conn.select(folder).await {
        Ok(selected) => selected,
        // Refused here: its copies are looked for by content in the other folders.
        Err(StoreError::Refused(_)) => return Ok(Vec::new()),
        Err(unavailable) => return Err(unavailable),
    };
    if exists == 0 {
        return Ok(Vec::new());
    }
    let validity = validity.unwrap_or(0);
    let mut wanted: HashMap<u32, Vec<usize>> = HashMap::new();
    for i in group {
        if let Some((v, uid)) = parse_handle(&copies[*i].key) {
            if v == validity {
                wanted.entry(uid).or_default().push(*i);
            }
        }
    }
    let mut uids: Vec<u32> = wanted.keys().copied().collect();
    uids.sort_unstable();
    let mut present = Vec::new();
    for chunk in uids.chunks(500) {
        let fetches: Vec<_> = conn
            .session
            .uid_fetch(uid_set(chunk), "(UID)")
            .await
            .map_err(imap_error)?
            .try_collect()
            .await
            .map_err(imap_error)?;
        for uid in fetches.iter().filter_map(|f| f.uid) {
            for i in wanted.get(&uid).into_iter().flatten() {
                present.push((*i, uid));
            }
        }
    }
    Ok(present)
}

/// Lost copies found by exact size and fingerprint in any folder.
#[derive(Default)]
struct ByContent {
    /// copy → (folder, handle)
    found: HashMap<usize, (String, String)>,
    /// Folders the server would not open: a copy not found may be in one of them.
    refused: Vec<String>,
}

async fn by_content(
    conn: &mut Conn,
    names: &[String],
    copies: &[Copy],
    lost: &[usize],
) -> Result<ByContent, StoreError> {
    let mut wanted: HashMap<(u64, &str), Vec<usize>> = HashMap::new();
    for i in lost {
        if let (Some(hash), Some(size)) = (&copies[*i].content_sha256, copies[*i].size) {
            wanted.entry((size, hash.as_str())).or_default().push(*i);
        }
    }
    let mut sizes: Vec<u64> = wanted.keys().map(|(size, _)| *size).collect();
    sizes.sort_unstable();
    sizes.dedup();
    let mut result = ByContent::default();
    if sizes.is_empty() {
        return Ok(result);
    }
    for folder in names {
        let (exists, validity) = match conn.select(folder).await {
            Ok(selected) => selected,
            Err(StoreError::Refused(_)) => {
                result.refused.push(folder.clone());
                continue;
            }
            Err(unavailable) => return Err(unavailable),
        };
        if exists == 0 {
            continue;
        }
        let validity = validity.unwrap_or(0);
        for uid in same_size(conn, &sizes).await? {
            let Some((size, hash)) = fetch_fingerprint(conn, uid).await? else {
                continue;
            };
            for i in wanted.get(&(size, hash.as_str())).into_iter().flatten() {
                result
                    .found
                    .entry(*i)
                    .or_insert((folder.clone(), handle(validity, uid)));
            }
        }
    }
    Ok(result)
}

/// UIDs in the selected folder whose size is one of these: one SEARCH per few dozen sizes
/// (short commands: servers cap a command line's length).
async fn same_size(conn: &mut Conn, sizes: &[u64]) -> Result<Vec<u32>, StoreError> {
    let mut uids = Vec::new();
    for chunk in sizes.chunks(SIZES_PER_SEARCH) {
        let mut query = "OR ".repeat(chunk.len() - 1);
        for size in chunk {
            query.push_str(&format!(
                "(LARGER {} SMALLER {}) ",
                size.saturating_sub(1),
                size + 1
            ));
        }
        let found = conn
            .session
            .uid_search(query.trim_end())
            .await
            .map_err(imap_error)?;
        uids.extend(found);
    }
    uids.sort_unstable();
    uids.dedup();
    Ok(uids)
}

/// A message's size and fingerprint.
async fn fetch_fingerprint(conn: &mut Conn, uid: u32) -> Result<Option<(u64, String)>, StoreError> {
    let fetches: Vec<_> = conn
        .session
        .uid_fetch(
            uid.to_string(),
            format!("(UID RFC822.SIZE BODY.PEEK[]<0.{FINGERPRINT_BYTES}>)"),
        )
        .await
        .map_err(imap_error)?
        .try_collect()
        .await
        .map_err(imap_error)?;
    Ok(fetches.iter().find_map(|f| {
        let size = u64::from(f.size?);
        Some((size, content_hash(f.body()?)))
    }))
}

fn not_there(copy: &Copy, names: &[String], refused: &[String]) -> Whereabouts {
    let looked = format!(
        "not in {} (where the index saw it) nor in any folder of the mailbox ({})",
        copy.folder,
        names.join(", ")
    );
    if !refused.is_empty() {
        Whereabouts::Missing(format!(
            "{looked}, by UID or by content; the server would not open {}, so it may be there",
            refused.join(", ")
        ))
    } else if copy.content_sha256.is_some() && copy.size.is_some() {
        Whereabouts::Gone(format!("{looked}, by UID or by content"))
    } else {
        Whereabouts::Missing(format!(
            "{looked}, by UID; the index recorded no fingerprint to look for its content"
        ))
    }
}
