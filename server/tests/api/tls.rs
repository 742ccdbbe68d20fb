//! TLS to the mail server: a real Dovecot with `ssl = required` and a certificate from a CA made
//! at test time. The IMAP and ManageSieve connectors must reach it over implicit TLS and
//! STARTTLS, and refuse — with the reason — a certificate from another CA, an expired one, one
//! for another host, and a server that does not offer the STARTTLS they were told to require.

use std::path::PathBuf;

use mail::imap::{Endpoint, Imap};
use mail::sieve::SieveForwarding;
use mail::tls::{Security, Tls, TlsSettings};
use mail::{Folders, Forwarding, ForwardingError, MessageSource, StoreError};
use model::InternalDomains;
use tempfile::TempDir;

use crate::certs::{Kind, TestCa};
use crate::connectors::imap_settings_with;
use crate::dovecot::Dovecot;

const ALICE: &str = "alice@example.test";

fn endpoint(port: u16, security: Security) -> Endpoint {
    Endpoint {
        host: "127.0.0.1".into(),
        port,
        security,
    }
}

/// A trust store holding only `ca`, written to a file as `--mail-ca-file` would name it.
fn trusting(ca: &TestCa) -> (Tls, TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let file: PathBuf = ca.write(dir.path());
    let tls = Tls::new(&TlsSettings {
        ca_file: Some(file),
        insecure: false,
    })
    .unwrap();
    (tls, dir)
}

/// The IMAP connector over `imap`, ManageSieve over `sieve`; returns what listing the mailbox's
/// folders and reading its forwarding answered.
async fn reach(
    imap: Endpoint,
    sieve: Endpoint,
    tls: Tls,
) -> (Result<(), StoreError>, Result<(), ForwardingError>) {
    let connector = Imap::new(imap_settings_with(imap, sieve, tls), Folders::default());
    let listed = connector.folder_stamps(ALICE).await.map(|_| ());
    let forwarding = SieveForwarding(connector.sieve())
        .external_forwards(ALICE, &InternalDomains::new(&["example.test".to_string()]))
        .await
        .map(|_| ());
    (listed, forwarding)
}

fn unavailable_because(outcome: &Result<(), StoreError>, words: &str) {
    match outcome {
        Err(StoreError::Unavailable(why)) => assert!(why.contains(words), "{why}"),
        other => panic!("expected Unavailable({words}), got {other:?}"),
    }
}

fn sieve_refused_because(outcome: &Result<(), ForwardingError>, words: &str) {
    let text = match outcome {
        Err(error) => error.to_string(),
        Ok(()) => panic!("expected an error with {words}"),
    };
    assert!(text.contains(words), "{text}");
}

#[tokio::test]
async fn implicit_tls_and_starttls_reach_a_server_whose_certificate_verifies() {
    let ca = TestCa::new("airdesk test CA");
    let dovecot = Dovecot::start_with(&[ALICE], Some(&ca.server_cert(Kind::Valid)));
    let (tls, _dir) = trusting(&ca);
    let sieve = endpoint(dovecot.sieve_port, Security::StartTls);

    let (listed, forwarding) = reach(
        endpoint(dovecot.imaps_port, Security::Implicit),
        sieve.clone(),
        tls.clone(),
    )
    .await;
    listed.expect("imaps:// with the private CA");
    forwarding.expect("ManageSieve after STARTTLS");
    let (listed, _) = reach(endpoint(dovecot.imap_port, Security::StartTls), sieve, tls).await;
    listed.expect("imap:// with STARTTLS required");

    // The server logged each login as made over TLS.
    let log = dovecot.log();
    let logins: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("Login: user=<"))
        .collect();
    assert!(!logins.is_empty(), "{log}");
    assert!(logins.iter().all(|l| l.contains("TLS")), "{log}");
}

#[tokio::test]
async fn a_certificate_from_another_ca_is_refused() {
    let ca = TestCa::new("airdesk test CA");
    let dovecot = Dovecot::start_with(&[ALICE], Some(&ca.server_cert(Kind::Valid)));
    let (stranger, _dir) = trusting(&TestCa::new("someone else's CA"));

    let (listed, forwarding) = reach(
        endpoint(dovecot.imaps_port, Security::Implicit),
        endpoint(dovecot.sieve_port, Security::StartTls),
        stranger.clone(),
    )
    .await;
    unavailable_because(&listed, "certificate was refused: UnknownIssuer");
    sieve_refused_because(&forwarding, "UnknownIssuer");
    let (listed, _) = reach(
        endpoint(dovecot.imap_port, Security::StartTls),
        endpoint(dovecot.sieve_port, Security::StartTls),
        stranger,
    )
    .await;
    unavailable_because(&listed, "UnknownIssuer");
}

#[tokio::test]
async fn an_expired_certificate_and_one_for_another_host_are_refused() {
    let ca = TestCa::new("airdesk test CA");
    let (tls, _dir) = trusting(&ca);
    for (kind, reason) in [
        (Kind::Expired, "Expired"),
        (Kind::OtherHost, "NotValidForName"),
    ] {
        let dovecot = Dovecot::start_with(&[ALICE], Some(&ca.server_cert(kind)));
        let (listed, forwarding) = reach(
            endpoint(dovecot.imaps_port, Security::Implicit),
            endpoint(dovecot.sieve_port, Security::StartTls),
            tls.clone(),
        )
        .await;
        unavailable_because(&listed, reason);
        sieve_refused_because(&forwarding, reason);
    }
}

#[tokio::test]
async fn starttls_required_by_the_url_but_not_offered_is_refused_not_skipped() {
    // A server without TLS (or someone between us stripping STARTTLS from its answers).
    let dovecot = Dovecot::start(&[ALICE]);
    let ca = TestCa::new("airdesk test CA");
    let (tls, _dir) = trusting(&ca);
    let (listed, forwarding) = reach(
        endpoint(dovecot.imap_port, Security::StartTls),
        endpoint(dovecot.sieve_port, Security::StartTls),
        tls,
    )
    .await;
    unavailable_because(&listed, "STARTTLS is required");
    sieve_refused_because(&forwarding, "does not offer STARTTLS");
    assert!(
        !dovecot.log().contains(&format!("user=<{ALICE}>")),
        "no login was sent in clear text: {}",
        dovecot.log()
    );
}

#[tokio::test]
async fn insecure_mode_accepts_an_unverified_certificate_only_when_asked() {
    let ca = TestCa::new("a CA nobody trusts");
    let dovecot = Dovecot::start_with(&[ALICE], Some(&ca.server_cert(Kind::OtherHost)));
    let insecure = Tls::new(&TlsSettings {
        ca_file: None,
        insecure: true,
    })
    .unwrap();
    let (listed, forwarding) = reach(
        endpoint(dovecot.imaps_port, Security::Implicit),
        endpoint(dovecot.sieve_port, Security::StartTls),
        insecure,
    )
    .await;
    listed.expect("--mail-tls-insecure takes any certificate");
    forwarding.expect("ManageSieve likewise");
}
