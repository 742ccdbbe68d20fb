//! One test suite for every connector: the maildir connector on a temp folder, the imap
//! connector (with ManageSieve) against a real Dovecot serving the same layout, in clear text on
//! loopback and over TLS (`ssl = required`, a CA made for the test), and the jmap connector
//! against a real Cyrus IMAP 3.6 (its mailboxes opened to a service account by their ACLs).
//! Each case runs once per connector; what it checks is read back through the store and from
//! the files (Maildir, Dovecot) or over IMAP as the mailbox's owner (Cyrus).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use mail::imap::{Endpoint, Imap, ImapSettings};
use mail::jmap::{Jmap, JmapSettings};
use mail::maildir::Maildir;
use mail::sieve::{SieveForwarding, SieveScript, SieveScripts, SCRIPT};
use mail::tls::{Security, Tls, TlsSettings};
use mail::{
    Copy, Destination, Folders, Forwarding, Found, MessageSource, Messages, ReadRequest,
    StoreError, TurnOff, Whereabouts,
};
use model::{InternalDomains, MessageLocation};
use tempfile::TempDir;

use crate::cyrus::Cyrus;
use crate::dovecot::{chown_tree, Dovecot, MASTER_PASSWORD, MASTER_USER};
use crate::execution::assert_valid_sieve;

const ALICE: &str = "alice@example.test";
const BOB: &str = "bob@example.test";

struct Fixture {
    store: Arc<dyn Messages>,
    source: Arc<dyn MessageSource>,
    sieve: Arc<dyn SieveScripts>,
    forwarding: Arc<dyn Forwarding>,
    root: PathBuf,
    dovecot: Option<Dovecot>,
    cyrus: Option<Cyrus>,
    /// The connector acts as a service account that keeps its own \Seen (JMAP on Cyrus):
    /// a move cannot carry the owner's read state.
    own_seen: bool,
    /// The folder names the connector reports (IMAP on Cyrus: the trash is `Trash`).
    folders: Folders,
    _dir: Option<TempDir>,
}

