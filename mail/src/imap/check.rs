//! `airdesk mail check` over IMAP: a session as the mailbox, its capabilities and folders, and
//! ManageSieve's — read only.

use async_imap::types::Capability;

use super::{imap_error, Imap};
use crate::check::{missing, Check, MailboxReport, IMAP_NEEDS};
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
        let sieve = match &self.settings.managesieve {
            None => Err(
                "no ManageSieve server is configured (--managesieve-url): forwarding \
                 can be neither read nor turned off"
                    .to_string(),
            ),
            Some(_) => self
                .sieve()
                .capabilities(mailbox)
                .await
                .map_err(|e| e.to_string()),
        };
        let mut lacks = missing(&capabilities, &IMAP_NEEDS);
        if let Err(why) = &sieve {
            lacks.push(format!("Sieve: {why}"));
        }
        Ok(MailboxReport {
            mailbox: mailbox.to_string(),
            transport,
            capabilities,
            folders,
            sieve,
            missing: lacks,
        })
    }
}
