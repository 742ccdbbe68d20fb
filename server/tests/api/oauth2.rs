//! OAuth2 sign-in to IMAP and ManageSieve (SASL XOAUTH2 and OAUTHBEARER) against a real
//! Dovecot whose oauth2 passdb asks a token-introspection endpoint started by the test: the
//! service principal's token opens each mailbox; expired and revoked tokens are refused with
//! the reason; client-credentials tokens are fetched once, again before they expire, and again
//! after a server refuses one.

use std::time::Duration;

use mail::imap::{Endpoint, Imap, ImapSettings};
use mail::oauth::{Bearer, Mechanism, TokenSource};
use mail::sieve::SieveForwarding;
use mail::tls::{Tls, TlsSettings};
use mail::{Folders, Forwarding, MessageSource, StoreError};
use model::InternalDomains;

use crate::dovecot::Dovecot;
use crate::idp::{Idp, CLIENT_ID, CLIENT_SECRET, PRINCIPAL};

const ALICE: &str = "alice@example.test";
const BOB: &str = "bob@example.test";
const CAROL: &str = "carol@example.test";
const DAVE: &str = "dave@example.test";

fn oauth_settings(dovecot: &Dovecot, source: TokenSource, mechanism: Mechanism) -> ImapSettings {
    let tls = Tls::new(&TlsSettings::default()).unwrap();
    let mut settings = crate::connectors::imap_settings_with(
        Endpoint::loopback(dovecot.imap_port),
        Endpoint::loopback(dovecot.sieve_port),
        tls.clone(),
    );
    settings.user = PRINCIPAL.into();
    settings.password = String::new();
    settings.oauth2 = Some(Bearer::new(source, mechanism, &tls).unwrap());
    // Dovecot delays the next sign-in from an address after a refused one (its auth penalty,
    // about 4 s here): the tests refuse tokens on purpose, then sign in again.
    settings.timeout = Duration::from_secs(15);
    settings
}

/// A new connector (so every sign-in is a new one) listing the mailbox's folders and reading
/// its forwarding.
async fn reach(settings: &ImapSettings, mailbox: &str) -> Result<(), String> {
    let connector = Imap::new(settings.clone(), Folders::default());
    connector
        .folder_stamps(mailbox)
        .await
        .map_err(|e| format!("IMAP: {e:?}"))?;
    SieveForwarding(connector.sieve())
        .external_forwards(
            mailbox,
            &InternalDomains::new(&["example.test".to_string()]),
        )
        .await
        .map_err(|e| format!("ManageSieve: {e:?}"))?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn the_service_token_opens_each_mailbox_with_xoauth2_and_oauthbearer() {
    let idp = Idp::start(Duration::from_secs(600)).await;
    let dovecot = Dovecot::start_oauth2(&[ALICE, BOB], &idp.introspection_url());
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("token");
    std::fs::write(&file, format!("{}\n", idp.issue(Duration::from_secs(600)))).unwrap();

    for (mechanism, mailbox) in [(Mechanism::XOAuth2, ALICE), (Mechanism::OAuthBearer, BOB)] {
        let settings = oauth_settings(&dovecot, TokenSource::File(file.clone()), mechanism);
        reach(&settings, mailbox).await.unwrap();
    }
    let log = dovecot.log();
    for (method, mailbox) in [("XOAUTH2", ALICE), ("OAUTHBEARER", BOB)] {
        assert!(
            log.lines().any(|l| l.contains("imap-login: Info: Login:")
                && l.contains(&format!("user=<{mailbox}>"))
                && l.contains(&format!("method={method}"))),
            "{method} as {mailbox}: {log}"
        );
        assert!(
            log.lines()
                .any(|l| l.contains("managesieve-login: Info: Login:")
                    && l.contains(&format!("user=<{mailbox}>"))),
            "ManageSieve as {mailbox}: {log}"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn expired_and_revoked_tokens_from_a_file_are_refused_and_the_helpers_next_one_used() {
    let idp = Idp::start(Duration::from_secs(600)).await;
    let dovecot = Dovecot::start_oauth2(&[ALICE], &idp.introspection_url());
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("token");
    let settings = oauth_settings(
        &dovecot,
        TokenSource::File(file.clone()),
        Mechanism::XOAuth2,
    );
    let refused = |outcome: Result<(), String>| {
        let error = outcome.unwrap_err();
        assert!(
            error.contains("Refused") && error.contains("cannot open mailbox"),
            "{error}"
        );
    };

    std::fs::write(&file, idp.issue(Duration::from_millis(500))).unwrap();
    tokio::time::sleep(Duration::from_millis(800)).await;
    refused(reach(&settings, ALICE).await);

    std::fs::write(&file, idp.issue(Duration::from_secs(600))).unwrap();
    if let Err(e) = reach(&settings, ALICE).await {
        panic!("the helper's new token: {e}\n{}", dovecot.log());
    }

    idp.revoke_all();
    refused(reach(&settings, ALICE).await);
}

#[tokio::test(flavor = "multi_thread")]
async fn client_credentials_are_fetched_once_again_before_expiry_and_after_a_refusal() {
    // Tokens live 8 s: used for 6 s (a quarter of their life is the margin), then replaced.
    // (Long enough to outlive Dovecot's penalty of about 4 s on a sign-in after a refusal.)
    let idp = Idp::start(Duration::from_secs(8)).await;
    let dovecot = Dovecot::start_oauth2(&[ALICE, BOB, CAROL, DAVE], &idp.introspection_url());
    let grant = |secret: &str| TokenSource::ClientCredentials {
        token_url: idp.token_url(),
        client_id: CLIENT_ID.into(),
        client_secret: secret.into(),
        scopes: vec!["mail".into()],
    };
    let settings = oauth_settings(&dovecot, grant(CLIENT_SECRET), Mechanism::XOAuth2);

    reach(&settings, ALICE).await.unwrap();
    reach(&settings, BOB).await.unwrap();
    assert_eq!(
        idp.grants(),
        1,
        "one token serves every sign-in while it is fresh"
    );

    tokio::time::sleep(Duration::from_millis(6300)).await;
    reach(&settings, CAROL).await.unwrap();
    assert_eq!(idp.grants(), 2, "fetched again before it expired");

    idp.revoke_all();
    if let Err(e) = reach(&settings, DAVE).await {
        panic!(
            "a refused token is replaced: {e}; {} grants\n{}",
            idp.grants(),
            dovecot.log()
        );
    }
    assert_eq!(idp.grants(), 3);

    // ManageSieve likewise: its sign-in fetches a new token after a refusal.
    idp.revoke_all();
    let connector = Imap::new(settings.clone(), Folders::default());
    SieveForwarding(connector.sieve())
        .external_forwards(ALICE, &InternalDomains::new(&["example.test".to_string()]))
        .await
        .expect("ManageSieve with a replaced token");
    assert_eq!(idp.grants(), 4);

    let wrong = oauth_settings(&dovecot, grant("not the secret"), Mechanism::XOAuth2);
    let connector = Imap::new(wrong, Folders::default());
    match connector.folder_stamps(ALICE).await {
        Err(StoreError::Unavailable(why)) => assert!(why.contains("invalid_client"), "{why}"),
        other => panic!("a wrong client secret: {other:?}"),
    }
}
