//! Execution over IMAP: copies found by the handle the index saw (`UIDVALIDITY:UID`, see
//! [`super::find`]); moved with UID MOVE, a whole folder's worth per command; hard deleted with
//! UID EXPUNGE (UIDPLUS) so nothing else flagged for deletion goes with them.

use std::collections::HashMap;

use futures_util::TryStreamExt;

use super::conn::Conn;
use super::{imap_error, Imap};
use crate::{Copy, Destination, Folders, Found, ItemOutcome, Messages, StoreError, Whereabouts};

/// `uidvalidity:uid`, the handle of a message found over IMAP.
pub(super) fn handle(validity: u32, uid: u32) -> String {
    format!("{validity}:{uid}")
}

pub(super) fn parse_handle(handle: &str) -> Option<(u32, u32)> {
    let (validity, uid) = handle.split_once(':')?;
    Some((validity.parse().ok()?, uid.parse().ok()?))
}

impl Imap {
    /// Groups found messages by folder, keeping each one's place in the input.
    fn by_folder(messages: &[Found]) -> HashMap<&str, Vec<(usize, &Found)>> {
        let mut groups: HashMap<&str, Vec<(usize, &Found)>> = HashMap::new();
        for (i, message) in messages.iter().enumerate() {
            groups
                .entry(message.folder.as_str())
                .or_default()
                .push((i, message));
        }
        groups
    }
}

/// Selects a folder (unless it is selected) and splits a group into the UIDs still valid
/// there and refusals for those whose folder was recreated since they were found.
async fn select_valid(
    conn: &mut Conn,
    folder: &str,
    group: &[(usize, &Found)],
    outcomes: &mut [Option<ItemOutcome>],
) -> Result<Vec<u32>, StoreError> {
    let validity = conn.selected(folder).await?;
    let mut uids = Vec::new();
    for (i, message) in group {
        match parse_handle(&message.handle) {
            Some((v, uid)) if Some(v) == validity => uids.push(uid),
            _ => outcomes[*i] = Some(Err("the folder changed since the message was found".into())),
        }
    }
    Ok(uids)
}

pub(super) fn uid_set(uids: &[u32]) -> String {
    uids.iter()
        .map(u32::to_string)
        .collect::<Vec<_>>()
        .join(",")
}

#[async_trait::async_trait]
impl Messages for Imap {
    fn folders(&self) -> &Folders {
        &self.folders
    }

    #[tracing::instrument(level = "debug", skip(self, copies), fields(store = "imap", copies = copies.len()))]
    async fn find(&self, mailbox: &str, copies: &[Copy]) -> Result<Vec<Whereabouts>, StoreError> {
        self.find_copies(mailbox, copies).await
    }

    #[tracing::instrument(level = "debug", skip(self, messages), fields(store = "imap", messages = messages.len()))]
    async fn move_to(
        &self,
        mailbox: &str,
        messages: &[Found],
        to: Destination,
    ) -> Result<Vec<ItemOutcome>, StoreError> {
        let target = self.folders.name(to).to_string();
        self.with_session(mailbox, async move |conn: &mut Conn| {
            conn.ensure_folder(&target).await?;
            let mut outcomes: Vec<Option<ItemOutcome>> = vec![None; messages.len()];
            for (folder, group) in Imap::by_folder(messages) {
                if folder == target {
                    for (i, _) in &group {
                        outcomes[*i] = Some(Ok(()));
                    }
                    continue;
                }
                let uids = select_valid(conn, folder, &group, &mut outcomes).await?;
                if uids.is_empty() {
                    continue;
                }
                let moved = match conn.session.uid_mv(uid_set(&uids), &target).await {
                    Ok(()) => Ok(()),
                    Err(error) => match imap_error(error) {
                        StoreError::Refused(why) => Err(why),
                        unavailable => return Err(unavailable),
                    },
                };
                for (i, _) in &group {
                    outcomes[*i].get_or_insert_with(|| moved.clone());
                }
            }
            Ok(outcomes
                .into_iter()
                .map(|o| o.unwrap_or_else(|| Err("not handled".into())))
                .collect())
        })
        .await
    }

    #[tracing::instrument(level = "debug", skip(self, messages), fields(store = "imap", messages = messages.len()))]
    async fn expunge(
        &self,
        mailbox: &str,
        messages: &[Found],
    ) -> Result<Vec<ItemOutcome>, StoreError> {
        self.with_session(mailbox, async move |conn: &mut Conn| {
            let mut outcomes: Vec<Option<ItemOutcome>> = vec![None; messages.len()];
            for (folder, group) in Imap::by_folder(messages) {
                let uids = select_valid(conn, folder, &group, &mut outcomes).await?;
                if uids.is_empty() {
                    continue;
                }
                let set = uid_set(&uids);
                let session = &mut conn.session;
                let deleted: Result<(), async_imap::error::Error> = async {
                    session
                        .uid_store(&set, "+FLAGS.SILENT (\\Deleted)")
                        .await?
                        .try_collect::<Vec<_>>()
                        .await?;
                    session
                        .uid_expunge(&set)
                        .await?
                        .try_collect::<Vec<_>>()
                        .await?;
                    Ok(())
                }
                .await;
                let deleted = match deleted {
                    Ok(()) => Ok(()),
                    Err(error) => match imap_error(error) {
                        StoreError::Refused(why) => Err(why),
                        unavailable => return Err(unavailable),
                    },
                };
                for (i, _) in &group {
                    outcomes[*i].get_or_insert_with(|| deleted.clone());
                }
            }
            Ok(outcomes
                .into_iter()
                .map(|o| o.unwrap_or_else(|| Err("not handled".into())))
                .collect())
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn handles_round_trip() {
        assert_eq!(parse_handle(&handle(7, 42)), Some((7, 42)));
        assert_eq!(parse_handle("/var/mail/x"), None);
    }
}
