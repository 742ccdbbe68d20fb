//! The playbook's rules, as pure functions: the verdict a cluster's facts earn, what counts as
//! a look-alike of an internal domain, and what one message offers to cluster by.

use mail::parse::url_pattern;
use model::{ClusterBy, InternalDomains, Verdict};

use super::PlaybookConfig;

/// What is known about one cluster when its verdict is given.
#[derive(Debug, Clone, Default)]
pub struct ClusterFacts {
    /// Indicators its messages match, with their verdicts: `("url", "http://…", Malicious)`.
    pub matched: Vec<(String, String, Verdict)>,
    /// Different users who reported one of its messages.
    pub reporters: usize,
    /// Sender domains of its messages that failed authentication.
    pub failed_auth_domains: Vec<String>,
}

/// The verdict for a cluster, and why, in words for the log.
pub fn verdict(
    facts: &ClusterFacts,
    config: &PlaybookConfig,
    internal: &InternalDomains,
) -> (Verdict, String) {
    if let Some((kind, value, _)) = facts.matched.iter().find(|m| m.2 == Verdict::Malicious) {
        return (
            Verdict::Malicious,
            format!("matches malicious {kind} indicator {value}"),
        );
    }
    if let Some((kind, value, _)) = facts.matched.iter().find(|m| m.2 == Verdict::Suspicious) {
        return (
            Verdict::Suspicious,
            format!("matches suspicious {kind} indicator {value}"),
        );
    }
    if facts.reporters >= config.reports_for_suspicious {
        return (
            Verdict::Suspicious,
            format!("reported by {} users", facts.reporters),
        );
    }
    if let Some(domain) = facts
        .failed_auth_domains
        .iter()
        .find(|d| lookalike(d, internal, config.lookalike_distance).is_some())
    {
        let of = lookalike(domain, internal, config.lookalike_distance).unwrap_or_default();
        return (
            Verdict::Suspicious,
            format!("failed authentication from {domain}, a look-alike of {of}"),
        );
    }
    (Verdict::Clean, "no indicator matched".into())
}

/// The internal domain `domain` imitates, if it is close to one without being it (or one of
/// its subdomains).
pub fn lookalike(domain: &str, internal: &InternalDomains, distance: usize) -> Option<String> {
    let domain = domain.to_ascii_lowercase();
    if internal.contains(&domain) {
        return None;
    }
    internal
        .iter()
        .find(|d| {
            strsim::levenshtein(&domain, d) <= distance
                || confusable_skeleton(&domain) == confusable_skeleton(d)
        })
        .map(str::to_string)
}

/// `examp1e.test` and `exarnple.test` both read as `example.test`.
fn confusable_skeleton(domain: &str) -> String {
    domain
        .replace("rn", "m")
        .replace("vv", "w")
        .chars()
        .map(|c| match c {
            '0' => 'o',
            '1' | 'i' => 'l',
            '5' => 's',
            _ => c,
        })
        .collect()
}

/// What one message offers to cluster by: each of its URLs (by its pattern when the link is
/// personalised, so one campaign is one cluster, up to `max_urls` of them), attachment hashes,
/// its sender and its subject fingerprint (when it says something: two words or more). Also
/// answers the URLs left out, for the log to say so — their copies still fall in the
/// message's sender and subject clusters.
pub fn cluster_keys(
    sender: &str,
    fingerprint: &str,
    urls: &[String],
    hashes: &[String],
    config: &PlaybookConfig,
) -> (Vec<(ClusterBy, String)>, Vec<String>) {
    let mut keys: Vec<(ClusterBy, String)> = Vec::new();
    let mut left = Vec::new();
    for url in urls {
        let key = match url_pattern(url) {
            Some(pattern) if pattern != *url => (ClusterBy::UrlPattern, pattern),
            _ => (ClusterBy::Url, url.clone()),
        };
        if keys.contains(&key) {
            continue;
        }
        if keys.len() < config.max_urls {
            keys.push(key);
        } else {
            left.push(url.clone());
        }
    }
    keys.extend(
        hashes
            .iter()
            .map(|h| (ClusterBy::AttachmentHash, h.clone())),
    );
    if !sender.is_empty() {
        keys.push((ClusterBy::Sender, sender.to_string()));
    }
    if fingerprint.split_whitespace().count() >= 2 {
        keys.push((ClusterBy::SubjectFingerprint, fingerprint.to_string()));
    }
    keys.dedup();
    (keys, left)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn internal() -> InternalDomains {
        InternalDomains::new(["example.test"])
    }

    #[test]
    fn a_malicious_indicator_wins_over_everything() {
        let facts = ClusterFacts {
            matched: vec![
                ("domain".into(), "evil.test".into(), Verdict::Suspicious),
                (
                    "url".into(),
                    "http://evil.test/pay".into(),
                    Verdict::Malicious,
                ),
            ],
            reporters: 5,
            failed_auth_domains: vec![],
        };
        let (v, why) = verdict(&facts, &PlaybookConfig::default(), &internal());
        assert_eq!(v, Verdict::Malicious);
        assert!(why.contains("http://evil.test/pay"), "{why}");
    }

    #[test]
    fn several_reporters_make_a_cluster_suspicious_one_does_not() {
        let config = PlaybookConfig::default();
        let one = ClusterFacts {
            reporters: 1,
            ..Default::default()
        };
        assert_eq!(verdict(&one, &config, &internal()).0, Verdict::Clean);
        let two = ClusterFacts {
            reporters: 2,
            ..Default::default()
        };
        assert_eq!(verdict(&two, &config, &internal()).0, Verdict::Suspicious);
    }

    #[test]
    fn failed_authentication_matters_only_for_look_alikes_of_internal_domains() {
        let config = PlaybookConfig::default();
        for (domain, expected) in [
            ("examp1e.test", Verdict::Suspicious),
            ("exarnple.test", Verdict::Suspicious),
            ("example.tset", Verdict::Suspicious),
            ("example.test", Verdict::Clean), // ours: a failure is not a look-alike
            ("mail.example.test", Verdict::Clean), // our subdomain
            ("newsletter.test", Verdict::Clean),
        ] {
            let facts = ClusterFacts {
                failed_auth_domains: vec![domain.into()],
                ..Default::default()
            };
            assert_eq!(
                verdict(&facts, &config, &internal()).0,
                expected,
                "{domain}"
            );
        }
    }

    #[test]
    fn short_subjects_do_not_make_a_fingerprint_cluster() {
        let config = PlaybookConfig::default();
        let (keys, left) = cluster_keys(
            "a@evil.test",
            "hi",
            &["http://evil.test/".into()],
            &[],
            &config,
        );
        assert!(left.is_empty());
        assert_eq!(
            keys,
            [
                (ClusterBy::Url, "http://evil.test/".to_string()),
                (ClusterBy::Sender, "a@evil.test".to_string())
            ]
        );
        let many: Vec<String> = (0..50).map(|i| format!("http://evil.test/{i}")).collect();
        let (keys, left) = cluster_keys("", "", &many, &[], &config);
        assert_eq!(keys.len(), config.max_urls);
        assert_eq!(left.len(), 50 - config.max_urls, "what is left is said");
    }

    #[test]
    fn a_personalised_link_clusters_by_its_pattern() {
        let config = PlaybookConfig::default();
        let (keys, _) = cluster_keys(
            "",
            "",
            &["https://login.evil.test/verify?u=17".into()],
            &[],
            &config,
        );
        assert_eq!(
            keys,
            [(
                ClusterBy::UrlPattern,
                "https://login.evil.test/verify?u=*".to_string()
            )]
        );
    }
}
