//! The command line: every flag also an `AIRDESK_*` environment variable, every failure one
//! line on stderr and a non-zero exit. The flags are in [`args`], what each command does in
//! [`commands`].

mod args;
mod commands;
mod events;
mod mail_args;
mod sign_in_args;
mod token;
mod user;

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::Parser;

use airdesk_core::actions::ExecutionConfig;
use airdesk_core::index::IndexConfig;
use airdesk_core::investigations::playbook::PlaybookConfig;
use airdesk_core::RulesConfig;
use mail::{Connector, Folders, ReadLimits};
use model::InternalDomains;

use crate::config::Settings;

pub use args::*;
pub use commands::run;
pub use mail_args::*;

#[derive(Debug, Parser)]
#[command(
    name = "airdesk",
    version,
    about = "Action center for automated investigation and response on email"
)]
pub struct Cli {
    /// Database URL: `sqlite://FILE` (created if missing; one host) or
    /// `postgres://USER@HOST:PORT/DB` (several instances may share it).
    #[arg(
        long,
        global = true,
        env = "AIRDESK_DATABASE_URL",
        default_value = "sqlite://airdesk.db"
    )]
    pub database_url: String,
    /// Connections in this instance's PostgreSQL pool (SQLite keeps one writer and its readers).
    #[arg(long, global = true, env = "AIRDESK_DATABASE_POOL", default_value_t = airdesk_core::db::DEFAULT_POOL,
          value_parser = clap::value_parser!(u32).range(2..=1000))]
    pub database_pool: u32,
    /// The mail store as one URL: `maildir:///srv/mail` (one Maildir++ per mailbox under the
    /// folder), `imaps://host[:993]` or `imap://host[:143]` (with --mail-user and
    /// --mail-password-file; STARTTLS required off this machine), or a JMAP server:
    /// `jmap://host[:port]` or `https://host/.well-known/jmap` (`jmap+http://` on loopback
    /// only). Replaces --mail-root and --imap-url, which remain for existing set-ups.
    #[arg(long, global = true, env = "AIRDESK_MAIL_STORE", conflicts_with_all = ["mail_root", "imap_url"])]
    pub mail_store: Option<String>,
    /// Folder holding one Maildir++ per mailbox.
    #[arg(
        long,
        global = true,
        env = "AIRDESK_MAIL_ROOT",
        default_value = "./mail"
    )]
    pub mail_root: PathBuf,
    /// Folder of the global Sieve scripts (`include :global`), for a Maildir store: what a
    /// user's script includes from there is read too, so forwarding cannot hide in it.
    #[arg(long, global = true, env = "AIRDESK_SIEVE_GLOBAL_DIR")]
    pub sieve_global_dir: Option<PathBuf>,
    /// The organisation's mail domains, comma-separated: forwarding elsewhere is external.
    #[arg(
        long,
        global = true,
        env = "AIRDESK_INTERNAL_DOMAINS",
        value_delimiter = ','
    )]
    pub internal_domains: Vec<String>,
    /// Approvals of one type on one cluster this close together are duplicates (e.g. 1h, 90m, 2s).
    #[arg(long, global = true, env = "AIRDESK_DEDUP_WINDOW", default_value = "1h", value_parser = humantime::parse_duration)]
    pub dedup_window: std::time::Duration,
    /// Pending actions not decided within this long expire (e.g. 7d, 12h, 2s).
    #[arg(long, global = true, env = "AIRDESK_PENDING_EXPIRY", default_value = "7d", value_parser = humantime::parse_duration)]
    pub pending_expiry: std::time::Duration,
    /// How far back the playbook's email clusters reach (e.g. 30d).
    #[arg(long, global = true, env = "AIRDESK_LOOKBACK", default_value = "30d", value_parser = humantime::parse_duration)]
    pub lookback: std::time::Duration,
    /// Reports by this many different users make a cluster Suspicious.
    #[arg(
        long,
        global = true,
        env = "AIRDESK_REPORTS_FOR_SUSPICIOUS",
        default_value_t = 2
    )]
    pub reports_for_suspicious: usize,
    /// A failing sender domain within this many edits of an internal domain is a look-alike.
    #[arg(
        long,
        global = true,
        env = "AIRDESK_LOOKALIKE_DISTANCE",
        default_value_t = 2
    )]
    pub lookalike_distance: usize,
    /// How often `serve` brings the message index up to date (0 turns it off).
    #[arg(long, global = true, env = "AIRDESK_INDEX_INTERVAL", default_value = "5s", value_parser = humantime::parse_duration)]
    pub index_interval: std::time::Duration,
    /// How long an instance's claim on scanning one mailbox holds if the instance dies before
    /// giving it back; another instance scans the mailbox after that.
    #[arg(long, global = true, env = "AIRDESK_INDEX_LEASE", default_value = "5m", value_parser = humantime::parse_duration)]
    pub index_lease: std::time::Duration,
    /// Messages larger than this many bytes are indexed from their headers only.
    #[arg(long, global = true, env = "AIRDESK_INDEX_MAX_BODY", default_value_t = 32 * 1024 * 1024)]
    pub index_max_body: u64,
    /// Over IMAP: a file naming the mailboxes to index, one address per line.
    #[arg(long, global = true, env = "AIRDESK_INDEX_MAILBOXES")]
    pub index_mailboxes: Option<PathBuf>,
    /// Threat indicators to load at start: a JSON array of {kind, value, verdict, expires_at}.
    #[arg(long, global = true, env = "AIRDESK_INDICATORS_FILE")]
    pub indicators_file: Option<PathBuf>,
    /// The approval policy (TOML): mailbox groups and their automation levels, and the rules
    /// that approve, hold for one or two people, or forbid. Reloaded on SIGHUP and when it
    /// changes; without one, the built-in defaults (README: "Approval policy").
    #[arg(long, global = true, env = "AIRDESK_POLICY")]
    pub policy: Option<PathBuf>,
    /// A file holding a secret (at least 32 bytes) that signs the audit trail's head at
    /// `GET /api/v1/audit/head`, and checks a recorded head's signature in `audit verify`.
    #[arg(long, global = true, env = "AIRDESK_AUDIT_KEY_FILE")]
    pub audit_key_file: Option<PathBuf>,
    /// Log filter, e.g. `info` or `airdesk=debug,sqlx=warn`.
    #[arg(
        long,
        global = true,
        env = "AIRDESK_LOG",
        default_value = "info,sqlx=warn"
    )]
    pub log: String,
    #[command(flatten)]
    pub folders: FolderArgs,
    #[command(flatten)]
    pub imap: ImapArgs,
    #[command(subcommand)]
    pub command: Command,
}