impl Fixture {
    fn maildir() -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("mail");
        for mailbox in [ALICE, BOB] {
            for sub in ["cur", "new", "tmp"] {
                std::fs::create_dir_all(root.join(mailbox).join(sub)).unwrap();
            }
        }
        let maildir = Maildir::new(&root, Folders::default());
        Fixture {
            sieve: Arc::new(maildir.sieve()),
            forwarding: Arc::new(SieveForwarding(maildir.sieve())),
            source: Arc::new(maildir.clone()),
            store: Arc::new(maildir),
            root,
            dovecot: None,
            cyrus: None,
            own_seen: false,
            folders: Folders::default(),
            _dir: Some(dir),
        }
    }

    /// The jmap connector on Cyrus, signed in as the service account.
    fn jmap() -> Fixture {
        let cyrus = Cyrus::start(&[ALICE, BOB]);
        let settings = JmapSettings {
            session_url: cyrus.session_url(),
            user: crate::cyrus::SERVICE.into(),
            password: crate::cyrus::PASSWORD.into(),
            oauth2: None,
            managesieve: Some(Endpoint::loopback(cyrus.sieve_port)),
            tls: Tls::new(&TlsSettings::default()).unwrap(),
            timeout: std::time::Duration::from_secs(3),
        };
        let jmap = Jmap::new(settings, Folders::default()).unwrap();
        Fixture {
            sieve: Arc::new(jmap.sieve()),
            forwarding: Arc::new(SieveForwarding(jmap.sieve())),
            source: Arc::new(jmap.clone()),
            store: Arc::new(jmap),
            root: cyrus.dir().to_path_buf(),
            dovecot: None,
            cyrus: Some(cyrus),
            own_seen: true,
            folders: Folders::default(),
            _dir: None,
        }
    }

    /// The imap connector on Cyrus: the service account signs in authorised as each mailbox
    /// (SASL PLAIN's authorisation identity), so it acts as the owner; Cyrus calls the trash
    /// `Trash`.
    fn imap_cyrus() -> Fixture {
        let cyrus = Cyrus::start(&[ALICE, BOB]);
        let mut settings = imap_settings_with(
            Endpoint::loopback(cyrus.imap_port),
            Endpoint::loopback(cyrus.sieve_port),
            Tls::new(&TlsSettings::default()).unwrap(),
        );
        settings.user = crate::cyrus::SERVICE.into();
        settings.password = crate::cyrus::PASSWORD.into();
        settings.master_separator = String::new();
        let folders = Folders {
            deleted_items: "Trash".into(),
            ..Folders::default()
        };
        let imap = Imap::new(settings, folders.clone());
        Fixture {
            sieve: Arc::new(imap.sieve()),
            forwarding: Arc::new(SieveForwarding(imap.sieve())),
            source: Arc::new(imap.clone()),
            store: Arc::new(imap),
            root: cyrus.dir().to_path_buf(),
            dovecot: None,
            cyrus: Some(cyrus),
            own_seen: false,
            folders,
            _dir: None,
        }
    }

    fn imap() -> Fixture {
        let dovecot = Dovecot::start(&[ALICE, BOB]);
        let settings = imap_settings(&dovecot);
        Fixture::over_imap(dovecot, settings, None)
    }

    /// Every capability through one IMAP connector to `dovecot`.
    fn over_imap(dovecot: Dovecot, settings: ImapSettings, dir: Option<TempDir>) -> Fixture {
        let imap = Imap::new(settings, Folders::default());
        Fixture {
            sieve: Arc::new(imap.sieve()),
            forwarding: Arc::new(SieveForwarding(imap.sieve())),
            source: Arc::new(imap.clone()),
            store: Arc::new(imap),
            root: dovecot.mail_root(),
            dovecot: Some(dovecot),
            cyrus: None,
            own_seen: false,
            folders: Folders::default(),
            _dir: dir,
        }
    }

    /// The same server with `ssl = required`: IMAP in TLS from the first byte and ManageSieve
    /// after STARTTLS, both verified against a CA made for the test.
    fn imap_tls() -> Fixture {
        let ca = crate::certs::TestCa::new("airdesk contract CA");
        let cert = ca.server_cert(crate::certs::Kind::Valid);
        let dovecot = Dovecot::start_with(&[ALICE, BOB], Some(&cert));
        let dir = tempfile::tempdir().unwrap();
        let tls = Tls::new(&TlsSettings {
            ca_file: Some(ca.write(dir.path())),
            insecure: false,
        })
        .unwrap();
        let secured = |port, security| Endpoint {
            host: "127.0.0.1".into(),
            port,
            security,
        };
        let settings = imap_settings_with(
            secured(dovecot.imaps_port, Security::Implicit),
            secured(dovecot.sieve_port, Security::StartTls),
            tls,
        );
        Fixture::over_imap(dovecot, settings, Some(dir))
    }

    /// Delivers a message (flagged Seen) as the mail server would.
    fn deliver(&self, mailbox: &str, id: &str, folder: &str) -> PathBuf {
        if let Some(cyrus) = &self.cyrus {
            let raw = crate::helpers::message(mailbox, id);
            cyrus.as_owner(mailbox, |imap| {
                imap.append(cyrus_folder(folder), raw.as_bytes())
            });
            return PathBuf::new();
        }
        let path = crate::helpers::deliver(&self.root, mailbox, id, folder);
        self.give_to_server(mailbox);
        path
    }

    /// Gives the mailbox an active Sieve script of its own, as its owner would: a file and
    /// the `.dovecot.sieve` link (Maildir, Dovecot), or over ManageSieve signed in as the
    /// owner (Cyrus keeps scripts in its own store).
    async fn owner_script(&self, mailbox: &str, name: &str, text: &str) {
        if let Some(cyrus) = &self.cyrus {
            let owner = cyrus.owner_sieve();
            let script = SieveScript {
                name: name.into(),
                text: text.into(),
            };
            owner.put_script(mailbox, &script).await.unwrap();
            owner.activate_script(mailbox, name).await.unwrap();
            return;
        }
        let home = self.root.join(mailbox);
        std::fs::create_dir_all(home.join("sieve")).unwrap();
        std::fs::write(home.join(format!("sieve/{name}.sieve")), text).unwrap();
        std::os::unix::fs::symlink(format!("sieve/{name}.sieve"), home.join(".dovecot.sieve"))
            .unwrap();
        self.give_to_server(mailbox);
    }

    /// The mail server runs `name` as the mailbox's active script and accepts it: Pigeonhole's
    /// compiler on the active file (Maildir, Dovecot); on Cyrus, which compiles every script
    /// when it is stored and refuses one that does not compile, the owner's own session sees
    /// that script active.
    async fn assert_active_script_valid(&self, mailbox: &str, name: &str) {
        if let Some(cyrus) = &self.cyrus {
            let active = cyrus.owner_sieve().active_script(mailbox).await.unwrap();
            assert_eq!(active.map(|a| a.name).as_deref(), Some(name));
            return;
        }
        let active = self.root.join(mailbox).join(".dovecot.sieve");
        let target = std::fs::read_link(&active).unwrap();
        assert!(
            target.to_string_lossy().contains(&format!("{name}.sieve")),
            "{target:?}"
        );
        assert_valid_sieve(&active);
    }

    fn give_to_server(&self, mailbox: &str) {
        if self.dovecot.is_some() {
            chown_tree(&self.root.join(mailbox));
        }
    }

    /// File names in a folder's `cur/` and `new/` (on Cyrus, `<uid>:2,<flags>` the same way).
    fn files(&self, mailbox: &str, folder: &str) -> Vec<String> {
        if let Some(cyrus) = &self.cyrus {
            return cyrus.as_owner(mailbox, |imap| imap.files(cyrus_folder(folder)));
        }
        let dir = if folder == "INBOX" {
            self.root.join(mailbox)
        } else {
            self.root.join(mailbox).join(format!(".{folder}"))
        };
        let mut names = Vec::new();
        for sub in ["cur", "new"] {
            if let Ok(entries) = std::fs::read_dir(dir.join(sub)) {
                names
                    .extend(entries.map(|e| e.unwrap().file_name().to_string_lossy().into_owned()));
            }
        }
        names
    }

    /// Every copy in the mailbox as the index records it (folder, handle, fingerprint, size),
    /// with the Message-ID it carries.
    async fn copies(&self, mailbox: &str) -> Vec<(String, Copy)> {
        let mut copies = Vec::new();
        for (folder, _) in self.source.folder_stamps(mailbox).await.unwrap() {
            let listing = self.source.list(mailbox, &folder).await.unwrap();
            let request = ReadRequest {
                mailbox: mailbox.to_string(),
                folder: folder.clone(),
                generation: listing.generation,
                messages: listing.messages.into_iter().collect(),
            };
            let batch = self.source.read(vec![request]).await.unwrap();
            for message in batch.folders.into_iter().flatten() {
                copies.push((
                    message.parsed.internet_message_id.clone(),
                    Copy {
                        folder: folder.clone(),
                        key: message.key,
                        content_sha256: Some(message.content_sha256),
                        size: Some(message.size),
                    },
                ));
            }
        }
        copies
    }

    /// The copies carrying these Message-IDs, found where they are now.
    async fn found(&self, mailbox: &str, ids: &[&str]) -> Vec<Found> {
        let copies: Vec<Copy> = self
            .copies(mailbox)
            .await
            .into_iter()
            .filter(|(id, _)| ids.contains(&id.as_str()))
            .map(|(_, copy)| copy)
            .collect();
        self.store
            .find(mailbox, &copies)
            .await
            .unwrap()
            .into_iter()
            .map(|where_now| match where_now {
                Whereabouts::At(found) => found,
                other => panic!("a copy just listed is {other:?}"),
            })
            .collect()
    }

    /// A user moves a message to another folder behind airdesk's back.
    fn user_moves(&self, mailbox: &str, id: &str, from: &str, to: &str) {
        if let Some(cyrus) = &self.cyrus {
            cyrus.as_owner(mailbox, |imap| {
                let uids = imap.uids_of(cyrus_folder(from), id);
                assert!(!uids.is_empty(), "{id} in {from}");
                let to = cyrus_folder(to);
                imap.ok(&format!("UID MOVE {} \"{to}\"", uids.join(",")));
            });
            return;
        }
        match &self.dovecot {
            Some(dovecot) => {
                let out = dovecot.doveadm(&[
                    "move",
                    "-u",
                    mailbox,
                    to,
                    "mailbox",
                    from,
                    "header",
                    "message-id",
                    id,
                ]);
                assert!(out.status.success(), "{out:?}");
            }
            None => {
                let (path, name) = self.file_of(mailbox, id, from);
                let dir = self.folder_dir(mailbox, to).join("cur");
                std::fs::create_dir_all(&dir).unwrap();
                std::fs::rename(path, dir.join(name)).unwrap();
            }
        }
    }

    /// A user deletes a message for good behind airdesk's back.
    fn user_deletes(&self, mailbox: &str, id: &str, folder: &str) {
        if let Some(cyrus) = &self.cyrus {
            cyrus.as_owner(mailbox, |imap| {
                let uids = imap.uids_of(cyrus_folder(folder), id).join(",");
                imap.ok(&format!("UID STORE {uids} +FLAGS.SILENT (\\Deleted)"));
                imap.ok(&format!("UID EXPUNGE {uids}"));
            });
            return;
        }
        match &self.dovecot {
            Some(dovecot) => {
                let out = dovecot.doveadm(&[
                    "expunge",
                    "-u",
                    mailbox,
                    "mailbox",
                    folder,
                    "header",
                    "message-id",
                    id,
                ]);
                assert!(out.status.success(), "{out:?}");
            }
            None => std::fs::remove_file(self.file_of(mailbox, id, folder).0).unwrap(),
        }
    }

    fn folder_dir(&self, mailbox: &str, folder: &str) -> PathBuf {
        match folder {
            "INBOX" => self.root.join(mailbox),
            _ => self.root.join(mailbox).join(format!(".{folder}")),
        }
    }

    /// The one file in a Maildir folder whose text carries this Message-ID.
    fn file_of(&self, mailbox: &str, id: &str, folder: &str) -> (PathBuf, std::ffi::OsString) {
        let dir = self.folder_dir(mailbox, folder);
        ["cur", "new"]
            .iter()
            .filter_map(|sub| std::fs::read_dir(dir.join(sub)).ok())
            .flatten()
            .map(|e| e.unwrap())
            .find(|e| {
                std::fs::read_to_string(e.path())
                    .unwrap()
                    .contains(&format!("Message-ID: {id}\r\n"))
            })
            .map(|e| (e.path(), e.file_name()))
            .unwrap_or_else(|| panic!("{id} in {folder}"))
    }
}

