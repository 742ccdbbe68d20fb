//! Threat indicators: what is known to be bad, and until when.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::{ClusterBy, Verdict};

/// A threat indicator, as the API takes and lists it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Indicator {
    /// Given by the server; ignored on the way in.
    #[serde(default)]
    pub id: String,
    pub kind: IndicatorKind,
    pub value: String,
    /// `malicious` or `suspicious`.
    pub verdict: Verdict,
    pub expires_at: Option<DateTime<Utc>>,
}

crate::enums::word_enum!(
    /// What an indicator's value is: a URL, a domain (URL hosts and sender domains), a sender,
    /// or the SHA-256 hex of an attachment's decoded content.
    IndicatorKind {
        Url = "url" / "URL",
        Domain = "domain" / "Domain",
        Sender = "sender" / "Sender",
        AttachmentHash = "attachment_hash" / "Attachment hash",
    }
);

impl IndicatorKind {
    /// The email cluster an indicator of this kind hunts for directly; a domain hunts through
    /// the URLs and senders on it instead.
    pub fn cluster_by(self) -> Option<ClusterBy> {
        match self {
            IndicatorKind::Url => Some(ClusterBy::Url),
            IndicatorKind::Sender => Some(ClusterBy::Sender),
            IndicatorKind::AttachmentHash => Some(ClusterBy::AttachmentHash),
            IndicatorKind::Domain => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_kinds_do_not_parse() {
        let bad: Result<Indicator, _> = serde_json::from_value(serde_json::json!({
            "kind": "ip", "value": "10.0.0.1", "verdict": "malicious"
        }));
        assert!(bad.is_err());
        let good: Indicator = serde_json::from_value(serde_json::json!({
            "kind": "attachment_hash", "value": "ab", "verdict": "suspicious"
        }))
        .unwrap();
        assert_eq!(good.kind, IndicatorKind::AttachmentHash);
        assert_eq!(good.expires_at, None);
    }
}
