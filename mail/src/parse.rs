//! One message, read for the index: who sent it to whom, what it says it is, where its links
//! go, what it carries, and what the receiving server thought of its authentication. MIME is
//! mail-parser's job; what we pick out of it is ours. Everything here is attacker-controlled
//! text: it is bounded, never trusted, and a message that does not parse still yields what
//! its headers gave.

use chrono::{DateTime, Utc};
use mail_parser::{Address, MessageParser, MimeHeaders};
use model::message_id;
use sha2::{Digest, Sha256};

mod links;
pub mod report;

use links::Links;
pub use links::{normalise_url, url_domain, url_host, url_pattern, MAX_HOSTS, MAX_URLS};

/// The most attachments kept per message (a hostile message may carry thousands).
pub const MAX_ATTACHMENTS: usize = 100;
/// How much of a message its content fingerprint covers.
pub const FINGERPRINT_BYTES: usize = 1024 * 1024;
/// Longest text kept from one header value.
const MAX_TEXT: usize = 998;

/// What the index knows about one delivered copy.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Parsed {
    /// `<id@host>`; a message without one gets `<sha256-of-content@airdesk.invalid>` so it can
    /// still be clustered and acted on.
    pub internet_message_id: String,
    /// Lowercased address, empty when there is none.
    pub sender: String,
    pub sender_domain: String,
    pub sender_name: String,
    pub reply_to: Option<String>,
    pub recipients: Vec<String>,
    pub subject: String,
    pub subject_fingerprint: String,
    /// The Date header; None when missing or unreadable (the caller falls back).
    pub date: Option<DateTime<Utc>>,
    pub urls: Vec<String>,
    /// Links not kept in `urls` (past [`MAX_URLS`], or too long): the message is marked so a
    /// URL cluster still finds it by host.
    pub urls_dropped: usize,
    /// Every distinct URL host (up to [`MAX_HOSTS`]), whether or not its URL was kept.
    pub hosts: Vec<String>,
    /// Hosts past [`MAX_HOSTS`].
    pub hosts_dropped: usize,
    pub attachments: Vec<Attachment>,
    pub auth: Authentication,
    /// False when the body was not parsed (too large, or not MIME at all).
    pub body_read: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attachment {
    pub name: String,
    /// Hex SHA-256 of the decoded content.
    pub sha256: String,
}

/// The receiving server's verdicts from Authentication-Results (`pass`, `fail`, `softfail`,
/// `none`, …), lowercased; None when absent.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Authentication {
    pub spf: Option<String>,
    pub dkim: Option<String>,
    pub dmarc: Option<String>,
}

impl Authentication {
    /// Whether any check came back as a failure.
    pub fn failed(&self) -> bool {
        [&self.spf, &self.dkim, &self.dmarc]
            .iter()
            .any(|v| matches!(v.as_deref(), Some("fail" | "softfail" | "permerror")))
    }
}

/// Reads `raw`. `full` false reads headers only (the caller decided the message is too large
/// for its body to be worth the memory).
pub fn parse(raw: &[u8], full: bool) -> Parsed {
    let parser = MessageParser::default();
    let message = if full {
        parser.parse(raw)
    } else {
        parser.parse_headers(raw)
    };
    let Some(message) = message else {
        return Parsed {
            internet_message_id: synthetic_id(raw),
            ..Parsed::default()
        };
    };
    let (sender, sender_name) = first_address(message.from());
    let sender_domain = domain_of(&sender);
    let subject = bounded(message.subject().unwrap_or_default());
    let mut recipients: Vec<String> = [message.to(), message.cc()]
        .into_iter()
        .flatten()
        .flat_map(|a| a.iter())
        .filter_map(|a| a.address())
        .map(|a| bounded(a).to_lowercase())
        .collect();
    recipients.sort();
    recipients.dedup();
    recipients.truncate(MAX_URLS);

    let mut links = Links::default();
    let mut attachments = Vec::new();
    if full {
        // Each body part once, as sent (an HTML part keeps its hrefs); a plain-text message
        // lists its one part as both its text and its HTML body.
        let mut parts: Vec<u32> = message
            .text_body
            .iter()
            .chain(&message.html_body)
            .copied()
            .collect();
        parts.sort_unstable();
        parts.dedup();
        for text in parts
            .into_iter()
            .filter_map(|id| message.part(id))
            .filter_map(|part| part.text_contents())
        {
            links.collect(text);
        }
        for part in message.attachments().take(MAX_ATTACHMENTS) {
            let name = part
                .attachment_name()
                .map(bounded)
                .unwrap_or_else(|| "(unnamed)".into());
            attachments.push(Attachment {
                name,
                sha256: hex::encode(Sha256::digest(part.contents())),
            });
        }
    }
    let Links {
        mut urls,
        urls_dropped,
        hosts,
        hosts_dropped,
    } = links;
    urls.sort();
    let mut hosts: Vec<String> = hosts.into_iter().collect();
    hosts.sort();

    Parsed {
        internet_message_id: message
            .message_id()
            .filter(|id| id.len() <= MAX_TEXT)
            .map(message_id::bracketed)
            .filter(|id| id.len() > 2)
            .unwrap_or_else(|| synthetic_id(raw)),
        sender_domain,
        sender,
        sender_name,
        reply_to: Some(first_address(message.reply_to()).0).filter(|a| !a.is_empty()),
        recipients,
        subject_fingerprint: fingerprint(&subject),
        subject,
        date: message
            .date()
            .and_then(|d| DateTime::from_timestamp(d.to_timestamp(), 0)),
        urls,
        urls_dropped,
        hosts,
        hosts_dropped,
        attachments,
        auth: authentication(
            message
                .header_values("Authentication-Results")
                .filter_map(|v| v.as_text()),
        ),
        body_read: full,
    }
}