/// A folder's name in Cyrus's IMAP: the trash role folder is what airdesk calls Deleted Items.
fn cyrus_folder(folder: &str) -> &str {
    match folder {
        "Deleted Items" => "Trash",
        other => other,
    }
}

pub fn imap_settings(dovecot: &Dovecot) -> ImapSettings {
    imap_settings_with(
        Endpoint::loopback(dovecot.imap_port),
        Endpoint::loopback(dovecot.sieve_port),
        Tls::new(&TlsSettings::default()).unwrap(),
    )
}

/// The service account's settings for these endpoints and trust store.
pub fn imap_settings_with(imap: Endpoint, managesieve: Endpoint, tls: Tls) -> ImapSettings {
    ImapSettings {
        imap,
        user: MASTER_USER.into(),
        password: MASTER_PASSWORD.into(),
        oauth2: None,
        master_separator: "*".into(),
        managesieve: Some(managesieve),
        tls,
        max_connections: 4,
        index_connections: 2,
        sieve_connections: 2,
        // Short, so a connection to a server going down fails fast.
        timeout: std::time::Duration::from_secs(3),
    }
}

/// Runs a case once per connector: Maildir, IMAP in clear text on loopback, IMAP over TLS,
/// and (unless the case names only the first three) JMAP on Cyrus.
macro_rules! for_each_connector {
    (@case $case:ident, $($backend:ident),*) => {
        mod $case {$(
            #[tokio::test]
            async fn $backend() {
                super::$case(super::Fixture::$backend()).await
            }
        )*}
    };
    ($($case:ident),* $(,)?) => {$(
        for_each_connector!(@case $case, maildir, imap, imap_tls, imap_cyrus, jmap);
    )*};
}

