//! Benchmark (not a test): one approved soft delete of a 10,000-message cluster spread over
//! 100 mailboxes on a real Cyrus IMAP 3.6 (Debian's, unpacked by scripts/setup), carried out by
//! the jmap connector and by the imap connector on the same server, beside the server's own
//! speed for the same moves.
//!
//! 1. The floor: each mailbox's owner moves its whole inbox to Recoverable Items with one
//!    `UID MOVE 1:*` (one round trip per mailbox; nothing looked for), and back.
//! 2. airdesk's imap connector (the service account authorised as each mailbox) soft deletes
//!    the cluster, from approval to Completed with every per-message result recorded; the
//!    owners move the messages back.
//! 3. JMAP's floor: the service account moves each inbox with one bare `Email/query` and one
//!    `Email/set` of every id (nothing looked for, no `ifInState`), and back.
//! 4. airdesk's jmap connector does the same (`Email/set` batches under `ifInState`).
//!
//! Run: `cargo bench -p server --bench cyrus` (AIRDESK_BENCH_MAILBOXES and
//! AIRDESK_BENCH_PER_MAILBOX scale it).

#[path = "support/cluster.rs"]
mod cluster;
#[path = "../tests/api/cyrus.rs"]
#[allow(dead_code)]
mod cyrus;

use std::time::{Duration, Instant};

use mail::imap::{Endpoint, ImapSettings};
use mail::jmap::JmapSettings;
use mail::tls::{Tls, TlsSettings};
use mail::Connector;

use cyrus::{Cyrus, PASSWORD, SERVICE};

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
    let started = Instant::now();
    let server = Cyrus::start(&refs);
    for mailbox in &names {
        server.as_owner(mailbox, |imap| {
            imap.ok("CREATE \"Recoverable Items\"");
            for n in 0..per_mailbox {
                let id = format!("<campaign-{n}@evil.test>");
                imap.append("INBOX", cluster::message(mailbox, &id).as_bytes());
            }
        });
    }
    println!(
        "{total} messages in {mailboxes} mailboxes on Cyrus (IMAP 127.0.0.1:{}, JMAP :{}), \
         filled in {:.1?}",
        server.imap_port,
        server.http_port,
        started.elapsed()
    );

    let floor = move_all(&server, &names, "INBOX", "Recoverable Items", per_mailbox);
    move_all(&server, &names, "Recoverable Items", "INBOX", per_mailbox);
    println!("owners' UID MOVE 1:* per mailbox (server-side floor): {floor:.2?}");

    let imap = Connector::Imap {
        settings: Box::new(ImapSettings {
            imap: Endpoint::loopback(server.imap_port),
            user: SERVICE.into(),
            password: PASSWORD.into(),
            oauth2: None,
            master_separator: String::new(),
            managesieve: Some(Endpoint::loopback(server.sieve_port)),
            tls: Tls::new(&TlsSettings::default()).unwrap(),
            max_connections: 8,
            index_connections: 2,
            sieve_connections: 4,
            timeout: Duration::from_secs(30),
        }),
        index_mailboxes: names.clone(),
    };
    let over_imap = cluster::soft_delete(imap, &names, per_mailbox).await;
    report("imap", over_imap, floor, total);
    check_all_in(&server, &names, "Recoverable Items", per_mailbox);
    move_all(&server, &names, "Recoverable Items", "INBOX", per_mailbox);

    let jmap_floor =
        jmap_move_all(&server, &names, "INBOX", "Recoverable Items", per_mailbox).await;
    jmap_move_all(&server, &names, "Recoverable Items", "INBOX", per_mailbox).await;
    println!(
        "service account's bare Email/query + Email/set per mailbox (JMAP floor): {jmap_floor:.2?} \
         = {:.1}x the IMAP floor",
        jmap_floor.as_secs_f64() / floor.as_secs_f64()
    );

    let jmap = Connector::Jmap {
        settings: Box::new(JmapSettings {
            session_url: server.session_url(),
            user: SERVICE.into(),
            password: PASSWORD.into(),
            oauth2: None,
            managesieve: Some(Endpoint::loopback(server.sieve_port)),
            tls: Tls::new(&TlsSettings::default()).unwrap(),
            timeout: Duration::from_secs(30),
        }),
        index_mailboxes: names.clone(),
    };
    let over_jmap = cluster::soft_delete(jmap, &names, per_mailbox).await;
    report("jmap", over_jmap, floor, total);
    check_all_in(&server, &names, "Recoverable Items", per_mailbox);
    println!(
        "jmap / imap on the same Cyrus: {:.2}; airdesk's jmap / the JMAP floor: {:.2}",
        over_jmap.as_secs_f64() / over_imap.as_secs_f64(),
        over_jmap.as_secs_f64() / jmap_floor.as_secs_f64()
    );
}

