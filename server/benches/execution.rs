//! Benchmark (not a test): carrying out one approved soft delete of a 10,000-message cluster
//! spread over 100 mailboxes, on a real Dovecot, beside the time Dovecot's own `doveadm move`
//! takes for the same messages on the same server (the server-side floor).
//!
//! 1. `doveadm move` moves the 10,000 messages to Recoverable Items and back (the floor).
//! 2. airdesk's imap connector soft deletes them (IMAP + ManageSieve-capable Dovecot, master
//!    user), from approval to Completed, with every per-message result recorded; doveadm
//!    moves them back.
//! 3. airdesk's maildir connector does the same on the same files.
//!
//! Its Dovecot reuses its login and imap processes (`service_count = 0`, Dovecot's advice for a
//! busy server): with the default, a new process for every session, logins were most of the
//! imap connector's time.
//!
//! Steps 2 and 3 run with 1, 4, 8 and 16 mailboxes worked on at once (the curve of
//! execution's `parallel_mailboxes`; 4 is the default).
//!
//! Run: `cargo bench -p server --bench execution` (AIRDESK_BENCH_MAILBOXES and
//! AIRDESK_BENCH_PER_MAILBOX scale it; AIRDESK_BENCH_PARALLEL=4 runs only those points of the
//! curve; AIRDESK_BENCH_CSV=dir appends the figures to dir/parallel.csv and, for the default
//! of 4, dir/cluster_execution.csv, with the bench's peak memory during each run).

#[path = "support/cluster.rs"]
#[allow(dead_code)]
mod cluster;
#[path = "../tests/api/dovecot.rs"]
#[allow(dead_code)]
mod dovecot;
#[path = "support/record.rs"]
#[allow(dead_code)]
mod record;

use std::path::Path;
use std::time::{Duration, Instant};

use airdesk_core::actions::ExecutionConfig;
use mail::imap::{Endpoint, ImapSettings};
use mail::tls::{Tls, TlsSettings};
use mail::Connector;

use dovecot::{chown_tree, Dovecot, MASTER_PASSWORD, MASTER_USER};

fn main() {
    let (mailboxes, per_mailbox) = cluster::size();
    tokio::runtime::Runtime::new()
        .expect("runtime")
        .block_on(run(mailboxes, per_mailbox));
}