for_each_connector!(
    finding_follows_each_copy_by_handle_then_by_content,
    hard_delete_expunges_only_the_messages_given,
    moves_keep_flags_and_take_many_messages_at_once,
    a_copy_moved_away_after_it_was_found_is_not_counted_as_done,
);
for_each_connector!(
    the_index_scans_everything_first_then_nothing_when_idle_then_what_changed,
    concurrent_movers_move_each_copy_once,
);
// A server to stop: Maildir's files cannot become unreachable the same way.
for_each_connector!(@case a_store_that_went_down_is_unavailable_never_missing, imap, imap_tls, imap_cyrus, jmap);
// Not over IMAP on the tests' Cyrus: it accepts any password and creates an account at its
// first sign-in, so no mailbox is unknown to it (its JMAP answers accountNotFound).
for_each_connector!(@case an_unknown_mailbox_is_refused_not_retried, maildir, imap, imap_tls, jmap);
// The case writes Dovecot's Sieve files itself.
for_each_connector!(@case forwarding_is_turned_off_validly_and_restored, maildir, imap, imap_tls, imap_cyrus, jmap);

async fn finding_follows_each_copy_by_handle_then_by_content(f: Fixture) {
    f.deliver(ALICE, "<a@evil.test>", "INBOX");
    f.deliver(ALICE, "<b@evil.test>", "Junk");
    f.deliver(ALICE, "<c@evil.test>", "INBOX");
    f.deliver(ALICE, "<c@evil.test>", "Deleted Items");
    f.deliver(ALICE, "<d@evil.test>", "INBOX");
    let copies = f.copies(ALICE).await;
    let copy = |id: &str, folder: &str| {
        copies
            .iter()
            .find(|(i, c)| i == id && c.folder == folder)
            .unwrap_or_else(|| panic!("{id} in {folder}: {copies:?}"))
            .1
            .clone()
    };
    let mut unrecognisable = copy("<d@evil.test>", "INBOX");
    (unrecognisable.content_sha256, unrecognisable.size) = (None, None);
    let wanted = [
        copy("<a@evil.test>", "INBOX"),
        copy("<b@evil.test>", "Junk"),
        copy("<c@evil.test>", "INBOX"),
        copy("<c@evil.test>", &f.folders.deleted_items),
        copy("<d@evil.test>", "INBOX"),
        unrecognisable,
    ];
    f.user_moves(ALICE, "<b@evil.test>", "Junk", "INBOX");
    f.user_deletes(ALICE, "<d@evil.test>", "INBOX");

    let answers = f.store.find(ALICE, &wanted).await.unwrap();

    let at = |i: usize| match &answers[i] {
        Whereabouts::At(found) => found.clone(),
        other => panic!("copy {i}: {other:?}"),
    };
    assert_eq!(at(0).location, MessageLocation::Inbox);
    assert_eq!(
        at(1).location,
        MessageLocation::Inbox,
        "followed to where the user put it"
    );
    let (c_inbox, c_deleted) = (at(2), at(3));
    assert_eq!(c_inbox.location, MessageLocation::Inbox);
    assert_eq!(c_deleted.location, MessageLocation::DeletedItems);
    assert_ne!(
        c_inbox.handle, c_deleted.handle,
        "one Message-ID, two copies"
    );
    assert!(
        matches!(&answers[4], Whereabouts::Gone(looked) if looked.contains("INBOX")),
        "looked for everywhere by handle and content, and not there: {:?}",
        answers[4]
    );
    assert!(
        matches!(&answers[5], Whereabouts::Missing(_)),
        "nothing to recognise its content by proves nothing: {:?}",
        answers[5]
    );
}

