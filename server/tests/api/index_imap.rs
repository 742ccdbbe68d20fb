//! The message index over IMAP, on a real Dovecot: a first scan, an idle one that reads nothing,
//! new mail and a move picked up incrementally (STATUS stamps, then UID diffs), and a user's
//! report investigated from what IMAP gave the index.

use airdesk_core::index::{self, ScanReport};
use mail::Connector;
use model::Role;
use serde_json::{json, Value};

use crate::connectors::imap_settings;
use crate::corpus::{self, CAMPAIGN_URL};
use crate::dovecot::{chown_tree, Dovecot};
use crate::helpers::spawn_app_with;

const MAILBOXES: [&str; 3] = [
    "alice@example.test",
    "bob@example.test",
    "carol@example.test",
];

fn mailboxes() -> Vec<String> {
    MAILBOXES.iter().map(|m| m.to_string()).collect()
}

#[tokio::test]
async fn the_index_reads_imap_incrementally_and_feeds_the_playbook() {
    let dovecot = Dovecot::start(&MAILBOXES);
    let root = dovecot.mail_root();
    corpus::standard(&root, &MAILBOXES, &MAILBOXES);
    for mailbox in MAILBOXES {
        chown_tree(&root.join(mailbox));
    }
    let app = spawn_app_with(|s| {
        s.mail = Connector::Imap {
            settings: Box::new(imap_settings(&dovecot)),
            index_mailboxes: mailboxes(),
        };
    })
    .await;
    let scan = || async { index::scan(&app.state).await.unwrap() };

    let first: ScanReport = scan().await;
    assert_eq!(
        (first.mailboxes, first.added, first.unreadable),
        (3, 6, 0),
        "{first:?}"
    );
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(*) FROM message_urls WHERE url = '{CAMPAIGN_URL}'"
        ))
        .await,
        3
    );
    let idle = scan().await;
    assert_eq!(
        (idle.added, idle.removed, idle.folders_listed),
        (0, 0, 0),
        "{idle:?}"
    );

    // New mail for bob; alice's campaign copy moved to Junk behind the index's back.
    corpus::drop_message(
        &root,
        "bob@example.test",
        "INBOX",
        &corpus::newsletter(50, "bob@example.test"),
    );
    chown_tree(&root.join("bob@example.test"));
    let output = dovecot.doveadm(&["mailbox", "create", "-u", "alice@example.test", "Junk"]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let output = dovecot.doveadm(&[
        "move",
        "-u",
        "alice@example.test",
        "Junk",
        "mailbox",
        "INBOX",
        "header",
        "Message-ID",
        "campaign-0@evil.test",
    ]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let update = scan().await;
    assert_eq!((update.added, update.removed), (2, 1), "{update:?}");
    assert!(update.folders_listed <= 3, "{update:?}");
    assert_eq!(
        app.count("SELECT COUNT(*) FROM messages WHERE mailbox = 'alice@example.test' AND location = 'junk' AND subject LIKE 'Invoice%'").await,
        1
    );

    // A report over the API, investigated from the IMAP index.
    let token = app.token("analyst", Role::SearchAndPurge).await;
    let response = app
        .client
        .post(app.url("/api/v1/reports"))
        .bearer_auth(&token)
        .json(&json!({"mailbox": "bob@example.test", "internet_message_id": "<campaign-1@evil.test>"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 202);
    let report: Value = response.json().await.unwrap();
    let investigation: Value = app
        .get(
            &format!(
                "/api/v1/investigations/{}",
                report["investigation_id"].as_str().unwrap()
            ),
            &token,
        )
        .await
        .json()
        .await
        .unwrap();
    let url = investigation["clusters"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["cluster_by"] == "url")
        .unwrap();
    assert_eq!(url["messages"].as_array().unwrap().len(), 3);
    let junked = url["messages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["mailbox"] == "alice@example.test")
        .unwrap();
    assert_eq!(junked["location"], "junk");
}
