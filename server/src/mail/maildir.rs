//! The maildir connector: one Maildir++ per mailbox at `<mail root>/<address>/`, the layout
//! Dovecot reads with `mail_location = maildir:<mail root>/%u`, so airdesk can work on the same
//! files as a Dovecot server beside it.
//!
//! The inbox is the mailbox folder itself and every other folder a `.<name>` folder in it, each
//! with `cur/`, `new/` and `tmp/`. A message file's name carries its flags (`…:2,S`), so a move
//! keeps the name and the flags with it. A move is one atomic rename that never replaces a file,
//! so mail is never lost, never overwritten, never half-written, and two processes moving the
//! same message cannot both succeed.
//! Sieve scripts live in `<address>/sieve/<name>.sieve` with the active one linked from
//! `<address>/.dovecot.sieve` (Dovecot's defaults).

use std::collections::HashSet;
use std::fs;
use std::io::{self, Read};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use mail_parser::MessageParser;

use super::{
    bare_id, Destination, Folders, Found, ItemOutcome, MailStore, SieveScript, StoreError,
};

/// How much of a message file is read to find its headers.
const HEADER_BYTES: u64 = 64 * 1024;

/// The file Dovecot's Sieve plugin runs, a link to the active script.
const ACTIVE_LINK: &str = ".dovecot.sieve";
const SCRIPT_DIR: &str = "sieve";

#[derive(Debug, Clone)]
pub struct Maildir {
    root: PathBuf,
    folders: Folders,
}

impl Maildir {
    pub fn new(root: impl Into<PathBuf>, folders: Folders) -> Self {
        Maildir {
            root: root.into(),
            folders,
        }
    }

    /// The mailbox's folder, refusing anything that could step outside the mail root.
    fn mailbox_dir(&self, mailbox: &str) -> Result<PathBuf, StoreError> {
        let plausible = !mailbox.is_empty()
            && mailbox.len() <= 320
            && !mailbox.starts_with('.')
            && mailbox.contains('@')
            && !mailbox
                .chars()
                .any(|c| c == '/' || c == '\\' || c.is_control());
        if !plausible {
            return Err(StoreError::Refused(format!(
                "{mailbox:?} is not a mailbox address"
            )));
        }
        Ok(self.root.join(mailbox))
    }

