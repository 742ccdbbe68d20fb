//! Finding the copies the index saw, by what the store itself named them: a Maildir file's
//! base name never changes (flags live after the `:2,`), and a move keeps it. A copy whose
//! name is nowhere in the mailbox is looked for by content — size first, then fingerprint —
//! in every folder; only then is it gone.

use std::collections::{HashMap, HashSet};
use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};

use super::layout::list_files;
use super::{unavailable, Maildir};
use crate::parse::{content_hash, FINGERPRINT_BYTES};
use crate::{Copy, Found, StoreError, Whereabouts};

/// Every message file of a mailbox, by folder and base name.
struct Listings {
    folders: Vec<(String, HashMap<String, PathBuf>)>,
}

impl Listings {
    fn read(maildir: &Maildir, dir: &Path) -> Result<Self, StoreError> {
        let mut folders = Vec::new();
        for (name, path) in maildir
            .layout
            .list_folders(dir)
            .map_err(|e| unavailable(dir, e))?
        {
            let files = list_files(&path).map_err(|e| unavailable(&path, e))?;
            folders.push((name, files));
        }
        Ok(Listings { folders })
    }

    /// The copy by name: in its own folder first, then in any other.
    fn by_name(&self, copy: &Copy) -> Option<(&str, &PathBuf)> {
        let own = self.folders.iter().find(|(name, _)| *name == copy.folder);
        own.into_iter()
            .chain(self.folders.iter().filter(|(name, _)| *name != copy.folder))
            .find_map(|(name, files)| files.get(&copy.key).map(|path| (name.as_str(), path)))
    }

    fn names(&self) -> String {
        let names: Vec<&str> = self.folders.iter().map(|(n, _)| n.as_str()).collect();
        names.join(", ")
    }
}

impl Maildir {
    pub(super) fn find_blocking(
        &self,
        mailbox: &str,
        copies: &[Copy],
    ) -> Result<Vec<Whereabouts>, StoreError> {
        let dir = self.layout.existing_mailbox(mailbox)?;
        let listings = Listings::read(self, &dir)?;
        let mut answers: Vec<Option<Whereabouts>> = copies
            .iter()
            .map(|copy| {
                listings
                    .by_name(copy)
                    .map(|(folder, path)| Whereabouts::At(self.found(folder, path)))
            })
            .collect();
        let lost: Vec<usize> = (0..copies.len())
            .filter(|i| answers[*i].is_none())
            .collect();
        if !lost.is_empty() {
            let (by_content, unreadable) = by_content(&listings, lost.iter().map(|i| &copies[*i]));
            for i in lost {
                let copy = &copies[i];
                let key = copy.content_sha256.clone().zip(copy.size);
                answers[i] = Some(match key.and_then(|k| by_content.get(&k)) {
                    Some((folder, path)) => Whereabouts::At(self.found(folder, path)),
                    None => not_there(copy, &listings, unreadable),
                });
            }
        }
        Ok(answers.into_iter().flatten().collect())
    }

    fn found(&self, folder: &str, path: &Path) -> Found {
        Found {
            folder: folder.to_string(),
            location: self.layout.folders().location(folder),
            handle: path.to_string_lossy().into_owned(),
        }
    }
}

/// Where a file of some (fingerprint, size) is: (folder, path).
type ByContent = HashMap<(String, u64), (String, PathBuf)>;

/// Files whose size and fingerprint match a lost copy; and how many files could not be read
/// (a copy not found may be one of them).
fn by_content<'a>(listings: &Listings, lost: impl Iterator<Item = &'a Copy>) -> (ByContent, usize) {
    let wanted: HashSet<(String, u64)> = lost
        .filter_map(|c| c.content_sha256.clone().zip(c.size))
        .collect();
    let sizes: HashSet<u64> = wanted.iter().map(|(_, size)| *size).collect();
    let mut found = HashMap::new();
    let mut unreadable = 0;
    if wanted.is_empty() {
        return (found, unreadable);
    }
    for (folder, files) in &listings.folders {
        for path in files.values() {
            let meta = match fs::metadata(path) {
                Ok(meta) => meta,
                // Moved or deleted since the folder was listed.
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(_) => {
                    unreadable += 1;
                    continue;
                }
            };
            if !sizes.contains(&meta.len()) {
                continue;
            }
            let Some(hash) = fingerprint(path) else {
                unreadable += 1;
                continue;
            };
            let key = (hash, meta.len());
            if wanted.contains(&key) {
                found.entry(key).or_insert((folder.clone(), path.clone()));
            }
        }
    }
    (found, unreadable)
}

fn fingerprint(path: &Path) -> Option<String> {
    let mut bytes = Vec::new();
    fs::File::open(path)
        .ok()?
        .take(FINGERPRINT_BYTES as u64)
        .read_to_end(&mut bytes)
        .ok()?;
    Some(content_hash(&bytes))
}

fn not_there(copy: &Copy, listings: &Listings, unreadable: usize) -> Whereabouts {
    let looked = format!(
        "not in {} (where the index saw it) nor in any folder of the mailbox ({})",
        copy.folder,
        listings.names()
    );
    if unreadable > 0 {
        Whereabouts::Missing(format!(
            "{looked}, by file name or by content; {unreadable} file(s) could not be read, so it may be one of them"
        ))
    } else if copy.content_sha256.is_some() && copy.size.is_some() {
        Whereabouts::Gone(format!("{looked}, by file name or by content"))
    } else {
        Whereabouts::Missing(format!(
            "{looked}, by file name; the index recorded no fingerprint to look for its content"
        ))
    }
}
