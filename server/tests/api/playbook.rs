//! airdesk's own investigations over a generated corpus: the index, reports, indicators,
//! clusters, verdicts, forwarding, and the approved action reaching every copy.

use airdesk_core::index::{self, ScanReport};
use model::Role;
use serde_json::{json, Value};

use crate::corpus::{self, CAMPAIGN_SENDER, CAMPAIGN_URL, NEWSLETTER_URL};
use crate::helpers::{spawn_app, TestApp};

const CAMPAIGN: [&str; 6] = [
    "alice@example.test",
    "bob@example.test",
    "carol@example.test",
    "dave@example.test",
    "erin@example.test",
    "frank@example.test",
];
const EVERYONE: [&str; 8] = [
    "alice@example.test",
    "bob@example.test",
    "carol@example.test",
    "dave@example.test",
    "erin@example.test",
    "frank@example.test",
    "gina@example.test",
    "hank@example.test",
];

async fn scan(app: &TestApp) -> ScanReport {
    index::scan(&app.state).await.unwrap()
}

async fn post(app: &TestApp, path: &str, token: &str, body: Value) -> reqwest::Response {
    app.client
        .post(app.url(path))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap()
}

/// Reports a message (expecting 202) and reads the investigation the report started.
async fn reported(app: &TestApp, token: &str, body: Value) -> Value {
    let response = post(app, "/api/v1/reports", token, body).await;
    assert_eq!(response.status(), 202);
    let report: Value = response.json().await.unwrap();
    app.investigation(token, report["investigation_id"].as_str().unwrap())
        .await
}