    fn existing_mailbox(&self, mailbox: &str) -> Result<PathBuf, StoreError> {
        let dir = self.mailbox_dir(mailbox)?;
        match fs::metadata(dir.join("cur")) {
            Ok(meta) if meta.is_dir() => Ok(dir),
            Ok(_) => Err(StoreError::Refused(format!("no mailbox {mailbox}"))),
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                Err(StoreError::Refused(format!("no mailbox {mailbox}")))
            }
            Err(e) => Err(unavailable(&dir, e)),
        }
    }

    /// A folder's directory: the inbox is the mailbox itself, others are `.<name>`.
    fn folder_dir(&self, mailbox_dir: &Path, folder: &str) -> PathBuf {
        if folder.eq_ignore_ascii_case(&self.folders.inbox) {
            mailbox_dir.to_path_buf()
        } else {
            mailbox_dir.join(format!(".{folder}"))
        }
    }

    /// Every folder of a mailbox, inbox first: (name, directory).
    fn list_folders(&self, mailbox_dir: &Path) -> io::Result<Vec<(String, PathBuf)>> {
        let mut folders = vec![(self.folders.inbox.clone(), mailbox_dir.to_path_buf())];
        for entry in fs::read_dir(mailbox_dir)? {
            let entry = entry?;
            let name = entry.file_name();
            let Some(name) = name.to_str() else { continue };
            if let Some(folder) = name.strip_prefix('.') {
                if !folder.is_empty() && entry.path().join("cur").is_dir() {
                    folders.push((folder.to_string(), entry.path()));
                }
            }
        }
        Ok(folders)
    }

    fn locate_blocking(&self, mailbox: &str, ids: &[String]) -> Result<Vec<Found>, StoreError> {
        let dir = self.existing_mailbox(mailbox)?;
        let wanted: HashSet<&str> = ids.iter().map(|id| bare_id(id)).collect();
        let by_bare: std::collections::HashMap<&str, &String> =
            ids.iter().map(|id| (bare_id(id), id)).collect();
        let parser = MessageParser::new().with_message_ids();
        let mut found = Vec::new();
        for (folder, folder_dir) in self.list_folders(&dir).map_err(|e| unavailable(&dir, e))? {
            for sub in ["cur", "new"] {
                let sub_dir = folder_dir.join(sub);
                let entries = match fs::read_dir(&sub_dir) {
                    Ok(entries) => entries,
                    Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
                    Err(e) => return Err(unavailable(&sub_dir, e)),
                };
                for entry in entries {
                    let entry = entry.map_err(|e| unavailable(&sub_dir, e))?;
                    let path = entry.path();
                    let Some(id) = message_id_of(&parser, &path) else {
                        continue;
                    };
                    if wanted.contains(id.as_str()) {
                        found.push(Found {
                            internet_message_id: by_bare[id.as_str()].clone(),
                            folder: folder.clone(),
                            location: self.folders.location(&folder),
                            handle: path.to_string_lossy().into_owned(),
                        });
                    }
                }
            }
        }
        Ok(found)
    }

    fn move_blocking(
        &self,
        mailbox: &str,
        messages: &[Found],
        to: Destination,
    ) -> Result<Vec<ItemOutcome>, StoreError> {
        let dir = self.existing_mailbox(mailbox)?;
        let target = self.folder_dir(&dir, self.folders.name(to));
        ensure_folder(&target).map_err(|e| unavailable(&target, e))?;
        Ok(messages
            .iter()
            .map(|message| {
                let source = self.owned_path(&dir, message)?;
                move_file(&source, &target).map_err(|e| format!("cannot move: {e}"))
            })
            .collect())
    }

    fn expunge_blocking(
        &self,
        mailbox: &str,
        messages: &[Found],
    ) -> Result<Vec<ItemOutcome>, StoreError> {
        let dir = self.existing_mailbox(mailbox)?;
        Ok(messages
            .iter()
            .map(|message| {
                let path = self.owned_path(&dir, message)?;
                match fs::remove_file(&path) {
                    Ok(()) => Ok(()),
                    Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
                    Err(e) => Err(format!("cannot delete: {e}")),
                }
            })
            .collect())
    }

    /// A found message's file, which must lie inside this mailbox.
    fn owned_path(&self, mailbox_dir: &Path, message: &Found) -> Result<PathBuf, String> {
        let path = PathBuf::from(&message.handle);
        if path.starts_with(mailbox_dir) && !message.handle.contains("/../") {
            Ok(path)
        } else {
            Err("the message handle is not in this mailbox".into())
        }
    }

    fn script_path(&self, mailbox_dir: &Path, name: &str) -> Result<PathBuf, StoreError> {
        let plausible = !name.is_empty()
            && name.len() <= 128
            && !name.starts_with('.')
            && !name
                .chars()
                .any(|c| c == '/' || c == '\\' || c.is_control());
        if !plausible {
            return Err(StoreError::Refused(format!(
                "{name:?} is not a Sieve script name"
            )));
        }
        Ok(mailbox_dir.join(SCRIPT_DIR).join(format!("{name}.sieve")))
    }

    fn active_blocking(&self, mailbox: &str) -> Result<Option<SieveScript>, StoreError> {
        let dir = self.existing_mailbox(mailbox)?;
        let link = dir.join(ACTIVE_LINK);
        let meta = match fs::symlink_metadata(&link) {
            Ok(meta) => meta,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(unavailable(&link, e)),
        };
        let name = if meta.file_type().is_symlink() {
            let target = fs::read_link(&link).map_err(|e| unavailable(&link, e))?;
            match target.file_stem().and_then(|s| s.to_str()) {
                Some(stem) => stem.to_string(),
                None => return Ok(None),
            }
        } else {
            // A script written in place: adopt it as a named script so it can be switched back.
            let text = fs::read_to_string(&link).map_err(|e| unavailable(&link, e))?;
            let adopted = self.script_path(&dir, "dovecot")?;
            if !adopted.exists() {
                write_atomically(&adopted, text.as_bytes())
                    .map_err(|e| unavailable(&adopted, e))?;
            }
            return Ok(Some(SieveScript {
                name: "dovecot".into(),
                text,
            }));
        };
        match fs::read_to_string(&link) {
            Ok(text) => Ok(Some(SieveScript { name, text })),
            // A dangling link: Dovecot runs nothing.
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(unavailable(&link, e)),
        }
    }

    fn read_script_blocking(
        &self,
        mailbox: &str,
        name: &str,
    ) -> Result<Option<String>, StoreError> {
        let dir = self.existing_mailbox(mailbox)?;
        let path = self.script_path(&dir, name)?;
        match fs::read_to_string(&path) {
            Ok(text) => Ok(Some(text)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(unavailable(&path, e)),
        }
    }

    fn put_blocking(&self, mailbox: &str, script: &SieveScript) -> Result<(), StoreError> {
        let dir = self.existing_mailbox(mailbox)?;
        let path = self.script_path(&dir, &script.name)?;
        write_atomically(&path, script.text.as_bytes()).map_err(|e| unavailable(&path, e))
    }

    fn activate_blocking(&self, mailbox: &str, name: &str) -> Result<(), StoreError> {
        let dir = self.existing_mailbox(mailbox)?;
        let path = self.script_path(&dir, name)?;
        if !path.exists() {
            return Err(StoreError::Refused(format!("no Sieve script {name:?}")));
        }
        // Adopt a script written in place before the link replaces it.
        self.active_blocking(mailbox)?;
        let link = dir.join(ACTIVE_LINK);
        let temporary = dir.join(format!(".dovecot.sieve.airdesk-{}", std::process::id()));
        let _ = fs::remove_file(&temporary);
        let relative = Path::new(SCRIPT_DIR).join(format!("{name}.sieve"));
        std::os::unix::fs::symlink(&relative, &temporary)
            .and_then(|()| fs::rename(&temporary, &link))
            .map_err(|e| unavailable(&link, e))
    }
}

