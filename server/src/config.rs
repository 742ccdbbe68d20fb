//! Settings shared by every command: where the database and the mail are, and the rules'
//! parameters. Each comes from a flag or its `AIRDESK_*` environment variable.

use std::net::SocketAddr;
use std::path::PathBuf;

use app::server::RulesConfig;

use crate::execution::ExecutionConfig;
use crate::mail::imap::ImapSettings;
use crate::mail::Folders;

/// Everything `serve` needs.
#[derive(Clone, Debug)]
pub struct Settings {
    pub listen: SocketAddr,
    pub database_url: String,
    pub mail_root: PathBuf,
    pub internal_domains: Vec<String>,
    /// Approvals of one type on one cluster within this long of each other are duplicates.
    pub dedup_window: std::time::Duration,
    /// Pending actions older than this expire.
    pub pending_expiry: std::time::Duration,
    /// Largest request body accepted, in bytes.
    pub body_limit: usize,
    /// Mark the session cookie Secure (set when served over HTTPS).
    pub secure_cookies: bool,
    /// The folder names actions move mail between.
    pub folders: Folders,
    /// How approved actions are carried out.
    pub execution: ExecutionConfig,
    /// When set, mail is reached over IMAP (and Sieve over ManageSieve) instead of the Maildir
    /// tree under `mail_root`.
    pub imap: Option<ImapSettings>,
    /// How often `serve` brings the message index up to date (Maildir); None: never.
    pub index_interval: Option<std::time::Duration>,
    /// How the indexer reads messages.
    pub index: crate::index::IndexConfig,
    /// Over IMAP: the mailboxes to index (IMAP cannot list a server's mailboxes).
    pub index_mailboxes: Vec<String>,
    /// The investigation playbook's thresholds.
    pub playbook: crate::playbook::PlaybookConfig,
    /// Threat indicators (a JSON array of indicators) loaded at start.
    pub indicators_file: Option<PathBuf>,
}

impl Settings {
    pub fn rules(&self) -> RulesConfig {
        RulesConfig {
            internal_domains: self.internal_domains.clone(),
            dedup_window: self.dedup_window,
            pending_expiry: self.pending_expiry,
        }
    }
}

/// Makes sure the mail root exists and can be written, so a bad setting fails at start with
/// one clear line rather than at the first approved action.
pub fn check_mail_root(root: &std::path::Path) -> Result<(), String> {
    std::fs::create_dir_all(root)
        .map_err(|e| format!("mail root {} cannot be created: {e}", root.display()))?;
    let probe = root.join(format!(".airdesk-write-check-{}", std::process::id()));
    std::fs::write(&probe, b"")
        .and_then(|_| std::fs::remove_file(&probe))
        .map_err(|e| format!("mail root {} is not writable: {e}", root.display()))
}
