//! Benchmark (not a test): one cluster of 1,000,000 copies over 10,000 Maildir mailboxes,
//! from approval to Completed, with the release `airdesk` binary as its own process.
//!
//! 1. Generates the campaign (one personalised link per copy) and runs `airdesk scan`.
//! 2. `airdesk serve`; a `domain` indicator for the campaign's host builds the one URL-domain
//!    cluster of every copy (timed: the hunt to the pending action).
//! 3. Approves it over the REST API (timed: the approval, which claims every copy for the
//!    duplicate rule) and waits for Completed (timed: execution, every result recorded).
//! 4. Checks every file is in Recoverable Items, and reports the server's peak memory.
//! 5. The floor, on the same disk: a plain walk renaming every file back (no database, no
//!    lookups) — execution is quoted as a multiple of it.
//!
//! Run: `cargo bench -p server --bench remediation` (AIRDESK_BENCH_MAILBOXES and
//! AIRDESK_BENCH_PER_MAILBOX scale it; AIRDESK_BENCH_DIR picks the disk;
//! AIRDESK_BENCH_POSTGRES=postgres://… runs it on a new database of that server, and
//! AIRDESK_BENCH_INSTANCES=3 serves with three instances sharing the database, whose workers
//! all look for the job; AIRDESK_BENCH_CSV=dir appends the figures to dir/cluster_execution.csv
//! and dir/index_scan.csv, the scan beside `find | wc -l` over the same store).

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

#[path = "support/serve.rs"]
mod support;

#[path = "support/record.rs"]
#[allow(dead_code)]
mod record;

use airdesk_core::db::Db;
use model::Role;
use serde_json::{json, Value};
use support::env;

const HOST: &str = "login.evil.test";

fn main() {
    let mailboxes = env("AIRDESK_BENCH_MAILBOXES", 10_000);
    let per_mailbox = env("AIRDESK_BENCH_PER_MAILBOX", 100);
    let total = mailboxes * per_mailbox;
    let dir =
        tempfile::tempdir_in(std::env::var("AIRDESK_BENCH_DIR").unwrap_or_else(|_| "/tmp".into()))
            .expect("temp dir");
    let root = dir.path().join("mail");
    let started = Instant::now();
    generate(&root, mailboxes, per_mailbox);
    println!(
        "generated {total} copies over {mailboxes} mailboxes in {:.1?}",
        started.elapsed()
    );
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let url = match std::env::var("AIRDESK_BENCH_POSTGRES") {
        Ok(server) => runtime.block_on(support::fresh_postgres(&server)),
        Err(_) => format!("sqlite://{}/bench.db", dir.path().display()),
    };
    let started = Instant::now();
    let status = Command::new(env!("CARGO_BIN_EXE_airdesk"))
        .args(["scan", "--database-url", &url, "--log", "warn"])
        .arg("--mail-root")
        .arg(&root)
        .status()
        .expect("airdesk runs");
    assert!(status.success());
    let scan = started.elapsed();
    let walk = find_walk(&root, total);
    println!(
        "airdesk scan: {scan:.1?} = {:.0} messages/s; `find | wc -l` over the store: {walk:.1?} ({:.1}x)",
        total as f64 / scan.as_secs_f64(),
        scan.as_secs_f64() / walk.as_secs_f64()
    );
    record::record(
        "index_scan",
        &["messages", "mailboxes", "seconds", "floor", "floor_seconds"],
        &[
            total.to_string(),
            mailboxes.to_string(),
            format!("{:.3}", scan.as_secs_f64()),
            "find | wc -l".into(),
            format!("{:.3}", walk.as_secs_f64()),
        ],
    );

    let (execution, peak) = runtime.block_on(remediate(&url, &root, total));

    let floor = rename_walk(&root, mailboxes);
    println!(
        "floor, a plain walk renaming every file back: {floor:.1?} = {:.0} files/s; execution took {:.1}x that",
        total as f64 / floor.as_secs_f64(),
        execution.as_secs_f64() / floor.as_secs_f64()
    );
    let figures = [
        "maildir".into(),
        total.to_string(),
        mailboxes.to_string(),
        format!("{:.3}", execution.as_secs_f64()),
        format!("{peak:.1}"),
        "rename walk".into(),
        format!("{:.3}", floor.as_secs_f64()),
    ];
    let leading = ("bench", "remediation".to_string());
    record::record_cluster("cluster_execution", leading, &figures);
}

/// `find <root> -type f | wc -l`, timed; checks it counted every copy.
fn find_walk(root: &Path, total: usize) -> Duration {
    let started = Instant::now();
    let out = Command::new("sh")
        .arg("-c")
        .arg("find \"$1\" -type f -name '*.bench*' | wc -l")
        .arg("sh")
        .arg(root)
        .output()
        .expect("find runs");
    let took = started.elapsed();
    let counted: usize = String::from_utf8_lossy(&out.stdout).trim().parse().unwrap();
    assert_eq!(counted, total, "find saw every copy");
    took
}

fn mailbox_name(m: usize) -> String {
    format!("user{m:05}@example.test")
}

