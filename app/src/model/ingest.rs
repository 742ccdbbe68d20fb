//! The body of `POST /api/v1/investigations`: an investigation's result from outside.
//! Addresses and message ids are parsed on the way in, so the rules never see bad ones.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{AppError, ClusterBy, InvestigationType, MessageLocation, Severity, Verdict};

/// The most clusters, messages and forwarding entries one ingest may carry.
pub const MAX_CLUSTERS: usize = 1_000;
pub const MAX_MESSAGES: usize = 20_000;
const MAX_TEXT: usize = 998;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "ssr", schema(example = json!({
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
    pub title: String,
    pub investigation_type: InvestigationType,
    pub alert: IngestAlert,
    #[serde(default)]
    pub clusters: Vec<IngestCluster>,
    #[serde(default)]
    pub forwarding: Vec<IngestForwarding>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct IngestAlert {
    pub title: String,
    pub severity: Severity,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct IngestCluster {
    pub cluster_by: ClusterBy,
    pub cluster_value: String,
    pub verdict: Verdict,
    pub messages: Vec<IngestMessage>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct IngestMessage {
    #[cfg_attr(feature = "ssr", schema(value_type = String))]
    pub mailbox: EmailAddress,
    #[cfg_attr(feature = "ssr", schema(value_type = String))]
    pub internet_message_id: InternetMessageId,
    pub sender: String,
    pub subject: String,
    pub received_at: DateTime<Utc>,
    /// Where the message is now, if the investigation knows; Inbox otherwise.
    #[serde(default)]
    pub location: Option<MessageLocation>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct IngestForwarding {
    #[cfg_attr(feature = "ssr", schema(value_type = String))]
    pub mailbox: EmailAddress,
    #[cfg_attr(feature = "ssr", schema(value_type = String))]
    pub forward_to: EmailAddress,
    pub verdict: Verdict,
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
        for cluster in &self.clusters {
            text("cluster_value", &cluster.cluster_value, 2048)?;
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

/// A mailbox address: `local@domain`, domain lower-cased, no spaces or control characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct EmailAddress(String);

impl EmailAddress {
    pub fn parse(text: &str) -> Result<Self, String> {
        let text = text.trim();
        let (local, domain) = text
            .rsplit_once('@')
            .ok_or_else(|| format!("{text:?} is not an email address"))?;
        let bad = |c: char| c.is_whitespace() || c.is_control() || "<>()[],;:\"\\".contains(c);
        if local.is_empty()
            || domain.is_empty()
            || text.len() > 254
            || text.chars().any(bad)
            || domain.starts_with('.')
            || domain.ends_with('.')
        {
            return Err(format!("{text:?} is not an email address"));
        }
        Ok(EmailAddress(format!(
            "{local}@{}",
            domain.to_ascii_lowercase()
        )))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn domain(&self) -> &str {
        self.0.rsplit_once('@').map(|(_, d)| d).unwrap_or_default()
    }

    /// Whether the domain is one of these or a subdomain of one.
    pub fn is_within(&self, domains: &[String]) -> bool {
        let own = self.domain();
        domains.iter().any(|d| {
            let d = d.trim().to_ascii_lowercase();
            own == d || own.ends_with(&format!(".{d}"))
        })
    }
}

impl TryFrom<String> for EmailAddress {
    type Error = String;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<EmailAddress> for String {
    fn from(value: EmailAddress) -> Self {
        value.0
    }
}

/// An Internet Message-ID: `<left@right>`, no spaces, at most 998 characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct InternetMessageId(String);

impl InternetMessageId {
    pub fn parse(text: &str) -> Result<Self, String> {
        let text = text.trim();
        let inner = text
            .strip_prefix('<')
            .and_then(|t| t.strip_suffix('>'))
            .ok_or_else(|| format!("{text:?} is not a Message-ID in angle brackets"))?;
        if inner.is_empty()
            || text.len() > MAX_TEXT
            || inner
                .chars()
                .any(|c| c.is_whitespace() || c.is_control() || c == '<' || c == '>')
        {
            return Err(format!("{text:?} is not a Message-ID"));
        }
        Ok(InternetMessageId(text.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for InternetMessageId {
    type Error = String;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<InternetMessageId> for String {
    fn from(value: InternetMessageId) -> Self {
        value.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_keep_the_local_part_and_lower_case_the_domain() {
        assert_eq!(
            EmailAddress::parse("Alice@Example.TEST").unwrap().as_str(),
            "Alice@example.test"
        );
    }

    #[test]
    fn addresses_without_at_or_with_spaces_are_rejected() {
        assert!(EmailAddress::parse("alice").is_err());
        assert!(EmailAddress::parse("al ice@example.test").is_err());
        assert!(EmailAddress::parse("@example.test").is_err());
        assert!(EmailAddress::parse("<a@b.test>").is_err());
    }

    #[test]
    fn subdomains_of_internal_domains_are_internal() {
        let domains = vec!["example.test".to_string()];
        assert!(EmailAddress::parse("a@mail.example.test")
            .unwrap()
            .is_within(&domains));
        assert!(!EmailAddress::parse("a@notexample.test")
            .unwrap()
            .is_within(&domains));
        assert!(!EmailAddress::parse("a@elsewhere.test")
            .unwrap()
            .is_within(&domains));
    }

    #[test]
    fn message_ids_need_angle_brackets_and_no_spaces() {
        assert!(InternetMessageId::parse("<a@b>").is_ok());
        assert!(InternetMessageId::parse("a@b").is_err());
        assert!(InternetMessageId::parse("<a b@c>").is_err());
        assert!(InternetMessageId::parse("<>").is_err());
    }

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
}
