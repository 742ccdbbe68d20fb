//! The phish-report mailbox on a real Maildir: reports attached and forwarded inline become
//! user reports of the reporter's own copy; broken, foreign and hostile ones are filed as
//! Unprocessable; nothing is read twice.

use std::path::Path;

use airdesk_core::investigations::intake::{self, IntakeConfig, Round};
use model::Role;

use crate::helpers::{spawn_app, TestApp};

const PHISH: &str = "phish@example.test";

/// Every message file in a folder of a mailbox (`INBOX` or a folder name).
fn files(app: &TestApp, mailbox: &str, folder: &str) -> Vec<std::path::PathBuf> {
    let dir = app.mail_root().join(mailbox);
    let dir = if folder == "INBOX" {
        dir
    } else {
        dir.join(format!(".{folder}"))
    };
    let mut found = Vec::new();
    for sub in ["cur", "new"] {
        if let Ok(entries) = std::fs::read_dir(dir.join(sub)) {
            found.extend(entries.map(|e| e.unwrap().path()));
        }
    }
    found
}

/// Drops a report into the report mailbox's inbox, as the mail server would deliver it.
fn send_report(app: &TestApp, name: &str, raw: &str) {
    let new = app.mail_root().join(PHISH).join("new");
    std::fs::create_dir_all(&new).unwrap();
    for sub in ["cur", "tmp"] {
        std::fs::create_dir_all(app.mail_root().join(PHISH).join(sub)).unwrap();
    }
    std::fs::write(new.join(format!("1764200000.{name}.test")), raw).unwrap();
}

/// A report button's message: a note and the original attached whole.
fn attached(from: &str, original: &str) -> String {
    format!(
        "From: {from}\r\nTo: {PHISH}\r\nSubject: Phishing report\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"rep\"\r\n\r\n--rep\r\nContent-Type: text/plain\r\n\r\nReported as phish.\r\n--rep\r\nContent-Type: message/rfc822\r\nContent-Disposition: attachment; filename=\"original.eml\"\r\n\r\n{original}\r\n--rep--\r\n"
    )
}

/// Gmail's inline forward of the helpers' phish.
fn inline_forward(from: &str) -> String {
    format!(
        "From: {from}\r\nTo: {PHISH}\r\nSubject: Fwd: Invoice overdue\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nLooks fake to me.\r\n\r\n---------- Forwarded message ---------\r\nFrom: Billing <billing@evil.test>\r\nDate: Fri, Nov 20, 2026 at 9:00 AM\r\nSubject: Invoice overdue\r\nTo: <{from}>\r\n\r\nPay at http://invoice.evil.test/pay\r\n"
    )
}

fn read(path: &Path) -> String {
    String::from_utf8(std::fs::read(path).unwrap()).unwrap()
}

#[tokio::test]
async fn reports_by_mail_become_reports_of_the_reporters_copies_and_are_filed() {
    let app = spawn_app().await;
    let analyst = app.token("analyst", Role::SearchAndPurge).await;
    let alice_copy = app.deliver("alice@example.test", "<p1@evil.test>", "INBOX");
    app.deliver("bob@example.test", "<p1@evil.test>", "INBOX");
    app.deliver("carol@example.test", "<legit-1@example.test>", "INBOX");
    app.deliver(PHISH, "<first@example.test>", "INBOX");
    for path in files(&app, PHISH, "INBOX") {
        std::fs::remove_file(path).unwrap();
    }

    send_report(
        &app,
        "a-alice",
        &attached("Alice <Alice@Example.test>", &read(&alice_copy)),
    );
    send_report(&app, "b-bob", &inline_forward("bob@example.test"));
    // Broken: nothing reported.
    send_report(
        &app,
        "c-broken",
        "From: carol@example.test\r\nSubject: hi\r\n\r\njust text\r\n",
    );
    // From outside: the reporter is no mailbox of ours.
    send_report(
        &app,
        "d-outsider",
        &attached("mallory@elsewhere.test", &read(&alice_copy)),
    );
    // Hostile: carol "reports" a message she never received (alice's), to get it removed.
    send_report(
        &app,
        "e-hostile",
        &attached("carol@example.test", &read(&alice_copy)),
    );
    // Not MIME at all, with a hostile subject.
    send_report(&app, "f-garbage", "\u{0}\u{1}<script>alert(1)</script>");

    let config = IntakeConfig::new(PHISH);
    let round = intake::process(&app.state, &config).await.unwrap();
    assert_eq!(
        round,
        Round {
            started: 2,
            joined: 0,
            unprocessable: 4,
            deferred: 0
        },
        "alice's and bob's reports (their copies are older than the look-back: no cluster \
         holds them, so neither covers the other's); four unprocessable"
    );
    assert!(files(&app, PHISH, "INBOX").is_empty(), "every report filed");
    assert_eq!(files(&app, PHISH, "Processed").len(), 2);
    assert_eq!(files(&app, PHISH, "Unprocessable").len(), 4);

    // Each report is of the reporter's own copy, by the reporter.
    let reports: Vec<(String, String)> =
        airdesk_core::db::query("SELECT mailbox, reported_by FROM reports ORDER BY reported_by")
            .fetch_all(&app.db)
            .await
            .unwrap();
    assert_eq!(
        reports,
        vec![
            (
                "alice@example.test".to_string(),
                "alice@example.test".to_string()
            ),
            (
                "bob@example.test".to_string(),
                "bob@example.test".to_string()
            ),
        ]
    );
    // Each started a user-reported investigation, linked to its report.
    let linked: Vec<(String, String)> = airdesk_core::db::query(
        "SELECT r.reported_by, i.investigation_type FROM reports r
         JOIN investigations i ON i.id = r.investigation_id ORDER BY r.reported_by",
    )
    .fetch_all(&app.db)
    .await
    .unwrap();
    assert_eq!(
        linked,
        vec![
            (
                "alice@example.test".to_string(),
                "user_reported".to_string()
            ),
            ("bob@example.test".to_string(), "user_reported".to_string()),
        ]
    );
    let listed = app.get("/api/v1/investigations", &analyst).await;
    assert_eq!(listed.status(), 200);

    // Read again (a restart, another instance): nothing left to read, nothing reported twice.
    let again = intake::process(&app.state, &config).await.unwrap();
    assert_eq!(again, Round::default());
    assert_eq!(app.count("SELECT COUNT(*) FROM reports").await, 2);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM audit_events WHERE event = 'message_reported'")
            .await,
        2
    );
}

