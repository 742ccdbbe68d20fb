//! IMAP connections from a bounded [`Pool`](crate::pool::Pool), each logged in as one mailbox
//! through the service account, remembering its folder list and selected folder so repeated
//! work skips round trips.

use async_imap::types::NameAttribute;
use futures_util::TryStreamExt;

use super::{imap_error, Imap};
use crate::pool::Lease;
use crate::tls::{MailStream, Security};
use crate::StoreError;

pub(super) type Session = async_imap::Session<MailStream>;

/// A session and what it knows, so repeated work skips round trips: the folder list, and which
/// folder is selected (a move right after locating its messages needs no second SELECT).
pub(super) struct Conn {
    pub(super) session: Session,
    pub(super) folders: Option<Vec<String>>,
    /// The selected folder and its UIDVALIDITY.
    selected: Option<(String, Option<u32>)>,
}

impl Conn {
    /// Every selectable folder, listed once per connection.
    pub(super) async fn folders(&mut self) -> Result<Vec<String>, StoreError> {
        if let Some(folders) = &self.folders {
            return Ok(folders.clone());
        }
        let names: Vec<String> = self
            .session
            .list(Some(""), Some("*"))
            .await
            .map_err(imap_error)?
            .try_filter_map(|name| async move {
                Ok((!name.attributes().contains(&NameAttribute::NoSelect))
                    .then(|| name.name().to_string()))
            })
            .try_collect()
            .await
            .map_err(imap_error)?;
        self.folders = Some(names.clone());
        Ok(names)
    }

    /// SELECTs a folder (read-write, as moves need); returns its message count and UIDVALIDITY.
    pub(super) async fn select(&mut self, folder: &str) -> Result<(u32, Option<u32>), StoreError> {
        self.selected = None;
        let mailbox = self.session.select(folder).await.map_err(imap_error)?;
        self.selected = Some((folder.to_string(), mailbox.uid_validity));
        Ok((mailbox.exists, mailbox.uid_validity))
    }

    /// The selected folder's UIDVALIDITY, if a folder is selected.
    pub(super) fn selected_validity(&self) -> Option<u32> {
        self.selected.as_ref().and_then(|(_, validity)| *validity)
    }

    /// The folder's UIDVALIDITY, selecting it only if it is not selected already.
    pub(super) async fn selected(&mut self, folder: &str) -> Result<Option<u32>, StoreError> {
        match &self.selected {
            Some((name, validity)) if name == folder => Ok(*validity),
            _ => Ok(self.select(folder).await?.1),
        }
    }

    /// Creates a folder unless the listing shows it; NO from CREATE means it exists.
    pub(super) async fn ensure_folder(&mut self, folder: &str) -> Result<(), StoreError> {
        if self.folders().await?.iter().any(|f| f == folder) {
            return Ok(());
        }
        if let Err(error) = self.session.create(folder).await {
            if let StoreError::Unavailable(why) = imap_error(error) {
                return Err(StoreError::Unavailable(why));
            }
        }
        if let Some(folders) = &mut self.folders {
            folders.push(folder.to_string());
        }
        Ok(())
    }
}

impl Imap {
    /// A connection logged in as `mailbox`, from this connector's pool.
    async fn checkout(&self, mailbox: &str) -> Result<Lease<Conn>, StoreError> {
        self.pool
            .checkout(mailbox, async || {
                Ok(Conn {
                    session: self.within(self.connect(mailbox)).await?,
                    folders: None,
                    selected: None,
                })
            })
            .await
    }

