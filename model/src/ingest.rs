//! The body of `POST /api/v1/investigations`: an investigation's result from outside.
//! Addresses and message ids are parsed on the way in, so the rules never see bad ones.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{
    AppError, ClusterBy, EmailAddress, ForwardTarget, InternetMessageId, InvestigationType,
    MessageLocation, Severity, Verdict,
};

/// The most clusters, messages and forwarding entries one ingest may carry.
pub const MAX_CLUSTERS: usize = 1_000;
pub const MAX_MESSAGES: usize = 20_000;
const MAX_TEXT: usize = 998;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", schema(example = json!({
    "title": "User-reported phish: Invoice overdue",
    "investigation_type": "user_reported",
    "alert": {"title": "Email reported by user as phish", "severity": "high"},
    "clusters": [{
        "cluster_by": "url",
        "cluster_value": "http://invoice.evil.test/pay",
        "verdict": "malicious",
        "messages": [{
            "mailbox": "alice@example.test",
            "internet_message_id": "<c1-1@evil.test>",
            "sender": "billing@evil.test",
            "subject": "Invoice overdue",
            "received_at": "2026-11-20T09:00:00Z"
        }]
    }],
    "forwarding": [{"mailbox": "bob@example.test", "forward_to": "bob@elsewhere.test", "verdict": "suspicious"}]
})))]
pub struct IngestInvestigation {
    #[cfg_attr(
        feature = "openapi",
        schema(min_length = 1, max_length = 512, pattern = "\\S")
    )]
    pub title: String,
    pub investigation_type: InvestigationType,
    pub alert: IngestAlert,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(max_items = 1000))]
    pub clusters: Vec<IngestCluster>,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(max_items = 1000))]
    pub forwarding: Vec<IngestForwarding>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct IngestAlert {
    #[cfg_attr(
        feature = "openapi",
        schema(min_length = 1, max_length = 512, pattern = "\\S")
    )]
    pub title: String,
    pub severity: Severity,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct IngestCluster {
    pub cluster_by: ClusterBy,
    #[cfg_attr(
        feature = "openapi",
        schema(min_length = 1, max_length = 2048, pattern = "\\S")
    )]
    pub cluster_value: String,
    pub verdict: Verdict,
    /// At most 20,000 messages in all the clusters of one investigation.
    #[cfg_attr(feature = "openapi", schema(min_items = 1, max_items = 20000))]
    pub messages: Vec<IngestMessage>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct IngestMessage {
    pub mailbox: EmailAddress,
    pub internet_message_id: InternetMessageId,
    #[cfg_attr(feature = "openapi", schema(max_length = 998))]
    pub sender: String,
    #[cfg_attr(feature = "openapi", schema(max_length = 998))]
    pub subject: String,
    pub received_at: DateTime<Utc>,
    /// Where the message is now, if the investigation knows; Inbox otherwise.
    #[serde(default)]
    pub location: Option<MessageLocation>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct IngestForwarding {
    pub mailbox: EmailAddress,
    /// An address, or the rule's text when it hides one (a variable, say): outside unless it
    /// is plainly an address on an internal domain.
    #[cfg_attr(feature = "openapi", schema(value_type = String, min_length = 1, max_length = 998, pattern = "\\S"))]
    pub forward_to: ForwardTarget,
    pub verdict: Verdict,
    /// How it was found, when that matters.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(max_length = 998))]
    pub detail: Option<String>,
}

impl IngestInvestigation {
    /// Checks what serde cannot: lengths, counts, and that nothing is blank.
    pub fn check(&self) -> Result<(), AppError> {
        text("title", &self.title, 512)?;
        text("alert.title", &self.alert.title, 512)?;
        if self.clusters.len() > MAX_CLUSTERS {
            return Err(AppError::Invalid(format!(
                "at most {MAX_CLUSTERS} clusters"
            )));
        }
        let messages: usize = self.clusters.iter().map(|c| c.messages.len()).sum();
        if messages > MAX_MESSAGES {
            return Err(AppError::Invalid(format!(
                "at most {MAX_MESSAGES} messages"
            )));
        }
        if self.forwarding.len() > MAX_CLUSTERS {
            return Err(AppError::Invalid(format!(
                "at most {MAX_CLUSTERS} forwarding entries"
            )));
        }
        for forwarding in &self.forwarding {
            bounded(
                "detail",
                forwarding.detail.as_deref().unwrap_or(""),
                MAX_TEXT,
            )?;
        }
        for cluster in &self.clusters {
            text("cluster_value", &cluster.cluster_value, 2048)?;
            if cluster.messages.is_empty() {
                // A cluster's action acts on its copies: with none it could only fail.
                return Err(AppError::Invalid(format!(
                    "cluster {:?} has no messages: there is nothing to act on",
                    cluster.cluster_value
                )));
            }
            for message in &cluster.messages {
                bounded("sender", &message.sender, MAX_TEXT)?;
                bounded("subject", &message.subject, MAX_TEXT)?;
            }
        }
        Ok(())
    }
}

fn text(field: &str, value: &str, max: usize) -> Result<(), AppError> {
    if value.trim().is_empty() {
        return Err(AppError::Invalid(format!("{field} must not be blank")));
    }
    bounded(field, value, max)
}

fn bounded(field: &str, value: &str, max: usize) -> Result<(), AppError> {
    if value.chars().count() > max {
        return Err(AppError::Invalid(format!(
            "{field} is longer than {max} characters"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blank_titles_are_rejected() {
        let mut body: IngestInvestigation = serde_json::from_value(serde_json::json!({
            "title": "t", "investigation_type": "manual",
            "alert": {"title": "a", "severity": "low"}
        }))
        .unwrap();
        assert!(body.check().is_ok());
        body.title = "   ".into();
        assert!(body.check().is_err());
    }

    #[test]
    fn a_cluster_without_messages_is_rejected() {
        let body: IngestInvestigation = serde_json::from_value(serde_json::json!({
            "title": "t", "investigation_type": "manual",
            "alert": {"title": "a", "severity": "low"},
            "clusters": [{"cluster_by": "url", "cluster_value": "http://x.test/",
                          "verdict": "malicious", "messages": []}]
        }))
        .unwrap();
        let error = body.check().unwrap_err().to_string();
        assert!(error.contains("no messages"), "{error}");
    }
}
