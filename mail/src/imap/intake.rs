//! A report mailbox over IMAP: the inbox's UIDs, sizes, then content a bounded number of
//! bytes at a time; filing is a UID MOVE.

use super::conn::Conn;
use super::messages::{parse_handle, uid_set};
use super::{imap_error, Imap};
use crate::intake::{Intake, Waiting};
use crate::StoreError;

#[async_trait::async_trait]
impl Intake for Imap {
    async fn waiting(
        &self,
        mailbox: &str,
        max_messages: usize,
        max_bytes: u64,
    ) -> Result<Vec<Waiting>, StoreError> {
        let inbox = self.folders.inbox.clone();
        let (validity, mut uids) = self.folder_uids(mailbox, &inbox).await?;
        uids.truncate(max_messages);
        let mut waiting = Vec::new();
        // One message at a time: each is read whole (up to max_bytes) and parsed before the next.
        for uid in uids {
            let raw = self
                .fetch_raw(mailbox, &inbox, validity, &[uid], max_bytes)
                .await?;
            waiting.extend(raw.into_iter().map(|m| Waiting {
                handle: super::messages::handle(validity, m.uid),
                size: u64::from(m.size),
                raw: m.bytes,
            }));
        }
        Ok(waiting)
    }

    async fn file(&self, mailbox: &str, handle: &str, folder: &str) -> Result<(), StoreError> {
        let (validity, uid) =
            parse_handle(handle).ok_or_else(|| StoreError::Refused("not an IMAP handle".into()))?;
        let inbox = self.folders.inbox.clone();
        let folder = folder.to_string();
        self.with_session(mailbox, async move |conn: &mut Conn| {
            conn.ensure_folder(&folder).await?;
            let (_, current) = conn.select(&inbox).await?;
            if current != Some(validity) {
                // The inbox was recreated: the UID names nothing any more.
                return Ok(());
            }
            conn.session
                .uid_mv(uid_set(&[uid]), &folder)
                .await
                .map_err(imap_error)
        })
        .await
    }
}