#[async_trait::async_trait]
impl MailStore for Maildir {
    fn folders(&self) -> &Folders {
        &self.folders
    }

    async fn locate(
        &self,
        mailbox: &str,
        internet_message_ids: &[String],
    ) -> Result<Vec<Found>, StoreError> {
        let (this, mailbox, ids) = (
            self.clone(),
            mailbox.to_string(),
            internet_message_ids.to_vec(),
        );
        blocking(move || this.locate_blocking(&mailbox, &ids)).await
    }

    async fn move_to(
        &self,
        mailbox: &str,
        messages: &[Found],
        to: Destination,
    ) -> Result<Vec<ItemOutcome>, StoreError> {
        let (this, mailbox, messages) = (self.clone(), mailbox.to_string(), messages.to_vec());
        blocking(move || this.move_blocking(&mailbox, &messages, to)).await
    }

    async fn expunge(
        &self,
        mailbox: &str,
        messages: &[Found],
    ) -> Result<Vec<ItemOutcome>, StoreError> {
        let (this, mailbox, messages) = (self.clone(), mailbox.to_string(), messages.to_vec());
        blocking(move || this.expunge_blocking(&mailbox, &messages)).await
    }

    async fn active_script(&self, mailbox: &str) -> Result<Option<SieveScript>, StoreError> {
        let (this, mailbox) = (self.clone(), mailbox.to_string());
        blocking(move || this.active_blocking(&mailbox)).await
    }

    async fn read_script(&self, mailbox: &str, name: &str) -> Result<Option<String>, StoreError> {
        let (this, mailbox, name) = (self.clone(), mailbox.to_string(), name.to_string());
        blocking(move || this.read_script_blocking(&mailbox, &name)).await
    }

    async fn put_script(&self, mailbox: &str, script: &SieveScript) -> Result<(), StoreError> {
        let (this, mailbox, script) = (self.clone(), mailbox.to_string(), script.clone());
        blocking(move || this.put_blocking(&mailbox, &script)).await
    }

