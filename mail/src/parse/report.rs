//! A message an employee sent to the phish-report mailbox, read for what it reports: the
//! original attached whole (`message/rfc822`, as report buttons and "forward as attachment"
//! send it), or — for an inline forward — what names the original: the Message-IDs the
//! forward refers to (`X-Forwarded-Message-Id`, `References`, `In-Reply-To`) and the
//! forwarded block's From, Subject and Date. Everything here is written by whoever sent the
//! report; the caller trusts none of it until it has found the original in the reporter's own
//! mailbox.

use chrono::{DateTime, Utc};
use mail_parser::{HeaderValue, MessageParser, PartType};
use model::message_id;

/// What a report message reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserReport {
    /// The report's From address, lowercased (who reports).
    pub reporter: String,
    pub original: Original,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Original {
    /// The original, attached whole: its Message-ID and its content fingerprint
    /// ([`super::content_hash`]), which tells it apart from a copy that reuses the ID.
    Attached {
        internet_message_id: String,
        content_sha256: String,
    },
    /// An inline forward: the Message-IDs it refers to, and the forwarded block's headers.
    Inline {
        message_ids: Vec<String>,
        from: Option<String>,
        subject: Option<String>,
        date: Option<DateTime<Utc>>,
    },
}

/// Why a report cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Unreadable {
    #[error("not a MIME message")]
    NotMime,
    #[error("the report has no From address")]
    NoReporter,
    #[error("the report names no original: nothing attached, no forwarded headers")]
    NoOriginal,
}

/// Reads a report message.
pub fn read_report(raw: &[u8]) -> Result<UserReport, Unreadable> {
    let message = MessageParser::default()
        .parse(raw)
        .ok_or(Unreadable::NotMime)?;
    let reporter = message
        .from()
        .and_then(|a| a.first())
        .and_then(|a| a.address())
        .map(|a| a.trim().to_lowercase())
        .filter(|a| a.contains('@') && !a.chars().any(char::is_control))
        .ok_or(Unreadable::NoReporter)?;
    // The first attached message: what a report button attaches.
    let attached = message.parts.iter().find_map(|part| match &part.body {
        PartType::Message(inner) => Some(inner.raw_message().to_vec()),
        _ => None,
    });
    if let Some(raw) = attached {
        let inner = super::parse(&raw, false);
        return Ok(UserReport {
            reporter,
            original: Original::Attached {
                internet_message_id: inner.internet_message_id,
                content_sha256: super::content_hash(&raw),
            },
        });
    }
    let mut message_ids: Vec<String> = Vec::new();
    if let Some(forwarded) = message.header_raw("X-Forwarded-Message-Id") {
        message_ids.extend(ids_in(forwarded));
    }
    for header in [message.references(), message.in_reply_to()] {
        match header {
            HeaderValue::Text(id) => message_ids.push(message_id::bracketed(id)),
            HeaderValue::TextList(ids) => {
                message_ids.extend(ids.iter().map(|id| message_id::bracketed(id)))
            }
            _ => {}
        }
    }
    message_ids.dedup();
    message_ids.truncate(MAX_IDS);
    let text: String = message
        .text_bodies()
        .filter_map(|part| part.text_contents())
        .collect::<Vec<_>>()
        .join("\n");
    let block = forwarded_block(&text);
    if message_ids.is_empty() && block.from.is_none() {
        return Err(Unreadable::NoOriginal);
    }
    Ok(UserReport {
        reporter,
        original: Original::Inline {
            message_ids,
            from: block.from,
            subject: block.subject,
            date: block.date,
        },
    })
}

/// The most Message-IDs a forward is taken to refer to (a hostile References header may list
/// thousands).
const MAX_IDS: usize = 8;

fn ids_in(text: &str) -> Vec<String> {
    text.split_whitespace()
        .filter(|t| t.starts_with('<') && t.ends_with('>') && t.len() > 2)
        .map(message_id::bracketed)
        .take(MAX_IDS)
        .collect()
}

/// The headers of an inline-forwarded block, as mail clients write them.
#[derive(Debug, Default, PartialEq, Eq)]
struct Block {
    from: Option<String>,
    subject: Option<String>,
    date: Option<DateTime<Utc>>,
}

/// Finds the first forwarded block ("---------- Forwarded message ---------", "-------- Original
/// Message --------", "Begin forwarded message:", Outlook's "From: … Sent: …") and reads its
/// From, Subject and Date/Sent lines.
fn forwarded_block(text: &str) -> Block {
    let lines: Vec<&str> = text
        .lines()
        .map(|l| l.trim_start_matches('>').trim())
        .collect();
    let start = lines.iter().position(|l| {
        let lower = l.to_ascii_lowercase();
        (lower.starts_with("---")
            && (lower.contains("forwarded") || lower.contains("original message")))
            || lower.starts_with("begin forwarded message")
    });
    // Outlook writes no marker: the block starts at the first "From:" line.
    let start = start.map(|s| s + 1).or_else(|| {
        lines
            .iter()
            .position(|l| l.to_ascii_lowercase().starts_with("from:"))
    });
    let Some(start) = start else {
        return Block::default();
    };
    let mut block = Block::default();
    for line in lines.iter().skip(start).take(12) {
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        let value = value.trim();
        match name.trim().to_ascii_lowercase().as_str() {
            "from" if block.from.is_none() => block.from = address_in(value),
            "subject" if block.subject.is_none() => {
                block.subject = Some(value.chars().take(998).collect())
            }
            "date" | "sent" if block.date.is_none() => block.date = date_in(value),
            _ => {}
        }
    }
    block
}

