//! A mailbox's Sieve scripts over ManageSieve, opened as the mailbox through the IMAP
//! service account (a master-user login), one short session per operation.

use std::sync::Arc;

use tokio::net::TcpStream;

use super::managesieve::{Client, ManageSieveError};
use super::ImapSettings;
use crate::sieve::{SieveScript, SieveScripts};
use crate::StoreError;

/// The Sieve scripts of every mailbox on the server.
#[derive(Clone)]
pub struct ManageSieve {
    settings: Arc<ImapSettings>,
}

impl std::fmt::Debug for ManageSieve {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ManageSieve")
            .field("address", &self.settings.managesieve)
            .finish_non_exhaustive()
    }
}

impl ManageSieve {
    pub fn new(settings: Arc<ImapSettings>) -> Self {
        ManageSieve { settings }
    }

    #[tracing::instrument(level = "debug", skip(self))]
    async fn connect(&self, mailbox: &str) -> Result<Client<TcpStream>, StoreError> {
        let address = self.settings.managesieve.as_deref().ok_or_else(|| {
            StoreError::Refused("no ManageSieve server is configured (--managesieve-url)".into())
        })?;
        let mut client = Client::connect(address, self.settings.timeout)
            .await
            .map_err(sieve_error)?;
        client
            .authenticate(
                "",
                &self.settings.login_name(mailbox),
                &self.settings.password,
            )
            .await
            .map_err(|e| match sieve_error(e) {
                StoreError::Refused(text) => {
                    StoreError::Refused(format!("cannot open mailbox {mailbox} for Sieve: {text}"))
                }
                other => other,
            })?;
        Ok(client)
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
        let mut client = self.connect(mailbox).await?;
        let scripts = client.list_scripts().await.map_err(sieve_error)?;
        let Some((name, _)) = scripts.into_iter().find(|(_, active)| *active) else {
            client.logout().await;
            return Ok(None);
        };
        let text = client.get_script(&name).await.map_err(sieve_error)?;
        client.logout().await;
        Ok(text.map(|text| SieveScript { name, text }))
    }

    async fn read_script(&self, mailbox: &str, name: &str) -> Result<Option<String>, StoreError> {
        let mut client = self.connect(mailbox).await?;
        let text = client.get_script(name).await.map_err(sieve_error)?;
        client.logout().await;
        Ok(text)
    }

    async fn put_script(&self, mailbox: &str, script: &SieveScript) -> Result<(), StoreError> {
        let mut client = self.connect(mailbox).await?;
        client
            .put_script(&script.name, &script.text)
            .await
            .map_err(sieve_error)?;
        client.logout().await;
        Ok(())
    }

    async fn activate_script(&self, mailbox: &str, name: &str) -> Result<(), StoreError> {
        let mut client = self.connect(mailbox).await?;
        client.set_active(name).await.map_err(sieve_error)?;
        client.logout().await;
        Ok(())
    }
}
