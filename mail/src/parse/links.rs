//! The links of a message: which URLs and hosts the index keeps, how a URL is normalised, and
//! the pattern that one personalised campaign's links share.

/// The most URLs kept per message (a hostile message may carry thousands).
pub const MAX_URLS: usize = 200;
/// The most distinct URL hosts kept per message: every host of any message worth reading, so
/// decoy links before the malicious one cannot hide its host.
pub const MAX_HOSTS: usize = 10_000;
/// Longest URL kept.
const MAX_URL: usize = 2048;

/// `https://Evil.test:443/a?b#frag` → `https://evil.test/a?b`: scheme and host lowercased,
/// default port and fragment dropped. None for what is not an http(s) URL.
pub fn normalise_url(text: &str) -> Option<String> {
    let text = text.replace("&amp;", "&");
    let mut url = url::Url::parse(text.trim()).ok()?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return None;
    }
    url.set_fragment(None);
    let url = url.to_string();
    (url.len() <= MAX_URL).then_some(url)
}

/// The host of a normalised URL.
pub fn url_domain(url: &str) -> String {
    url::Url::parse(url)
        .ok()
        .and_then(|u| u.host_str().map(str::to_string))
        .unwrap_or_default()
}

/// The links of a message: the URLs kept, every host, and what was dropped.
#[derive(Default)]
pub(super) struct Links {
    pub urls: Vec<String>,
    pub urls_dropped: usize,
    pub hosts: std::collections::BTreeSet<String>,
    pub hosts_dropped: usize,
}

impl Links {
    pub fn collect(&mut self, text: &str) {
        let mut finder = linkify::LinkFinder::new();
        finder.kinds(&[linkify::LinkKind::Url]);
        for link in finder.links(text) {
            let Some(host) = url_host(link.as_str()) else {
                continue;
            };
            if self.hosts.len() < MAX_HOSTS {
                self.hosts.insert(host);
            } else if !self.hosts.contains(&host) {
                self.hosts_dropped += 1;
            }
            match normalise_url(link.as_str()) {
                Some(url) if self.urls.contains(&url) => {}
                Some(url) if self.urls.len() < MAX_URLS => self.urls.push(url),
                _ => self.urls_dropped += 1,
            }
        }
    }
}

/// The host of any http(s) link, however long, lowercased.
pub fn url_host(text: &str) -> Option<String> {
    let url = url::Url::parse(text.replace("&amp;", "&").trim()).ok()?;
    if !matches!(url.scheme(), "http" | "https") {
        return None;
    }
    url.host_str().map(str::to_ascii_lowercase)
}

/// A normalised URL with what is personal to one recipient taken out: every query value, and
/// each path segment that reads like a token (digits mixed into six or more characters, sixteen
/// or more token characters, an address). `https://login.evil.test/verify?u=123&t=9` and
/// `…?u=456&t=1` share `https://login.evil.test/verify?t=*&u=*`, so one personalised campaign
/// is one cluster.
pub fn url_pattern(url: &str) -> Option<String> {
    let mut parsed = url::Url::parse(url).ok()?;
    let segments: Vec<String> = parsed
        .path_segments()
        .map(|segments| {
            segments
                .map(|s| {
                    if personal(s) {
                        "*".to_string()
                    } else {
                        s.to_string()
                    }
                })
                .collect()
        })
        .unwrap_or_default();
    let mut names: Vec<String> = parsed.query_pairs().map(|(k, _)| k.into_owned()).collect();
    names.sort();
    names.dedup();
    parsed.set_path(&segments.join("/"));
    let query: Vec<String> = names.iter().map(|n| format!("{n}=*")).collect();
    parsed.set_query((!query.is_empty()).then(|| query.join("&")).as_deref());
    parsed.set_fragment(None);
    Some(parsed.to_string())
}

/// Whether a path segment reads like something made for one recipient.
fn personal(segment: &str) -> bool {
    let token = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '%';
    segment.contains('@')
        || (segment.len() >= 6 && segment.chars().any(|c| c.is_ascii_digit()))
        || (segment.len() >= 16 && segment.chars().all(token))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_normalised_and_only_http() {
        assert_eq!(
            normalise_url("HTTPS://Evil.TEST:443/Pay?id=1&amp;x=2#top").as_deref(),
            Some("https://evil.test/Pay?id=1&x=2")
        );
        assert_eq!(normalise_url("javascript:alert(1)"), None);
        assert_eq!(normalise_url("mailto:a@b.test"), None);
        assert_eq!(url_domain("https://evil.test/pay"), "evil.test");
    }

    #[test]
    fn personalised_links_share_a_pattern() {
        let a = url_pattern("https://login.evil.test/verify?u=123&t=x").unwrap();
        let b = url_pattern("https://login.evil.test/verify?t=y&u=456").unwrap();
        assert_eq!(a, "https://login.evil.test/verify?t=*&u=*");
        assert_eq!(a, b);
        assert_eq!(
            url_pattern("https://evil.test/r/a1b2c3d4/login").unwrap(),
            "https://evil.test/r/*/login"
        );
        assert_eq!(
            url_pattern("https://shop.test/offers/winter").unwrap(),
            "https://shop.test/offers/winter"
        );
    }
}
