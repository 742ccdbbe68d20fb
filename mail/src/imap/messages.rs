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

/// Forgets the untagged responses earlier commands left (the channel is bounded, and a full one
/// would drop the COPYUID the next move is judged by).
fn drain_unsolicited(conn: &mut Conn) {
    while conn.session.unsolicited_responses.try_recv().is_ok() {}
}

/// The source UIDs of every COPYUID the server sent for the command just run (RFC 6851 sends
/// it in an untagged OK before the expunges).
fn moved_uids(conn: &mut Conn) -> std::collections::HashSet<u32> {
    use async_imap::imap_proto::rfc4315::UidSetMember;
    use async_imap::imap_proto::{Response, ResponseCode};
    let mut moved = std::collections::HashSet::new();
    while let Ok(response) = conn.session.unsolicited_responses.try_recv() {
        let async_imap::types::UnsolicitedResponse::Other(data) = response else {
            continue;
        };
        if let Response::Data { outcome, .. } = data.parsed() {
            if let Some(ResponseCode::CopyUid(_, source, _)) = &outcome.code {
                for member in source {
                    match member {
                        UidSetMember::Uid(uid) => {
                            moved.insert(*uid);
                        }
                        UidSetMember::UidRange(range) => moved.extend(range.clone()),
                    }
                }
            }
        }
    }
    moved
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
                // A UID MOVE of a message no longer in the folder (moved or deleted by someone
                // else since it was found) is still OK; only the server's COPYUID says which
                // messages this command moved. One not in it is not counted as moved: execution
                // looks for it again.
                drain_unsolicited(conn);
                let moved = match conn.session.uid_mv(uid_set(&uids), &target).await {
                    Ok(()) => Ok(moved_uids(conn)),
                    Err(error) => match imap_error(error) {
                        StoreError::Refused(why) => Err(why),
                        unavailable => return Err(unavailable),
                    },
                };
                for (i, message) in &group {
                    let outcome = match (&moved, parse_handle(&message.handle)) {
                        (Err(why), _) => Err(why.clone()),
                        (Ok(moved), Some((_, uid))) if moved.contains(&uid) => Ok(()),
                        (Ok(_), _) => Err(format!(
                            "no longer in {folder} when it was moved (the server moved nothing \
                             for it)"
                        )),
                    };
                    outcomes[*i].get_or_insert(outcome);
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
                // The flags' answer (not .SILENT) names each message that was still there to be
                // flagged; one that was not (moved or deleted by someone else since it was
                // found) is not counted as deleted: execution looks for it again.
                let deleted: Result<std::collections::HashSet<u32>, async_imap::error::Error> =
                    async {
                        let flagged = session
                            .uid_store(&set, "+FLAGS (\\Deleted)")
                            .await?
                            .try_collect::<Vec<_>>()
                            .await?
                            .iter()
                            .filter_map(|fetch| fetch.uid)
                            .collect();
                        session
                            .uid_expunge(&set)
                            .await?
                            .try_collect::<Vec<_>>()
                            .await?;
                        Ok(flagged)
                    }
                    .await;
                let deleted = match deleted {
                    Ok(flagged) => Ok(flagged),
                    Err(error) => match imap_error(error) {
                        StoreError::Refused(why) => Err(why),
                        unavailable => return Err(unavailable),
                    },
                };
                for (i, message) in &group {
                    let outcome = match (&deleted, parse_handle(&message.handle)) {
                        (Err(why), _) => Err(why.clone()),
                        (Ok(flagged), Some((_, uid))) if flagged.contains(&uid) => Ok(()),
                        (Ok(_), _) => Err(format!(
                            "no longer in {folder} when it was deleted (the server deleted \
                             nothing for it)"
                        )),
                    };
                    outcomes[*i].get_or_insert(outcome);
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