impl Cli {
    /// Parses the arguments; a bad flag is one line on stderr and exit code 2.
    pub fn parse() -> Self {
        match <Self as Parser>::try_parse() {
            Ok(cli) => cli,
            Err(error) => match error.kind() {
                clap::error::ErrorKind::DisplayHelp
                | clap::error::ErrorKind::DisplayVersion
                | clap::error::ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => error.exit(),
                _ => {
                    // clap's message is several lines (error, tip, usage): keep the error, on one.
                    let text = error.to_string();
                    let first = text.split("\n\n").next().unwrap_or("bad arguments");
                    let line = first.split_whitespace().collect::<Vec<_>>().join(" ");
                    eprintln!(
                        "airdesk: {} (see airdesk --help)",
                        line.trim_start_matches("error: ")
                    );
                    std::process::exit(2);
                }
            },
        }
    }

    pub(super) fn settings(&self, serve: Option<&ServeArgs>) -> Result<Settings, String> {
        let webhooks = match serve {
            Some(s) => s.events.config(s.listen)?,
            None => Default::default(),
        };
        let sign_in = match serve {
            Some(s) => s.sign_in.config(&webhooks.public_url)?,
            None => Default::default(),
        };
        Ok(Settings {
            sign_in,
            listen: serve.map_or(SocketAddr::from(([127, 0, 0, 1], 3000)), |s| s.listen),
            database_url: self.database_url.clone(),
            database_pool: self.database_pool,
            rules: RulesConfig {
                internal_domains: InternalDomains::new(&self.internal_domains),
                dedup_window: self.dedup_window,
                pending_expiry: self.pending_expiry,
            },
            body_limit: serve.map_or(1024 * 1024, |s| s.body_limit),
            secure_cookies: serve.is_some_and(|s| {
                s.secure_cookies
                    .unwrap_or_else(|| !s.listen.ip().is_loopback())
            }),
            trusted_proxies: serve.map_or_else(Vec::new, |s| s.trusted_proxies.clone()),
            mail: self.connector()?,
            folders: Folders {
                inbox: self.folders.inbox_folder.clone(),
                junk: self.folders.junk_folder.clone(),
                deleted_items: self.folders.deleted_items_folder.clone(),
                recoverable_items: self.folders.recoverable_items_folder.clone(),
            },
            read_limits: ReadLimits {
                max_body_bytes: self.index_max_body,
                ..ReadLimits::default()
            },
            execution: serve.map_or_else(ExecutionConfig::default, |s| s.execution.config()),
            index_interval: Some(self.index_interval).filter(|d| !d.is_zero()),
            index: IndexConfig {
                lease: self.index_lease,
                ..IndexConfig::default()
            },
            playbook: PlaybookConfig {
                lookback: self.lookback,
                reports_for_suspicious: self.reports_for_suspicious.max(1),
                lookalike_distance: self.lookalike_distance,
                ..Default::default()
            },
            indicators_file: self.indicators_file.clone(),
            policy: self.policy.clone(),
            audit_key_file: self.audit_key_file.clone(),
            intake: match serve {
                Some(s) => s.events.intake()?,
                None => None,
            },
            webhooks: webhooks.clone(),
            notify: match serve {
                Some(s) => s
                    .events
                    .notify(&webhooks, &self.internal_domains)?
                    .map(|mut notify| {
                        notify.relay.tls = self.imap.tls_settings();
                        notify
                    }),
                None => None,
            },
        })
    }

