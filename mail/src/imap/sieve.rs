//! A mailbox's Sieve scripts over ManageSieve, opened as the mailbox through the IMAP
//! service account (a master-user login). Sessions are pooled per mailbox: reading a script
//! and everything it includes, or storing the disabled copies and activating them, is one
//! login, not one per script.

use std::sync::Arc;

use super::managesieve::{Client, ManageSieveError};
use super::ImapSettings;
use crate::pool::Pool;
use crate::sieve::{SieveScript, SieveScripts};
use crate::tls::MailStream;
use crate::StoreError;

/// How long a ManageSieve session is kept after its last use.
const SESSION_IDLE: std::time::Duration = std::time::Duration::from_secs(1);

/// The Sieve scripts of every mailbox on the server.
#[derive(Clone)]
pub struct ManageSieve {
    settings: Arc<ImapSettings>,
    pool: Pool<Client<MailStream>>,
}

impl std::fmt::Debug for ManageSieve {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ManageSieve")
            .field("address", &self.settings.managesieve)
            .finish_non_exhaustive()
    }
}

impl ManageSieve {
    /// A pool of its own of `settings.sieve_connections` sessions, each closed a second after
    /// its last use: long enough for the reads and writes of one check or turn-off to share
    /// it, short enough not to hold the mailbox (Cyrus locks a mailbox's Sieve folder for as
    /// long as a ManageSieve session lasts, and its JMAP service waits on that lock).
    pub fn new(settings: Arc<ImapSettings>) -> Self {
        let pool = Pool::new("ManageSieve", settings.sieve_connections, settings.timeout)
            .with_max_idle(SESSION_IDLE);
        ManageSieve { settings, pool }
    }

    #[tracing::instrument(level = "debug", skip(self))]
    async fn connect(&self, mailbox: &str) -> Result<Client<MailStream>, StoreError> {
        let endpoint = self.settings.managesieve.as_ref().ok_or_else(|| {
            StoreError::Refused("no ManageSieve server is configured (--managesieve-url)".into())
        })?;
        let open = async || {
            Client::connect(endpoint, &self.settings.tls, self.settings.timeout)
                .await
                .map_err(sieve_error)
        };
        let refused = |e| match sieve_error(e) {
            StoreError::Refused(text) => {
                StoreError::Refused(format!("cannot open mailbox {mailbox} for Sieve: {text}"))
            }
            other => other,
        };
        let login = self.settings.login_name(mailbox);
        let Some(bearer) = &self.settings.oauth2 else {
            let mut client = open().await?;
            // A service account without a master-user separator acts as the mailbox through
            // SASL's authorisation identity (Cyrus lets its admins do so).
            let (authorize_as, user) = match self.settings.proxies() {
                true => (mailbox, self.settings.user.as_str()),
                false => ("", login.as_str()),
            };
            client
                .authenticate(authorize_as, user, &self.settings.password)
                .await
                .map_err(refused)?;
            return Ok(client);
        };
        // As for IMAP: a refused token is replaced by a fresh one once, on a new connection.
        bearer
            .sign_in(
                &login,
                &endpoint.host,
                endpoint.port,
                |response| async move {
                    let mut client = open().await?;
                    client
                        .authenticate_sasl(bearer.mechanism.name(), &response)
                        .await
                        .map_err(refused)?;
                    Ok(client)
                },
            )
            .await
    }

    /// How the session is carried and what the server offers (`airdesk mail check`).
    pub async fn capabilities(&self, mailbox: &str) -> Result<Vec<String>, StoreError> {
        self.with_session(mailbox, async |client| {
            let mut lines = vec![format!("transport {}", client.transport())];
            lines.extend(client.capabilities());
            Ok(lines)
        })
        .await
    }

    /// Runs `work` in a session of `mailbox`: an idle one of the pool (so the several reads of
    /// one check or turn-off share one login), or a new one. A session the server refused a
    /// command on is still good and goes back; one that broke is closed. A reused session the
    /// server has closed meanwhile is retried once on a new one, so a stale connection never
    /// passes for an unreachable mailbox.
    async fn with_session<T>(
        &self,
        mailbox: &str,
        work: impl AsyncFn(&mut Client<MailStream>) -> Result<T, ManageSieveError>,
    ) -> Result<T, StoreError> {
        let mut tries = 0;
        loop {
            tries += 1;
            let mut lease = self
                .pool
                .checkout(mailbox, async || self.connect(mailbox).await)
                .await?;
            let outcome = tokio::time::timeout(self.settings.timeout, work(&mut lease.conn))
                .await
                .unwrap_or_else(|_| {
                    Err(ManageSieveError::Io(
                        "the ManageSieve server did not answer in time".into(),
                    ))
                });
            match outcome {
                Ok(value) => {
                    self.pool.checkin(lease);
                    return Ok(value);
                }
                Err(refused @ ManageSieveError::No { .. }) => {
                    self.pool.checkin(lease);
                    return Err(sieve_error(refused));
                }
                Err(broken) if !lease.reused() || tries > 1 => return Err(sieve_error(broken)),
                Err(broken) => {
                    tracing::debug!(mailbox, %broken, "a pooled ManageSieve session broke; once more on a new one");
                }
            }
        }
    }
}

fn sieve_error(error: ManageSieveError) -> StoreError {
    match error {
        ManageSieveError::Io(text) => StoreError::Unavailable(text),
        refused => StoreError::Refused(refused.to_string()),
    }
}

#[async_trait::async_trait]
impl SieveScripts for ManageSieve {
    async fn active_script(&self, mailbox: &str) -> Result<Option<SieveScript>, StoreError> {
        self.with_session(mailbox, async |client| {
            let scripts = client.list_scripts().await?;
            let Some((name, _)) = scripts.into_iter().find(|(_, active)| *active) else {
                return Ok(None);
            };
            let text = client.get_script(&name).await?;
            Ok(text.map(|text| SieveScript { name, text }))
        })
        .await
    }

    async fn read_script(&self, mailbox: &str, name: &str) -> Result<Option<String>, StoreError> {
        let name = name.to_string();
        self.with_session(mailbox, async move |client| client.get_script(&name).await)
            .await
    }

    async fn put_script(&self, mailbox: &str, script: &SieveScript) -> Result<(), StoreError> {
        let script = script.clone();
        self.with_session(mailbox, async move |client| {
            client.put_script(&script.name, &script.text).await
        })
        .await
    }

    async fn activate_script(&self, mailbox: &str, name: &str) -> Result<(), StoreError> {
        let name = name.to_string();
        self.with_session(mailbox, async move |client| client.set_active(&name).await)
            .await
    }
}
