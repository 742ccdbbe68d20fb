//! What became of an event sent to a webhook endpoint (the Deliveries view, `GET
//! /api/v1/webhooks/deliveries`).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// One event's delivery to one endpoint.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Delivery {
    pub id: String,
    /// The endpoint's name (never its URL, which may hold a secret).
    pub endpoint: String,
    pub event_seq: i64,
    /// The event's id: the CloudEvents `id` and the `webhook-id` header.
    pub event_id: String,
    /// `action.approved`, `investigation.ended`, …
    pub event_type: String,
    /// `action/<id>`, `investigation/<id>`, `policy/<origin>`.
    pub subject: String,
    pub event_at: DateTime<Utc>,
    /// pending, delivered or failed.
    pub status: String,
    pub attempts: i64,
    /// When it is tried next (pending only).
    pub next_attempt_at: Option<DateTime<Utc>>,
    /// The last answer's HTTP status.
    pub last_status: Option<i64>,
    /// Why the last attempt did not deliver.
    pub last_error: Option<String>,
    pub updated_at: DateTime<Utc>,
}