fn generate(root: &Path, mailboxes: usize, per_mailbox: usize) {
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
    let now = chrono::Utc::now().timestamp() - 3_600;
    std::thread::scope(|scope| {
        for t in 0..threads {
            scope.spawn(move || {
                for m in (t..mailboxes).step_by(threads) {
                    let mailbox = mailbox_name(m);
                    for sub in ["cur", "new", "tmp"] {
                        std::fs::create_dir_all(root.join(&mailbox).join(sub)).unwrap();
                    }
                    for k in 0..per_mailbox {
                        let n = m * per_mailbox + k;
                        let raw = format!(
                            "Message-ID: <p{n}@mailer.evil.test>\r\nFrom: \"IT Service Desk\" <desk@service-desk.test>\r\n\
To: {mailbox}\r\nSubject: Your mailbox is almost full\r\nDate: Mon, 30 Nov 2026 08:00:00 +0000\r\n\
Content-Type: text/plain\r\n\r\nKeep your mail: https://{HOST}/verify?u={n}\r\n"
                        );
                        std::fs::write(
                            root.join(&mailbox)
                                .join("cur")
                                .join(format!("{now}.M{n}P1.bench:2,S")),
                            raw,
                        )
                        .unwrap();
                    }
                }
            });
        }
    });
}

/// Hunts, approves and waits for Completed; returns the execution time and the first
/// instance's peak memory in MiB.
async fn remediate(url: &str, root: &Path, total: usize) -> (Duration, f64) {
    let db = Db::connect(url).await.expect("database");
    let token = support::user_with_token(&db, "bench", Role::Admin).await;
    // Over 1,000 copies the default policy wants a second person (four eyes).
    let second_token = support::user_with_token(&db, "bench2", Role::Admin).await;
    drop(db);
    let instances = env("AIRDESK_BENCH_INSTANCES", 1).max(1);
    let servers: Vec<_> = (0..instances)
        .map(|_| support::serve(url, root, &["--index-interval", "0s"]))
        .collect();
    let server = &servers[0];
    println!(
        "serving with {instances} instance(s) on {}",
        url.split('@').next_back().unwrap_or(url)
    );
    let client = reqwest::Client::new();
    let api = |path: &str| format!("{}/api/v1{path}", server.base);
    let get = |path: String| {
        let request = client.get(api(&path)).bearer_auth(&token);
        async move { request.send().await.unwrap().json::<Value>().await.unwrap() }
    };

    let started = Instant::now();
    let added: Value = client
        .post(api("/indicators"))
        .bearer_auth(&token)
        .json(&json!({"kind": "domain", "value": HOST, "verdict": "malicious"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let investigation = get(format!(
        "/investigations/{}",
        added["investigation_ids"][0].as_str().unwrap()
    ))
    .await;
    let hunt = started.elapsed();
    let cluster = &investigation["clusters"][0];
    assert_eq!(cluster["email_count"].as_u64(), Some(total as u64));
    let action = investigation["actions"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    println!("indicator → {total}-copy cluster pending: {hunt:.1?}");

    let started = Instant::now();
    let mut approved = Value::Null;
    for approver in [&token, &second_token] {
        approved = client
            .post(api(&format!("/actions/{action}/approve")))
            .bearer_auth(approver)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if approved["status"] != "pending" {
            break;
        }
    }
    assert_eq!(approved["status"], "approved", "{approved}");
    let approval = started.elapsed();
    let done = loop {
        let now = get(format!("/actions/{action}")).await;
        if ["completed", "partially_completed", "failed"].contains(&now["status"].as_str().unwrap())
        {
            break now;
        }
        // Often enough that a small cluster's time is execution's, not this loop's.
        tokio::time::sleep(Duration::from_millis(10)).await;
    };
    let execution = started.elapsed() - approval;
    assert_eq!(done["status"], "completed", "{}", done["details"]);
    println!(
        "approval (claims every copy): {approval:.1?}; approval → Completed: {:.1?} = {:.0} copies/s ({})",
        started.elapsed(),
        total as f64 / started.elapsed().as_secs_f64(),
        done["details"].as_str().unwrap_or_default()
    );
    for (n, server) in servers.iter().enumerate() {
        println!("instance {n} peak memory (VmHWM): {}", server.peak_memory());
    }
    (execution, record::mib(&servers[0].peak_memory()))
}

/// Renames every file from Recoverable Items back to the inbox, on every core, checking each
/// mailbox held all its copies there.
fn rename_walk(root: &Path, mailboxes: usize) -> Duration {
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
    let started = Instant::now();
    std::thread::scope(|scope| {
        for t in 0..threads {
            scope.spawn(move || {
                for m in (t..mailboxes).step_by(threads) {
                    let mailbox = root.join(mailbox_name(m));
                    let from = mailbox.join(".Recoverable Items/cur");
                    let to = mailbox.join("cur");
                    for entry in std::fs::read_dir(&from).unwrap() {
                        let entry = entry.unwrap();
                        std::fs::rename(entry.path(), to.join(entry.file_name())).unwrap();
                    }
                }
            });
        }
    });
    started.elapsed()
}