/// The (cluster_by, count, verdict) of each cluster, and its members' mailboxes.
fn clusters(inv: &Value) -> Vec<(String, String, usize, String)> {
    inv["clusters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["cluster_by"].as_str().unwrap().to_string(),
                c["cluster_value"].as_str().unwrap().to_string(),
                c["messages"].as_array().unwrap().len(),
                c["verdict"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[tokio::test]
async fn the_scan_indexes_every_message_including_the_awkward_ones_and_updates_incrementally() {
    let app = spawn_app().await;
    let root = app.mail_root();
    corpus::standard(&root, &CAMPAIGN, &EVERYONE);
    corpus::drop_message(
        &root,
        "gina@example.test",
        "INBOX",
        &corpus::broken_mime("gina@example.test"),
    );
    corpus::drop_message(
        &root,
        "gina@example.test",
        "INBOX",
        &corpus::non_utf8("gina@example.test"),
    );
    corpus::drop_message(
        &root,
        "gina@example.test",
        "Junk",
        &corpus::hostile_html("gina@example.test"),
    );
    let (big, big_hash) = corpus::big_attachment("hank@example.test", 20 * 1024 * 1024);
    corpus::drop_message(&root, "hank@example.test", "INBOX", &big);

    let first = scan(&app).await;
    assert_eq!(
        (first.mailboxes, first.added, first.unreadable),
        (8, 6 + 8 + 4, 0),
        "{first:?}"
    );
    assert_eq!(app.count("SELECT COUNT(*) FROM messages").await, 18);
    let url_hits = app
        .count(&format!(
            "SELECT COUNT(*) FROM message_urls WHERE url = '{CAMPAIGN_URL}'"
        ))
        .await;
    assert_eq!(
        url_hits, 6,
        "the campaign URL, once per copy (text and HTML agree)"
    );
    assert_eq!(
        app.count(&format!("SELECT COUNT(*) FROM message_attachments WHERE sha256 = '{big_hash}' AND name = 'big.bin'")).await,
        1,
        "the 20 MB attachment is hashed"
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM message_urls WHERE url LIKE 'javascript:%'")
            .await,
        0
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM messages WHERE location = 'junk' AND subject = '<img src=x onerror=alert(1)>'").await,
        1,
        "hostile text is stored as it came, to be shown as text"
    );
    assert_eq!(
        app.count("SELECT COUNT(DISTINCT subject_fingerprint) FROM messages WHERE sender = 'billing@evil.test'").await,
        1,
        "the campaign's varying subjects share one fingerprint"
    );

    // Nothing changed: nothing is read again.
    let idle = scan(&app).await;
    assert_eq!(
        (idle.added, idle.removed, idle.folders_listed),
        (0, 0, 0),
        "{idle:?}"
    );

    // Three new messages for one mailbox, and one of alice's moved to Junk.
    for n in 0..3 {
        corpus::drop_message(
            &root,
            "bob@example.test",
            "INBOX",
            &corpus::newsletter(100 + n, "bob@example.test"),
        );
    }
    let alice_new = root.join("alice@example.test/new");
    let moved = std::fs::read_dir(&alice_new)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    std::fs::create_dir_all(root.join("alice@example.test/.Junk/cur")).unwrap();
    std::fs::rename(
        &moved,
        root.join("alice@example.test/.Junk/cur").join(format!(
            "{}:2,S",
            moved.file_name().unwrap().to_str().unwrap()
        )),
    )
    .unwrap();
    let update = scan(&app).await;
    assert_eq!((update.added, update.removed), (4, 1), "{update:?}");
    assert!(
        update.folders_listed <= 3,
        "only changed folders are listed: {update:?}"
    );
    assert_eq!(app.count("SELECT COUNT(*) FROM messages").await, 21);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM messages WHERE mailbox = 'alice@example.test' AND location = 'junk'").await,
        1
    );
}

#[tokio::test]
async fn a_report_builds_exact_clusters_and_two_reporters_make_them_suspicious() {
    let app = spawn_app().await;
    let analyst = app.token("analyst", Role::SearchAndPurge).await;
    let reader = app.token("reader", Role::Reader).await;
    corpus::standard(&app.mail_root(), &CAMPAIGN, &EVERYONE);

    // One report, nothing known about the campaign: clusters found, but no threat.
    let response = post(
        &app,
        "/api/v1/reports",
        &reader,
        json!({"mailbox": "alice@example.test", "internet_message_id": "<campaign-0@evil.test>"}),
    )
    .await;
    assert_eq!(response.status(), 202);
    let first: Value = response.json().await.unwrap();
    assert!(first["alert_id"].is_string());
    let inv = app
        .investigation(&analyst, first["investigation_id"].as_str().unwrap())
        .await;
    assert_eq!(inv["investigation_type"], "user_reported");
    assert_eq!(inv["status"], "no_threats_found");
    let mut found = clusters(&inv);
    found.sort();
    assert_eq!(
        found,
        vec![
            ("sender".into(), CAMPAIGN_SENDER.into(), 6, "clean".into()),
            (
                "subject_fingerprint".into(),
                "invoice # overdue".into(),
                6,
                "clean".into()
            ),
            ("url".into(), CAMPAIGN_URL.into(), 6, "clean".into()),
        ],
        "every campaign copy, and no newsletter"
    );
    let log: Vec<String> = inv["log"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["step"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(log.first().map(String::as_str), Some("Alert"));
    assert!(
        log.iter().any(|s| s == "Indicators") && log.iter().any(|s| s == "Mail forwarding"),
        "{log:?}"
    );

    // A second user reports their copy: the campaign is now Suspicious, with pending actions.
    let inv = reported(
        &app,
        &analyst,
        json!({"mailbox": "bob@example.test", "internet_message_id": "campaign-1@evil.test"}),
    )
    .await;
    assert_eq!(inv["status"], "pending_action");
    assert!(
        clusters(&inv).iter().all(|c| c.3 == "suspicious"),
        "{:?}",
        clusters(&inv)
    );
    let actions = inv["actions"].as_array().unwrap();
    assert_eq!(actions.len(), 3);
    assert!(actions
        .iter()
        .all(|a| a["type"] == "soft_delete_cluster" && a["status"] == "pending"));
    // The same campaign investigated twice: the same cluster keys, so the duplicate rule
    // (which works by cluster key) sees one campaign.
    assert_eq!(app.count("SELECT COUNT(*) FROM email_clusters").await, 6);
    assert_eq!(
        app.count("SELECT COUNT(DISTINCT cluster_key) FROM email_clusters")
            .await,
        3
    );

    // Unknown messages and bad bodies are refused clearly.
    let missing = post(
        &app,
        "/api/v1/reports",
        &reader,
        json!({"mailbox": "alice@example.test", "internet_message_id": "<nope@x.test>"}),
    )
    .await;
    assert_eq!(missing.status(), 404);
    for (mailbox, status) in [
        ("nobody@example.test", 404),
        ("../alice@example.test", 404),
        ("a\u{0}b@example.test", 404),
    ] {
        let unknown = post(
            &app,
            "/api/v1/reports",
            &reader,
            json!({"mailbox": mailbox, "internet_message_id": "<nope@x.test>"}),
        )
        .await;
        assert_eq!(unknown.status(), status, "{mailbox:?}");
    }
    let both = post(
        &app,
        "/api/v1/reports",
        &reader,
        json!({"mailbox": "alice@example.test"}),
    )
    .await;
    assert_eq!(both.status(), 422);
}

#[tokio::test]
async fn report_then_approve_removes_every_copy_from_every_mailbox() {
    let app = spawn_app().await;
    let analyst = app.token("analyst", Role::SearchAndPurge).await;
    let root = app.mail_root();
    corpus::standard(&root, &CAMPAIGN, &EVERYONE);
    // A known-bad URL makes the first report Malicious; the report comes as the raw message.
    let added = post(
        &app,
        "/api/v1/indicators",
        &analyst,
        json!({"kind": "domain", "value": "evil.test", "verdict": "malicious"}),
    )
    .await;
    assert_eq!(added.status(), 201);
    let raw = String::from_utf8(corpus::campaign_message(2, "carol@example.test")).unwrap();
    let inv = reported(
        &app,
        &analyst,
        json!({"mailbox": "carol@example.test", "raw": raw}),
    )
    .await;
    let url_cluster = inv["clusters"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["cluster_by"] == "url")
        .unwrap();
    assert_eq!(url_cluster["verdict"], "malicious");
    let action = inv["actions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["target"]["cluster_value"] == CAMPAIGN_URL)
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        app.decide(&analyst, &action, "approve", None)
            .await
            .status(),
        200
    );
    let done = app.settled(&analyst, &action).await;
    assert_eq!(done["status"], "completed", "{done}");
    for mailbox in CAMPAIGN {
        let inbox: Vec<String> = ["new", "cur"]
            .iter()
            .flat_map(|sub| std::fs::read_dir(root.join(mailbox).join(sub)).unwrap())
            .map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap())
            .collect();
        assert!(
            inbox.iter().all(|m| !m.contains(CAMPAIGN_URL)),
            "{mailbox} still has the campaign"
        );
        assert!(
            inbox.iter().any(|m| m.contains(NEWSLETTER_URL)),
            "{mailbox} keeps its newsletter"
        );
        let recoverable: usize = ["new", "cur"]
            .iter()
            .filter_map(|sub| {
                std::fs::read_dir(root.join(mailbox).join(".Recoverable Items").join(sub)).ok()
            })
            .map(|dir| dir.count())
            .sum();
        assert_eq!(
            recoverable, 1,
            "{mailbox}: the copy waits in Recoverable Items"
        );
    }
}

#[tokio::test]
async fn an_indicator_hunts_back_and_forwarding_outside_is_found() {
    let app = spawn_app().await;
    let analyst = app.token("analyst", Role::SearchAndPurge).await;
    let root = app.mail_root();
    corpus::standard(&root, &CAMPAIGN, &EVERYONE);
    // dave forwards his mail outside; erin forwards inside.
    for (mailbox, to) in [
        ("dave@example.test", "dave@gmail.test"),
        ("erin@example.test", "erin2@example.test"),
    ] {
        std::fs::create_dir_all(root.join(mailbox).join("sieve")).unwrap();
        std::fs::write(
            root.join(mailbox).join("sieve/rules.sieve"),
            format!("redirect \"{to}\";\n"),
        )
        .unwrap();
        std::os::unix::fs::symlink(
            "sieve/rules.sieve",
            root.join(mailbox).join(".dovecot.sieve"),
        )
        .unwrap();
    }
    scan(&app).await;

    let response = post(
        &app,
        "/api/v1/indicators",
        &analyst,
        json!({"kind": "url", "value": "HTTP://Pay.Evil.test/login#x", "verdict": "malicious"}),
    )
    .await;
    assert_eq!(response.status(), 201);
    let added: Value = response.json().await.unwrap();
    let ids = added["investigation_ids"].as_array().unwrap();
    assert_eq!(ids.len(), 1);
    let inv = app.investigation(&analyst, ids[0].as_str().unwrap()).await;
    assert_eq!(inv["investigation_type"], "url_verdict_change");
    assert_eq!(
        clusters(&inv),
        vec![(
            "url".to_string(),
            CAMPAIGN_URL.to_string(),
            6,
            "malicious".to_string()
        )]
    );
    let forwarding = inv["forwarding"].as_array().unwrap();
    assert_eq!(forwarding.len(), 1, "{forwarding:?}");
    assert_eq!(forwarding[0]["mailbox"], "dave@example.test");
    let types: Vec<&str> = inv["actions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["type"].as_str().unwrap())
        .collect();
    assert_eq!(types, ["soft_delete_cluster", "turn_off_forwarding"]);

    // An indicator nothing matches starts nothing; a bad one is refused; Readers may not add.
    let quiet: Value = post(
        &app,
        "/api/v1/indicators",
        &analyst,
        json!({"kind": "sender", "value": "nobody@nowhere.test", "verdict": "suspicious"}),
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(quiet["investigation_ids"], json!([]));
    let bad = post(
        &app,
        "/api/v1/indicators",
        &analyst,
        json!({"kind": "attachment_hash", "value": "xyz", "verdict": "malicious"}),
    )
    .await;
    assert_eq!(bad.status(), 422);
    let reader = app.token("reader", Role::Reader).await;
    let refused = post(
        &app,
        "/api/v1/indicators",
        &reader,
        json!({"kind": "domain", "value": "evil.test", "verdict": "malicious"}),
    )
    .await;
    assert_eq!(refused.status(), 403);
    let listed: Value = app
        .get("/api/v1/indicators", &reader)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(listed.as_array().unwrap().len(), 2);

    // The index is readable over the API, with where each copy is now.
    let page: Value = app
        .get(
            &format!("/api/v1/messages?url={CAMPAIGN_URL}&limit=4"),
            &reader,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(page["items"].as_array().unwrap().len(), 4);
    let rest: Value = app
        .get(
            &format!(
                "/api/v1/messages?url={CAMPAIGN_URL}&cursor={}",
                page["next"].as_str().unwrap()
            ),
            &reader,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(rest["items"].as_array().unwrap().len(), 2);
    assert_eq!(rest["items"][0]["location"], "inbox");
}

#[tokio::test]
async fn failed_authentication_from_a_look_alike_domain_is_suspicious() {
    let app = spawn_app().await;
    let analyst = app.token("analyst", Role::SearchAndPurge).await;
    let root = app.mail_root();
    for mailbox in ["alice@example.test", "bob@example.test"] {
        let raw = format!(
            "Message-ID: <ceo-{mailbox}>\r\nFrom: ceo@examp1e.test\r\nTo: {mailbox}\r\nSubject: Urgent wire transfer today\r\n\
Authentication-Results: mx.example.test; spf=fail smtp.mailfrom=examp1e.test; dmarc=fail\r\n\r\nPlease wire it.\r\n"
        );
        corpus::drop_message(&root, mailbox, "INBOX", raw.as_bytes());
    }
    let inv = reported(
        &app,
        &analyst,
        json!({"mailbox": "alice@example.test", "internet_message_id": "<ceo-alice@example.test>"}),
    )
    .await;
    assert_eq!(inv["status"], "pending_action");
    let sender = clusters(&inv)
        .into_iter()
        .find(|c| c.0 == "sender")
        .unwrap();
    assert_eq!((sender.2, sender.3.as_str()), (2, "suspicious"));
    let log = inv["log"].to_string();
    assert!(log.contains("look-alike of example.test"), "{log}");
}

#[tokio::test]
async fn indicators_from_the_file_hunt_once_when_new_and_not_again_on_restart() {
    let files = tempfile::tempdir().unwrap();
    let indicators = files.path().join("indicators.json");
    std::fs::write(
        &indicators,
        json!([{"kind": "url", "value": CAMPAIGN_URL, "verdict": "malicious", "expires_at": null}])
            .to_string(),
    )
    .unwrap();
    let app = crate::helpers::spawn_app_with(|s| {
        corpus::standard(s.mail_root().unwrap(), &CAMPAIGN, &EVERYONE);
        s.indicators_file = Some(indicators.clone());
    })
    .await;
    let token = app.token("analyst", Role::SearchAndPurge).await;
    let hunted = |app: &TestApp, token: String| {
        let app_url = app.url("/api/v1/investigations?investigation_type=url_verdict_change");
        let client = app.client.clone();
        async move {
            let page: Value = client
                .get(app_url)
                .bearer_auth(token)
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            page["items"].as_array().unwrap().len()
        }
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while hunted(&app, token.clone()).await == 0 {
        assert!(
            std::time::Instant::now() < deadline,
            "the file's indicator never hunted"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(hunted(&app, token.clone()).await, 1);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM indicators WHERE created_by = 'indicators-file'")
            .await,
        1
    );

    // The same file loaded again (a restart) changes nothing, so it hunts nothing.
    let settings = {
        let mut s = crate::helpers::settings_in(&app.dir);
        s.indicators_file = Some(indicators.clone());
        s
    };
    let again = server::startup::Application::build(&settings)
        .await
        .unwrap();
    tokio::spawn(again.run_until(std::future::pending()));
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert_eq!(hunted(&app, token).await, 1);
}