async fn moves_keep_flags_and_take_many_messages_at_once(f: Fixture) {
    let ids: Vec<String> = (0..30).map(|n| format!("<m{n}@evil.test>")).collect();
    for id in &ids {
        f.deliver(ALICE, id, "INBOX");
    }
    let refs: Vec<&str> = ids.iter().map(String::as_str).collect();
    let found = f.found(ALICE, &refs).await;
    assert_eq!(found.len(), 30);

    let outcomes = f.store.soft_delete(ALICE, &found).await.unwrap();

    assert!(outcomes.iter().all(Result::is_ok), "{outcomes:?}");
    assert!(f.files(ALICE, "INBOX").is_empty());
    let moved = f.files(ALICE, "Recoverable Items");
    assert_eq!(moved.len(), 30);
    if !f.own_seen {
        assert!(moved.iter().all(|name| name.ends_with(":2,S")), "{moved:?}");
    }
    let again = f.found(ALICE, &refs).await;
    assert!(again
        .iter()
        .all(|m| m.location == MessageLocation::RecoverableItems));

    let restored = f.store.restore(ALICE, &again).await.unwrap();
    assert!(restored.iter().all(Result::is_ok));
    assert_eq!(f.files(ALICE, "INBOX").len(), 30);
    assert!(f.files(ALICE, "Recoverable Items").is_empty());
    let junked = f
        .store
        .move_to(ALICE, &f.found(ALICE, &refs[..5]).await, Destination::Junk)
        .await
        .unwrap();
    assert_eq!(junked.len(), 5);
    assert_eq!(f.files(ALICE, "Junk").len(), 5);
}

/// The index's three scans: the first lists every message; one with nothing changed sees
/// equal stamps (so it reads nothing); after a delivery the folder's stamp moves and its
/// listing holds the new message beside the same handles as before.
async fn the_index_scans_everything_first_then_nothing_when_idle_then_what_changed(f: Fixture) {
    f.deliver(ALICE, "<one@example.test>", "INBOX");
    f.deliver(ALICE, "<two@example.test>", "INBOX");
    f.deliver(ALICE, "<spam@example.test>", "Junk");
    let stamp_of = |stamps: &[(String, (i64, i64))], folder: &str| {
        stamps
            .iter()
            .find(|(name, _)| name == folder)
            .unwrap_or_else(|| panic!("no {folder} in {stamps:?}"))
            .1
    };
    let first = f.source.folder_stamps(ALICE).await.unwrap();
    let inbox = f.source.list(ALICE, "INBOX").await.unwrap();
    assert_eq!(inbox.messages.len(), 2);
    assert_eq!(
        f.source.list(ALICE, "Junk").await.unwrap().messages.len(),
        1
    );
    let mut found: Vec<String> = f
        .copies(ALICE)
        .await
        .into_iter()
        .map(|(id, _)| id)
        .collect();
    found.sort();
    assert_eq!(
        found,
        [
            "<one@example.test>",
            "<spam@example.test>",
            "<two@example.test>"
        ]
    );

    let idle = f.source.folder_stamps(ALICE).await.unwrap();
    assert_eq!(idle, first, "nothing changed, so no stamp may move");

    f.deliver(ALICE, "<three@example.test>", "INBOX");
    let after = f.source.folder_stamps(ALICE).await.unwrap();
    assert_ne!(stamp_of(&after, "INBOX"), stamp_of(&first, "INBOX"));
    let again = f.source.list(ALICE, "INBOX").await.unwrap();
    assert_eq!(again.messages.len(), 3);
    for key in inbox.messages.keys() {
        assert!(
            again.messages.contains_key(key),
            "handle {key} changed: {again:?}"
        );
    }
    assert_eq!(again.generation, inbox.generation);
    assert_eq!(
        stamp_of(&after, "Junk"),
        stamp_of(&first, "Junk"),
        "a folder nothing happened in keeps its stamp, so it is not listed again"
    );

    // A user moves one to Junk and deletes another for good: both folders' stamps move and
    // their listings follow.
    f.user_moves(ALICE, "<two@example.test>", "INBOX", "Junk");
    f.user_deletes(ALICE, "<one@example.test>", "INBOX");
    let moved = f.source.folder_stamps(ALICE).await.unwrap();
    assert_ne!(stamp_of(&moved, "INBOX"), stamp_of(&after, "INBOX"));
    assert_ne!(stamp_of(&moved, "Junk"), stamp_of(&after, "Junk"));
    assert_eq!(
        f.source.list(ALICE, "INBOX").await.unwrap().messages.len(),
        1
    );
    assert_eq!(
        f.source.list(ALICE, "Junk").await.unwrap().messages.len(),
        2
    );
    assert_eq!(
        f.source.folder_stamps(ALICE).await.unwrap(),
        moved,
        "and idle again"
    );
}

