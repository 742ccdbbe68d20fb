//! Several instances on one database, as real processes: every rule holds across them by the
//! database alone. They run on whichever engine the suite runs on — an SQLite file shared by
//! three processes, or PostgreSQL on the suite's second pass.

use std::path::Path;
use std::process::{Command, Stdio};

use airdesk_core::db::{query, Db};
use futures_util::future::join_all;
use reqwest::Client;
use serde_json::{json, Value};

use crate::helpers::{deliver, prepared_database, settled};

/// One `airdesk serve` process, killed when dropped.
type Instance = crate::helpers::Process;

/// Starts an instance on the test's database and mail root, with these extra global flags.
fn instance(dir: &Path, flags: &[&str]) -> Instance {
    crate::helpers::serve_process(dir, flags, "warn", Stdio::inherit())
}

/// As [`instance`], logging at info level into `log`.
fn instance_logging(dir: &Path, flags: &[&str], log: &Path) -> Instance {
    let file = std::fs::File::create(log).unwrap();
    crate::helpers::serve_process(dir, flags, "info", Stdio::from(file))
}

fn three(dir: &Path, flags: &[&str]) -> Vec<Instance> {
    (0..3).map(|_| instance(dir, flags)).collect()
}

/// `airdesk audit verify` on the test's database passes: one chain, unbroken.
fn assert_audit_verifies(dir: &Path) {
    let output = Command::new(env!("CARGO_BIN_EXE_airdesk"))
        .args(["audit", "verify", "--log", "warn"])
        .arg("--database-url")
        .arg(crate::helpers::database_url(dir))
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "audit verify: {}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// `airdesk scan` on the test's database and mail root; answers what it printed.
fn scan(dir: &Path) -> String {
    let output = Command::new(env!("CARGO_BIN_EXE_airdesk"))
        .args(["scan", "--log", "warn"])
        .arg("--database-url")
        .arg(crate::helpers::database_url(dir))
        .arg("--mail-root")
        .arg(dir.join("mail"))
        .output()
        .unwrap();
    assert!(output.status.success());
    String::from_utf8_lossy(&output.stdout).to_string()
}

async fn count(db: &Db, sql: &str, id: &str) -> i64 {
    query(sql.to_string()).bind(id).scalar(db).await.unwrap()
}

/// One ingest of a cluster of these (mailbox, Message-ID) copies, on `base`.
async fn ingest(client: &Client, base: &str, token: &str, copies: &[(String, String)]) -> Value {
    let mut body = crate::helpers::api_md_example();
    body["forwarding"] = json!([]);
    body["clusters"][0]["messages"] = copies
        .iter()
        .map(|(mailbox, id)| {
            json!({"mailbox": mailbox, "internet_message_id": id, "sender": "billing@evil.test",
                   "subject": "Invoice overdue", "received_at": "2026-11-20T09:00:00Z"})
        })
        .collect();
    let response = client
        .post(format!("{base}/api/v1/investigations"))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    response.json().await.unwrap()
}

/// Delivers `per_mailbox` copies of the campaign into each of `mailboxes` mailboxes.
fn campaign(dir: &Path, mailboxes: usize, per_mailbox: usize) -> Vec<(String, String)> {
    let root = dir.join("mail");
    let mut copies = Vec::new();
    for m in 0..mailboxes {
        let mailbox = format!("user{m:03}@example.test");
        for n in 0..per_mailbox {
            let id = format!("<campaign-{n}@evil.test>");
            deliver(&root, &mailbox, &id, "INBOX");
            copies.push((mailbox.clone(), id));
        }
    }
    copies
}

/// Files in a Maildir folder's cur/ and new/.
fn files(folder: &Path) -> usize {
    ["cur", "new"]
        .iter()
        .filter_map(|sub| std::fs::read_dir(folder.join(sub)).ok())
        .map(|entries| entries.count())
        .sum()
}

/// (Inbox, Recoverable Items) files over the campaign's mailboxes.
fn where_mail_is(dir: &Path, mailboxes: usize) -> (usize, usize) {
    (0..mailboxes)
        .map(|m| dir.join("mail").join(format!("user{m:03}@example.test")))
        .map(|mailbox| (files(&mailbox), files(&mailbox.join(".Recoverable Items"))))
        .fold((0, 0), |(a, b), (c, d)| (a + c, b + d))
}

#[tokio::test]
async fn sixty_approvals_of_one_action_over_three_instances_make_one_200_and_one_409() {
    let dir = tempfile::tempdir().unwrap();
    let (db, token) = prepared_database(dir.path()).await;
    let copies = campaign(dir.path(), 1, 1);
    let instances = three(dir.path(), &[]);
    let client = Client::new();
    let created = ingest(&client, &instances[0].base, &token, &copies).await;
    let id = created["actions"][0]["id"].as_str().unwrap().to_string();

    let answers = join_all((0..60).map(|n| {
        let url = format!("{}/api/v1/actions/{id}/approve", instances[n % 3].base);
        let request = client.post(url).bearer_auth(&token).send();
        async move {
            let response = request.await.unwrap();
            (response.status().as_u16(), response.text().await.unwrap())
        }
    }))
    .await;
    let won: Vec<_> = answers.iter().filter(|(s, _)| *s == 200).collect();
    let refused: Vec<_> = answers.iter().filter(|(s, _)| *s == 409).collect();
    assert_eq!((won.len(), refused.len()), (1, 59), "{answers:?}");
    // Every loser is told the same thing: who decided, and when.
    let detail = |body: &str| serde_json::from_str::<Value>(body).unwrap()["detail"].clone();
    let details: std::collections::BTreeSet<String> =
        refused.iter().map(|(_, b)| detail(b).to_string()).collect();
    assert_eq!(details.len(), 1, "{details:?}");
    assert!(detail(&refused[0].1).as_str().unwrap().contains("analyst"));
    let approvals =
        "SELECT COUNT(*) FROM audit_events WHERE entity_id = $1 AND event = 'action_approved'";
    assert_eq!(count(&db, approvals, &id).await, 1);
    let action = settled(&client, &instances[1].base, &token, &id).await;
    assert_eq!(action["status"], "completed", "{action}");
    assert_audit_verifies(dir.path());
}

#[tokio::test]
async fn thirty_approvals_of_one_cluster_over_three_instances_move_each_copy_once() {
    const MAILBOXES: usize = 10;
    let dir = tempfile::tempdir().unwrap();
    let (db, token) = prepared_database(dir.path()).await;
    let copies = campaign(dir.path(), MAILBOXES, 3);
    // Indexed before anything is ingested, so every investigation names the copies by their
    // handles and the race is the approvals' alone. (Copies named before the index holds them
    // are claimed by Message-ID until execution matches them; that each is still carried out
    // once is approvals_naming_one_copy_before_and_after_the_index_held_it_act_once's test.)
    scan(dir.path());
    let instances = three(dir.path(), &[]);
    let client = Client::new();
    let mut ids = Vec::new();
    for n in 0..30 {
        let created = ingest(&client, &instances[n % 3].base, &token, &copies).await;
        ids.push(created["actions"][0]["id"].as_str().unwrap().to_string());
    }
    let answers = join_all(ids.iter().enumerate().map(|(n, id)| {
        let url = format!("{}/api/v1/actions/{id}/approve", instances[n % 3].base);
        let request = client.post(url).bearer_auth(&token).send();
        async move {
            let response = request.await.unwrap();
            let status = response.status().as_u16();
            (status, response.text().await.unwrap_or_default())
        }
    }))
    .await;
    assert!(answers.iter().all(|(s, _)| *s == 200), "{answers:?}");
    // The first approval to commit claims every copy and carries them out; each later one
    // finds every copy held and is a duplicate of it.
    let mut statuses = Vec::new();
    for (n, id) in ids.iter().enumerate() {
        let url = format!("{}/api/v1/actions/{id}", instances[n % 3].base);
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        loop {
            let action: Value = client
                .get(&url)
                .bearer_auth(&token)
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            let status = action["status"].as_str().unwrap().to_string();
            if ["completed", "duplicate", "partially_completed", "failed"]
                .contains(&status.as_str())
            {
                statuses.push(status);
                break;
            }
            assert!(std::time::Instant::now() < deadline, "{action}");
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    }
    assert!(
        statuses
            .iter()
            .all(|s| s == "completed" || s == "duplicate"),
        "{statuses:?}"
    );
    assert!(
        statuses.iter().filter(|s| *s == "duplicate").count() >= 20,
        "{statuses:?}"
    );
    // Each copy was carried out by exactly one action; the other 29 name it as handled.
    let executed: i64 = query(
        "SELECT COUNT(*) FROM action_results WHERE result IN ('success', 'already_in_destination')",
    )
    .scalar(&db)
    .await
    .unwrap();
    let moved: i64 = query("SELECT COUNT(*) FROM action_results WHERE result = 'success'")
        .scalar(&db)
        .await
        .unwrap();
    assert_eq!((executed, moved), (30, 30), "one execution per copy");
    let executors: i64 =
        query("SELECT COUNT(DISTINCT action_id) FROM action_results WHERE result = 'success'")
            .scalar(&db)
            .await
            .unwrap();
    assert_eq!(executors, 1, "one approval carried every copy out");
    assert_eq!(where_mail_is(dir.path(), MAILBOXES), (0, 30));
    assert_audit_verifies(dir.path());
}

#[tokio::test]
async fn an_instance_killed_mid_job_has_it_finished_by_another_exactly_once() {
    const MAILBOXES: usize = 50;
    let dir = tempfile::tempdir().unwrap();
    let (db, token) = prepared_database(dir.path()).await;
    let copies = campaign(dir.path(), MAILBOXES, 100);
    let mut instances = three(dir.path(), &[]);
    let client = Client::new();
    let created = ingest(&client, &instances[0].base, &token, &copies).await;
    let id = created["actions"][0]["id"].as_str().unwrap().to_string();
    crate::helpers::approve_at(&client, &instances[0].base, &token, &id).await;

    let results = "SELECT COUNT(*) FROM action_results WHERE action_id = $1";
    while count(&db, results, &id).await < 300 {
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    // The instance holding the job's claim is the one to kill.
    let holder: String = query("SELECT claimed_by FROM jobs WHERE action_id = $1")
        .bind(&id)
        .scalar(&db)
        .await
        .unwrap();
    let pid: u32 = holder.rsplit(':').next().unwrap().parse().unwrap();
    let victim = instances
        .iter()
        .position(|i| i.child.id() == pid)
        .expect("one of ours holds the job");
    let mut killed = instances.remove(victim);
    killed.child.kill().unwrap(); // SIGKILL
    killed.child.wait().unwrap();
    let at_kill = count(&db, results, &id).await;
    assert!(at_kill < 5_000, "killed mid-job ({at_kill} recorded)");

    let action = settled(&client, &instances[0].base, &token, &id).await;
    assert_eq!(action["status"], "completed", "{action}");
    let finisher: String = query("SELECT claimed_by FROM jobs WHERE action_id = $1")
        .bind(&id)
        .scalar(&db)
        .await
        .unwrap();
    assert_ne!(finisher, holder, "another instance took the job over");
    assert_eq!(count(&db, results, &id).await, 5_000, "one result per copy");
    let completions =
        "SELECT COUNT(*) FROM audit_events WHERE entity_id = $1 AND event = 'action_completed'";
    assert_eq!(count(&db, completions, &id).await, 1, "one completion");
    assert_eq!(
        where_mail_is(dir.path(), MAILBOXES),
        (0, 5_000),
        "every copy moved once"
    );
    assert_audit_verifies(dir.path());
}

#[tokio::test]
async fn decisions_and_execution_racing_on_three_instances_leave_every_derived_count_true() {
    // Twenty investigations of one campaign (so one incident), each with a cluster of its
    // own wave and a forwarding mailbox: two actions apiece. Their approvals arrive on every
    // instance while the first ones already execute there, so decisions (under the write
    // lock) and execution (locking rows only) keep moving actions of the same investigations
    // and the same incident at once.
    let dir = tempfile::tempdir().unwrap();
    let (db, token) = prepared_database(dir.path()).await;
    let instances = three(dir.path(), &[]);
    let client = Client::new();
    let root = dir.path().join("mail");
    let mut actions = Vec::new();
    for n in 0..20 {
        let mailbox = format!("user{:03}@example.test", n % 4);
        let id = format!("<wave-{n}@evil.test>");
        deliver(&root, &mailbox, &id, "INBOX");
        let mut body = crate::helpers::api_md_example();
        body["clusters"][0]["messages"] = json!([{"mailbox": mailbox, "internet_message_id": id,
            "sender": "billing@evil.test", "subject": "Invoice overdue", "received_at": "2026-11-20T09:00:00Z"}]);
        body["forwarding"][0]["mailbox"] = json!(mailbox);
        let response = client
            .post(format!("{}/api/v1/investigations", instances[n % 3].base))
            .bearer_auth(&token)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 201);
        let created: Value = response.json().await.unwrap();
        for action in created["actions"].as_array().unwrap() {
            actions.push(action["id"].as_str().unwrap().to_string());
        }
    }
    assert_eq!(actions.len(), 40);
    let answers = join_all(actions.iter().enumerate().map(|(n, id)| {
        let url = format!("{}/api/v1/actions/{id}/approve", instances[n % 3].base);
        let request = client.post(url).bearer_auth(&token).send();
        async move {
            let response = request.await.unwrap();
            let status = response.status().as_u16();
            (status, response.text().await.unwrap_or_default())
        }
    }))
    .await;
    assert!(answers.iter().all(|(s, _)| *s == 200), "{answers:?}");
    for id in &actions {
        let action = settled(&client, &instances[0].base, &token, id).await;
        assert_eq!(action["status"], "completed", "{action}");
    }
    // Every investigation followed its actions, and the incident counts what it holds.
    let out_of_step: i64 =
        query("SELECT COUNT(*) FROM investigations WHERE status <> 'remediated'")
            .scalar(&db)
            .await
            .unwrap();
    assert_eq!(out_of_step, 0);
    let incidents: Vec<(String, i64, i64, String)> = query(
        "SELECT id, pending_action_count, investigation_count, investigation_state FROM incidents",
    )
    .fetch_all(&db)
    .await
    .unwrap();
    assert_eq!(incidents.len(), 1, "one campaign, one incident");
    assert_eq!(
        (incidents[0].1, incidents[0].2, incidents[0].3.as_str()),
        (0, 20, "remediated")
    );
    // Each action started and finished once, and the chain has one head.
    for event in ["action_started", "action_completed"] {
        let counts: Vec<i64> =
            query("SELECT COUNT(*) FROM audit_events WHERE event = $1 GROUP BY entity_id")
                .bind(event)
                .scalars(&db)
                .await
                .unwrap();
        assert_eq!(counts.len(), 40, "{event}");
        assert!(counts.iter().all(|n| *n == 1), "{event}: {counts:?}");
    }
    drop(instances);
    assert_audit_verifies(dir.path());
}

#[tokio::test]
async fn expiry_on_three_instances_expires_and_audits_each_action_once() {
    let dir = tempfile::tempdir().unwrap();
    let (db, token) = prepared_database(dir.path()).await;
    let copies = campaign(dir.path(), 2, 1);
    let instances = three(dir.path(), &["--pending-expiry", "2s"]);
    let client = Client::new();
    let mut ids = Vec::new();
    for n in 0..12 {
        let created = ingest(&client, &instances[n % 3].base, &token, &copies).await;
        ids.push(created["actions"][0]["id"].as_str().unwrap().to_string());
    }
    let expired = "SELECT COUNT(*) FROM actions WHERE status = 'expired' AND id = $1";
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    for id in &ids {
        while count(&db, expired, id).await == 0 {
            assert!(std::time::Instant::now() < deadline, "{id} never expired");
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
    }
    // Every instance keeps looking for a while: still once each.
    tokio::time::sleep(std::time::Duration::from_secs(2)).await;
    let audited =
        "SELECT COUNT(*) FROM audit_events WHERE entity_id = $1 AND event = 'action_expired'";
    for id in &ids {
        assert_eq!(count(&db, audited, id).await, 1, "{id} expired once");
    }
    assert_audit_verifies(dir.path());
}

#[tokio::test]
async fn a_retry_on_another_instance_replays_the_first_answer() {
    let dir = tempfile::tempdir().unwrap();
    let (db, token) = prepared_database(dir.path()).await;
    let copies = campaign(dir.path(), 1, 1);
    let instances = three(dir.path(), &[]);
    let client = Client::new();
    let mut body = crate::helpers::api_md_example();
    body["forwarding"] = json!([]);
    body["clusters"][0]["messages"][0]["internet_message_id"] = json!(copies[0].1);
    body["clusters"][0]["messages"][0]["mailbox"] = json!(copies[0].0);
    let send = |base: &str, key: &'static str| {
        client
            .post(format!("{base}/api/v1/investigations"))
            .bearer_auth(&token)
            .header("Idempotency-Key", key)
            .json(&body)
            .send()
    };
    // A retry after the answer was lost, on each other instance: the first answer again.
    let mut answers = Vec::new();
    for instance in &instances {
        let response = send(&instance.base, "retry-1").await.unwrap();
        answers.push((response.status().as_u16(), response.text().await.unwrap()));
    }
    assert_eq!(answers[0].0, 201);
    assert!(answers.iter().all(|a| *a == answers[0]), "{answers:?}");
    // Three at once with a new key: one creates, the others replay its answer or are told it
    // is in progress — never a second investigation.
    let (a, b, c) = tokio::join!(
        send(&instances[0].base, "retry-2"),
        send(&instances[1].base, "retry-2"),
        send(&instances[2].base, "retry-2")
    );
    let statuses: Vec<u16> = [a, b, c].map(|r| r.unwrap().status().as_u16()).to_vec();
    assert!(
        statuses.iter().all(|s| [201, 409].contains(s)),
        "{statuses:?}"
    );
    let investigations: i64 = query("SELECT COUNT(*) FROM investigations")
        .scalar(&db)
        .await
        .unwrap();
    assert_eq!(investigations, 2, "one investigation per key");
}

/// How many messages the index holds.
async fn indexed(db: &Db) -> i64 {
    query("SELECT COUNT(*) FROM messages")
        .scalar(db)
        .await
        .unwrap()
}

#[tokio::test]
async fn three_instances_scan_each_mailbox_once_between_them() {
    const MAILBOXES: usize = 30;
    let dir = tempfile::tempdir().unwrap();
    let (db, _token) = prepared_database(dir.path()).await;
    campaign(dir.path(), MAILBOXES, 40);
    let logs: Vec<_> = (0..3)
        .map(|n| dir.path().join(format!("instance-{n}.log")))
        .collect();
    let instances: Vec<Instance> = logs
        .iter()
        .map(|log| instance_logging(dir.path(), &["--index-interval", "200ms"], log))
        .collect();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while indexed(&db).await < (MAILBOXES * 40) as i64 {
        assert!(
            std::time::Instant::now() < deadline,
            "the index never filled"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    // A few more rounds on every instance: nothing is read twice.
    tokio::time::sleep(std::time::Duration::from_secs(1)).await;
    drop(instances);
    let added: usize = logs
        .iter()
        .flat_map(|log| {
            let text = std::fs::read_to_string(log).unwrap();
            text.lines()
                .filter(|l| l.contains("message index updated"))
                .filter_map(|l| l.split("added=").nth(1))
                .filter_map(|rest| rest.split_whitespace().next()?.parse::<usize>().ok())
                .collect::<Vec<_>>()
        })
        .sum();
    assert_eq!(
        added,
        MAILBOXES * 40,
        "each message read and added by one instance"
    );
    assert_eq!(indexed(&db).await, (MAILBOXES * 40) as i64);
}

#[tokio::test]
async fn a_mailbox_another_instance_holds_waits_until_its_lease_runs_out() {
    let dir = tempfile::tempdir().unwrap();
    let (db, _token) = prepared_database(dir.path()).await;
    campaign(dir.path(), 2, 5);
    // An instance that died while scanning user000: its lease still holds, for now.
    let later = airdesk_core::db::now() + chrono::Duration::hours(1);
    query("INSERT INTO index_leases (mailbox, holder, until) VALUES ($1, 'gone:1', $2)")
        .bind("user000@example.test")
        .bind(later)
        .execute(&db)
        .await
        .unwrap();
    let first = scan(dir.path());
    assert!(
        first.contains("1 changed mailboxes were being scanned by another instance"),
        "{first}"
    );
    let in_mailbox = "SELECT COUNT(*) FROM messages WHERE mailbox = $1";
    assert_eq!(count(&db, in_mailbox, "user000@example.test").await, 0);
    assert_eq!(count(&db, in_mailbox, "user001@example.test").await, 5);
    // The lease runs out: the next scan, anywhere, takes the mailbox over.
    query("UPDATE index_leases SET until = $1")
        .bind(airdesk_core::db::now() - chrono::Duration::seconds(1))
        .execute(&db)
        .await
        .unwrap();
    let second = scan(dir.path());
    assert!(!second.contains("another instance"), "{second}");
    assert_eq!(count(&db, in_mailbox, "user000@example.test").await, 5);
    let leases: i64 = query("SELECT COUNT(*) FROM index_leases")
        .scalar(&db)
        .await
        .unwrap();
    assert_eq!(leases, 0, "a scan gives back what it took");
}

#[tokio::test]
async fn a_new_indicator_hunts_once_whichever_instances_load_it() {
    let dir = tempfile::tempdir().unwrap();
    let (db, _token) = prepared_database(dir.path()).await;
    campaign(dir.path(), 5, 2);
    let file = dir.path().join("indicators.json");
    std::fs::write(
        &file,
        r#"[{"kind": "domain", "value": "invoice.evil.test", "verdict": "malicious"}]"#,
    )
    .unwrap();
    let path = file.to_str().unwrap();
    // The helper's deliveries are dated 2025-11-26 by their file names: look back far enough.
    let flags = [
        "--indicators-file",
        path,
        "--index-interval",
        "0",
        "--lookback",
        "3650d",
    ];
    let instances = three(dir.path(), &flags);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    let investigations = || query("SELECT COUNT(*) FROM investigations").scalar::<i64>(&db);
    while investigations().await.unwrap() == 0 {
        assert!(
            std::time::Instant::now() < deadline,
            "the indicator never hunted"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    tokio::time::sleep(std::time::Duration::from_secs(2)).await;
    assert_eq!(
        investigations().await.unwrap(),
        1,
        "one hunt for one new indicator on three instances"
    );
    drop(instances);
}

/// Reports of one message sent to three instances at once make one investigation between
/// them: the copy's lease lets one instance start it, and the reports on the others join it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reports_of_one_message_on_three_instances_make_one_investigation() {
    let dir = tempfile::tempdir().unwrap();
    let (db, token) = prepared_database(dir.path()).await;
    let copies = campaign(dir.path(), 1, 1);
    let (mailbox, id) = &copies[0];
    let instances = three(
        dir.path(),
        &["--index-interval", "0", "--lookback", "3650d"],
    );
    let client = Client::new();
    let body = json!({"mailbox": mailbox, "internet_message_id": id});
    let reports = (0..24).map(|n| {
        let url = format!("{}/api/v1/reports", instances[n % 3].base);
        client.post(url).bearer_auth(&token).json(&body).send()
    });
    let mut started = Vec::new();
    let mut investigations = std::collections::BTreeSet::new();
    for response in futures_util::future::join_all(reports).await {
        let response = response.unwrap();
        assert_eq!(response.status(), 202);
        let reported: Value = response.json().await.unwrap();
        investigations.insert(reported["investigation_id"].as_str().unwrap().to_string());
        if reported["joined"] == json!(false) {
            started.push(reported);
        }
    }
    assert_eq!(started.len(), 1, "one report started it: {started:?}");
    assert_eq!(investigations.len(), 1, "{investigations:?}");
    let stored: i64 = query("SELECT COUNT(*) FROM investigations")
        .scalar(&db)
        .await
        .unwrap();
    assert_eq!(stored, 1);
    let leases: i64 = query("SELECT COUNT(*) FROM report_leases")
        .scalar(&db)
        .await
        .unwrap();
    assert_eq!(leases, 0, "every lease was given back");
    drop(instances);
    assert_audit_verifies(dir.path());
}