    /// The mailboxes `--index-mailboxes` names (a remote store cannot list its mailboxes).
    fn index_mailboxes(&self) -> Result<Vec<String>, String> {
        Ok(match &self.index_mailboxes {
            Some(file) => std::fs::read_to_string(file)
                .map_err(|e| format!("cannot read the mailbox list {}: {e}", file.display()))?
                .lines()
                .map(|l| l.trim().to_ascii_lowercase())
                .filter(|l| !l.is_empty() && !l.starts_with('#'))
                .collect(),
            None => Vec::new(),
        })
    }

    /// The mail store, chosen here once: `--mail-store`, else an IMAP server when one is
    /// named, else the Maildir tree under the mail root.
    fn connector(&self) -> Result<Connector, String> {
        let imap_url = match self.mail_store.as_deref() {
            None => self.imap.imap_url.as_deref(),
            Some(url) => match url.split_once("://") {
                Some((scheme, path)) if scheme.eq_ignore_ascii_case("maildir") => {
                    if path.is_empty() {
                        return Err(format!("--mail-store {url:?} names no folder"));
                    }
                    return Ok(Connector::Maildir {
                        root: PathBuf::from(path),
                        sieve_global: self.sieve_global_dir.clone(),
                    });
                }
                Some((scheme, _))
                    if scheme.eq_ignore_ascii_case("imap")
                        || scheme.eq_ignore_ascii_case("imaps") =>
                {
                    Some(url)
                }
                Some((scheme, _))
                    if ["jmap", "jmap+http", "https", "http"]
                        .iter()
                        .any(|s| scheme.eq_ignore_ascii_case(s)) =>
                {
                    return Ok(Connector::Jmap {
                        settings: Box::new(self.imap.jmap_settings(url)?),
                        index_mailboxes: self.index_mailboxes()?,
                    });
                }
                _ => {
                    return Err(format!(
                        "--mail-store {url:?} is not maildir://, imap://, imaps://, jmap:// or https://…/.well-known/jmap"
                    ))
                }
            },
        };
        let Some(settings) = self.imap.settings(imap_url)? else {
            return Ok(Connector::Maildir {
                root: self.mail_root.clone(),
                sieve_global: self.sieve_global_dir.clone(),
            });
        };
        let index_mailboxes = self.index_mailboxes()?;
        Ok(Connector::Imap {
            settings: Box::new(settings),
            index_mailboxes,
        })
    }
}