/// Two executions (two instances) move the same copies at once: each copy is moved by exactly
/// one of them, the other is told it did not move it, and no copy is doubled or lost.
async fn concurrent_movers_move_each_copy_once(f: Fixture) {
    let ids: Vec<String> = (0..12).map(|n| format!("<race{n}@evil.test>")).collect();
    for id in &ids {
        f.deliver(ALICE, id, "INBOX");
    }
    let refs: Vec<&str> = ids.iter().map(String::as_str).collect();
    let found = f.found(ALICE, &refs).await;
    assert_eq!(found.len(), 12);

    let (a, b) = tokio::join!(
        f.store.move_to(ALICE, &found, Destination::Junk),
        f.store.move_to(ALICE, &found, Destination::Junk),
    );
    let (a, b) = (a.unwrap(), b.unwrap());

    for (n, (a, b)) in a.iter().zip(&b).enumerate() {
        assert!(
            a.is_ok() != b.is_ok(),
            "copy {n}: exactly one mover may count it as moved: {a:?} / {b:?}"
        );
    }
    assert!(f.files(ALICE, "INBOX").is_empty());
    assert_eq!(f.files(ALICE, "Junk").len(), 12);
}

/// The server goes away between the index's scan and execution: finding answers that the
/// store is unavailable (the job retries), never that the copies are missing or gone.
async fn a_store_that_went_down_is_unavailable_never_missing(mut f: Fixture) {
    f.deliver(ALICE, "<down@evil.test>", "INBOX");
    let copies: Vec<Copy> = f.copies(ALICE).await.into_iter().map(|(_, c)| c).collect();
    assert_eq!(copies.len(), 1);

    // The server stops, its open sessions too (Dovecot's outlive their master); the files stay.
    if let Some(dovecot) = &mut f.dovecot {
        let kicked = dovecot.doveadm(&["kick", ALICE]);
        assert!(kicked.status.success(), "{kicked:?}");
        dovecot.stop();
    }
    drop(f.cyrus.take());

    match f.store.find(ALICE, &copies).await {
        Err(StoreError::Unavailable(_)) => {}
        other => panic!("a stopped server must be unavailable: {other:?}"),
    }
    let moved = f
        .store
        .move_to(
            ALICE,
            &[Found {
                folder: copies[0].folder.clone(),
                location: MessageLocation::Inbox,
                handle: copies[0].key.clone(),
            }],
            Destination::Junk,
        )
        .await;
    assert!(
        matches!(moved, Err(StoreError::Unavailable(_))),
        "{moved:?}"
    );
}

async fn hard_delete_expunges_only_the_messages_given(f: Fixture) {
    f.deliver(ALICE, "<gone@evil.test>", "INBOX");
    f.deliver(ALICE, "<stays@evil.test>", "INBOX");
    let doomed = f.found(ALICE, &["<gone@evil.test>"]).await;

    let outcomes = f.store.expunge(ALICE, &doomed).await.unwrap();

    assert_eq!(outcomes, [Ok(())]);
    let left: Vec<String> = f
        .copies(ALICE)
        .await
        .into_iter()
        .map(|(id, _)| id)
        .collect();
    assert_eq!(left, ["<stays@evil.test>"]);
    assert_eq!(f.files(ALICE, "INBOX").len(), 1);
}

/// Between finding a copy and acting on it, the user files it away: the store's answer for it
/// must not be success (IMAP answers OK to a UID MOVE or STORE of a UID no longer there), so
/// execution looks for it again instead of reporting a phish gone that is still in the mailbox.
async fn a_copy_moved_away_after_it_was_found_is_not_counted_as_done(f: Fixture) {
    f.deliver(ALICE, "<filler@example.test>", "Junk");
    for id in [
        "<stay-1@evil.test>",
        "<away-1@evil.test>",
        "<stay-2@evil.test>",
        "<away-2@evil.test>",
    ] {
        f.deliver(ALICE, id, "INBOX");
    }
    let mut to_move = f.found(ALICE, &["<stay-1@evil.test>"]).await;
    to_move.extend(f.found(ALICE, &["<away-1@evil.test>"]).await);
    let mut to_delete = f.found(ALICE, &["<stay-2@evil.test>"]).await;
    to_delete.extend(f.found(ALICE, &["<away-2@evil.test>"]).await);
    f.user_moves(ALICE, "<away-1@evil.test>", "INBOX", "Junk");
    f.user_moves(ALICE, "<away-2@evil.test>", "INBOX", "Junk");

    // Looking at another folder first: over IMAP the move then selects the inbox afresh and
    // sees the user's move, so the server answers OK — for the copy it moved only.
    f.found(ALICE, &["<filler@example.test>"]).await;

    let moved = f.store.soft_delete(ALICE, &to_move).await.unwrap();
    assert_eq!(moved[0], Ok(()), "{moved:?}");
    assert!(
        moved[1].is_err(),
        "a copy the move did not touch: {moved:?}"
    );
    let deleted = f.store.expunge(ALICE, &to_delete).await.unwrap();
    assert_eq!(deleted[0], Ok(()), "{deleted:?}");
    assert!(
        deleted[1].is_err(),
        "a copy the delete did not touch: {deleted:?}"
    );
    assert_eq!(
        f.files(ALICE, "Junk").len(),
        3,
        "both still where the user put them"
    );
    assert_eq!(f.files(ALICE, "Recoverable Items").len(), 1);
    assert!(f.files(ALICE, "INBOX").is_empty());
}