#[tokio::test]
async fn a_report_read_twice_before_it_was_filed_joins_what_the_first_started() {
    let app = spawn_app().await;
    let alice_copy = app.deliver("alice@example.test", "<p2@evil.test>", "INBOX");
    let report = attached("alice@example.test", &read(&alice_copy));
    // The same report delivered twice (a crash after reporting, before filing, reads it again).
    send_report(&app, "a1", &report);
    send_report(&app, "a2", &report);

    let round = intake::process(&app.state, &IntakeConfig::new(PHISH))
        .await
        .unwrap();
    assert_eq!(round.started, 1);
    assert_eq!(round.joined, 1);
    assert_eq!(app.count("SELECT COUNT(*) FROM investigations").await, 1);
    assert_eq!(app.count("SELECT COUNT(*) FROM reports").await, 1);
}

#[tokio::test]
async fn a_report_larger_than_the_limit_is_unprocessable_and_the_server_reads_the_mailbox_itself() {
    let app = crate::helpers::spawn_app_with(|settings| {
        let mut config = IntakeConfig::new(PHISH);
        config.every = std::time::Duration::from_millis(200);
        config.max_bytes = 4096;
        settings.intake = Some(config);
    })
    .await;
    let alice_copy = app.deliver("alice@example.test", "<p3@evil.test>", "INBOX");
    send_report(
        &app,
        "small",
        &attached("alice@example.test", &read(&alice_copy)),
    );
    let padding = "x".repeat(8000);
    send_report(
        &app,
        "large",
        &attached(
            "alice@example.test",
            &format!("{}\r\n{padding}", read(&alice_copy)),
        ),
    );
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while !files(&app, PHISH, "INBOX").is_empty() {
        assert!(
            std::time::Instant::now() < deadline,
            "the server never read the report mailbox"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(files(&app, PHISH, "Processed").len(), 1);
    assert_eq!(files(&app, PHISH, "Unprocessable").len(), 1);
    assert_eq!(app.count("SELECT COUNT(*) FROM reports").await, 1);
}

/// The same on a real Dovecot over IMAP: reports read with UID FETCH, filed with UID MOVE.
#[tokio::test]
async fn reports_are_read_and_filed_over_imap() {
    use crate::dovecot::{chown_tree, Dovecot};
    const MAILBOXES: [&str; 3] = ["alice@example.test", "bob@example.test", PHISH];
    let dovecot = Dovecot::start(&MAILBOXES);
    let root = dovecot.mail_root();
    let alice_copy =
        crate::helpers::deliver(&root, "alice@example.test", "<i1@evil.test>", "INBOX");
    crate::helpers::deliver(&root, "bob@example.test", "<i1@evil.test>", "INBOX");
    let note = crate::helpers::deliver(&root, PHISH, "<note@example.test>", "INBOX");
    std::fs::remove_file(note).unwrap();
    let new = root.join(PHISH).join("new");
    std::fs::write(
        new.join("1764200001.a.test"),
        attached("alice@example.test", &read(&alice_copy)),
    )
    .unwrap();
    std::fs::write(
        new.join("1764200002.b.test"),
        inline_forward("bob@example.test"),
    )
    .unwrap();
    std::fs::write(
        new.join("1764200003.c.test"),
        "From: bob@example.test\r\n\r\nnothing\r\n",
    )
    .unwrap();
    for mailbox in MAILBOXES {
        chown_tree(&root.join(mailbox));
    }
    let app = crate::helpers::spawn_app_with(|s| {
        s.mail = mail::Connector::Imap {
            settings: Box::new(crate::connectors::imap_settings(&dovecot)),
            index_mailboxes: MAILBOXES.iter().map(|m| m.to_string()).collect(),
        };
    })
    .await;

    let config = IntakeConfig::new(PHISH);
    let round = intake::process(&app.state, &config).await.unwrap();
    assert_eq!(
        round,
        Round {
            started: 2,
            joined: 0,
            unprocessable: 1,
            deferred: 0
        }
    );
    let count = |folder: &str| {
        let out = dovecot.doveadm(&["search", "-u", PHISH, "mailbox", folder, "ALL"]);
        String::from_utf8_lossy(&out.stdout).lines().count()
    };
    assert_eq!(
        (count("INBOX"), count("Processed"), count("Unprocessable")),
        (0, 2, 1)
    );
    assert_eq!(
        intake::process(&app.state, &config).await.unwrap(),
        Round::default()
    );
    assert_eq!(app.count("SELECT COUNT(*) FROM reports").await, 2);
}

/// The campaign of the corpus (one sender, one link, a subject and Message-ID per recipient)
/// in each mailbox's inbox, delivered now; the copies' files.
fn campaign_to(app: &TestApp, mailboxes: &[&str]) -> Vec<std::path::PathBuf> {
    mailboxes
        .iter()
        .enumerate()
        .map(|(n, mailbox)| {
            crate::corpus::drop_message(
                &app.mail_root(),
                mailbox,
                "INBOX",
                &crate::corpus::campaign_message(n + 1, mailbox),
            )
        })
        .collect()
}

/// The reporters an investigation lists, in the order they reported.
async fn reporters_of(app: &TestApp, token: &str, id: &str) -> (Vec<String>, i64) {
    let investigation = app.investigation(token, id).await;
    let names = investigation["reports"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["reported_by"].as_str().unwrap().to_string())
        .collect();
    (names, investigation["reporter_count"].as_i64().unwrap())
}

#[tokio::test]
async fn reports_of_their_own_copies_of_one_campaign_join_one_investigation() {
    let app = spawn_app().await;
    let analyst = app.token("analyst", Role::SearchAndPurge).await;
    // A known-bad link: the first report's investigation proposes removing the campaign.
    let bad = model::Indicator {
        id: String::new(),
        kind: model::IndicatorKind::Url,
        value: crate::corpus::CAMPAIGN_URL.into(),
        verdict: model::Verdict::Malicious,
        expires_at: None,
    };
    airdesk_core::indicators::store(&app.db, &bad, &model::Actor::IndicatorsFile)
        .await
        .unwrap();
    let people = [
        "alice@example.test",
        "bob@example.test",
        "carol@example.test",
    ];
    let copies = campaign_to(&app, &people);
    let config = IntakeConfig::new(PHISH);

    send_report(&app, "a-alice", &attached(people[0], &read(&copies[0])));
    let first = intake::process(&app.state, &config).await.unwrap();
    assert_eq!((first.started, first.joined), (1, 0));
    // Bob and carol each report their own copy (another Message-ID, another subject).
    send_report(&app, "b-bob", &attached(people[1], &read(&copies[1])));
    send_report(&app, "c-carol", &attached(people[2], &read(&copies[2])));
    let then = intake::process(&app.state, &config).await.unwrap();
    assert_eq!((then.started, then.joined), (0, 2), "{then:?}");

    assert_eq!(app.count("SELECT COUNT(*) FROM investigations").await, 1);
    let id: String = airdesk_core::db::query("SELECT id FROM investigations")
        .scalar(&app.db)
        .await
        .unwrap();
    let (listed, count) = reporters_of(&app, &analyst, &id).await;
    assert_eq!(listed, people, "every reporter listed, first first");
    assert_eq!(count, 3);
    // The investigation page says who reported.
    app.user("portal-analyst", Role::SearchAndPurge).await;
    let browser = crate::helpers::signed_in(&app, "portal-analyst").await;
    let page = browser
        .get(app.url(&format!("/investigations/{id}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("Reported by"), "{page}");
    assert!(page.contains(&people.join(", ")), "{page}");
    // Each join is announced: a webhook receiver hears of every reporter.
    assert_eq!(
        app.count("SELECT COUNT(*) FROM outbox WHERE type = 'investigation.report_joined'")
            .await,
        2
    );
}

#[tokio::test]
async fn the_report_that_reaches_the_threshold_is_investigated_again_and_gathers_the_reporters() {
    let app = spawn_app().await;
    let analyst = app.token("analyst", Role::SearchAndPurge).await;
    let people = [
        "alice@example.test",
        "bob@example.test",
        "carol@example.test",
    ];
    let copies = campaign_to(&app, &people);
    let config = IntakeConfig::new(PHISH);
    let round = |name: &str, n: usize| {
        send_report(&app, name, &attached(people[n], &read(&copies[n])));
        intake::process(&app.state, &config)
    };

    // Alice alone: nothing known about the campaign, nothing proposed.
    assert_eq!(round("a", 0).await.unwrap().started, 1);
    let first: String = airdesk_core::db::query("SELECT id FROM investigations")
        .scalar(&app.db)
        .await
        .unwrap();
    assert_eq!(
        app.count("SELECT COUNT(*) FROM actions").await,
        0,
        "one reporter proposes nothing"
    );
    // Bob's report makes two reporters (--reports-for-suspicious 2): looked at again.
    assert_eq!(round("b", 1).await.unwrap().started, 1);
    let second: String = airdesk_core::db::query("SELECT id FROM investigations WHERE id <> $1")
        .bind(first.as_str())
        .scalar(&app.db)
        .await
        .unwrap();
    let investigation = app.investigation(&analyst, &second).await;
    assert!(
        investigation["clusters"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["verdict"] == "suspicious"),
        "{investigation}"
    );
    // Carol joins the new one, which lists all three; the first lists no one now.
    let third = round("c", 2).await.unwrap();
    assert_eq!((third.started, third.joined), (0, 1));
    assert_eq!(app.count("SELECT COUNT(*) FROM investigations").await, 2);
    let (listed, count) = reporters_of(&app, &analyst, &second).await;
    assert_eq!(listed, people);
    assert_eq!(count, 3);
    assert_eq!(reporters_of(&app, &analyst, &first).await, (vec![], 0));
}

#[tokio::test]
async fn a_phish_reusing_a_reported_message_id_is_investigated_on_its_own() {
    let app = spawn_app().await;
    let analyst = app.token("analyst", Role::SearchAndPurge).await;
    let carol = "carol@example.test";
    let legit = format!(
        "Message-ID: <update-7@partner.test>\r\nFrom: news@partner.test\r\nTo: {carol}\r\n\
Subject: Partner update\r\nDate: Thu, 26 Nov 2026 07:00:00 +0000\r\n\r\nRead it at https://partner.test/news\r\n"
    );
    let copy = crate::corpus::drop_message(&app.mail_root(), carol, "INBOX", legit.as_bytes());
    let config = IntakeConfig::new(PHISH);
    send_report(&app, "a", &attached(carol, &read(&copy)));
    assert_eq!(
        intake::process(&app.state, &config).await.unwrap().started,
        1
    );

    // The attacker sends a phish under the id of the message carol reported (and found
    // harmless): her report of it must not join that investigation.
    let phish = format!(
        "Message-ID: <update-7@partner.test>\r\nFrom: Billing <billing@evil.test>\r\nTo: {carol}\r\n\
Subject: Invoice overdue\r\nDate: Thu, 26 Nov 2026 09:00:00 +0000\r\n\r\nPay at http://invoice.evil.test/pay\r\n"
    );
    let copy = crate::corpus::drop_message(&app.mail_root(), carol, "INBOX", phish.as_bytes());
    send_report(&app, "b", &attached(carol, &read(&copy)));
    let round = intake::process(&app.state, &config).await.unwrap();
    assert_eq!((round.started, round.joined), (1, 0), "{round:?}");
    assert_eq!(app.count("SELECT COUNT(*) FROM investigations").await, 2);
    let latest: String = airdesk_core::db::query(
        "SELECT investigation_id FROM reports WHERE reported_by = 'carol@example.test'",
    )
    .scalar(&app.db)
    .await
    .unwrap();
    let investigation = app.investigation(&analyst, &latest).await;
    assert!(
        investigation["title"]
            .as_str()
            .unwrap()
            .contains("Invoice overdue"),
        "{investigation}"
    );
}
