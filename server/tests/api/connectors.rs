//! One test suite for both connectors: the maildir connector on a temp folder, and the imap
//! connector (with ManageSieve) against a real Dovecot serving the same layout. Each case runs
//! once per connector; what it checks is read back through the store and from the files.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use mail::imap::{Imap, ImapSettings};
use mail::maildir::Maildir;
use mail::sieve::{SieveForwarding, SieveScripts, SCRIPT};
use mail::{Destination, Folders, Forwarding, Found, Messages, StoreError, TurnOff};
use model::{InternalDomains, MessageLocation};
use tempfile::TempDir;

use crate::dovecot::{chown_tree, Dovecot, MASTER_PASSWORD, MASTER_USER};
use crate::execution::assert_valid_sieve;

const ALICE: &str = "alice@example.test";
const BOB: &str = "bob@example.test";

struct Fixture {
    store: Arc<dyn Messages>,
    sieve: Arc<dyn SieveScripts>,
    forwarding: Arc<dyn Forwarding>,
    root: PathBuf,
    dovecot: Option<Dovecot>,
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
            store: Arc::new(maildir),
            root,
            dovecot: None,
            _dir: Some(dir),
        }
    }

    fn imap() -> Fixture {
        let dovecot = Dovecot::start(&[ALICE, BOB]);
        let imap = Imap::new(imap_settings(&dovecot), Folders::default());
        Fixture {
            sieve: Arc::new(imap.sieve()),
            forwarding: Arc::new(SieveForwarding(imap.sieve())),
            store: Arc::new(imap),
            root: dovecot.mail_root(),
            dovecot: Some(dovecot),
            _dir: None,
        }
    }

    /// Delivers a message file (flagged Seen) as the mail server would.
    fn deliver(&self, mailbox: &str, id: &str, folder: &str) -> PathBuf {
        let path = crate::helpers::deliver(&self.root, mailbox, id, folder);
        self.give_to_server(mailbox);
        path
    }

    fn give_to_server(&self, mailbox: &str) {
        if self.dovecot.is_some() {
            chown_tree(&self.root.join(mailbox));
        }
    }

    /// File names in a folder's `cur/` and `new/`.
    fn files(&self, mailbox: &str, folder: &str) -> Vec<String> {
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

    async fn locate(&self, mailbox: &str, ids: &[&str]) -> Vec<Found> {
        let ids: Vec<String> = ids.iter().map(|s| s.to_string()).collect();
        self.store.locate(mailbox, &ids).await.unwrap()
    }
}

pub fn imap_settings(dovecot: &Dovecot) -> ImapSettings {
    ImapSettings {
        address: format!("127.0.0.1:{}", dovecot.imap_port),
        user: MASTER_USER.into(),
        password: MASTER_PASSWORD.into(),
        master_separator: "*".into(),
        managesieve: Some(format!("127.0.0.1:{}", dovecot.sieve_port)),
        max_connections: 4,
        // Short, so a connection to a server going down fails fast.
        timeout: std::time::Duration::from_secs(3),
        fetch_all_up_to: mail::imap::FETCH_ALL_UP_TO,
    }
}

/// Runs a case once per connector.
macro_rules! for_both_connectors {
    ($($case:ident),* $(,)?) => {$(
        mod $case {
            #[tokio::test]
            async fn maildir() {
                super::$case(super::Fixture::maildir()).await
            }
            #[tokio::test]
            async fn imap() {
                super::$case(super::Fixture::imap()).await
            }
        }
    )*};
}

for_both_connectors!(
    locating_reports_every_copy_and_its_folder,
    moves_keep_flags_and_take_many_messages_at_once,
    hard_delete_expunges_only_the_messages_given,
    forwarding_is_turned_off_validly_and_restored,
    an_unknown_mailbox_is_refused_not_retried,
);

async fn locating_reports_every_copy_and_its_folder(f: Fixture) {
    f.deliver(ALICE, "<a@evil.test>", "INBOX");
    f.deliver(ALICE, "<b@evil.test>", "Junk");
    f.deliver(ALICE, "<c@evil.test>", "INBOX");
    f.deliver(ALICE, "<c@evil.test>", "Deleted Items");
    f.deliver(ALICE, "<not-c@evil.test>", "INBOX");

    let mut found = f
        .locate(
            ALICE,
            &[
                "<a@evil.test>",
                "b@evil.test",
                "<c@evil.test>",
                "<d@evil.test>",
            ],
        )
        .await;
    found.sort_by(|x, y| {
        (&x.internet_message_id, &x.folder).cmp(&(&y.internet_message_id, &y.folder))
    });

    let seen: Vec<(&str, MessageLocation)> = found
        .iter()
        .map(|f| (f.internet_message_id.as_str(), f.location))
        .collect();
    assert_eq!(
        seen,
        [
            ("<a@evil.test>", MessageLocation::Inbox),
            ("<c@evil.test>", MessageLocation::DeletedItems),
            ("<c@evil.test>", MessageLocation::Inbox),
            ("b@evil.test", MessageLocation::Junk),
        ],
        "ids come back as asked, absent ones are missing, substrings do not match"
    );
}

