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
    /// When it stops counting; none (absent, null or an empty string, as a form's blank field
    /// sends it) for never.
    #[serde(default, deserialize_with = "blank_is_none")]
    pub expires_at: Option<DateTime<Utc>>,
}

/// An RFC 3339 time, or none for null or an empty string.
fn blank_is_none<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<DateTime<Utc>>, D::Error> {
    match Option::<String>::deserialize(deserializer)? {
        None => Ok(None),
        Some(text) if text.is_empty() => Ok(None),
        Some(text) => DateTime::parse_from_rfc3339(&text)
            .map(|t| Some(t.to_utc()))
            .map_err(|e| {
                serde::de::Error::custom(format!("{e}: {text:?} is not an RFC 3339 time"))
            }),
    }
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

    #[test]
    fn an_expiry_is_a_time_or_blank() {
        let read = |expires_at: serde_json::Value| {
            serde_json::from_value::<Indicator>(serde_json::json!({
                "kind": "sender", "value": "a@evil.test", "verdict": "malicious",
                "expires_at": expires_at
            }))
        };
        assert_eq!(read(serde_json::json!("")).unwrap().expires_at, None);
        assert_eq!(read(serde_json::Value::Null).unwrap().expires_at, None);
        let at = read(serde_json::json!("2026-12-31T23:00:00+01:00")).unwrap();
        assert_eq!(
            at.expires_at.unwrap().to_rfc3339(),
            "2026-12-31T22:00:00+00:00"
        );
        for bad in ["0", "tomorrow", "2026-13-01T00:00:00Z"] {
            assert!(read(serde_json::json!(bad)).is_err(), "{bad}");
        }
        assert!(read(serde_json::json!(5)).is_err());
    }
}