/// The address of `Name <addr>` or a bare `addr`, lowercased.
fn address_in(value: &str) -> Option<String> {
    let inner = match (value.rfind('<'), value.rfind('>')) {
        (Some(open), Some(close)) if open < close => &value[open + 1..close],
        _ => value,
    };
    let address = inner.trim().trim_start_matches("mailto:").to_lowercase();
    (address.contains('@') && !address.contains(char::is_whitespace)).then_some(address)
}

/// Dates as clients write them in forwarded blocks: RFC 2822, or "Fri, Nov 20, 2026 at 9:00
/// AM" (Gmail) — the latter to the day only, which is all the caller matches on.
fn date_in(value: &str) -> Option<DateTime<Utc>> {
    if let Ok(date) = DateTime::parse_from_rfc2822(value) {
        return Some(date.to_utc());
    }
    let day = value.split(" at ").next().unwrap_or(value).trim();
    for format in [
        "%a, %b %d, %Y",
        "%A, %B %d, %Y",
        "%B %d, %Y",
        "%a, %d %b %Y",
        "%d %B %Y",
    ] {
        if let Ok(date) = chrono::NaiveDate::parse_from_str(day, format) {
            return date.and_hms_opt(12, 0, 0).map(|d| d.and_utc());
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    const ORIGINAL: &str = "Message-ID: <orig-1@evil.test>\r\nFrom: billing@evil.test\r\nTo: alice@example.test\r\nSubject: Invoice overdue\r\nDate: Fri, 20 Nov 2026 09:00:00 +0000\r\n\r\nPay at http://invoice.evil.test/pay\r\n";

    fn attached_report(from: &str) -> String {
        format!(
            "From: {from}\r\nTo: phish@example.test\r\nSubject: Phishing report\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b\"\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nThis looks like phish.\r\n--b\r\nContent-Type: message/rfc822\r\nContent-Disposition: attachment\r\n\r\n{ORIGINAL}\r\n--b--\r\n"
        )
    }

    #[test]
    fn an_attached_original_is_reported_by_its_id_and_content() {
        let report = read_report(attached_report("Alice <Alice@Example.test>").as_bytes()).unwrap();
        assert_eq!(report.reporter, "alice@example.test");
        let Original::Attached {
            internet_message_id,
            content_sha256,
        } = report.original
        else {
            panic!("attached");
        };
        assert_eq!(internet_message_id, "<orig-1@evil.test>");
        assert_eq!(
            content_sha256,
            crate::parse::content_hash(ORIGINAL.as_bytes())
        );
    }

    #[test]
    fn a_gmail_inline_forward_names_the_originals_headers() {
        let raw = "From: bob@example.test\r\nTo: phish@example.test\r\nSubject: Fwd: Invoice overdue\r\n\r\nFYI\r\n\r\n---------- Forwarded message ---------\r\nFrom: Billing <billing@evil.test>\r\nDate: Fri, Nov 20, 2026 at 9:00 AM\r\nSubject: Invoice overdue\r\nTo: <bob@example.test>\r\n\r\nPay at http://invoice.evil.test/pay\r\n";
        let report = read_report(raw.as_bytes()).unwrap();
        assert_eq!(report.reporter, "bob@example.test");
        assert_eq!(
            report.original,
            Original::Inline {
                message_ids: vec![],
                from: Some("billing@evil.test".into()),
                subject: Some("Invoice overdue".into()),
                date: Some("2026-11-20T12:00:00Z".parse().unwrap()),
            }
        );
    }

    #[test]
    fn a_thunderbird_forward_names_the_original_by_id() {
        let raw = "From: bob@example.test\r\nX-Forwarded-Message-Id: <orig-1@evil.test>\r\nReferences: <orig-1@evil.test>\r\nSubject: Fwd: x\r\n\r\n-------- Forwarded Message --------\r\nSubject: \tInvoice overdue\r\nDate: \tFri, 20 Nov 2026 09:00:00 +0000\r\nFrom: \tbilling@evil.test\r\n\r\nbody\r\n";
        let Original::Inline {
            message_ids, from, ..
        } = read_report(raw.as_bytes()).unwrap().original
        else {
            panic!("inline");
        };
        assert_eq!(message_ids, vec!["<orig-1@evil.test>".to_string()]);
        assert_eq!(from.as_deref(), Some("billing@evil.test"));
    }

    #[test]
    fn a_report_without_an_original_or_a_reporter_is_unreadable() {
        assert_eq!(
            read_report(b"From: carol@example.test\r\nSubject: hi\r\n\r\njust text\r\n"),
            Err(Unreadable::NoOriginal)
        );
        assert_eq!(
            read_report(attached_report("no address here").as_bytes()).map(|r| r.reporter),
            Err(Unreadable::NoReporter)
        );
    }

    #[test]
    fn a_hostile_references_header_is_cut_short() {
        let ids: String = (0..5000).map(|i| format!("<{i}@x.test> ")).collect();
        let raw = format!("From: bob@example.test\r\nReferences: {ids}\r\n\r\nbody\r\n");
        let Original::Inline { message_ids, .. } = read_report(raw.as_bytes()).unwrap().original
        else {
            panic!("inline");
        };
        assert_eq!(message_ids.len(), MAX_IDS);
    }
}
