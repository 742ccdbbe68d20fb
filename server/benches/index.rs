//! Benchmark (not a test): the message index and the playbook at scale.
//!
//! Generates 1,000,000 messages over 10,000 Maildir mailboxes (1% of them twenty phishing
//! campaigns of 500 copies each, the rest varied benign mail), then with the release
//! `airdesk` binary as its own process reports:
//! - `airdesk scan` from empty: messages/s and the process's peak memory;
//! - the incremental update after 1,000 new messages arrive in 100 mailboxes;
//! - `airdesk serve`: the time from `POST /api/v1/reports` to the investigation recorded in
//!   Pending action (the report answers once it is), p50/p99 over 40 reports, and the
//!   server's peak memory.
//!
//! Run: `cargo bench -p server --bench index` (AIRDESK_BENCH_MESSAGES and
//! AIRDESK_BENCH_MAILBOXES scale it down).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

#[path = "support/serve.rs"]
#[allow(dead_code)] // not every bench runs on PostgreSQL
mod support;

use airdesk_core::db::Db;
use model::Role;
use support::env;

const CAMPAIGNS: usize = 20;
const WORDS: [&str; 32] = [
    "garden",
    "quarterly",
    "meeting",
    "lunch",
    "report",
    "travel",
    "policy",
    "update",
    "team",
    "budget",
    "holiday",
    "review",
    "design",
    "launch",
    "invoice",
    "weekly",
    "notes",
    "agenda",
    "offsite",
    "coffee",
    "planning",
    "roadmap",
    "security",
    "training",
    "welcome",
    "survey",
    "photos",
    "party",
    "project",
    "status",
    "draft",
    "minutes",
];
const CAMPAIGN_NAMES: [&str; CAMPAIGNS] = [
    "alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel", "india", "juliet",
    "kilo", "lima", "mike", "november", "oscar", "papa", "quebec", "romeo", "sierra", "tango",
];

fn main() {
    let messages = env("AIRDESK_BENCH_MESSAGES", 1_000_000);
    let mailboxes = env("AIRDESK_BENCH_MAILBOXES", 10_000);
    let dir =
        tempfile::tempdir_in(std::env::var("AIRDESK_BENCH_DIR").unwrap_or_else(|_| "/tmp".into()))
            .expect("temp dir");
    let root = dir.path().join("mail");
    let started = Instant::now();
    generate(&root, messages, mailboxes);
    println!(
        "generated {messages} messages over {mailboxes} mailboxes in {:.1?}",
        started.elapsed()
    );
    let url = format!("sqlite://{}/bench.db", dir.path().display());

    // A full scan, from empty.
    let (took, peak) = airdesk(&url, &root, &["scan"]);
    println!(
        "scan from empty: {took:.1?} = {:.0} messages/s; peak memory {peak} KiB",
        messages as f64 / took.as_secs_f64()
    );

    // 1,000 new messages in 100 mailboxes.
    for n in 0..1000 {
        let mailbox = mailbox_name(n % 100 * (mailboxes / 100).max(1));
        deliver(
            &root,
            &mailbox,
            900_000_000 + n,
            &benign(messages + n, &mailbox),
        );
    }
    let (took, peak) = airdesk(&url, &root, &["scan"]);
    println!("incremental update (1,000 new messages): {took:.1?}; peak memory {peak} KiB");

    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    runtime.block_on(reports(&url, &root, messages, mailboxes));
}

fn mailbox_name(n: usize) -> String {
    format!("user{n:05}@example.test")
}

/// Writes the corpus: mailbox i gets messages i, i + mailboxes, …; message numbers that fall
/// on a campaign slot carry that campaign.
fn generate(root: &Path, messages: usize, mailboxes: usize) {
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
    std::thread::scope(|scope| {
        for t in 0..threads {
            scope.spawn(move || {
                for m in (t..mailboxes).step_by(threads) {
                    let mailbox = mailbox_name(m);
                    for sub in ["cur", "new", "tmp"] {
                        std::fs::create_dir_all(root.join(&mailbox).join(sub)).unwrap();
                    }
                    let mut n = m;
                    while n < messages {
                        let raw = match campaign_of(n, messages) {
                            Some(c) => campaign(c, n, &mailbox),
                            None => benign(n, &mailbox),
                        };
                        deliver(root, &mailbox, n, &raw);
                        n += mailboxes;
                    }
                }
            });
        }
    });
}

/// Every hundredth message belongs to a campaign (twenty campaigns of messages/2,000 each).
fn campaign_of(n: usize, _messages: usize) -> Option<usize> {
    (n % 100 == 7).then_some((n / 100) % CAMPAIGNS)
}

fn deliver(root: &Path, mailbox: &str, n: usize, raw: &[u8]) -> PathBuf {
    let now = chrono::Utc::now().timestamp() - (n % 86_400) as i64;
    let path = root
        .join(mailbox)
        .join("cur")
        .join(format!("{now}.M{n}P1.bench:2,S"));
    std::fs::write(&path, raw).unwrap();
    path
}

