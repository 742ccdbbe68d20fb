//! Execution over IMAP: messages found with one header FETCH per small folder, or one SEARCH
//! for many Message-IDs at once and a FETCH of the hits in a large one; moved with UID MOVE, a
//! whole folder's worth per command; hard deleted with UID EXPUNGE (UIDPLUS) so nothing else
//! flagged for deletion goes with them.

use std::collections::HashMap;

use futures_util::TryStreamExt;
use mail_parser::MessageParser;
use model::message_id;

use super::pool::Conn;
use super::{imap_error, Imap};
use crate::{Destination, Folders, Found, ItemOutcome, Messages, StoreError};

/// Message-IDs asked for in one SEARCH.
const IDS_PER_SEARCH: usize = 100;

/// A quoted IMAP string for a SEARCH; `None` for text that cannot be one.
fn quoted(text: &str) -> Option<String> {
    if !text.is_ascii() || text.contains(['\r', '\n', '\0']) {
        return None;
    }
    Some(format!(
        "\"{}\"",
        text.replace('\\', "\\\\").replace('"', "\\\"")
    ))
}

/// `uidvalidity:uid`, the handle of a message found over IMAP.
fn handle(validity: u32, uid: u32) -> String {
    format!("{validity}:{uid}")
}

fn parse_handle(handle: &str) -> Option<(u32, u32)> {
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

/// The UIDs of a large folder's messages with any of these (quoted) Message-IDs: one SEARCH
/// per hundred ids, never one per id. Each answer is a UID set to FETCH.
async fn search(conn: &mut Conn, quoted_ids: &[String]) -> Result<Vec<String>, StoreError> {
    let mut ranges = Vec::new();
    for chunk in quoted_ids.chunks(IDS_PER_SEARCH) {
        let mut query = "OR ".repeat(chunk.len() - 1);
        for q in chunk {
            query.push_str(&format!("HEADER Message-ID {q} "));
        }
        let uids = conn
            .session
            .uid_search(query.trim_end())
            .await
            .map_err(imap_error)?;
        if !uids.is_empty() {
            let mut uids: Vec<u32> = uids.into_iter().collect();
            uids.sort_unstable();
            ranges.push(uid_set(&uids));
        }
    }
    Ok(ranges)
}

/// The Message-ID (bare) of every message in a UID set of the selected folder.
async fn message_ids(
    conn: &mut Conn,
    range: String,
    parser: &MessageParser,
) -> Result<Vec<(u32, String)>, StoreError> {
    let fetches: Vec<_> = conn
        .session
        .uid_fetch(range, "(UID BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)])")
        .await
        .map_err(imap_error)?
        .try_collect()
        .await
        .map_err(imap_error)?;
    Ok(fetches
        .iter()
        .filter_map(|fetch| {
            let uid = fetch.uid?;
            let id = parser
                .parse_headers(fetch.header()?)?
                .message_id()
                .map(|id| message_id::bare(id).to_string())?;
            Some((uid, id))
        })
        .collect())
}

#[async_trait::async_trait]
impl Messages for Imap {
    fn folders(&self) -> &Folders {
        &self.folders
    }

    #[tracing::instrument(level = "debug", skip(self, internet_message_ids), fields(store = "imap", ids = internet_message_ids.len()))]
    async fn locate(
        &self,
        mailbox: &str,
        internet_message_ids: &[String],
    ) -> Result<Vec<Found>, StoreError> {
        let searchable: Vec<String> = internet_message_ids
            .iter()
            .filter_map(|id| quoted(message_id::bare(id)))
            .collect();
        let by_bare: HashMap<&str, &String> = internet_message_ids
            .iter()
            .map(|id| (message_id::bare(id), id))
            .collect();
        let folders = self.folders.clone();
        let fetch_all_up_to = self.settings.fetch_all_up_to;
        self.with_session(mailbox, async move |conn: &mut Conn| {
            // The inbox last: it is where mail usually is, and the move that follows finds it
            // still selected.
            let mut names = conn.folders().await?;
            names.sort_by_key(|n| n.eq_ignore_ascii_case(&folders.inbox));
            let parser = MessageParser::new().with_message_ids();
            let mut found = Vec::new();
            for folder in names {
                let (exists, validity) = conn.select(&folder).await?;
                if exists == 0 {
                    continue;
                }
                let validity = validity.unwrap_or(0);
                // A small folder: one FETCH of every Message-ID beats SEARCH and then FETCH.
                let ranges: Vec<String> = if exists as usize <= fetch_all_up_to {
                    vec!["1:*".to_string()]
                } else {
                    search(conn, &searchable).await?
                };
                for range in ranges {
                    for (uid, id) in message_ids(conn, range, &parser).await? {
                        // SEARCH matches substrings: only the exact id counts.
                        if let Some(original) = by_bare.get(id.as_str()) {
                            found.push(Found {
                                internet_message_id: (*original).clone(),
                                folder: folder.clone(),
                                location: folders.location(&folder),
                                handle: handle(validity, uid),
                            });
                        }
                    }
                }
            }
            Ok(found)
        })
        .await
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
    fn search_strings_are_quoted_or_refused() {
        assert_eq!(quoted("a\"b@c").unwrap(), "\"a\\\"b@c\"");
        assert_eq!(quoted("x\r\nA LOGOUT"), None);
        assert_eq!(quoted("é@x"), None);
    }

    #[test]
    fn handles_round_trip() {
        assert_eq!(parse_handle(&handle(7, 42)), Some((7, 42)));
        assert_eq!(parse_handle("/var/mail/x"), None);
    }
}