    async fn activate_script(&self, mailbox: &str, name: &str) -> Result<(), StoreError> {
        let (this, mailbox, name) = (self.clone(), mailbox.to_string(), name.to_string());
        blocking(move || this.activate_blocking(&mailbox, &name)).await
    }
}

/// Runs file work off the async threads.
async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, StoreError> + Send + 'static,
) -> Result<T, StoreError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| StoreError::Unavailable(format!("file worker stopped: {e}")))?
}

fn unavailable(path: &Path, error: io::Error) -> StoreError {
    StoreError::Unavailable(format!("{}: {error}", path.display()))
}

/// The Message-ID of a message file (without angle brackets), read from its headers.
fn message_id_of(parser: &MessageParser, path: &Path) -> Option<String> {
    let mut head = Vec::with_capacity(4096);
    fs::File::open(path)
        .ok()?
        .take(HEADER_BYTES)
        .read_to_end(&mut head)
        .ok()?;
    let message = parser.parse_headers(&head)?;
    message.message_id().map(|id| bare_id(id).to_string())
}

/// Makes a Maildir folder (`cur/`, `new/`, `tmp/`) if it is not there.
pub fn ensure_folder(dir: &Path) -> io::Result<()> {
    for sub in ["cur", "new", "tmp"] {
        fs::create_dir_all(dir.join(sub))?;
    }
    Ok(())
}

/// Moves a message file into the same subfolder (`cur` or `new`) of `target`, under the same
/// name (flags included), with one atomic rename that refuses to replace anything: of two
/// processes moving the same file, one wins and the other finds it gone. On file systems
/// without that rename, a link then an unlink: a crash in between leaves the message in both
/// places, which a repeat completes.
fn move_file(source: &Path, target: &Path) -> io::Result<()> {
    let sub = source
        .parent()
        .and_then(Path::file_name)
        .filter(|s| *s == "new")
        .map_or("cur", |_| "new");
    let name = source
        .file_name()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "no file name"))?;
    let destination = target.join(sub).join(name);
    if source == destination {
        return Ok(());
    }
    let placed = match rename_no_replace(source, &destination) {
        Err(e) if e.raw_os_error() == Some(libc::EINVAL) => {
            fs::hard_link(source, &destination).map(|()| false)
        }
        other => other.map(|()| true),
    };
    match placed {
        Ok(true) => return Ok(()),
        Ok(false) => {}
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
            // Done before a crash, or another file of the same name: only the first is ours.
            let (a, b) = (fs::metadata(source)?, fs::metadata(&destination)?);
            if (a.dev(), a.ino()) != (b.dev(), b.ino()) {
                return Err(io::Error::new(
                    io::ErrorKind::AlreadyExists,
                    "another message of that name is already there",
                ));
            }
        }
        Err(e) => return Err(e),
    }
    fs::remove_file(source)
}

/// `renameat2(…, RENAME_NOREPLACE)`: atomic, and fails with AlreadyExists instead of replacing.
fn rename_no_replace(from: &Path, to: &Path) -> io::Result<()> {
    use std::ffi::CString;
    use std::os::unix::ffi::OsStrExt;
    let c = |p: &Path| {
        CString::new(p.as_os_str().as_bytes())
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "a path with a NUL byte"))
    };
    let (from, to) = (c(from)?, c(to)?);
    // SAFETY: both paths are valid NUL-terminated strings that outlive the call.
    let rc = unsafe {
        libc::renameat2(
            libc::AT_FDCWD,
            from.as_ptr(),
            libc::AT_FDCWD,
            to.as_ptr(),
            libc::RENAME_NOREPLACE,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// Writes a file through a temporary name and a rename: readers see the old or the new text,
/// never a part.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let dir = path
        .parent()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "no parent folder"))?;
    fs::create_dir_all(dir)?;
    let temporary = dir.join(format!(
        ".{}.airdesk-tmp-{}",
        path.file_name().and_then(|n| n.to_str()).unwrap_or("file"),
        std::process::id()
    ));
    {
        use std::io::Write;
        let mut file = fs::File::create(&temporary)?;
        file.write_all(bytes)?;
        file.sync_all()?;
    }
    fs::rename(&temporary, path)
}
