//! What a hostile client tries: guessing passwords, redirecting a signed-in browser elsewhere,
//! flooding reports, cutting the audit trail short (issue 15).

use std::net::{IpAddr, Ipv4Addr};

use model::Role;
use reqwest::{Client, Response};
use serde_json::{json, Value};

use crate::helpers::{spawn_app, spawn_app_with, TestApp, PASSWORD};

/// A client whose connections come from `address` (any of 127.0.0.0/8 is this machine).
fn client_from(address: [u8; 4]) -> Client {
    Client::builder()
        .local_address(IpAddr::V4(Ipv4Addr::from(address)))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

async fn sign_in(
    app: &TestApp,
    client: &Client,
    name: &str,
    password: &str,
    next: &str,
) -> Response {
    client
        .post(app.url("/rpc/login"))
        .header("Origin", &app.address)
        .form(&[("username", name), ("password", password), ("next", next)])
        .send()
        .await
        .unwrap()
}

fn signed_in(response: &Response) -> bool {
    response.status().is_redirection() || response.status().is_success()
}

#[tokio::test]
async fn guessing_a_password_is_throttled_for_that_address_and_not_for_others() {
    let app = spawn_app().await;
    app.user("analyst", Role::SearchAndPurge).await;
    let guesser = client_from([127, 0, 0, 1]);

    let mut statuses = Vec::new();
    let mut retry_after = 0;
    for n in 0..20 {
        let response = sign_in(&app, &guesser, "analyst", &format!("guess number {n}"), "/").await;
        if response.status() == 429 {
            retry_after = response.headers()["retry-after"]
                .to_str()
                .unwrap()
                .parse::<u64>()
                .unwrap();
        }
        statuses.push(response.status().as_u16());
    }
    // Four wrong answers, the fifth starts a backoff, and from then on the password is not
    // even looked at.
    assert_eq!(&statuses[..4], &[401; 4], "{statuses:?}");
    assert!(statuses[4..].iter().all(|s| *s == 429), "{statuses:?}");
    assert!(retry_after >= 1, "Retry-After {retry_after}");

    let right = sign_in(&app, &guesser, "analyst", PASSWORD, "/").await;
    assert_eq!(
        right.status(),
        429,
        "the right password waits out the backoff too"
    );

    // Another address is not held back: not for another account, nor for this one (one noisy
    // address must not lock a person out everywhere).
    app.user("reader", Role::Reader).await;
    let colleague = client_from([127, 0, 0, 2]);
    assert!(signed_in(
        &sign_in(&app, &colleague, "reader", PASSWORD, "/").await
    ));
    assert!(signed_in(
        &sign_in(&app, &colleague, "analyst", PASSWORD, "/").await
    ));

    // Once the backoff has passed, the right password works from the first address again.
    tokio::time::sleep(std::time::Duration::from_secs(retry_after + 1)).await;
    assert!(signed_in(
        &sign_in(&app, &guesser, "analyst", PASSWORD, "/").await
    ));

    assert_eq!(
        app.count("SELECT COUNT(*) FROM audit_events WHERE event = 'signin_failed'")
            .await,
        5,
        "each wrong password checked is audited; refusals during the backoff are not guesses"
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM audit_events WHERE event = 'signed_in'")
            .await,
        3
    );
    let passwords = app
        .count("SELECT COUNT(*) FROM audit_events WHERE after LIKE '%guess number%'")
        .await;
    assert_eq!(passwords, 0, "no password reaches the audit trail");
}

#[tokio::test]
async fn an_unknown_name_is_throttled_and_audited_only_as_a_hash() {
    let app = spawn_app().await;
    let guesser = client_from([127, 0, 0, 3]);
    let mut last = 0;
    for _ in 0..6 {
        last = sign_in(&app, &guesser, "Not-A-User", "hunter2hunter2", "/")
            .await
            .status()
            .as_u16();
    }
    assert_eq!(
        last, 429,
        "a name without an account backs off the same way"
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM audit_events WHERE event = 'signin_failed'")
            .await,
        5
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM audit_events WHERE lower(after) LIKE '%not-a-user%'")
            .await,
        0,
        "a mistyped password in the name field must not end up in the audit trail"
    );
}

#[tokio::test]
async fn an_operator_lifts_a_backoff() {
    let app = spawn_app().await;
    app.user("analyst", Role::SearchAndPurge).await;
    let guesser = client_from([127, 0, 0, 4]);
    for _ in 0..5 {
        sign_in(&app, &guesser, "analyst", "not the password", "/").await;
    }
    assert_eq!(
        sign_in(&app, &guesser, "analyst", PASSWORD, "/")
            .await
            .status(),
        429
    );
    let lifted = airdesk_core::signin::unlock(&app.db, &model::Actor::CommandLine, "analyst").await;
    assert!(lifted.unwrap());
    assert!(signed_in(
        &sign_in(&app, &guesser, "analyst", PASSWORD, "/").await
    ));
    assert_eq!(
        app.count(
            "SELECT COUNT(*) FROM audit_events WHERE event = 'user_unlocked' AND actor = 'cli'"
        )
        .await,
        1
    );
}

#[tokio::test]
async fn after_signing_in_the_browser_only_ever_goes_to_a_page_of_this_site() {
    let app = spawn_app().await;
    app.user("analyst", Role::SearchAndPurge).await;
    let browser = client_from([127, 0, 0, 5]);
    let cases = [
        ("/action-center?tab=history", "/action-center?tab=history"),
        ("/\t/evil.test", "/"),
        ("//evil.test", "/"),
        ("/%2F/evil.test", "/"),
        ("/%5C/evil.test", "/"),
        ("/\\evil.test", "/"),
        ("https://evil.test/", "/"),
        ("javascript:alert(document.cookie)", "/"),
        ("/\r\nSet-Cookie: stolen=1", "/Set-Cookie:%20stolen=1"),
        ("/incidents\n", "/incidents"),
    ];
    for (next, expected) in cases {
        let response = sign_in(&app, &browser, "analyst", PASSWORD, next).await;
        assert!(signed_in(&response), "{next:?}: {}", response.status());
        let location = response.headers()["location"].to_str().unwrap();
        assert_eq!(location, expected, "{next:?}");
        assert!(response.headers().get("set-cookie").is_some());
        assert!(
            !response
                .headers()
                .get_all("set-cookie")
                .iter()
                .any(|c| c.to_str().unwrap().contains("stolen")),
            "{next:?}"
        );
    }
    // The server is still up and well after every one of them.
    assert_eq!(
        app.client
            .get(app.url("/healthz"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
}

#[tokio::test]
async fn fifty_concurrent_reports_of_one_unindexed_message_make_one_investigation() {
    let app = spawn_app().await;
    let reader = app.token("reader", Role::Reader).await;
    // Delivered after the last scan: the first report has to bring the index up to date.
    app.deliver("alice@example.test", "<flood@evil.test>", "INBOX");

    let body = json!({"mailbox": "alice@example.test", "internet_message_id": "<flood@evil.test>"});
    let requests = (0..50).map(|_| {
        app.client
            .post(app.url("/api/v1/reports"))
            .bearer_auth(&reader)
            .json(&body)
            .send()
    });
    let responses = futures_util::future::join_all(requests).await;
    let mut accepted = Vec::new();
    let mut over_quota = 0;
    for response in responses {
        let response = response.unwrap();
        match response.status().as_u16() {
            202 => accepted.push(response.json::<Value>().await.unwrap()),
            429 => {
                assert!(response.headers().contains_key("retry-after"));
                over_quota += 1;
            }
            other => panic!("unexpected {other}: {}", response.text().await.unwrap()),
        }
    }
    assert_eq!(accepted.len() + over_quota, 50);
    // The quota: 30 reports in a row per user, then one every ten seconds.
    assert_eq!(
        (accepted.len(), over_quota),
        (30, 20),
        "accepted and over the quota"
    );
    let first = accepted[0]["investigation_id"].clone();
    assert!(accepted.iter().all(|a| a["investigation_id"] == first));
    assert_eq!(
        accepted
            .iter()
            .filter(|a| a["joined"] == json!(false))
            .count(),
        1,
        "one report started it; the others joined"
    );
    assert_eq!(app.count("SELECT COUNT(*) FROM investigations").await, 1);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM audit_events WHERE event = 'message_reported'")
            .await,
        i64::try_from(accepted.len()).unwrap(),
        "every accepted report is audited"
    );
}

#[tokio::test]
async fn a_second_reporter_of_the_same_copy_counts_and_makes_it_suspicious() {
    let app = spawn_app().await;
    let first = app.token("first", Role::Reader).await;
    let second = app.token("second", Role::Reader).await;
    let third = app.token("third", Role::Reader).await;
    app.deliver("shared@example.test", "<shared@evil.test>", "INBOX");
    let body =
        json!({"mailbox": "shared@example.test", "internet_message_id": "<shared@evil.test>"});
    let report = |token: &str| {
        app.client
            .post(app.url("/api/v1/reports"))
            .bearer_auth(token)
            .json(&body)
            .send()
    };
    let one: Value = report(&first).await.unwrap().json().await.unwrap();
    let again: Value = report(&first).await.unwrap().json().await.unwrap();
    assert_eq!(again["investigation_id"], one["investigation_id"]);
    assert_eq!(again["joined"], true);
    // The second person's report is the one that makes two reporters: it is investigated
    // again (and the cluster is Suspicious now); a third joins that.
    let two: Value = report(&second).await.unwrap().json().await.unwrap();
    assert_eq!(two["joined"], false);
    assert_ne!(two["investigation_id"], one["investigation_id"]);
    let inv = app
        .investigation(&first, two["investigation_id"].as_str().unwrap())
        .await;
    assert!(
        inv["clusters"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["verdict"] == "suspicious"),
        "{inv}"
    );
    let three: Value = report(&third).await.unwrap().json().await.unwrap();
    assert_eq!(three["joined"], true);
    assert_eq!(three["investigation_id"], two["investigation_id"]);
    assert_eq!(
        app.count(
            "SELECT COUNT(DISTINCT reported_by) FROM reports WHERE mailbox = 'shared@example.test'"
        )
        .await,
        3
    );
}

#[tokio::test]
async fn indicators_are_audited_whole_when_added_changed_and_deleted() {
    let app = spawn_app().await;
    let analyst = app.token("analyst", Role::SearchAndPurge).await;
    let add = |verdict: &str| {
        app.client
            .post(app.url("/api/v1/indicators"))
            .bearer_auth(&analyst)
            .json(&json!({"kind": "domain", "value": "Evil.test", "verdict": verdict}))
            .send()
    };
    let added: Value = add("malicious").await.unwrap().json().await.unwrap();
    add("malicious").await.unwrap();
    add("suspicious").await.unwrap();
    let id = added["id"].as_str().unwrap();
    let deleted = app
        .client
        .delete(app.url(&format!("/api/v1/indicators/{id}")))
        .bearer_auth(&analyst)
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), 204);

    let events: Vec<(String, String, Option<String>, Option<String>)> = airdesk_core::db::query(
        "SELECT event, actor, before, after FROM audit_events WHERE entity_kind = 'indicator' ORDER BY seq",
    )
    .fetch_all(&app.db)
    .await
    .unwrap();
    let names: Vec<&str> = events.iter().map(|e| e.0.as_str()).collect();
    assert_eq!(
        names,
        ["indicator_added", "indicator_changed", "indicator_deleted"],
        "storing it again unchanged records nothing"
    );
    assert!(events.iter().all(|e| e.1 == "analyst"));
    let gone: Value = serde_json::from_str(events[2].2.as_deref().unwrap()).unwrap();
    assert_eq!(gone["value"], "evil.test");
    assert_eq!(gone["verdict"], "suspicious");
    assert_eq!(gone["kind"], "domain");
}

#[tokio::test]
async fn a_recorded_signed_head_shows_when_the_tail_of_the_trail_is_cut_off() {
    let key_dir = tempfile::tempdir().unwrap();
    let key_file = key_dir.path().join("audit.key");
    std::fs::write(&key_file, "k".repeat(48)).unwrap();
    let app = spawn_app_with(|s| s.audit_key_file = Some(key_file.clone())).await;
    let admin = app.token("admin", Role::Admin).await;
    app.ingest(&admin, &crate::helpers::api_md_example()).await;

    let head: Value = app
        .get("/api/v1/audit/head", &admin)
        .await
        .json()
        .await
        .unwrap();
    let (seq, hash) = (
        head["seq"].as_i64().unwrap(),
        head["hash"].as_str().unwrap(),
    );
    let signature = head["signature"].as_str().unwrap();
    let key = "k".repeat(48);
    assert!(airdesk_core::audit::head_signed(
        key.as_bytes(),
        seq,
        hash,
        signature
    ));
    assert!(!airdesk_core::audit::head_signed(
        b"another key of the same length, or not",
        seq,
        hash,
        signature
    ));
    assert!(!airdesk_core::audit::head_signed(
        key.as_bytes(),
        seq - 1,
        hash,
        signature
    ));

    let intact = airdesk_core::audit::walk(&app.db, Some(hash))
        .await
        .unwrap();
    assert!(intact.broken.is_none() && intact.head_found);

    // Someone with the database drops the guard and removes the last events: every remaining
    // link still holds, so only the recorded head tells.
    let drop = if app.db.is_postgres() {
        "DROP TRIGGER audit_events_no_update ON audit_events"
    } else {
        "DROP TRIGGER audit_events_no_delete"
    };
    airdesk_core::db::query(drop)
        .execute(&app.db)
        .await
        .unwrap();
    airdesk_core::db::query("DELETE FROM audit_events WHERE seq >= $1")
        .bind(seq - 1)
        .execute(&app.db)
        .await
        .unwrap();
    let cut = airdesk_core::audit::walk(&app.db, Some(hash))
        .await
        .unwrap();
    assert!(cut.broken.is_none(), "the chain that is left is intact");
    assert!(!cut.head_found, "but the recorded head is gone from it");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hundred_concurrent_wrong_sign_ins_hash_a_few_at_a_time() {
    let dir = tempfile::tempdir().unwrap();
    let server =
        crate::helpers::serve_process(dir.path(), &[], "warn", std::process::Stdio::null());
    // From 200 different addresses, for 200 names, so no limit sheds them: every one is hashed.
    let attempts = (0..200u32).map(|n| {
        let client = client_from([127, 0, 1 + (n / 250) as u8, 1 + (n % 250) as u8]);
        let url = format!("{}/rpc/login", server.base);
        let origin = server.base.clone();
        let name = format!("nobody-{n}");
        async move {
            client
                .post(url)
                .header("Origin", origin)
                .form(&[
                    ("username", name.as_str()),
                    ("password", "wrong password"),
                    ("next", "/"),
                ])
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    });
    let statuses = futures_util::future::join_all(attempts).await;
    assert!(statuses.iter().all(|s| *s == 401), "{statuses:?}");
    let status = std::fs::read_to_string(format!("/proc/{}/status", server.child.id())).unwrap();
    let peak_kb: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap();
    // Argon2id takes 19 MiB a hash: 200 at once would be 3.8 GB.
    assert!(peak_kb < 300 * 1024, "peak RSS {peak_kb} kB");
    let health = reqwest::get(format!("{}/healthz", server.base))
        .await
        .unwrap();
    assert_eq!(health.status(), 200);
}

#[tokio::test]
async fn a_day_count_past_the_calendar_is_refused_and_the_server_stays_up() {
    let app = spawn_app().await;
    let reader = app.token("reader", Role::Reader).await;
    for days in ["2147483648", "4294967295", "36501"] {
        let response = app
            .get(
                &format!("/api/v1/actions/export.csv?within_days={days}"),
                &reader,
            )
            .await;
        assert!(
            [400, 422].contains(&response.status().as_u16()),
            "{days}: {}",
            response.status()
        );
    }
    let fine = app
        .get("/api/v1/actions/export.csv?within_days=30&status=", &reader)
        .await;
    assert_eq!(fine.status(), 200);
    assert!(fine.text().await.unwrap().starts_with("id,type,status"));
}

/// The process's peak resident memory so far, in kB.
fn peak_kb(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap()
}

/// 100,001 decided actions export as 100,000 rows and a last row saying more match, streamed:
/// the server's peak memory grows by far less than the CSV it sends.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hundred_thousand_actions_export_in_constant_memory_and_say_when_cut() {
    let dir = tempfile::tempdir().unwrap();
    let (db, token) = crate::helpers::prepared_database(dir.path()).await;
    let server =
        crate::helpers::serve_process(dir.path(), &[], "warn", std::process::Stdio::null());
    let client = Client::new();
    let created = client
        .post(format!("{}/api/v1/investigations", server.base))
        .bearer_auth(&token)
        .json(&crate::helpers::api_md_example())
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    // 100,001 rejected actions like the one just proposed, each with a 300-character comment
    // that a spreadsheet would run as a formula, a second apart before the ingest.
    let (numbers, id, time, comment) = if db.is_postgres() {
        (
            "(SELECT i FROM generate_series(0, 100000) AS n(i)) n",
            "'seeded-' || lpad(i::text, 6, '0')",
            "TIMESTAMPTZ '2026-11-01 00:00:00Z' - i * INTERVAL '1 second'",
            "'=HYPERLINK(\"http://evil.test\") ' || repeat('x', 300)",
        )
    } else {
        (
            "(WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 100000) SELECT i FROM n) n",
            "printf('seeded-%06d', i)",
            "strftime('%Y-%m-%dT%H:%M:%S', '2026-11-01', '-' || i || ' seconds') || '.000000Z'",
            "'=HYPERLINK(\"http://evil.test\") ' || printf('%.300c', 'x')",
        )
    };
    airdesk_core::db::query(format!(
        "INSERT INTO actions (id, investigation_id, incident_id, action_type, status, target_kind,
                              cluster_id, cluster_key, mailbox, internet_message_id, forward_to,
                              source, created_at, updated_at, decided_by, decided_at, comment)
         SELECT {id}, a.investigation_id, a.incident_id, a.action_type,
                'rejected', a.target_kind, a.cluster_id, a.cluster_key, a.mailbox,
                a.internet_message_id, a.forward_to, a.source, {time}, {time}, 'analyst', {time},
                {comment}
         FROM {numbers}, (SELECT * FROM actions ORDER BY id LIMIT 1) a"
    ))
    .execute(&db)
    .await
    .unwrap();

    let export = |query: &'static str| {
        client
            .get(format!("{}/api/v1/actions/export.csv{query}", server.base))
            .bearer_auth(&token)
            .send()
    };
    // Warm up (the code paths, the database's pages), then measure the whole export.
    let small = export("?within_days=1")
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(
        small.lines().count(),
        1,
        "only the header: the seeded rows are older"
    );
    let before = peak_kb(server.child.id());
    let mut response = export("").await.unwrap();
    assert_eq!(response.status(), 200);
    let (mut bytes, mut tail) = (0usize, Vec::new());
    let mut lines = 0usize;
    while let Some(chunk) = response.chunk().await.unwrap() {
        bytes += chunk.len();
        lines += chunk.iter().filter(|b| **b == b'\n').count();
        tail.extend_from_slice(&chunk);
        let keep = tail.len().saturating_sub(4096);
        tail.drain(..keep);
    }
    let grown_kb = peak_kb(server.child.id()) - before;
    eprintln!("export of 100,000 actions: {bytes} bytes sent, peak memory +{grown_kb} kB");
    assert_eq!(lines, 1 + 100_000 + 1, "header, the limit's rows, the note");
    let last = String::from_utf8_lossy(&tail);
    let last = last.trim_end().lines().last().unwrap();
    assert!(
        last.starts_with("TRUNCATED,") && last.contains("More actions match"),
        "{last}"
    );
    assert!(bytes > 40 * 1024 * 1024, "the CSV is {bytes} bytes");
    // Held whole, the CSV alone would add its size (and its 100,000 actions several times
    // more); streamed, memory grows by a page's worth and the database connections' page
    // caches (2 MiB each, filled by reading the history once).
    assert!(
        (grown_kb as usize) * 1024 < bytes / 2,
        "peak memory grew {grown_kb} kB while sending {bytes} bytes"
    );
}
