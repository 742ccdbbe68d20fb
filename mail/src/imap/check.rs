//! `airdesk mail check` over IMAP: a session as the mailbox, its capabilities and folders, and
//! ManageSieve's — read only.

use async_imap::types::Capability;

use super::{imap_error, Imap};
use crate::check::{sieve_report, Check, MailboxReport, IMAP_NEEDS};
use crate::StoreError;

#[async_trait::async_trait]
impl Check for Imap {
    async fn mailboxes(&self) -> Result<Vec<String>, StoreError> {
        Ok(self.index_mailboxes.to_vec())
    }

    async fn check(&self, mailbox: &str) -> Result<MailboxReport, StoreError> {
        let (transport, capabilities, folders) = self
            .with_session(mailbox, async |conn| {
                let capabilities: Vec<String> = conn
                    .session
                    .capabilities()
                    .await
                    .map_err(imap_error)?
                    .iter()
                    .map(|capability| match capability {
                        Capability::Imap4rev1 => "IMAP4rev1".to_string(),
                        Capability::Auth(mechanism) => format!("AUTH={mechanism}"),
                        Capability::Atom(name) => name.to_string(),
                    })
                    .collect();
                let folders = conn.folders().await?;
                Ok((conn.session.get_ref().describe(), capabilities, folders))
            })
            .await?;
        let sieve = sieve_report(
            self.settings.managesieve.is_some().then(|| self.sieve()),
            mailbox,
        )
        .await;
        Ok(MailboxReport::new(
            mailbox,
            transport,
            capabilities,
            folders,
            sieve,
            &IMAP_NEEDS,
        ))
    }
}