/// The normalised subject campaigns share despite small variations: reply and forward
/// prefixes dropped, digits folded to `#`, punctuation and case ignored.
pub fn fingerprint(subject: &str) -> String {
    let mut text = subject.trim().to_lowercase();
    loop {
        let stripped = ["re:", "fw:", "fwd:", "aw:", "wg:", "[external]"]
            .iter()
            .find_map(|p| text.strip_prefix(p))
            .map(|rest| rest.trim_start().to_string());
        match stripped {
            Some(rest) => text = rest,
            None => break,
        }
    }
    let mut out = String::with_capacity(text.len());
    let mut last = ' ';
    for c in text.chars() {
        let c = if c.is_numeric() {
            '#'
        } else if c.is_alphanumeric() {
            c
        } else {
            ' '
        };
        if (c == ' ' || c == '#') && c == last {
            continue;
        }
        out.push(c);
        last = c;
    }
    out.trim().to_string()
}

/// The fingerprint of a message's content, which its sender does not choose the way they
/// choose its headers: SHA-256 of its first [`FINGERPRINT_BYTES`] with CRLF line ends read as
/// LF (so the same message reads the same from a Maildir file and over IMAP). Sources pass at
/// least that much of the message.
pub fn content_hash(raw: &[u8]) -> String {
    let raw = &raw[..raw.len().min(FINGERPRINT_BYTES)];
    let mut hasher = Sha256::new();
    let mut start = 0;
    for (i, pair) in raw.windows(2).enumerate() {
        if pair == b"\r\n" {
            hasher.update(&raw[start..i]);
            start = i + 1;
        }
    }
    hasher.update(&raw[start..]);
    hex::encode(hasher.finalize())
}

fn first_address(address: Option<&Address>) -> (String, String) {
    let first = address.and_then(|a| a.first());
    (
        first
            .and_then(|a| a.address())
            .map(|a| bounded(a).to_lowercase())
            .unwrap_or_default(),
        first
            .and_then(|a| a.name())
            .map(bounded)
            .unwrap_or_default(),
    )
}

/// The domain of an address, lowercased; empty when it has none.
pub fn domain_of(address: &str) -> String {
    address
        .rsplit_once('@')
        .map(|(_, d)| d.trim_end_matches('>').to_lowercase())
        .unwrap_or_default()
}

/// `spf=pass smtp.mailfrom=…; dkim=fail …; dmarc=fail …` → the three results. The first
/// header (the one our own server added on top) wins.
fn authentication<'a>(headers: impl Iterator<Item = &'a str>) -> Authentication {
    let mut auth = Authentication::default();
    for header in headers {
        for token in header.split(|c: char| c.is_whitespace() || c == ';') {
            let Some((method, result)) = token.split_once('=') else {
                continue;
            };
            let result = result
                .trim_matches(|c: char| !c.is_ascii_alphanumeric())
                .to_ascii_lowercase();
            if result.is_empty() || result.len() > 16 {
                continue;
            }
            let slot = match method.to_ascii_lowercase().as_str() {
                "spf" => &mut auth.spf,
                "dkim" => &mut auth.dkim,
                "dmarc" => &mut auth.dmarc,
                _ => continue,
            };
            slot.get_or_insert(result);
        }
    }
    auth
}

/// A Message-ID for a message without one: stable for the same content.
fn synthetic_id(raw: &[u8]) -> String {
    format!(
        "<{}@airdesk.invalid>",
        &hex::encode(Sha256::digest(raw))[..32]
    )
}

