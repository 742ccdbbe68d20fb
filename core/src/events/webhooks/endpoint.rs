//! A webhook endpoint as configured: where, which events, in which format, and the Standard
//! Webhooks key that signs what it is sent.

use base64::Engine as _;
use hmac::{Hmac, Mac};
use serde::Deserialize;
use sha2::Sha256;

/// How an endpoint wants its events.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Format {
    /// CloudEvents 1.0 structured JSON, signed (Standard Webhooks).
    #[default]
    Cloudevents,
    /// `{"text": …}` for a Slack or Teams incoming webhook: "3 actions pending approval —
    /// Open action center".
    Slack,
}

/// A configured receiver of events.
#[derive(Clone)]
pub struct Endpoint {
    /// Names the endpoint in deliveries and logs (its URL may hold a secret, so never that).
    pub name: String,
    pub url: url::Url,
    /// The Standard Webhooks signing key; None sends unsigned (chat channels only).
    pub secret: Option<Secret>,
    /// Event types it wants (`action.*` takes a family); empty: all.
    pub events: Vec<String>,
    pub format: Format,
}

impl std::fmt::Debug for Endpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Endpoint")
            .field("name", &self.name)
            .field("host", &self.url.host_str())
            .field("events", &self.events)
            .field("format", &self.format)
            .finish_non_exhaustive()
    }
}

impl Endpoint {
    /// Checks the filter against the known types, so a typo fails at start rather than
    /// silently matching nothing.
    pub fn new(
        name: String,
        url: &str,
        secret: Option<Secret>,
        events: Vec<String>,
        format: Format,
    ) -> Result<Self, String> {
        let url = url::Url::parse(url).map_err(|e| format!("webhook {name}: bad URL: {e}"))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(format!(
                "webhook {name}: the URL must be http:// or https://"
            ));
        }
        if secret.is_none() && format == Format::Cloudevents {
            return Err(format!(
                "webhook {name}: a signing secret is needed (secret_file, or --webhook-secret-file)"
            ));
        }
        for filter in &events {
            let known = crate::events::TYPES
                .iter()
                .any(|t| filter_matches(filter, t));
            if !known {
                return Err(format!(
                    "webhook {name}: `{filter}` matches no event type (known: {})",
                    crate::events::TYPES.join(", ")
                ));
            }
        }
        Ok(Endpoint {
            name,
            url,
            secret,
            events,
            format,
        })
    }

    /// The name an endpoint given only by its URL goes by: its host and a digest of the
    /// whole URL (stable across restarts, and no secret of the URL's path in it).
    pub fn name_for(url: &str) -> String {
        use sha2::Digest;
        let host = url::Url::parse(url)
            .ok()
            .and_then(|u| u.host_str().map(str::to_string))
            .unwrap_or_else(|| "webhook".into());
        let digest = hex::encode(Sha256::digest(url.as_bytes()));
        format!("{host}#{}", &digest[..8])
    }

    pub fn wants(&self, event_type: &str) -> bool {
        self.events.is_empty() || self.events.iter().any(|f| filter_matches(f, event_type))
    }
}

/// `action.*` matches a family; anything else one type (with or without `airdesk.`).
pub(super) fn filter_matches(filter: &str, event_type: &str) -> bool {
    let filter = filter
        .strip_prefix(crate::events::TYPE_PREFIX)
        .unwrap_or(filter);
    match filter.strip_suffix(".*") {
        Some(family) => event_type
            .strip_prefix(family)
            .is_some_and(|rest| rest.starts_with('.')),
        None => filter == "*" || filter == event_type,
    }
}

/// A Standard Webhooks signing key.
#[derive(Clone)]
pub struct Secret(Vec<u8>);

impl Secret {
    /// A secret as operators store it: `whsec_` and the key in base64 (what Standard Webhooks
    /// libraries generate and verify with), or the key's raw text. At least 24 bytes.
    pub fn parse(text: &str) -> Result<Self, String> {
        let text = text.trim();
        let key = match text.strip_prefix("whsec_") {
            Some(encoded) => base64::engine::general_purpose::STANDARD
                .decode(encoded)
                .map_err(|_| "a whsec_ secret must be base64 after the prefix".to_string())?,
            None => text.as_bytes().to_vec(),
        };
        if key.len() < 24 {
            return Err(format!(
                "a webhook secret needs at least 24 bytes; this one has {}",
                key.len()
            ));
        }
        Ok(Secret(key))
    }

    /// The `webhook-signature` header: `v1,` and the base64 HMAC-SHA256 of
    /// `{id}.{timestamp}.{body}`.
    pub fn sign(&self, id: &str, timestamp: i64, body: &[u8]) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.0).expect("HMAC takes any key");
        mac.update(id.as_bytes());
        mac.update(b".");
        mac.update(timestamp.to_string().as_bytes());
        mac.update(b".");
        mac.update(body);
        let tag = mac.finalize().into_bytes();
        format!(
            "v1,{}",
            base64::engine::general_purpose::STANDARD.encode(tag)
        )
    }
}