fn campaign(c: usize, n: usize, mailbox: &str) -> Vec<u8> {
    let name = CAMPAIGN_NAMES[c];
    format!(
        "Message-ID: <c{c}-{n}@{name}.phish.test>\r\nFrom: \"Accounts\" <billing@{name}.phish.test>\r\n\
To: {mailbox}\r\nSubject: {name} invoice {n} overdue\r\nDate: Thu, 26 Nov 2026 08:00:00 +0000\r\n\
Authentication-Results: mx.example.test; spf=fail; dkim=none; dmarc=fail\r\nMIME-Version: 1.0\r\n\
Content-Type: multipart/alternative; boundary=alt\r\n\r\n--alt\r\nContent-Type: text/plain\r\n\r\n\
Dear customer, invoice {n} is overdue. Pay at http://{name}.phish.test/login today.\r\n\
--alt\r\nContent-Type: text/html\r\n\r\n<p>Dear customer,</p><p>Invoice {n} is overdue.</p>\
<a href=\"http://{name}.phish.test/login\">Pay now</a>\r\n--alt--\r\n"
    )
    .into_bytes()
}

fn benign(n: usize, mailbox: &str) -> Vec<u8> {
    let w = |k: usize| WORDS[(n / 7 + k * 13 + n % 31) % WORDS.len()];
    let domain = format!("site{}.test", n % 1000);
    let mut body = String::new();
    for line in 0..12 {
        body.push_str(&format!(
            "{} {} {} {} {} {}\r\n",
            w(line),
            w(line + 1),
            w(line + 2),
            n,
            w(line + 3),
            w(line + 4)
        ));
    }
    format!(
        "Message-ID: <m{n}@{domain}>\r\nFrom: \"{} {}\" <{}@{domain}>\r\nTo: {mailbox}\r\n\
Subject: {} {} {} {}\r\nDate: Thu, 26 Nov 2026 07:00:00 +0000\r\n\
Authentication-Results: mx.example.test; spf=pass; dkim=pass; dmarc=pass\r\n\r\n\
{body}More at https://{domain}/{}/{n}\r\n",
        w(1),
        w(2),
        w(3),
        w(4),
        w(5),
        w(6),
        n % 97,
        w(7)
    )
    .into_bytes()
}

/// Runs `airdesk <args>` to completion; its wall time and peak resident memory (KiB).
fn airdesk(url: &str, root: &Path, args: &[&str]) -> (Duration, i64) {
    let started = Instant::now();
    let status = Command::new(env!("CARGO_BIN_EXE_airdesk"))
        .args(args)
        .args(["--database-url", url, "--log", "warn"])
        .arg("--mail-root")
        .arg(root)
        .status()
        .expect("airdesk runs");
    assert!(status.success());
    (started.elapsed(), children_peak_kib())
}

/// The largest peak resident size of any finished child so far.
fn children_peak_kib() -> i64 {
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: getrusage writes into the struct we own.
    unsafe { libc::getrusage(libc::RUSAGE_CHILDREN, &mut usage) };
    usage.ru_maxrss
}

/// Starts `serve` with the campaign domains as known-malicious indicators and times reports.
async fn reports(url: &str, root: &Path, messages: usize, mailboxes: usize) {
    let db = Db::connect(url).await.expect("database");
    let token = support::user_with_token(&db, "bench", Role::SearchAndPurge).await;
    drop(db);
    let indicators = root.parent().unwrap().join("indicators.json");
    let list: Vec<serde_json::Value> = CAMPAIGN_NAMES
        .iter()
        .map(|name| serde_json::json!({"kind": "domain", "value": format!("{name}.phish.test"), "verdict": "malicious"}))
        .collect();
    std::fs::write(&indicators, serde_json::to_vec(&list).unwrap()).unwrap();

    let indicators_flag = indicators.display().to_string();
    let server = support::serve(
        url,
        root,
        &[
            "--pending-expiry",
            "3650d",
            "--indicators-file",
            &indicators_flag,
        ],
    );
    let base = server.base.clone();
    let client = reqwest::Client::new();
    let mut samples = Vec::new();
    for k in 0..40 {
        // The k-th report is of a copy of campaign k % 20, in the mailbox that received it.
        let n = 7 + 100 * (k % CAMPAIGNS) + 100 * CAMPAIGNS * (k / CAMPAIGNS);
        let c = (n / 100) % CAMPAIGNS;
        let mailbox = mailbox_name(n % mailboxes);
        let message_id = format!("<c{c}-{n}@{}.phish.test>", CAMPAIGN_NAMES[c]);
        let at = Instant::now();
        let response = client
            .post(format!("{base}/api/v1/reports"))
            .bearer_auth(&token)
            .json(&serde_json::json!({"mailbox": mailbox, "internet_message_id": message_id}))
            .send()
            .await
            .unwrap();
        let took = at.elapsed();
        assert_eq!(
            response.status(),
            202,
            "{}",
            response.text().await.unwrap_or_default()
        );
        let body: serde_json::Value = response.json().await.unwrap();
        let investigation: serde_json::Value = client
            .get(format!(
                "{base}/api/v1/investigations/{}",
                body["investigation_id"].as_str().unwrap()
            ))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(investigation["status"], "pending_action");
        samples.push(took);
    }
    samples.sort();
    println!(
        "report → Pending action: p50 {:.1?}, p99 {:.1?} (40 reports; clusters of {} copies)",
        samples[samples.len() / 2],
        samples[samples.len() * 99 / 100],
        messages / 100 / CAMPAIGNS
    );
    println!("server peak memory (VmHWM): {}", server.peak_memory());
}
