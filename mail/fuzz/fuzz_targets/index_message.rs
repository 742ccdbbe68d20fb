//! Fuzzes the indexing of one message: whatever the bytes, reading them must not panic, must
//! stay within its bounds, and must give the message an identity.

#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../../src/parse.rs"]
#[allow(dead_code)]
mod parse;

fuzz_target!(|data: &[u8]| {
    for full in [true, false] {
        let read = parse::parse(data, full);
        assert!(read.internet_message_id.starts_with('<') && read.internet_message_id.ends_with('>'));
        assert!(read.urls.len() <= parse::MAX_URLS);
        assert!(read.attachments.len() <= parse::MAX_ATTACHMENTS);
        assert!(read.subject.chars().count() <= 998);
        assert!(!read.subject.chars().any(char::is_control));
        assert!(read.urls.iter().all(|u| u.starts_with("http://") || u.starts_with("https://")));
        assert_eq!(read.subject_fingerprint, parse::fingerprint(&read.subject));
    }
});
