//! The release path on a real Cyrus over JMAP: the binary, pointed at Cyrus with
//! `--mail-store jmap+http://…` and ManageSieve, indexes three mailboxes, reads an employee's
//! report from the phish-report mailbox, investigates it, and — once approved — puts every
//! copy of the campaign in Recoverable Items and turns off the reporter's forwarding to the
//! outside; changing the actions brings every copy back to the inbox and the rules back.
//! What happened is read over IMAP and ManageSieve as each mailbox's owner, not through
//! airdesk.

use std::time::{Duration, Instant};

use serde_json::Value;

use crate::corpus::{self, CAMPAIGN_URL, NEWSLETTER_URL};
use crate::cyrus::{Cyrus, PASSWORD, SERVICE};
use crate::helpers::{
    approve_every_one, change_at, indexed, malicious_domain, remediation_pending,
};
use mail::sieve::{SieveScript, SieveScripts};

const ALICE: &str = "alice@example.test";
const BOB: &str = "bob@example.test";
const CAROL: &str = "carol@example.test";
const PHISH: &str = "phish@example.test";
const CAMPAIGN: [&str; 3] = [ALICE, BOB, CAROL];

/// Bob's rules: everything to an address outside, and a copy kept.
const BOB_RULES: &str = "require [\"copy\"];\nredirect :copy \"bob@elsewhere.test\";\nkeep;\n";

/// UIDs of the campaign's copy (`n`th recipient) in a folder, as the owner sees it.
fn campaign_copies(cyrus: &Cyrus, n: usize, folder: &str) -> usize {
    let mailbox = CAMPAIGN[n];
    cyrus.as_owner(mailbox, |imap| {
        if !imap
            .ok("LIST \"\" \"*\"")
            .iter()
            .any(|l| l.contains(folder))
        {
            return 0;
        }
        imap.uids_of(folder, &format!("<campaign-{n}@evil.test>"))
            .len()
    })
}

fn newsletters_in_inbox(cyrus: &Cyrus, n: usize) -> usize {
    cyrus.as_owner(CAMPAIGN[n], |imap| {
        imap.uids_of("INBOX", &format!("<news-{n}@newsletter.test>"))
            .len()
    })
}

/// A report button's message from `from`: a note and the original attached whole.
fn report_of(from: &str, original: &[u8]) -> Vec<u8> {
    let mut raw = format!(
        "From: {from}\r\nTo: {PHISH}\r\nSubject: Phishing report\r\nMIME-Version: 1.0\r\n\
Content-Type: multipart/mixed; boundary=\"rep\"\r\n\r\n--rep\r\nContent-Type: text/plain\r\n\r\n\
Reported as phish.\r\n--rep\r\nContent-Type: message/rfc822\r\n\
Content-Disposition: attachment; filename=\"original.eml\"\r\n\r\n"
    )
    .into_bytes();
    raw.extend_from_slice(original);
    raw.extend_from_slice(b"\r\n--rep--\r\n");
    raw
}

