//! The mail store airdesk acts on, chosen once at start-up: every capability from the same
//! backend, so execution, the index and the playbook can never disagree about where mail is.

use std::path::PathBuf;
use std::sync::Arc;

use crate::imap::{Imap, ImapSettings};
use crate::jmap::{Jmap, JmapSettings};
use crate::maildir::Maildir;
use crate::sieve::SieveForwarding;
use crate::source::ReadLimits;
use crate::{Folders, Forwarding, MessageSource, Messages};

/// Which backend, and how to reach it.
#[derive(Debug, Clone)]
pub enum Connector {
    /// A Maildir++ tree: one directory per mailbox under `root`; global Sieve scripts (for
    /// `include :global`) in `sieve_global`, when there are any.
    Maildir {
        root: PathBuf,
        sieve_global: Option<PathBuf>,
    },
    /// An IMAP server (with ManageSieve for forwarding). IMAP cannot list a server's mailboxes,
    /// so the operator names the ones to index.
    Imap {
        settings: Box<ImapSettings>,
        index_mailboxes: Vec<String>,
    },
    /// A JMAP server (with ManageSieve for forwarding); the operator names the mailboxes to
    /// index, as for IMAP.
    Jmap {
        settings: Box<JmapSettings>,
        index_mailboxes: Vec<String>,
    },
}

impl Connector {
    /// Which store, as a URL without secrets: what `mail check` and the start-up log say.
    pub fn describe(&self) -> String {
        match self {
            Connector::Maildir { root, .. } => format!("maildir://{}", root.display()),
            Connector::Imap { settings, .. } => {
                let imap = &settings.imap;
                let scheme = match imap.security {
                    crate::tls::Security::Implicit => "imaps",
                    _ => "imap",
                };
                let starttls = match imap.security {
                    crate::tls::Security::StartTls => "?starttls=required",
                    _ => "",
                };
                format!(
                    "{scheme}://{}{starttls} as {}",
                    imap.address(),
                    settings.user
                )
            }
            Connector::Jmap { settings, .. } => {
                format!("{} as {}", settings.session_url, settings.user)
            }
        }
    }
}

/// One backend's capabilities.
#[derive(Debug, Clone)]
pub struct Backend {
    /// Which connector: `maildir`, `imap` or `jmap` (a metrics label, never an address).
    pub kind: &'static str,
    /// Finding, moving and deleting messages (execution).
    pub messages: Arc<dyn Messages>,
    /// What the message index reads.
    pub source: Arc<dyn MessageSource>,
    /// Reading and turning off forwarding (execution).
    pub forwarding: Arc<dyn Forwarding>,
    /// Reading forwarding for investigations: the same rules through connections of its own,
    /// so a flood of reports cannot take the sessions approved actions need.
    pub forwarding_checks: Arc<dyn Forwarding>,
    /// The phish-report mailbox's inbox: read, then filed away.
    pub intake: Arc<dyn crate::Intake>,
    /// `airdesk mail check`: sign in, list, report capabilities; change nothing.
    pub check: Arc<dyn crate::check::Check>,
}

impl Backend {
    /// Opens the backend the connector names. Nothing is contacted yet: a store that cannot
    /// be reached fails its first operation, which is retried. Fails only on settings that
    /// can never work (an HTTP client that cannot be built).
    pub fn open(
        connector: &Connector,
        folders: Folders,
        limits: ReadLimits,
    ) -> Result<Self, String> {
        Ok(match connector {
            Connector::Maildir { root, sieve_global } => {
                let maildir = Maildir::new(root, folders)
                    .with_limits(limits)
                    .with_sieve_global(sieve_global.clone());
                let forwarding = Arc::new(SieveForwarding(maildir.sieve()));
                Backend {
                    kind: "maildir",
                    forwarding: forwarding.clone(),
                    forwarding_checks: forwarding,
                    messages: Arc::new(maildir.clone()),
                    intake: Arc::new(maildir.clone()),
                    check: Arc::new(maildir.clone()),
                    source: Arc::new(maildir),
                }
            }
            Connector::Imap {
                settings,
                index_mailboxes,
            } => {
                let imap = Imap::new(settings.as_ref().clone(), folders)
                    .with_index(index_mailboxes.clone(), limits);
                Backend {
                    kind: "imap",
                    forwarding: Arc::new(SieveForwarding(imap.sieve())),
                    forwarding_checks: Arc::new(SieveForwarding(imap.sieve())),
                    messages: Arc::new(imap.clone()),
                    intake: Arc::new(imap.clone()),
                    check: Arc::new(imap.clone()),
                    source: Arc::new(imap.with_own_pool(settings.index_connections)),
                }
            }
            Connector::Jmap {
                settings,
                index_mailboxes,
            } => {
                let jmap = Jmap::new(settings.as_ref().clone(), folders)?
                    .with_index(index_mailboxes.clone(), limits);
                Backend {
                    kind: "jmap",
                    forwarding: Arc::new(SieveForwarding(jmap.sieve())),
                    forwarding_checks: Arc::new(SieveForwarding(jmap.sieve())),
                    messages: Arc::new(jmap.clone()),
                    intake: Arc::new(jmap.clone()),
                    check: Arc::new(jmap.clone()),
                    source: Arc::new(jmap),
                }
            }
        })
    }

    /// The folders actions move mail between.
    pub fn folders(&self) -> &Folders {
        self.messages.folders()
    }
}
