//! Sieve scripts beside a Maildir: `<address>/sieve/<name>.sieve`, the active one linked from
//! `<address>/.dovecot.sieve` (Dovecot's defaults). Scripts are written through a temporary
//! file and a rename; switching the active script is one rename of a new link.

use std::fs;
use std::io;
use std::path::Path;
use std::path::PathBuf;

use super::files::write_atomically;
use super::layout::Layout;
use super::{blocking, unavailable};
use crate::sieve::{SieveScript, SieveScripts};
use crate::StoreError;

/// The file Dovecot's Sieve plugin runs, a link to the active script.
const ACTIVE_LINK: &str = ".dovecot.sieve";
const SCRIPT_DIR: &str = "sieve";

/// The Sieve scripts of every mailbox in a Maildir tree, and the administrator's global
/// scripts (Dovecot's `sieve_global`), when their folder is named.
#[derive(Debug, Clone)]
pub struct MaildirSieve {
    layout: Layout,
    global: Option<PathBuf>,
}

impl MaildirSieve {
    pub fn new(layout: Layout, global: Option<PathBuf>) -> Self {
        MaildirSieve { layout, global }
    }

    fn read_global_blocking(&self, name: &str) -> Result<Option<String>, StoreError> {
        let Some(dir) = &self.global else {
            return Ok(None);
        };
        let path = script_file(dir, name)?;
        match fs::read_to_string(&path) {
            Ok(text) => Ok(Some(text)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(unavailable(&path, e)),
        }
    }

    fn script_path(&self, mailbox_dir: &Path, name: &str) -> Result<PathBuf, StoreError> {
        script_file(&mailbox_dir.join(SCRIPT_DIR), name)
    }

    fn active_blocking(&self, mailbox: &str) -> Result<Option<SieveScript>, StoreError> {
        let dir = self.layout.existing_mailbox(mailbox)?;
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
        let dir = self.layout.existing_mailbox(mailbox)?;
        let path = self.script_path(&dir, name)?;
        match fs::read_to_string(&path) {
            Ok(text) => Ok(Some(text)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(unavailable(&path, e)),
        }
    }

    fn put_blocking(&self, mailbox: &str, script: &SieveScript) -> Result<(), StoreError> {
        let dir = self.layout.existing_mailbox(mailbox)?;
        let path = self.script_path(&dir, &script.name)?;
        write_atomically(&path, script.text.as_bytes()).map_err(|e| unavailable(&path, e))
    }

    fn activate_blocking(&self, mailbox: &str, name: &str) -> Result<(), StoreError> {
        let dir = self.layout.existing_mailbox(mailbox)?;
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

/// `<dir>/<name>.sieve`, refusing any name that could step outside `dir`.
fn script_file(dir: &Path, name: &str) -> Result<PathBuf, StoreError> {
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
    Ok(dir.join(format!("{name}.sieve")))
}

#[async_trait::async_trait]
impl SieveScripts for MaildirSieve {
    async fn read_global(&self, name: &str) -> Result<Option<String>, StoreError> {
        let (this, name) = (self.clone(), name.to_string());
        blocking(move || this.read_global_blocking(&name)).await
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