async fn forwarding_is_turned_off_validly_and_restored(f: Fixture) {
    let original = r#"require ["fileinto", "copy"];
/* Forward everything from the boss, keep a copy. */
if address :is "from" "boss@example.test" {
    redirect :copy "bob@elsewhere.test";
    fileinto "Junk";
} else {
    redirect "team@example.test"; # internal: stays
}
redirect text:
bob.private@elsewhere.test
.
;
"#;
    f.owner_script(BOB, "rules", original).await;
    let internal = InternalDomains::new(["example.test"]);

    let done = f.forwarding.turn_off(BOB, &internal).await.unwrap();

    let TurnOff::Done {
        undo: name,
        addresses,
        ..
    } = done
    else {
        panic!("forwarding should have been turned off: {done:?}");
    };
    assert_eq!(name, "rules");
    assert_eq!(addresses.len(), 2);
    let active = f.sieve.active_script(BOB).await.unwrap().unwrap();
    assert_eq!(active.name, SCRIPT);
    assert!(active.text.contains("redirect \"team@example.test\";"));
    assert!(active.text.contains("fileinto \"Junk\";"));
    assert!(!active.text.contains("elsewhere.test\";") && !active.text.contains("redirect text:"));
    f.assert_active_script_valid(BOB, SCRIPT).await;
    assert_eq!(
        f.sieve.read_script(BOB, "rules").await.unwrap().as_deref(),
        Some(original),
        "the original is kept"
    );
    assert_eq!(
        f.forwarding.turn_off(BOB, &internal).await.unwrap(),
        TurnOff::NothingToDo,
        "running again finds nothing left to do"
    );

    f.forwarding.restore(BOB, "rules").await.unwrap();

    let active = f.sieve.active_script(BOB).await.unwrap().unwrap();
    assert_eq!(
        (active.name.as_str(), active.text.as_str()),
        ("rules", original)
    );
    f.assert_active_script_valid(BOB, "rules").await;
}

async fn an_unknown_mailbox_is_refused_not_retried(f: Fixture) {
    let error = f
        .store
        .find("nobody@example.test", &[some_copy()])
        .await
        .unwrap_err();
    assert!(matches!(error, StoreError::Refused(_)), "{error:?}");
}

fn some_copy() -> Copy {
    Copy {
        folder: "INBOX".into(),
        key: "1764150000.M1P1.test".into(),
        content_sha256: None,
        size: None,
    }
}

#[tokio::test]
async fn imap_a_large_folder_with_non_ascii_ids_is_found_by_handle_and_moved_copies_by_content() {
    let f = Fixture::imap();
    let mut wanted = Vec::new();
    for n in 0..3_000 {
        // Every tenth one carries a Message-ID no IMAP SEARCH could be asked for.
        let id = match n % 10 {
            0 => format!("<\u{e9}t\u{e9}-{n}-\u{4e2d}@evil.test>"),
            _ => format!("<filler-{n}@example.test>"),
        };
        crate::helpers::deliver(&f.root, ALICE, &id, "INBOX");
        if n % 10 == 0 {
            wanted.push(id);
        }
    }
    f.give_to_server(ALICE);
    let copies: Vec<(String, Copy)> = f
        .copies(ALICE)
        .await
        .into_iter()
        .filter(|(id, _)| wanted.contains(id))
        .collect();
    assert_eq!(copies.len(), 300, "non-ASCII ids are indexed as written");
    // The user files five of them away: new UIDs in another folder.
    for (id, _) in &copies[..5] {
        f.user_moves(ALICE, id, "INBOX", "Junk");
    }

    let asked: Vec<Copy> = copies.iter().map(|(_, c)| c.clone()).collect();
    let answers = f.store.find(ALICE, &asked).await.unwrap();

    let folders: Vec<String> = answers
        .iter()
        .map(|a| match a {
            Whereabouts::At(found) => found.folder.clone(),
            other => panic!("{other:?}"),
        })
        .collect();
    assert!(folders[..5].iter().all(|f| f == "Junk"), "{folders:?}");
    assert!(folders[5..].iter().all(|f| f == "INBOX"));
    let found: Vec<Found> = answers
        .into_iter()
        .filter_map(|a| match a {
            Whereabouts::At(found) => Some(found),
            _ => None,
        })
        .collect();
    let moved = f.store.soft_delete(ALICE, &found).await.unwrap();
    assert!(moved.iter().all(Result::is_ok), "{moved:?}");
    assert_eq!(f.files(ALICE, "Recoverable Items").len(), 300);
    assert_eq!(
        f.files(ALICE, "INBOX").len(),
        2_700,
        "every other message stays"
    );
}