async fn run(mailboxes: usize, per_mailbox: usize) {
    let total = mailboxes * per_mailbox;
    let names: Vec<String> = (0..mailboxes)
        .map(|m| format!("user{m:04}@example.test"))
        .collect();
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    let dovecot = Dovecot::start(&refs);
    let root = dovecot.mail_root();
    for (m, mailbox) in names.iter().enumerate() {
        let cur = root.join(mailbox).join("cur");
        for n in 0..per_mailbox {
            let id = format!("<campaign-{n}@evil.test>");
            std::fs::write(
                cur.join(format!("1764150000.M{m}x{n}P1.bench:2,S")),
                cluster::message(mailbox, &id),
            )
            .unwrap();
        }
        chown_tree(&root.join(mailbox));
    }
    let users_file = root.parent().unwrap().join("bench-users");
    std::fs::write(&users_file, names.join("\n") + "\n").unwrap();
    println!(
        "{total} messages in {mailboxes} mailboxes, Dovecot on 127.0.0.1:{}",
        dovecot.imap_port
    );

    // Dovecot indexes a folder on first access: let every path start warm.
    let warm = dovecot.doveadm(&[
        "search",
        "-F",
        &users_file.display().to_string(),
        "mailbox",
        "INBOX",
        "all",
    ]);
    assert!(warm.status.success(), "{warm:?}");
    let created = dovecot.doveadm(&[
        "mailbox",
        "create",
        "-F",
        &users_file.display().to_string(),
        "Recoverable Items",
    ]);
    assert!(created.status.success(), "{created:?}");

    // The floor: the median of three moves there (each moved back again).
    let mut floors: Vec<Duration> = (0..3)
        .map(|_| {
            let took = doveadm_move(&dovecot, &users_file, "Recoverable Items", "INBOX", total);
            doveadm_move(&dovecot, &users_file, "INBOX", "Recoverable Items", total);
            took
        })
        .collect();
    floors.sort();
    let floor = floors[1];
    println!("doveadm move (server-side floor): {floor:.2?} (of {floors:.2?})");

    let imap = |connections: usize| Connector::Imap {
        settings: Box::new(ImapSettings {
            imap: Endpoint::loopback(dovecot.imap_port),
            user: MASTER_USER.into(),
            password: MASTER_PASSWORD.into(),
            oauth2: None,
            master_separator: "*".into(),
            managesieve: Some(Endpoint::loopback(dovecot.sieve_port)),
            tls: Tls::new(&TlsSettings::default()).unwrap(),
            max_connections: connections,
            index_connections: 2,
            sieve_connections: 4,
            timeout: Duration::from_secs(30),
        }),
        index_mailboxes: names.clone(),
    };
    let maildir = || Connector::Maildir {
        root: root.clone(),
        sieve_global: None,
    };
    // The curve: mailboxes worked on at once (execution's default is 4), each connector.
    let curve: Vec<usize> = std::env::var("AIRDESK_BENCH_PARALLEL")
        .unwrap_or_else(|_| "1,4,8,16".into())
        .split(',')
        .map(|n| n.trim().parse().expect("AIRDESK_BENCH_PARALLEL: numbers"))
        .collect();
    let default_parallel = ExecutionConfig::default().parallel_mailboxes;
    for parallel in curve {
        let config = ExecutionConfig {
            parallel_mailboxes: parallel,
            ..ExecutionConfig::default()
        };
        let connectors = [("imap", imap(parallel.max(8))), ("maildir", maildir())];
        for (name, connector) in connectors {
            record::reset_peak_memory();
            let took =
                cluster::soft_delete_with(connector, &names, per_mailbox, config.clone()).await;
            let peak = record::own_peak_memory_mib();
            let figures = [
                name.to_string(),
                total.to_string(),
                mailboxes.to_string(),
                format!("{:.3}", took.as_secs_f64()),
                format!("{peak:.1}"),
                "doveadm move".into(),
                format!("{:.3}", floor.as_secs_f64()),
            ];
            record::record_cluster("parallel", ("parallel", parallel.to_string()), &figures);
            if parallel == default_parallel {
                let leading = ("bench", "execution".to_string());
                record::record_cluster("cluster_execution", leading, &figures);
            }
            println!(
                "airdesk, {name} connector, {parallel:>2} mailboxes at once: {took:.2?} = {:.2}x doveadm ({:.0} messages/s, peak {peak:.0} MiB)",
                took.as_secs_f64() / floor.as_secs_f64(),
                total as f64 / took.as_secs_f64()
            );
            check_all_in(&root, &names, "Recoverable Items", per_mailbox);
            doveadm_move(&dovecot, &users_file, "INBOX", "Recoverable Items", total);
        }
    }
}

fn doveadm_move(dovecot: &Dovecot, users: &Path, to: &str, from: &str, total: usize) -> Duration {
    let started = Instant::now();
    let out = dovecot.doveadm(&[
        "move",
        "-F",
        &users.display().to_string(),
        to,
        "mailbox",
        from,
        "all",
    ]);
    let took = started.elapsed();
    assert!(out.status.success(), "doveadm move: {out:?}");
    let _ = total;
    took
}

fn check_all_in(root: &Path, names: &[String], folder: &str, per_mailbox: usize) {
    for mailbox in names {
        let dir = root.join(mailbox).join(format!(".{folder}"));
        let count: usize = ["cur", "new"]
            .iter()
            .filter_map(|s| std::fs::read_dir(dir.join(s)).ok())
            .map(|e| e.count())
            .sum();
        assert_eq!(count, per_mailbox, "{mailbox} {folder}");
    }
}
