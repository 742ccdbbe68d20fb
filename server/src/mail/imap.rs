//! The imap connector: any IMAP server, through one service account that may open every
//! mailbox (with Dovecot, a master user: `alice@example.test*admin`). It finds messages with
//! one header FETCH per small folder, or one SEARCH for many Message-IDs at once and a FETCH of
//! the hits in a large one, moves them
//! with UID MOVE, a whole folder's worth per command, and hard deletes with UID EXPUNGE
//! (UIDPLUS) so nothing else flagged for deletion goes with them. Connections come from a
//! bounded pool per server. Sieve scripts go through ManageSieve.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_imap::types::NameAttribute;
use futures_util::TryStreamExt;
use mail_parser::MessageParser;
use tokio::net::TcpStream;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::managesieve::{self, ManageSieveError};
use super::{
    bare_id, Destination, Folders, Found, ItemOutcome, MailStore, SieveScript, StoreError,
};

/// Message-IDs asked for in one SEARCH.
const IDS_PER_SEARCH: usize = 100;
/// Folders up to this size are read with one FETCH of every Message-ID instead of a SEARCH.
pub const FETCH_ALL_UP_TO: usize = 2_000;
/// An idle pooled connection older than this is closed rather than reused.
const MAX_IDLE: Duration = Duration::from_secs(60);

/// Where and how to reach the server.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImapSettings {
    /// `host:port` of the IMAP server (plain IMAP; run it on a trusted network or loopback).
    pub address: String,
    /// The service account.
    pub user: String,
    pub password: String,
    /// Joins mailbox and service account in a master-user login (Dovecot: `*`).
    pub master_separator: String,
    /// `host:port` of the ManageSieve server, for forwarding.
    pub managesieve: Option<String>,
    /// Most connections open to the server at once.
    pub max_connections: usize,
    /// Longest wait for connecting or for one command.
    pub timeout: Duration,
    /// Folders up to this many messages are read whole (one FETCH of every Message-ID);
    /// larger ones are searched. [`FETCH_ALL_UP_TO`] unless testing.
    pub fetch_all_up_to: usize,
}

impl ImapSettings {
    /// Reads `imap://host:port` or `sieve://host:port` (the port is required).
    pub fn address_of(url: &str, scheme: &str) -> Result<String, String> {
        let rest = url
            .strip_prefix(&format!("{scheme}://"))
            .ok_or_else(|| format!("{url:?} does not start with {scheme}://"))?;
        let rest = rest.trim_end_matches('/');
        match rest.rsplit_once(':') {
            Some((host, port)) if !host.is_empty() && port.parse::<u16>().is_ok() => {
                Ok(rest.to_string())
            }
            _ => Err(format!(
                "{url:?} must name a host and a port, e.g. {scheme}://127.0.0.1:143"
            )),
        }
    }
}

type Session = async_imap::Session<TcpStream>;

/// A connection logged in as one mailbox, holding its place in the pool.
struct Pooled {
    mailbox: String,
    conn: Conn,
    since: Instant,
    _permit: OwnedSemaphorePermit,
}

/// A session and what it knows, so repeated work skips round trips: the folder list, and which
/// folder is selected (a move right after locating its messages needs no second SELECT).
struct Conn {
    session: Session,
    folders: Option<Vec<String>>,
    /// The selected folder and its UIDVALIDITY.
    selected: Option<(String, Option<u32>)>,
}