/// The service account moves every Email of `from` to `to` in each mailbox over bare JMAP:
/// one `Email/query` and one `Email/set` per mailbox, one mailbox after another (as the IMAP
/// floor goes); the mailboxes' ids are read before the clock starts.
async fn jmap_move_all(
    server: &Cyrus,
    names: &[String],
    from: &str,
    to: &str,
    expected: usize,
) -> Duration {
    use serde_json::{json, Value};
    let client = reqwest::Client::new();
    let api = format!("http://127.0.0.1:{}/jmap/", server.http_port);
    let call = |calls: Value| {
        let client = client.clone();
        let api = api.clone();
        async move {
            let body = json!({
                "using": ["urn:ietf:params:jmap:core", "urn:ietf:params:jmap:mail"],
                "methodCalls": calls,
            });
            let answer: Value = client
                .post(api)
                .basic_auth(SERVICE, Some(PASSWORD))
                .json(&body)
                .send()
                .await
                .expect("JMAP answers")
                .json()
                .await
                .expect("JMAP JSON");
            answer["methodResponses"][0][1].clone()
        }
    };
    let mut folders = Vec::new();
    for mailbox in names {
        let listed = call(json!([["Mailbox/get", {"accountId": mailbox}, "m"]])).await;
        let id_of = |folder: &str| {
            listed["list"]
                .as_array()
                .into_iter()
                .flatten()
                .find(|m| match folder {
                    "INBOX" => m["role"] == "inbox",
                    name => m["name"] == name,
                })
                .and_then(|m| m["id"].as_str())
                .unwrap_or_else(|| panic!("{mailbox} has no {folder}: {listed}"))
                .to_string()
        };
        folders.push((id_of(from), id_of(to)));
    }
    let started = Instant::now();
    for (mailbox, (from, to)) in names.iter().zip(&folders) {
        let query = json!([["Email/query", {
            "accountId": mailbox, "filter": {"inMailbox": from}, "limit": expected + 1,
        }, "q"]]);
        let ids = call(query).await["ids"].clone();
        let ids = ids.as_array().expect("ids");
        assert_eq!(ids.len(), expected, "{mailbox}");
        let update: serde_json::Map<String, Value> = ids
            .iter()
            .filter_map(Value::as_str)
            .map(|id| {
                let patch =
                    json!({format!("mailboxIds/{from}"): null, format!("mailboxIds/{to}"): true});
                (id.to_string(), patch)
            })
            .collect();
        let set = call(json!([["Email/set", {"accountId": mailbox, "update": update}, "s"]])).await;
        let updated = set["updated"].as_object().map_or(0, |u| u.len());
        assert_eq!(updated, expected, "{mailbox}: {set}");
    }
    started.elapsed()
}

fn report(connector: &str, took: Duration, floor: Duration, total: usize) {
    println!(
        "airdesk, {connector} connector: {took:.2?} = {:.1}x the floor ({:.0} messages/s)",
        took.as_secs_f64() / floor.as_secs_f64(),
        total as f64 / took.as_secs_f64()
    );
}

/// Each owner moves every message of `from` to `to` in one command; the time for all.
fn move_all(server: &Cyrus, names: &[String], from: &str, to: &str, expected: usize) -> Duration {
    let started = Instant::now();
    for mailbox in names {
        server.as_owner(mailbox, |imap| {
            let selected = imap.ok(&format!("SELECT \"{from}\""));
            let exists = format!("* {expected} EXISTS");
            assert!(
                selected.iter().any(|line| line.trim_end() == exists),
                "{mailbox} {from}: {selected:?}"
            );
            imap.ok(&format!("UID MOVE 1:* \"{to}\""));
        });
    }
    started.elapsed()
}

fn check_all_in(server: &Cyrus, names: &[String], folder: &str, per_mailbox: usize) {
    for mailbox in names {
        let files = server.as_owner(mailbox, |imap| imap.files(folder));
        assert_eq!(files.len(), per_mailbox, "{mailbox} {folder}");
    }
}
