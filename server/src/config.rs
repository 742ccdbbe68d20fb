//! Settings shared by every command: where the database and the mail are, and the rules'
//! parameters. Each comes from a flag or its `AIRDESK_*` environment variable (see `cli`).

use std::net::SocketAddr;
use std::path::PathBuf;

use airdesk_core::actions::ExecutionConfig;
use airdesk_core::index::IndexConfig;
use airdesk_core::investigations::playbook::PlaybookConfig;
use airdesk_core::RulesConfig;
use mail::{Connector, Folders, ReadLimits};

/// Everything `serve` needs.
#[derive(Clone, Debug)]
pub struct Settings {
    /// How people sign in to the portal.
    pub sign_in: airdesk_core::SignInConfig,
    pub listen: SocketAddr,
    pub database_url: String,
    /// Connections in a PostgreSQL pool.
    pub database_pool: u32,
    /// The rules' parameters: internal domains, the duplicate window, expiry.
    pub rules: RulesConfig,
    /// Largest request body accepted, in bytes.
    pub body_limit: usize,
    /// Mark the session cookie Secure and send HSTS (served over HTTPS).
    pub secure_cookies: bool,
    /// Reverse proxies whose X-Forwarded-For names the client.
    pub trusted_proxies: Vec<std::net::IpAddr>,
    /// The mail store: the Maildir tree under the mail root, or an IMAP server.
    pub mail: Connector,
    /// The folder names actions move mail between.
    pub folders: Folders,
    /// How much of each message the index reads.
    pub read_limits: ReadLimits,
    /// How approved actions are carried out.
    pub execution: ExecutionConfig,
    /// How often `serve` brings the message index up to date; None: never.
    pub index_interval: Option<std::time::Duration>,
    /// How the indexer works through the store.
    pub index: IndexConfig,
    /// The investigation playbook's thresholds.
    pub playbook: PlaybookConfig,
    /// Threat indicators (a JSON array of indicators) loaded at start.
    pub indicators_file: Option<PathBuf>,
    /// The approval policy file; None: the built-in defaults.
    pub policy: Option<PathBuf>,
    /// The secret that signs the audit trail's head.
    pub audit_key_file: Option<PathBuf>,
    /// The phish-report mailbox, read for reports.
    pub intake: Option<airdesk_core::investigations::intake::IntakeConfig>,
    /// Where events are delivered (webhooks), and how.
    pub webhooks: airdesk_core::events::webhooks::WebhookConfig,
    /// How reporters are told what came of their reports (an SMTP relay), if at all.
    pub notify: Option<airdesk_core::events::notify::NotifyConfig>,
}

impl Settings {
    /// The audit key, read from its file: at least 32 bytes (surrounding white space, as an
    /// editor leaves it, is not part of it).
    pub fn audit_key(&self) -> Result<Option<Vec<u8>>, String> {
        let Some(file) = &self.audit_key_file else {
            return Ok(None);
        };
        let bytes = std::fs::read(file)
            .map_err(|e| format!("cannot read the audit key file {}: {e}", file.display()))?;
        let key = bytes.trim_ascii().to_vec();
        if key.len() < 32 {
            return Err(format!(
                "the audit key file {} holds {} bytes; a key needs at least 32 (e.g. `head -c 48 /dev/urandom | base64`)",
                file.display(),
                key.len()
            ));
        }
        Ok(Some(key))
    }

    /// The Maildir tree's root, when the mail store is one.
    pub fn mail_root(&self) -> Option<&std::path::Path> {
        match &self.mail {
            Connector::Maildir { root, .. } => Some(root),
            Connector::Imap { .. } | Connector::Jmap { .. } => None,
        }
    }

    /// The mail store these settings name, opened.
    pub fn backend(&self) -> Result<mail::Backend, String> {
        mail::Backend::open(&self.mail, self.folders.clone(), self.read_limits.clone())
            .map_err(|e| format!("mail store {}: {e}", self.mail.describe()))
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