/// At most MAX_TEXT characters, control characters removed (they have no business in a
/// subject or an address and can spoof what the portal shows).
fn bounded(text: &str) -> String {
    text.chars()
        .filter(|c| !c.is_control())
        .take(MAX_TEXT)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn campaigns_with_small_variations_share_a_fingerprint() {
        assert_eq!(fingerprint("Invoice 1234 overdue!"), "invoice # overdue");
        assert_eq!(
            fingerprint("RE: Fwd: invoice 98 OVERDUE"),
            "invoice # overdue"
        );
        assert_ne!(
            fingerprint("Weekly newsletter #12"),
            fingerprint("Invoice 12 overdue")
        );
    }

    #[test]
    fn a_message_yields_its_indicators() {
        let raw = b"Message-ID: <m1@evil.test>\r\n\
From: \"Billing\" <Billing@Evil.test>\r\n\
Reply-To: pay@elsewhere.test\r\n\
To: alice@example.test, Bob <bob@example.test>\r\n\
Subject: Invoice 42 overdue\r\n\
Date: Fri, 20 Nov 2026 09:00:00 +0000\r\n\
Authentication-Results: mx.example.test; spf=fail smtp.mailfrom=evil.test; dkim=none; dmarc=fail header.from=evil.test\r\n\
MIME-Version: 1.0\r\n\
Content-Type: multipart/mixed; boundary=b\r\n\r\n\
--b\r\nContent-Type: text/html\r\n\r\n<a href=\"http://Pay.Evil.test/x?a=1&amp;b=2\">pay</a> <img src=x onerror=alert(1)>\r\n\
--b\r\nContent-Type: application/octet-stream\r\nContent-Disposition: attachment; filename=\"invoice.xlsm\"\r\n\r\nPK-macro\r\n\
--b--\r\n";
        let parsed = parse(raw, true);
        assert_eq!(parsed.internet_message_id, "<m1@evil.test>");
        assert_eq!(parsed.sender, "billing@evil.test");
        assert_eq!(parsed.sender_domain, "evil.test");
        assert_eq!(parsed.sender_name, "Billing");
        assert_eq!(parsed.reply_to.as_deref(), Some("pay@elsewhere.test"));
        assert_eq!(
            parsed.recipients,
            ["alice@example.test", "bob@example.test"]
        );
        assert_eq!(parsed.subject_fingerprint, "invoice # overdue");
        assert_eq!(
            parsed.date.unwrap().to_rfc3339(),
            "2026-11-20T09:00:00+00:00"
        );
        assert_eq!(parsed.urls, ["http://pay.evil.test/x?a=1&b=2"]);
        assert_eq!(parsed.attachments.len(), 1);
        assert_eq!(parsed.attachments[0].name, "invoice.xlsm");
        assert_eq!(
            parsed.attachments[0].sha256,
            hex::encode(Sha256::digest(b"PK-macro"))
        );
        assert_eq!(parsed.auth.spf.as_deref(), Some("fail"));
        assert_eq!(parsed.auth.dkim.as_deref(), Some("none"));
        assert!(parsed.auth.failed());
    }

    #[test]
    fn decoy_links_cannot_hide_a_host() {
        let mut body = String::new();
        for n in 0..250 {
            body.push_str(&format!("https://decoy{n}.test/a "));
        }
        body.push_str("https://login.evil.test/verify?u=77");
        let raw = format!("Message-ID: <d@x>\r\nContent-Type: text/plain\r\n\r\n{body}\r\n");
        let parsed = parse(raw.as_bytes(), true);
        assert_eq!(parsed.urls.len(), MAX_URLS);
        assert_eq!(parsed.urls_dropped, 51);
        assert!(parsed.hosts.contains(&"login.evil.test".to_string()));
        assert_eq!(parsed.hosts.len(), 251);
    }

    #[test]
    fn the_content_fingerprint_ignores_line_end_style() {
        assert_eq!(content_hash(b"a\r\nb\r\n"), content_hash(b"a\nb\n"));
        assert_ne!(content_hash(b"a\nb\n"), content_hash(b"a\nc\n"));
        let big = vec![b'x'; FINGERPRINT_BYTES + 10];
        assert_eq!(content_hash(&big), content_hash(&big[..FINGERPRINT_BYTES]));
    }

    #[test]
    fn garbage_still_gets_an_identity() {
        let parsed = parse(b"\xff\xfe not a message at all", true);
        assert!(parsed.internet_message_id.ends_with("@airdesk.invalid>"));
        let again = parse(b"\xff\xfe not a message at all", true);
        assert_eq!(parsed.internet_message_id, again.internet_message_id);
        let headers_only = parse(b"Subject: =?x-unknown?Q?caf=E9?=\r\n\r\nbody", false);
        assert!(!headers_only.body_read);
    }
}