#[tokio::test]
async fn the_binary_over_jmap_investigates_a_mailed_report_remediates_and_undoes_on_cyrus() {
    let cyrus = Cyrus::start(&[ALICE, BOB, CAROL, PHISH]);
    for (n, mailbox) in CAMPAIGN.iter().enumerate() {
        cyrus.as_owner(mailbox, |imap| {
            imap.append("INBOX", &corpus::campaign_message(n, mailbox));
            imap.append("INBOX", &corpus::newsletter(n, mailbox));
        });
    }
    let owner_sieve = cyrus.owner_sieve();
    let rules = SieveScript {
        name: "rules".into(),
        text: BOB_RULES.into(),
    };
    owner_sieve.put_script(BOB, &rules).await.unwrap();
    owner_sieve.activate_script(BOB, "rules").await.unwrap();

    let dir = tempfile::tempdir().unwrap();
    let password = dir.path().join("mail-password");
    std::fs::write(&password, format!("{PASSWORD}\n")).unwrap();
    let index_list = dir.path().join("index-mailboxes");
    std::fs::write(&index_list, CAMPAIGN.join("\n")).unwrap();
    let (_db, token) = crate::helpers::prepared_database(dir.path()).await;
    let store = format!("jmap+http://127.0.0.1:{}", cyrus.http_port);
    let sieve = format!("sieve://127.0.0.1:{}?starttls=off", cyrus.sieve_port);
    let server = crate::helpers::serve_process_with(
        dir.path(),
        &[
            "--mail-store",
            &store,
            "--mail-user",
            SERVICE,
            "--mail-password-file",
            password.to_str().unwrap(),
            "--managesieve-url",
            &sieve,
            "--index-mailboxes",
            index_list.to_str().unwrap(),
            "--index-interval",
            "1s",
            "--internal-domains",
            "example.test",
        ],
        &["--report-mailbox", PHISH, "--report-mailbox-interval", "1s"],
        "warn",
        std::process::Stdio::inherit(),
    );
    let client = reqwest::Client::new();
    let base = server.base.clone();

    // The index reads every copy over JMAP.
    indexed(&client, &base, &token, CAMPAIGN_URL, 3).await;
    malicious_domain(&client, &base, &token, "evil.test").await;

    // Bob reports his copy by mail; airdesk reads it over JMAP and files it.
    let report = report_of(BOB, &corpus::campaign_message(1, BOB));
    cyrus.as_owner(PHISH, |imap| imap.append("INBOX", &report));
    let pending = remediation_pending(&client, &base, &token).await;
    // Filed once the report is recorded, so it is not read twice.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let filed = cyrus.as_owner(PHISH, |imap| {
            (imap.files("INBOX").len(), imap.files("Processed").len())
        });
        if filed == (0, 1) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the report was not filed: {filed:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    // Approved: every copy in Recoverable Items, the newsletters untouched, bob's rules off.
    let approved = approve_every_one(&client, &base, &token, &pending).await;
    let (forwarding, deletes): (Vec<_>, Vec<_>) = approved
        .into_iter()
        .partition(|(kind, _)| kind == "turn_off_forwarding");
    assert_eq!(forwarding.len(), 1, "{pending}");
    for (n, mailbox) in CAMPAIGN.iter().enumerate() {
        assert_eq!(campaign_copies(&cyrus, n, "INBOX"), 0, "{mailbox}");
        assert_eq!(
            campaign_copies(&cyrus, n, "Recoverable Items"),
            1,
            "{mailbox}"
        );
        assert_eq!(newsletters_in_inbox(&cyrus, n), 1, "{mailbox}");
    }
    let active = owner_sieve.active_script(BOB).await.unwrap().unwrap();
    assert_ne!(active.name, "rules");
    let commands: Vec<&str> = active
        .text
        .lines()
        .map(str::trim_start)
        .filter(|l| !l.starts_with('#') && !l.starts_with("/*"))
        .collect();
    assert!(
        commands.iter().all(|l| !l.contains("redirect")),
        "{}",
        active.text
    );
    assert!(active.text.contains("keep;"), "{}", active.text);

    // Changed to Move to inbox: every copy back; forwarding restored: bob's own rules again.
    for (_, id) in &deletes {
        let done = change_at(&client, &base, &token, id, "move_to_inbox").await;
        assert_eq!(done["status"], "completed", "{done}");
    }
    let done = change_at(
        &client,
        &base,
        &token,
        &forwarding[0].1,
        "restore_forwarding",
    )
    .await;
    assert_eq!(done["status"], "completed", "{done}");
    for (n, mailbox) in CAMPAIGN.iter().enumerate() {
        assert_eq!(campaign_copies(&cyrus, n, "INBOX"), 1, "{mailbox}");
        assert_eq!(
            campaign_copies(&cyrus, n, "Recoverable Items"),
            0,
            "{mailbox}"
        );
    }
    let active = owner_sieve.active_script(BOB).await.unwrap().unwrap();
    assert_eq!(
        (active.name.as_str(), active.text.as_str()),
        ("rules", BOB_RULES)
    );
    // The newsletter's link was never part of it.
    let page: Value = client
        .get(format!("{base}/api/v1/messages?url={NEWSLETTER_URL}"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(page["items"]
        .as_array()
        .unwrap()
        .iter()
        .all(|m| m["location"] == "inbox"));
}