/// A check reads the active script and every script it includes in one ManageSieve session,
/// and the turn-off right after reuses it: one login for both, where a session per script read
/// or written took thirteen (and with them the connections execution needs).
#[tokio::test]
async fn imap_one_managesieve_session_serves_a_whole_check_and_turn_off() {
    let dovecot = Dovecot::start(&[ALICE, BOB]);
    let home = dovecot.mail_root().join(BOB);
    std::fs::create_dir_all(home.join("sieve")).unwrap();
    std::fs::write(
        home.join("sieve/main.sieve"),
        "require \"include\";\ninclude :personal \"a\";\ninclude :personal \"b\";\n",
    )
    .unwrap();
    std::fs::write(
        home.join("sieve/a.sieve"),
        "redirect \"a@elsewhere.test\";\n",
    )
    .unwrap();
    std::fs::write(
        home.join("sieve/b.sieve"),
        "redirect \"b@elsewhere.test\";\n",
    )
    .unwrap();
    std::os::unix::fs::symlink("sieve/main.sieve", home.join(".dovecot.sieve")).unwrap();
    chown_tree(&home);
    let logins = || {
        dovecot
            .log()
            .matches("managesieve-login: Info: Login:")
            .count()
    };
    let before = logins();
    let imap = Imap::new(imap_settings(&dovecot), Folders::default());
    let forwarding = SieveForwarding(imap.sieve());
    let internal = InternalDomains::new(["example.test"]);

    let findings = forwarding.external_forwards(BOB, &internal).await.unwrap();
    assert_eq!(findings.len(), 2, "{findings:?}");
    let done = forwarding.turn_off(BOB, &internal).await.unwrap();
    assert!(matches!(done, TurnOff::Done { .. }), "{done:?}");
    assert!(forwarding
        .external_forwards(BOB, &internal)
        .await
        .unwrap()
        .is_empty());
    // Dovecot writes its log as it goes; give it a moment to catch up.
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(logins() - before, 1, "{}", dovecot.log());
}

#[tokio::test]
async fn maildir_concurrent_moves_of_the_same_messages_lose_and_duplicate_nothing() {
    let f = Fixture::maildir();
    let ids: Vec<String> = (0..50).map(|n| format!("<c{n}@evil.test>")).collect();
    for id in &ids {
        f.deliver(ALICE, id, "INBOX");
    }
    let refs: Vec<&str> = ids.iter().map(String::as_str).collect();
    let found = f.found(ALICE, &refs).await;

    let (a, b) = tokio::join!(
        f.store
            .move_to(ALICE, &found, Destination::RecoverableItems),
        f.store.move_to(ALICE, &found, Destination::Junk),
    );

    let (a, b) = (a.unwrap(), b.unwrap());
    for (x, y) in a.iter().zip(&b) {
        assert!(
            x.is_ok() || y.is_ok(),
            "each message was moved by one of them"
        );
    }
    let total = f.files(ALICE, "INBOX").len()
        + f.files(ALICE, "Recoverable Items").len()
        + f.files(ALICE, "Junk").len();
    assert_eq!(total, 50, "no message lost or doubled");
    assert!(f.files(ALICE, "INBOX").is_empty());
}

#[tokio::test]
async fn maildir_a_move_interrupted_between_link_and_unlink_completes_on_retry() {
    let f = Fixture::maildir();
    let source = f.deliver(ALICE, "<half@evil.test>", "INBOX");
    // The crash: linked into the destination, source not yet removed.
    let target = f.root.join(ALICE).join(".Recoverable Items/cur");
    std::fs::create_dir_all(&target).unwrap();
    std::fs::hard_link(&source, target.join(source.file_name().unwrap())).unwrap();
    let found = f.found(ALICE, &["<half@evil.test>"]).await;
    assert_eq!(found.len(), 2, "both names are visible after the crash");

    let outcomes = f
        .store
        .move_to(ALICE, &found, Destination::RecoverableItems)
        .await
        .unwrap();

    assert!(outcomes.iter().all(Result::is_ok), "{outcomes:?}");
    assert!(f.files(ALICE, "INBOX").is_empty());
    assert_eq!(f.files(ALICE, "Recoverable Items").len(), 1);
    assert!(!Path::new(&source).exists());
}

#[tokio::test]
async fn maildir_refuses_mailbox_names_that_leave_the_mail_root() {
    let f = Fixture::maildir();
    for name in ["../etc", ".hidden@x", "a/b@example.test", ""] {
        let error = f.store.find(name, &[some_copy()]).await.unwrap_err();
        assert!(matches!(error, StoreError::Refused(_)), "{name}: {error:?}");
    }
}