impl Conn {
    /// Every selectable folder, listed once per connection.
    async fn folders(&mut self) -> Result<Vec<String>, StoreError> {
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
    async fn select(&mut self, folder: &str) -> Result<(u32, Option<u32>), StoreError> {
        self.selected = None;
        let mailbox = self.session.select(folder).await.map_err(imap_error)?;
        self.selected = Some((folder.to_string(), mailbox.uid_validity));
        Ok((mailbox.exists, mailbox.uid_validity))
    }

    /// The folder's UIDVALIDITY, selecting it only if it is not selected already.
    async fn selected(&mut self, folder: &str) -> Result<Option<u32>, StoreError> {
        match &self.selected {
            Some((name, validity)) if name == folder => Ok(*validity),
            _ => Ok(self.select(folder).await?.1),
        }
    }

    /// Creates a folder unless the listing shows it; NO from CREATE means it exists.
    async fn ensure_folder(&mut self, folder: &str) -> Result<(), StoreError> {
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

#[derive(Clone)]
pub struct Imap {
    settings: Arc<ImapSettings>,
    folders: Folders,
    permits: Arc<Semaphore>,
    idle: Arc<Mutex<Vec<Pooled>>>,
}

impl std::fmt::Debug for Imap {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Imap")
            .field("address", &self.settings.address)
            .field("user", &self.settings.user)
            .field("folders", &self.folders)
            .finish_non_exhaustive()
    }
}

fn imap_error(error: async_imap::error::Error) -> StoreError {
    use async_imap::error::Error;
    match error {
        Error::No(text) | Error::Bad(text) => StoreError::Refused(text),
        Error::Validate(e) => StoreError::Refused(e.to_string()),
        other => StoreError::Unavailable(other.to_string()),
    }
}

fn sieve_error(error: ManageSieveError) -> StoreError {
    match error {
        ManageSieveError::Io(text) => StoreError::Unavailable(text),
        refused => StoreError::Refused(refused.to_string()),
    }
}

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
    pub fn new(settings: ImapSettings, folders: Folders) -> Self {
        let permits = Arc::new(Semaphore::new(settings.max_connections.max(1)));
        Imap {
            settings: Arc::new(settings),
            folders,
            permits,
            idle: Arc::new(Mutex::new(Vec::new())),
        }
    }

    fn login_name(&self, mailbox: &str) -> String {
        format!(
            "{mailbox}{}{}",
            self.settings.master_separator, self.settings.user
        )
    }

    /// A connection logged in as `mailbox`: an idle one from the pool, or a new one when the
    /// pool has room (closing an idle connection of another mailbox to make room if need be).
    async fn checkout(&self, mailbox: &str) -> Result<Pooled, StoreError> {
        let reusable = {
            let mut idle = self.idle.lock().expect("pool lock");
            idle.retain(|p| p.since.elapsed() < MAX_IDLE);
            idle.iter()
                .position(|p| p.mailbox == mailbox)
                .map(|i| idle.swap_remove(i))
        };
        if let Some(pooled) = reusable {
            return Ok(pooled);
        }
        let permit = match self.permits.clone().try_acquire_owned() {
            Ok(permit) => permit,
            Err(_) => {
                // Full: close an idle connection (of another mailbox) to make room, else wait.
                let evicted = self.idle.lock().expect("pool lock").pop();
                drop(evicted);
                tokio::time::timeout(self.settings.timeout, self.permits.clone().acquire_owned())
                    .await
                    .map_err(|_| StoreError::Unavailable("every IMAP connection is busy".into()))?
                    .map_err(|_| StoreError::Unavailable("the IMAP pool is closed".into()))?
            }
        };
        let session = self.within(self.connect(mailbox)).await?;
        Ok(Pooled {
            mailbox: mailbox.to_string(),
            conn: Conn {
                session,
                folders: None,
                selected: None,
            },
            since: Instant::now(),
            _permit: permit,
        })
    }

    async fn connect(&self, mailbox: &str) -> Result<Session, StoreError> {
        let stream = TcpStream::connect(&self.settings.address)
            .await
            .map_err(|e| StoreError::Unavailable(format!("IMAP {}: {e}", self.settings.address)))?;
        let mut client = async_imap::Client::new(stream);
        client
            .read_response()
            .await
            .map_err(|e| StoreError::Unavailable(format!("IMAP greeting: {e}")))?
            .ok_or_else(|| {
                StoreError::Unavailable("IMAP server closed before its greeting".into())
            })?;
        client
            .login(self.login_name(mailbox), &self.settings.password)
            .await
            .map_err(|(error, _)| match imap_error(error) {
                StoreError::Refused(text) => {
                    StoreError::Refused(format!("cannot open mailbox {mailbox}: {text}"))
                }
                other => other,
            })
    }

    fn checkin(&self, mut pooled: Pooled) {
        pooled.since = Instant::now();
        self.idle.lock().expect("pool lock").push(pooled);
    }

    /// Runs `work` on a pooled connection; the connection goes back to the pool only if the
    /// work did not break it.
    async fn with_session<T>(
        &self,
        mailbox: &str,
        work: impl AsyncFnOnce(&mut Conn) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let mut pooled = self.checkout(mailbox).await?;
        let outcome = self.within(work(&mut pooled.conn)).await;
        match &outcome {
            Err(StoreError::Unavailable(_)) => {} // dropped: closes the connection
            _ => self.checkin(pooled),
        }
        outcome
    }

    async fn within<T>(
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

    async fn sieve(&self, mailbox: &str) -> Result<managesieve::Client<TcpStream>, StoreError> {
        let address = self.settings.managesieve.as_deref().ok_or_else(|| {
            StoreError::Refused("no ManageSieve server is configured (--managesieve-url)".into())
        })?;
        let mut client = managesieve::Client::connect(address, self.settings.timeout)
            .await
            .map_err(sieve_error)?;
        client
            .authenticate("", &self.login_name(mailbox), &self.settings.password)
            .await
            .map_err(|e| match sieve_error(e) {
                StoreError::Refused(text) => {
                    StoreError::Refused(format!("cannot open mailbox {mailbox} for Sieve: {text}"))
                }
                other => other,
            })?;
        Ok(client)
    }

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

fn uid_set(uids: &[u32]) -> String {
    uids.iter()
        .map(u32::to_string)
        .collect::<Vec<_>>()
        .join(",")
}

/// One message as the indexer reads it over IMAP.
#[derive(Debug, Clone)]
pub struct RawMessage {
    pub uid: u32,
    /// When the server received it (INTERNALDATE), not the sender's Date header.
    pub received_at: Option<chrono::DateTime<chrono::Utc>>,
    pub size: u32,
    /// At most the first `limit` bytes asked for.
    pub bytes: Vec<u8>,
}

/// What the message index needs over IMAP: cheap stamps to skip unchanged folders, the UIDs of
/// a changed one, and the new messages themselves.
impl Imap {
    /// Every selectable folder of `mailbox` with (UIDVALIDITY, UIDNEXT, MESSAGES) from STATUS:
    /// one round trip per folder, no SELECT.
    pub async fn folder_stamps(
        &self,
        mailbox: &str,
    ) -> Result<Vec<(String, u32, u32, u32)>, StoreError> {
        self.with_session(mailbox, async move |conn: &mut Conn| {
            // A pooled session may hold a folder selected since the last scan: NOOP brings its
            // view up to date (STATUS of a selected folder may answer from the stale view).
            conn.session.noop().await.map_err(imap_error)?;
            conn.folders = None; // folders come and go between scans
            let mut stamps = Vec::new();
            for folder in conn.folders().await? {
                let status = conn
                    .session
                    .status(&folder, "(UIDVALIDITY UIDNEXT MESSAGES)")
                    .await
                    .map_err(imap_error)?;
                stamps.push((
                    folder,
                    status.uid_validity.unwrap_or(0),
                    status.uid_next.unwrap_or(0),
                    status.exists,
                ));
            }
            Ok(stamps)
        })
        .await
    }

    /// A folder's UIDVALIDITY and every UID in it.
    pub async fn folder_uids(
        &self,
        mailbox: &str,
        folder: &str,
    ) -> Result<(u32, Vec<u32>), StoreError> {
        self.with_session(mailbox, async move |conn: &mut Conn| {
            let (exists, validity) = conn.select(folder).await?;
            if exists == 0 {
                return Ok((validity.unwrap_or(0), Vec::new()));
            }
            let mut uids: Vec<u32> = conn
                .session
                .uid_search("ALL")
                .await
                .map_err(imap_error)?
                .into_iter()
                .collect();
            uids.sort_unstable();
            Ok((validity.unwrap_or(0), uids))
        })
        .await
    }

    /// The first `limit` bytes of each message, with its size and arrival time; empty when the
    /// folder's UIDVALIDITY is no longer `validity` (the next scan starts it over).
    pub async fn fetch_raw(
        &self,
        mailbox: &str,
        folder: &str,
        validity: u32,
        uids: &[u32],
        limit: u64,
    ) -> Result<Vec<RawMessage>, StoreError> {
        let uids = uids.to_vec();
        self.with_session(mailbox, async move |conn: &mut Conn| {
            if conn.selected(folder).await?.unwrap_or(0) != validity {
                return Ok(Vec::new());
            }
            let mut found = Vec::new();
            for chunk in uids.chunks(200) {
                let fetches: Vec<_> = conn
                    .session
                    .uid_fetch(
                        uid_set(chunk),
                        format!("(UID INTERNALDATE RFC822.SIZE BODY.PEEK[]<0.{limit}>)"),
                    )
                    .await
                    .map_err(imap_error)?
                    .try_collect()
                    .await
                    .map_err(imap_error)?;
                for fetch in fetches {
                    let Some(uid) = fetch.uid else { continue };
                    found.push(RawMessage {
                        uid,
                        received_at: fetch.internal_date().map(|d| d.with_timezone(&chrono::Utc)),
                        size: fetch.size.unwrap_or(0),
                        bytes: fetch.body().map(<[u8]>::to_vec).unwrap_or_default(),
                    });
                }
            }
            Ok(found)
        })
        .await
    }
}

#[async_trait::async_trait]
impl MailStore for Imap {
    fn folders(&self) -> &Folders {
        &self.folders
    }

    async fn locate(
        &self,
        mailbox: &str,
        internet_message_ids: &[String],
    ) -> Result<Vec<Found>, StoreError> {
        let searchable: Vec<(&str, String)> = internet_message_ids
            .iter()
            .filter_map(|id| quoted(bare_id(id)).map(|q| (id.as_str(), q)))
            .collect();
        let by_bare: HashMap<&str, &String> = internet_message_ids
            .iter()
            .map(|id| (bare_id(id), id))
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
                    let mut ranges = Vec::new();
                    for chunk in searchable.chunks(IDS_PER_SEARCH) {
                        let mut query = "OR ".repeat(chunk.len() - 1);
                        for (_, q) in chunk {
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
                    ranges
                };
                for range in ranges {
                    let fetches: Vec<_> = conn
                        .session
                        .uid_fetch(range, "(UID BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)])")
                        .await
                        .map_err(imap_error)?
                        .try_collect()
                        .await
                        .map_err(imap_error)?;
                    for fetch in fetches {
                        let (Some(uid), Some(header)) = (fetch.uid, fetch.header()) else {
                            continue;
                        };
                        let Some(id) = parser
                            .parse_headers(header)
                            .and_then(|m| m.message_id().map(|id| bare_id(id).to_string()))
                        else {
                            continue;
                        };
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

    async fn active_script(&self, mailbox: &str) -> Result<Option<SieveScript>, StoreError> {
        let mut client = self.sieve(mailbox).await?;
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
        let mut client = self.sieve(mailbox).await?;
        let text = client.get_script(name).await.map_err(sieve_error)?;
        client.logout().await;
        Ok(text)
    }

    async fn put_script(&self, mailbox: &str, script: &SieveScript) -> Result<(), StoreError> {
        let mut client = self.sieve(mailbox).await?;
        client
            .put_script(&script.name, &script.text)
            .await
            .map_err(sieve_error)?;
        client.logout().await;
        Ok(())
    }

    async fn activate_script(&self, mailbox: &str, name: &str) -> Result<(), StoreError> {
        let mut client = self.sieve(mailbox).await?;
        client.set_active(name).await.map_err(sieve_error)?;
        client.logout().await;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_name_a_host_and_port() {
        assert_eq!(
            ImapSettings::address_of("imap://127.0.0.1:1143", "imap").unwrap(),
            "127.0.0.1:1143"
        );
        assert!(ImapSettings::address_of("imap://mail.example.test", "imap").is_err());
        assert!(ImapSettings::address_of("sieve://h:4190", "imap").is_err());
    }

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
