//! `airdesk mail check` on a Maildir tree: the mailboxes under the root, each one's folders and
//! whether a Sieve script is active — read only.

use super::{blocking, unavailable, Maildir};
use crate::check::{Check, MailboxReport};
use crate::sieve::SieveScripts;
use crate::StoreError;

#[async_trait::async_trait]
impl Check for Maildir {
    async fn mailboxes(&self) -> Result<Vec<String>, StoreError> {
        let layout = self.layout.clone();
        blocking(move || {
            layout
                .list_mailboxes()
                .map_err(|e| unavailable(layout.root(), e))
        })
        .await
    }

    async fn check(&self, mailbox: &str) -> Result<MailboxReport, StoreError> {
        let layout = self.layout.clone();
        let name = mailbox.to_string();
        let folders = blocking(move || {
            let dir = layout.existing_mailbox(&name)?;
            let folders = layout
                .list_folders(&dir)
                .map_err(|e| unavailable(&dir, e))?;
            Ok(folders.into_iter().map(|(folder, _)| folder).collect())
        })
        .await?;
        let sieve = match self.sieve().active_script(mailbox).await {
            Ok(Some(script)) => Ok(vec![format!("active script {:?}", script.name)]),
            Ok(None) => Ok(vec!["no active script".to_string()]),
            Err(error) => Err(error.to_string()),
        };
        Ok(MailboxReport {
            mailbox: mailbox.to_string(),
            transport: "files".into(),
            capabilities: vec!["Maildir++".into()],
            folders,
            missing: sieve
                .clone()
                .err()
                .map(|why| format!("Sieve: {why}"))
                .into_iter()
                .collect(),
            sieve,
        })
    }
}
