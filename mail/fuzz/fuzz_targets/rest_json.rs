//! Fuzzes the REST API's JSON bodies as the server reads them (JSON first, then the shape with
//! the path of what is wrong, then what serde cannot check): whatever the bytes, nothing
//! panics, and a body that is accepted means what it says — written back out and read again,
//! it is the same investigation or indicator.

#![no_main]

use libfuzzer_sys::fuzz_target;
use model::{Indicator, IngestInvestigation};

/// As `server/src/rest/json.rs` reads a body.
fn read<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Option<T> {
    let value: serde_json::Value = serde_json::from_slice(bytes).ok()?;
    serde_path_to_error::deserialize(value).ok()
}

fuzz_target!(|data: &[u8]| {
    if let Some(body) = read::<IngestInvestigation>(data) {
        if body.check().is_ok() {
            let again: IngestInvestigation =
                read(&serde_json::to_vec(&body).unwrap()).expect("an accepted body reads back");
            assert_eq!(again, body);
            assert!(again.check().is_ok());
        }
    }
    if let Some(indicator) = read::<Indicator>(data) {
        let again: Indicator =
            read(&serde_json::to_vec(&indicator).unwrap()).expect("an indicator reads back");
        assert_eq!(again, indicator);
    }
});