async fn moves_keep_flags_and_take_many_messages_at_once(f: Fixture) {
    let ids: Vec<String> = (0..30).map(|n| format!("<m{n}@evil.test>")).collect();
    for id in &ids {
        f.deliver(ALICE, id, "INBOX");
    }
    let refs: Vec<&str> = ids.iter().map(String::as_str).collect();
    let found = f.locate(ALICE, &refs).await;
    assert_eq!(found.len(), 30);

    let outcomes = f.store.soft_delete(ALICE, &found).await.unwrap();

    assert!(outcomes.iter().all(Result::is_ok), "{outcomes:?}");
    assert!(f.files(ALICE, "INBOX").is_empty());
    let moved = f.files(ALICE, "Recoverable Items");
    assert_eq!(moved.len(), 30);
    assert!(moved.iter().all(|name| name.ends_with(":2,S")), "{moved:?}");
    let again = f.locate(ALICE, &refs).await;
    assert!(again
        .iter()
        .all(|m| m.location == MessageLocation::RecoverableItems));

    let restored = f.store.restore(ALICE, &again).await.unwrap();
    assert!(restored.iter().all(Result::is_ok));
    assert_eq!(f.files(ALICE, "INBOX").len(), 30);
    assert!(f.files(ALICE, "Recoverable Items").is_empty());
    let junked = f
        .store
        .move_to(ALICE, &f.locate(ALICE, &refs[..5]).await, Destination::Junk)
        .await
        .unwrap();
    assert_eq!(junked.len(), 5);
    assert_eq!(f.files(ALICE, "Junk").len(), 5);
}

async fn hard_delete_expunges_only_the_messages_given(f: Fixture) {
    f.deliver(ALICE, "<gone@evil.test>", "INBOX");
    f.deliver(ALICE, "<stays@evil.test>", "INBOX");
    let doomed = f.locate(ALICE, &["<gone@evil.test>"]).await;

    let outcomes = f.store.expunge(ALICE, &doomed).await.unwrap();

    assert_eq!(outcomes, [Ok(())]);
    let left = f
        .locate(ALICE, &["<gone@evil.test>", "<stays@evil.test>"])
        .await;
    assert_eq!(left.len(), 1);
    assert_eq!(left[0].internet_message_id, "<stays@evil.test>");
    assert_eq!(f.files(ALICE, "INBOX").len(), 1);
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
    let home = f.root.join(BOB);
    std::fs::create_dir_all(home.join("sieve")).unwrap();
    std::fs::write(home.join("sieve/rules.sieve"), original).unwrap();
    std::os::unix::fs::symlink("sieve/rules.sieve", home.join(".dovecot.sieve")).unwrap();
    f.give_to_server(BOB);
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
    assert_valid_sieve(&home.join(".dovecot.sieve"));
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
}

async fn an_unknown_mailbox_is_refused_not_retried(f: Fixture) {
    let error = f
        .store
        .locate("nobody@example.test", &["<a@evil.test>".to_string()])
        .await
        .unwrap_err();
    assert!(matches!(error, StoreError::Refused(_)), "{error:?}");
}

#[tokio::test]
async fn imap_large_folders_are_searched_for_many_ids_at_once() {
    let mut f = Fixture::imap();
    let mut settings = imap_settings(f.dovecot.as_ref().unwrap());
    settings.fetch_all_up_to = 0;
    f.store = Arc::new(Imap::new(settings, Folders::default()));
    let ids: Vec<String> = (0..150).map(|n| format!("<s{n}@evil.test>")).collect();
    for id in &ids {
        f.deliver(ALICE, id, "INBOX");
    }
    f.deliver(ALICE, "<xs1@evil.test>", "INBOX"); // contains "s1@evil.test"

    // More ids than one SEARCH carries, one that only matches as a substring, one absent.
    let mut wanted: Vec<&str> = ids.iter().map(String::as_str).collect();
    wanted.push("<absent@evil.test>");
    let found = f.locate(ALICE, &wanted).await;

    assert_eq!(found.len(), 150);
    assert!(found
        .iter()
        .all(|m| m.internet_message_id != "<xs1@evil.test>"));
}

#[tokio::test]
async fn maildir_concurrent_moves_of_the_same_messages_lose_and_duplicate_nothing() {
    let f = Fixture::maildir();
    let ids: Vec<String> = (0..50).map(|n| format!("<c{n}@evil.test>")).collect();
    for id in &ids {
        f.deliver(ALICE, id, "INBOX");
    }
    let found = f.store.locate(ALICE, &ids).await.unwrap();

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
    let found = f.locate(ALICE, &["<half@evil.test>"]).await;
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
        let error = f.store.locate(name, &["<a@b>".into()]).await.unwrap_err();
        assert!(matches!(error, StoreError::Refused(_)), "{name}: {error:?}");
    }
}
