//! The jmap backend: any JMAP server (RFC 8620, RFC 8621) through one service account that may
//! open every mailbox's account (on Cyrus, an account the mailbox's ACL grants it). A message
//! is an Email object, which stays the same object when it moves: the index remembers it by
//! its id, and a copy is that id in one mailbox (folder) — an Email in two mailboxes is two
//! copies, as over IMAP. Execution finds and moves copies in [`messages`], the index reads
//! through [`source`]; [`client`] speaks HTTP and batches method calls. Forwarding rules go
//! through ManageSieve, as for the imap backend.

mod change;
mod check;
pub mod client;
mod folders;
mod intake;
mod messages;
mod snapshot;
mod source;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use crate::imap::Endpoint;
use crate::oauth::Bearer;
use crate::source::ReadLimits;
use crate::tls::Tls;
use crate::{Folders, StoreError};

pub use client::Client;

/// Where and how to reach the server. Its Debug output leaves the password out.
#[derive(Clone)]
pub struct JmapSettings {
    /// The session resource: `https://mail.example.com/.well-known/jmap` (a redirect on the same
    /// origin is followed).
    pub session_url: url::Url,
    /// The service account.
    pub user: String,
    pub password: String,
    /// Sign in with OAuth2 bearer tokens instead of the password.
    pub oauth2: Option<Bearer>,
    /// The ManageSieve server, for forwarding (the service account authorised as the mailbox).
    pub managesieve: Option<Endpoint>,
    pub tls: Tls,
    /// Longest wait for connecting; a request may take up to 30 s.
    pub timeout: Duration,
}

impl std::fmt::Debug for JmapSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JmapSettings")
            .field("session_url", &self.session_url.as_str())
            .field("user", &self.user)
            .field("password", &"<secret>")
            .field("oauth2", &self.oauth2)
            .field("managesieve", &self.managesieve)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl JmapSettings {
    /// The session URL a `--mail-store` names: `jmap://host[:port]` (HTTPS, the well-known
    /// path), `jmap+http://127.0.0.1:port` (loopback only), or the `https://…` URL itself.
    pub fn session_url(store: &str) -> Result<url::Url, String> {
        let url = url::Url::parse(store).map_err(|e| format!("{store:?}: {e}"))?;
        if !url.username().is_empty() || url.password().is_some() {
            return Err(
                "the JMAP URL must not hold credentials: use --jmap-user and --jmap-password-file"
                    .into(),
            );
        }
        let host = url
            .host_str()
            .ok_or_else(|| format!("{store:?} names no host"))?
            .to_string();
        let port = url.port().map(|p| format!(":{p}")).unwrap_or_default();
        let text = match url.scheme() {
            "jmap" => format!("https://{host}{port}/.well-known/jmap"),
            "jmap+http" if crate::tls::is_loopback(&host) => {
                format!("http://{host}{port}/.well-known/jmap")
            }
            "jmap+http" | "http" => {
                return Err(format!(
                    "JMAP in clear text is only for this machine (loopback); {host} needs https"
                ))
            }
            "https" => return Ok(url),
            other => return Err(format!("{other}:// is not a JMAP URL")),
        };
        url::Url::parse(&text).map_err(|e| e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn store_urls_name_the_session_resource_and_clear_text_only_on_loopback() {
        let url = |s: &str| JmapSettings::session_url(s).map(|u| u.to_string());
        assert_eq!(
            url("jmap://mail.example.test").unwrap(),
            "https://mail.example.test/.well-known/jmap"
        );
        assert_eq!(
            url("jmap+http://127.0.0.1:8080").unwrap(),
            "http://127.0.0.1:8080/.well-known/jmap"
        );
        assert_eq!(
            url("https://mail.example.test/.well-known/jmap").unwrap(),
            "https://mail.example.test/.well-known/jmap"
        );
        for wrong in [
            "jmap+http://mail.example.test",
            "http://mail.example.test/.well-known/jmap",
            "jmap://admin:secret@mail.example.test",
            "imap://mail.example.test",
        ] {
            let error = url(wrong).unwrap_err();
            assert!(!error.contains("secret"), "{error}");
        }
    }
}

/// One JMAP server.
#[derive(Clone, Debug)]
pub struct Jmap {
    client: Arc<Client>,
    settings: Arc<JmapSettings>,
    folders: Folders,
    index_mailboxes: Arc<Vec<String>>,
    limits: ReadLimits,
    /// The index's last snapshot of each account.
    snapshots: Arc<tokio::sync::Mutex<HashMap<String, Arc<snapshot::Snapshot>>>>,
}

impl Jmap {
    pub fn new(settings: JmapSettings, folders: Folders) -> Result<Jmap, String> {
        Ok(Jmap {
            client: Arc::new(Client::new(settings.clone())?),
            settings: Arc::new(settings),
            folders,
            index_mailboxes: Arc::new(Vec::new()),
            limits: ReadLimits::default(),
            snapshots: Default::default(),
        })
    }

    /// The mailboxes the index reads, and how.
    pub fn with_index(mut self, mailboxes: Vec<String>, limits: ReadLimits) -> Self {
        self.index_mailboxes = Arc::new(mailboxes);
        self.limits = limits;
        self
    }

    /// The mailboxes' Sieve scripts over ManageSieve: the service account, authorised as each
    /// mailbox (SASL PLAIN's authorisation identity, which Cyrus grants its admins).
    pub fn sieve(&self) -> crate::imap::ManageSieve {
        let settings = crate::imap::ImapSettings {
            imap: Endpoint::loopback(0),
            user: self.settings.user.clone(),
            password: self.settings.password.clone(),
            oauth2: self.settings.oauth2.clone(),
            master_separator: String::new(),
            managesieve: self.settings.managesieve.clone(),
            tls: self.settings.tls.clone(),
            max_connections: 4,
            index_connections: 2,
            sieve_connections: 2,
            timeout: self.settings.timeout,
        };
        crate::imap::ManageSieve::new(Arc::new(settings))
    }

    /// The account that holds `mailbox`: the session's account of that name, or (Cyrus, where
    /// accounts shared through ACLs are not listed) the mailbox's own name, which is its id.
    async fn account(&self, mailbox: &str) -> Result<String, StoreError> {
        if mailbox.is_empty() || mailbox.chars().any(char::is_control) {
            return Err(StoreError::Refused(format!("no mailbox {mailbox:?}")));
        }
        let session = self.client.session().await?;
        Ok(session
            .accounts
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case(mailbox))
            .map_or_else(|| mailbox.to_string(), |(_, id)| id.clone()))
    }
}