    /// A session signed in as `mailbox`, with the password or an OAuth2 token (a refused token
    /// is replaced once: [`crate::oauth::Bearer::sign_in`]).
    #[tracing::instrument(level = "debug", skip(self))]
    async fn connect(&self, mailbox: &str) -> Result<Session, StoreError> {
        let refused = |error| match imap_error(error) {
            StoreError::Refused(text) => {
                StoreError::Refused(format!("cannot open mailbox {mailbox}: {text}"))
            }
            other => other,
        };
        let login = self.settings.login_name(mailbox);
        if self.settings.oauth2.is_none() && self.settings.proxies() {
            // The service account authorised as the mailbox (SASL PLAIN's authorisation
            // identity, RFC 4616), as Cyrus grants its admins and `proxyservers`.
            // A NUL in the name would shift the identities PLAIN separates with NULs.
            if mailbox.is_empty() || mailbox.chars().any(char::is_control) {
                return Err(StoreError::Refused(format!("no mailbox {mailbox:?}")));
            }
            let settings = &self.settings;
            let plain = format!("{mailbox}\0{}\0{}", settings.user, settings.password);
            return self
                .open()
                .await?
                .authenticate("PLAIN", SaslOnce(Some(plain)))
                .await
                .map_err(|(error, _)| refused(error));
        }
        let Some(bearer) = &self.settings.oauth2 else {
            return self
                .open()
                .await?
                .login(login, &self.settings.password)
                .await
                .map_err(|(error, _)| refused(error));
        };
        let endpoint = &self.settings.imap;
        bearer
            .sign_in(
                &login,
                &endpoint.host,
                endpoint.port,
                |response| async move {
                    self.open()
                        .await?
                        .authenticate(bearer.mechanism.name(), SaslOnce(Some(response)))
                        .await
                        .map_err(|(error, _)| refused(error))
                },
            )
            .await
    }

    /// A connection ready to sign in: TCP, TLS (from the first byte or after STARTTLS) and the
    /// server's greeting.
    async fn open(&self) -> Result<async_imap::Client<MailStream>, StoreError> {
        let endpoint = &self.settings.imap;
        let unavailable = |why: String| StoreError::Unavailable(format!("IMAP {why}"));
        let stream = endpoint
            .open(&self.settings.tls)
            .await
            .map_err(unavailable)?;
        let mut client = async_imap::Client::new(stream);
        greeting(&mut client).await?;
        if endpoint.security != Security::StartTls {
            return Ok(client);
        }
        // Refused or not offered, STARTTLS that was asked for is an error, never a reason to
        // carry on in clear text (a server, or someone between, stripping it).
        client
            .run_command_and_check_ok("STARTTLS", None)
            .await
            .map_err(|e| {
                unavailable(format!(
                    "{}: STARTTLS is required and the server did not start it ({e}); not \
                     continuing in clear text",
                    endpoint.address()
                ))
            })?;
        // Whatever the server sent after its OK is dropped with the old client's buffer:
        // nothing read in clear text is taken as part of the TLS session.
        let MailStream::Plain(tcp) = client.into_inner() else {
            return Err(unavailable("STARTTLS on a TLS connection".into()));
        };
        let stream = self.settings.tls.connect(&endpoint.host, tcp).await;
        Ok(async_imap::Client::new(stream.map_err(unavailable)?))
    }

    /// Runs `work` on a pooled connection; the connection goes back to the pool only if the
    /// work did not break it.
    pub(super) async fn with_session<T>(
        &self,
        mailbox: &str,
        work: impl AsyncFnOnce(&mut Conn) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let mut lease = self.checkout(mailbox).await?;
        let outcome = self.within(work(&mut lease.conn)).await;
        match &outcome {
            Err(StoreError::Unavailable(_)) => {} // dropped: closes the connection
            _ => self.pool.checkin(lease),
        }
        outcome
    }

    pub(super) async fn within<T>(
        &self,
        work: impl std::future::Future<Output = Result<T, StoreError>>,
    ) -> Result<T, StoreError> {
        tokio::time::timeout(self.settings.timeout, work)
            .await
            .unwrap_or_else(|_| {
                Err(StoreError::Unavailable(
                    "the IMAP server did not answer in time".into(),
                ))
            })
    }
}

/// Reads the server's greeting (after TLS, for `imaps://`).
async fn greeting(client: &mut async_imap::Client<MailStream>) -> Result<(), StoreError> {
    client
        .read_response()
        .await
        .map_err(|e| StoreError::Unavailable(format!("IMAP greeting: {e}")))?
        .ok_or_else(|| StoreError::Unavailable("IMAP server closed before its greeting".into()))?;
    Ok(())
}

/// A SASL exchange of one client message (XOAUTH2, OAUTHBEARER): the initial response, then an
/// empty answer to the server's error challenge, so the server can say NO.
struct SaslOnce(Option<String>);

impl async_imap::Authenticator for SaslOnce {
    type Response = String;

    fn process(&mut self, _challenge: &[u8]) -> String {
        self.0.take().unwrap_or_default()
    }
}
