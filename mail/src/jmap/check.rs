//! `airdesk mail check` over JMAP: the session's capabilities, the account's mailboxes as
//! folders, and ManageSieve's — read only.

use super::Jmap;
use crate::check::{sieve_report, Check, MailboxReport};
use crate::StoreError;

/// The capabilities the connector's calls rely on.
pub const JMAP_NEEDS: [(&str, &str); 2] = [
    (
        "urn:ietf:params:jmap:core",
        "every call is a JMAP method call (RFC 8620)",
    ),
    (
        "urn:ietf:params:jmap:mail",
        "messages are found, moved and destroyed as Email objects (RFC 8621)",
    ),
];

#[async_trait::async_trait]
impl Check for Jmap {
    async fn mailboxes(&self) -> Result<Vec<String>, StoreError> {
        Ok(self.index_mailboxes.to_vec())
    }

    async fn check(&self, mailbox: &str) -> Result<MailboxReport, StoreError> {
        let session = self.client.session().await?;
        let account = self.account(mailbox).await?;
        let folders = self.mailboxes(&account, mailbox).await?.names();
        let capabilities: Vec<String> = session.capabilities.keys().cloned().collect();
        let transport = match session.api_url.scheme() {
            "https" => "HTTPS (TLS verified with rustls)".to_string(),
            _ => "clear text (loopback)".to_string(),
        };
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
            &JMAP_NEEDS,
        ))
    }
}
