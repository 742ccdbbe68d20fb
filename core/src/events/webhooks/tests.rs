//! The signing, filters, secrets and backoff of webhooks.
use super::endpoint::filter_matches;
use super::*;

#[test]
fn the_signature_is_the_standard_webhooks_one() {
    // The example of the Standard Webhooks specification's reference libraries.
    let secret = Secret::parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
    let body = br#"{"test": 2432232314}"#;
    assert_eq!(
        secret.sign("msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body),
        "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
    );
}

#[test]
fn short_and_malformed_secrets_are_refused() {
    assert!(Secret::parse("short").is_err());
    assert!(Secret::parse("whsec_not base64!").is_err());
    assert!(Secret::parse("a-raw-secret-of-enough-bytes-here").is_ok());
}

#[test]
fn filters_take_a_type_or_a_family_and_nothing_else() {
    assert!(filter_matches("action.*", "action.approved"));
    assert!(filter_matches("airdesk.action.approved", "action.approved"));
    assert!(!filter_matches("action.*", "actions.approved"));
    assert!(!filter_matches("action.approved", "action.approved_later"));
    assert!(Endpoint::new(
        "x".into(),
        "https://h.test/",
        None,
        vec!["action.aproved".into()],
        Format::Slack
    )
    .is_err());
    assert!(Endpoint::new(
        "x".into(),
        "https://h.test/",
        None,
        vec![],
        Format::Cloudevents
    )
    .is_err());
    assert!(Endpoint::new(
        "x".into(),
        "file:///etc/passwd",
        None,
        vec![],
        Format::Slack
    )
    .is_err());
}

#[test]
fn backoff_doubles_from_the_first_wait_up_to_an_hour() {
    let first = Duration::from_secs(5);
    assert_eq!(backoff(first, 1), Duration::from_secs(5));
    assert_eq!(backoff(first, 2), Duration::from_secs(10));
    assert_eq!(backoff(first, 4), Duration::from_secs(40));
    assert_eq!(backoff(first, 40), Duration::from_secs(3600));
}

#[test]
fn an_endpoint_named_by_its_url_shows_no_path() {
    let name = Endpoint::name_for("https://hooks.slack.test/services/T0/B0/SECRET");
    assert!(name.starts_with("hooks.slack.test#"), "{name}");
    assert!(!name.contains("SECRET"));
}
