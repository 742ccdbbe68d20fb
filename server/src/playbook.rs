//! The investigation playbook: from an alert to clusters, verdicts, forwarding checks and
//! pending actions, each step written to the investigation's log. The verdict rules are the
//! pure functions at the top of this module; the rest gathers their facts from the message
//! index and the mail store, and hands the result to the same ingest the REST API uses, so the
//! proposals, the duplicate rule and the audit trail are the ones every investigation gets.

use std::collections::BTreeSet;
use std::time::Duration;

use app::model::{
    AppError, ClusterBy, CurrentUser, EmailAddress, IngestAlert, IngestCluster, IngestForwarding,
    IngestInvestigation, IngestMessage, InternetMessageId, InvestigationCreated, InvestigationType,
    MessageLocation, Role, Severity, Verdict,
};
use app::server::clock::{db_time, now};
use app::server::AppState;
use sqlx::SqlitePool;

use crate::index::{self, IndexedMessage};
use crate::mail::sieve::external_forwards;
use crate::mail::SharedStore;

/// The playbook's thresholds.
#[derive(Debug, Clone)]
pub struct PlaybookConfig {
    /// How far back clusters reach.
    pub lookback: Duration,
    /// Reports by this many different users make a cluster Suspicious.
    pub reports_for_suspicious: usize,
    /// A sender domain within this many edits of an internal domain (but not it) is a
    /// look-alike.
    pub lookalike_distance: usize,
    /// The most messages one cluster takes in.
    pub max_cluster_messages: usize,
    /// The most URLs of one message that become clusters.
    pub max_urls: usize,
}

impl Default for PlaybookConfig {
    fn default() -> Self {
        PlaybookConfig {
            lookback: Duration::from_secs(30 * 24 * 3600),
            reports_for_suspicious: 2,
            lookalike_distance: 2,
            max_cluster_messages: 5_000,
            max_urls: 20,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The rules.

/// What is known about one cluster when its verdict is given.
#[derive(Debug, Clone, Default)]
pub struct ClusterFacts {
    /// Indicators its messages match, with their verdicts: `("url", "http://…", Malicious)`.
    pub matched: Vec<(String, String, Verdict)>,
    /// Different users who reported one of its messages.
    pub reporters: usize,
    /// Sender domains of its messages that failed authentication.
    pub failed_auth_domains: Vec<String>,
}

/// The verdict for a cluster, and why, in words for the log.
pub fn verdict(
    facts: &ClusterFacts,
    config: &PlaybookConfig,
    internal: &[String],
) -> (Verdict, String) {
    if let Some((kind, value, _)) = facts.matched.iter().find(|m| m.2 == Verdict::Malicious) {
        return (
            Verdict::Malicious,
            format!("matches malicious {kind} indicator {value}"),
        );
    }
    if let Some((kind, value, _)) = facts.matched.iter().find(|m| m.2 == Verdict::Suspicious) {
        return (
            Verdict::Suspicious,
            format!("matches suspicious {kind} indicator {value}"),
        );
    }
    if facts.reporters >= config.reports_for_suspicious {
        return (
            Verdict::Suspicious,
            format!("reported by {} users", facts.reporters),
        );
    }
    if let Some(domain) = facts
        .failed_auth_domains
        .iter()
        .find(|d| lookalike(d, internal, config.lookalike_distance).is_some())
    {
        let of = lookalike(domain, internal, config.lookalike_distance).unwrap_or_default();
        return (
            Verdict::Suspicious,
            format!("failed authentication from {domain}, a look-alike of {of}"),
        );
    }
    (Verdict::Clean, "no indicator matched".into())
}

/// The internal domain `domain` imitates, if it is close to one without being it.
pub fn lookalike(domain: &str, internal: &[String], distance: usize) -> Option<String> {
    let domain = domain.to_ascii_lowercase();
    internal.iter().map(|d| d.to_ascii_lowercase()).find(|d| {
        *d != domain
            && !domain.ends_with(&format!(".{d}"))
            && (strsim::levenshtein(&domain, d) <= distance
                || confusable_skeleton(&domain) == confusable_skeleton(d))
    })
}

/// `examp1e.test` and `exarnple.test` both read as `example.test`.
fn confusable_skeleton(domain: &str) -> String {
    domain
        .replace("rn", "m")
        .replace("vv", "w")
        .chars()
        .map(|c| match c {
            '0' => 'o',
            '1' | 'i' => 'l',
            '5' => 's',
            _ => c,
        })
        .collect()
}

/// What one message offers to cluster by: its URLs (up to a limit), attachment hashes, its
/// sender and its subject fingerprint (when it says something: two words or more).
pub fn cluster_keys(
    sender: &str,
    fingerprint: &str,
    urls: &[String],
    hashes: &[String],
    config: &PlaybookConfig,
) -> Vec<(ClusterBy, String)> {
    let mut keys: Vec<(ClusterBy, String)> = urls
        .iter()
        .take(config.max_urls)
        .map(|u| (ClusterBy::Url, u.clone()))
        .collect();
    keys.extend(
        hashes
            .iter()
            .map(|h| (ClusterBy::AttachmentHash, h.clone())),
    );
    if !sender.is_empty() {
        keys.push((ClusterBy::Sender, sender.to_string()));
    }
    if fingerprint.split_whitespace().count() >= 2 {
        keys.push((ClusterBy::SubjectFingerprint, fingerprint.to_string()));
    }
    keys.dedup();
    keys
}

// ---------------------------------------------------------------------------------------------
// Gathering the facts.

/// What starts an investigation.
#[derive(Debug, Clone)]
pub enum Trigger {
    /// A user reported this copy as phish.
    Report {
        reported_by: String,
        message: Box<IndexedMessage>,
    },
    /// A new indicator: hunt back for every message it matches.
    Indicator {
        kind: String,
        value: String,
        verdict: Verdict,
    },
    /// An admin asked about one delivered message.
    ManualMessage {
        requested_by: String,
        message: Box<IndexedMessage>,
    },
    /// An admin asked about a sender, a URL, an attachment or a subject.
    Manual {
        requested_by: String,
        by: ClusterBy,
        value: String,
    },
}

/// Runs the playbook.
#[derive(Clone, Debug)]
pub struct Playbook {
    pub state: AppState,
    pub store: SharedStore,
    pub config: PlaybookConfig,
    /// The message index, brought up to date before a report of a message it lacks.
    pub indexer: crate::index::Indexer,
}

/// The playbook acts as this user in the audit trail.
pub fn system() -> CurrentUser {
    CurrentUser {
        id: "system".into(),
        username: "system".into(),
        role: Role::Admin,
    }
}

impl Playbook {
    fn pool(&self) -> &SqlitePool {
        &self.state.pool
    }

    /// Investigates and records the result; `None` when an indicator hunt found nothing.
    pub async fn investigate(
        &self,
        trigger: Trigger,
    ) -> Result<Option<InvestigationCreated>, AppError> {
        let since = now() - chrono::Duration::from_std(self.config.lookback).unwrap_or_default();
        let mut steps: Vec<(String, String)> = Vec::new();
        let (title, kind, alert, keys, forced) = match &trigger {
            Trigger::Report {
                reported_by: who,
                message,
            }
            | Trigger::ManualMessage {
                requested_by: who,
                message,
            } => {
                let manual = matches!(trigger, Trigger::ManualMessage { .. });
                let (urls, attachments) = index::indicators_of(self.pool(), message.id).await?;
                let hashes: Vec<String> = attachments.iter().map(|(h, _)| h.clone()).collect();
                steps.push((
                    "Indicators".into(),
                    format!(
                        "{who} {} {} in {}: {} URL(s), {} attachment(s), sender {}, subject fingerprint \"{}\"",
                        if manual { "asked about" } else { "reported" },
                        message.internet_message_id, message.mailbox,
                        urls.len(), hashes.len(), message.sender, message.subject_fingerprint
                    ),
                ));
                let keys = cluster_keys(
                    &message.sender,
                    &message.subject_fingerprint,
                    &urls,
                    &hashes,
                    &self.config,
                );
                if manual {
                    (
                        format!("Manual investigation: {}", short(&message.subject)),
                        InvestigationType::Manual,
                        IngestAlert {
                            title: format!("Manual investigation requested by {who}"),
                            severity: Severity::Medium,
                        },
                        keys,
                        None,
                    )
                } else {
                    (
                        format!(
                            "User-reported phish: {} (reported by {who})",
                            short(&message.subject)
                        ),
                        InvestigationType::UserReported,
                        IngestAlert {
                            title: "Email reported by user as phish".into(),
                            severity: Severity::Medium,
                        },
                        keys,
                        None,
                    )
                }
            }
            Trigger::Indicator {
                kind,
                value,
                verdict,
            } => {
                let keys = self.hunt(kind, value, since).await?;
                steps.push((
                    "Indicators".into(),
                    format!(
                        "new {} {kind} indicator {value}: {} cluster(s) to build",
                        verdict.label().to_lowercase(),
                        keys.len()
                    ),
                ));
                if keys.is_empty() {
                    return Ok(None);
                }
                let kind_of = if kind == "attachment_hash" {
                    InvestigationType::ZappedFile
                } else {
                    InvestigationType::UrlVerdictChange
                };
                let label = if kind == "attachment_hash" {
                    "Zapped file"
                } else {
                    "URL verdict change"
                };
                (
                    format!("{label}: {}", short(value)),
                    kind_of,
                    IngestAlert {
                        title: format!("Threat indicator added: {kind} {}", short(value)),
                        severity: Severity::High,
                    },
                    keys,
                    Some((*verdict, format!("{kind} indicator {value}"))),
                )
            }
            Trigger::Manual {
                requested_by,
                by,
                value,
            } => {
                steps.push((
                    "Indicators".into(),
                    format!("{requested_by} asked about {}: {value}", by.label()),
                ));
                (
                    format!("Manual investigation: {}", short(value)),
                    InvestigationType::Manual,
                    IngestAlert {
                        title: format!("Manual investigation requested by {requested_by}"),
                        severity: Severity::Medium,
                    },
                    vec![(*by, value.clone())],
                    None,
                )
            }
        };

        let internal = &self.state.rules.internal_domains;
        let mut clusters = Vec::new();
        let mut threatened: BTreeSet<String> = BTreeSet::new();
        for (by, value) in keys {
            let messages = index::cluster(
                self.pool(),
                by,
                &value,
                since,
                self.config.max_cluster_messages as i64,
            )
            .await?;
            if messages.is_empty() {
                continue;
            }
            let mut facts = self.facts(&messages).await?;
            if let Some((verdict, what)) = &forced {
                facts.matched.push(("new".into(), what.clone(), *verdict));
            }
            let (verdict, why) = verdict(&facts, &self.config, internal);
            steps.push((
                "Email cluster".into(),
                format!(
                    "{}: {value}: {} message(s) in {} mailbox(es): {} ({why})",
                    by.label(),
                    messages.len(),
                    messages
                        .iter()
                        .map(|m| &m.mailbox)
                        .collect::<BTreeSet<_>>()
                        .len(),
                    verdict.label()
                ),
            ));
            if verdict.calls_for_action() {
                threatened.extend(messages.iter().map(|m| m.mailbox.clone()));
            }
            clusters.push(IngestCluster {
                cluster_by: by,
                cluster_value: value,
                verdict,
                messages: messages.iter().filter_map(ingest_message).collect(),
            });
        }

        if clusters.is_empty() && forced.is_some() {
            // An indicator nothing in the look-back matches: nothing to investigate.
            return Ok(None);
        }
        let forwarding = self.check_forwarding(&threatened, &mut steps).await;
        let body = IngestInvestigation {
            title,
            investigation_type: kind,
            alert,
            clusters,
            forwarding,
        };
        let created =
            app::server::investigations::ingest_with_steps(&self.state, &system(), &body, &steps)
                .await?;
        if let Trigger::Report {
            reported_by,
            message,
        } = &trigger
        {
            sqlx::query(
                "INSERT INTO reports (id, mailbox, internet_message_id, reported_by, reported_at, investigation_id)
                 VALUES ($1, $2, $3, $4, $5, $6)
                 ON CONFLICT (mailbox, internet_message_id) DO UPDATE SET investigation_id = excluded.investigation_id",
            )
            .bind(uuid::Uuid::new_v4().to_string())
            .bind(&message.mailbox)
            .bind(&message.internet_message_id)
            .bind(reported_by)
            .bind(db_time(&now()))
            .bind(&created.id)
            .execute(self.pool())
            .await?;
        }
        Ok(Some(created))
    }

    /// A user reports a delivered message: the report is recorded (it counts towards its
    /// cluster's reporters), then the message investigated.
    pub async fn report_message(
        &self,
        reported_by: &str,
        mailbox: &str,
        message_id: &str,
    ) -> Result<InvestigationCreated, AppError> {
        let message = self.reported_message(mailbox, message_id).await?;
        self.record_report(reported_by, &message).await?;
        self.started(Trigger::Report {
            reported_by: reported_by.to_string(),
            message: Box::new(message),
        })
        .await
    }

    /// Investigates a trigger that always makes an investigation (reports, manual ones).
    async fn started(&self, trigger: Trigger) -> Result<InvestigationCreated, AppError> {
        self.investigate(trigger).await?.ok_or(AppError::Internal)
    }

    /// The indexed copy a user reports; the index is brought up to date once if it lacks it
    /// (the message may have arrived since the last scan).
    pub async fn reported_message(
        &self,
        mailbox: &str,
        message_id: &str,
    ) -> Result<IndexedMessage, AppError> {
        let mailbox = mailbox.trim().to_ascii_lowercase();
        let id = message_id.trim();
        if id.is_empty() || id.len() > 998 {
            return Err(AppError::Invalid(
                "internet_message_id must be 1 to 998 characters".into(),
            ));
        }
        let id = if id.starts_with('<') {
            id.to_string()
        } else {
            format!("<{id}>")
        };
        let mut found = index::find(self.pool(), Some(&mailbox), &id).await?;
        if found.is_empty() {
            self.indexer.scan().await?;
            found = index::find(self.pool(), Some(&mailbox), &id).await?;
        }
        found.into_iter().next().ok_or_else(|| {
            AppError::NotFound(format!("message {id} in the index of mailbox {mailbox:?}"))
        })
    }

    /// Records a user's report before investigating, so it counts towards its own cluster.
    pub async fn record_report(
        &self,
        reported_by: &str,
        message: &IndexedMessage,
    ) -> Result<(), AppError> {
        sqlx::query(
            "INSERT INTO reports (id, mailbox, internet_message_id, reported_by, reported_at)
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (mailbox, internet_message_id) DO NOTHING",
        )
        .bind(uuid::Uuid::new_v4().to_string())
        .bind(&message.mailbox)
        .bind(&message.internet_message_id)
        .bind(reported_by)
        .bind(db_time(&now()))
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// The clusters an indicator's hits fall into.
    async fn hunt(
        &self,
        kind: &str,
        value: &str,
        since: chrono::DateTime<chrono::Utc>,
    ) -> Result<Vec<(ClusterBy, String)>, AppError> {
        let limit = self.config.max_cluster_messages as i64;
        Ok(match kind {
            "url" => vec![(ClusterBy::Url, value.to_string())],
            "attachment_hash" => vec![(ClusterBy::AttachmentHash, value.to_string())],
            "sender" => vec![(ClusterBy::Sender, value.to_string())],
            "domain" => {
                let mut keys: BTreeSet<(String, String)> = BTreeSet::new();
                for (_, url) in index::by_url_domain(self.pool(), value, since, limit).await? {
                    keys.insert(("url".into(), url));
                }
                let senders: Vec<String> = sqlx::query_scalar(
                    "SELECT DISTINCT sender FROM messages WHERE sender_domain = $1 AND received_at >= $2 LIMIT 50",
                )
                .bind(value)
                .bind(db_time(&since))
                .fetch_all(self.pool())
                .await?;
                keys.extend(senders.into_iter().map(|s| ("sender".into(), s)));
                keys.into_iter()
                    .take(50)
                    .map(|(k, v)| {
                        (
                            if k == "url" {
                                ClusterBy::Url
                            } else {
                                ClusterBy::Sender
                            },
                            v,
                        )
                    })
                    .collect()
            }
            _ => Vec::new(),
        })
    }

    /// Indicator matches, reporters and authentication failures of a cluster's messages.
    async fn facts(&self, messages: &[IndexedMessage]) -> Result<ClusterFacts, AppError> {
        let mut facts = ClusterFacts::default();
        let mut reporters: BTreeSet<String> = BTreeSet::new();
        let at = db_time(&now());
        for chunk in messages.chunks(400) {
            let ids: Vec<i64> = chunk.iter().map(|m| m.id).collect();
            let list = ids
                .iter()
                .map(|i| i.to_string())
                .collect::<Vec<_>>()
                .join(",");
            // Ids are integers from our own index: safe to inline.
            let matched: Vec<(String, String, String)> = sqlx::query_as(&format!(
                "SELECT i.kind, i.value, i.verdict FROM indicators i
                 WHERE (i.expires_at IS NULL OR i.expires_at > $1) AND (
                    (i.kind = 'url' AND i.value IN (SELECT url FROM message_urls WHERE message IN ({list})))
                 OR (i.kind = 'domain' AND (i.value IN (SELECT domain FROM message_urls WHERE message IN ({list}))
                                         OR i.value IN (SELECT sender_domain FROM messages WHERE id IN ({list}))))
                 OR (i.kind = 'sender' AND i.value IN (SELECT sender FROM messages WHERE id IN ({list})))
                 OR (i.kind = 'attachment_hash' AND i.value IN (SELECT sha256 FROM message_attachments WHERE message IN ({list}))))"
            ))
            .bind(&at)
            .fetch_all(self.pool())
            .await?;
            for (kind, value, verdict) in matched {
                let verdict = Verdict::parse(&verdict).unwrap_or(Verdict::Suspicious);
                if !facts.matched.iter().any(|m| m.0 == kind && m.1 == value) {
                    facts.matched.push((kind, value, verdict));
                }
            }
            let message_ids: Vec<String> = chunk
                .iter()
                .map(|m| m.internet_message_id.clone())
                .collect();
            let mut q = sqlx::QueryBuilder::<sqlx::Sqlite>::new(
                "SELECT DISTINCT reported_by FROM reports WHERE internet_message_id IN (",
            );
            let mut sep = q.separated(", ");
            for id in &message_ids {
                sep.push_bind(id);
            }
            q.push(")");
            let who: Vec<String> = q.build_query_scalar().fetch_all(self.pool()).await?;
            reporters.extend(who);
        }
        facts.reporters = reporters.len();
        let mut failed: BTreeSet<String> = BTreeSet::new();
        for m in messages {
            let auth_failed = [&m.spf, &m.dkim, &m.dmarc]
                .iter()
                .any(|v| matches!(v.as_deref(), Some("fail" | "softfail" | "permerror")));
            if auth_failed && !m.sender_domain.is_empty() {
                failed.insert(m.sender_domain.clone());
            }
        }
        facts.failed_auth_domains = failed.into_iter().collect();
        Ok(facts)
    }

    /// Reads the active Sieve script of every mailbox that received a threat, for forwarding
    /// outside the organisation. A mailbox whose script cannot be read is logged, not fatal.
    async fn check_forwarding(
        &self,
        mailboxes: &BTreeSet<String>,
        steps: &mut Vec<(String, String)>,
    ) -> Vec<IngestForwarding> {
        let internal = &self.state.rules.internal_domains;
        let mut found = Vec::new();
        let mut unreadable = 0;
        for mailbox in mailboxes {
            let script = match self.store.active_script(mailbox).await {
                Ok(script) => script,
                Err(error) => {
                    unreadable += 1;
                    tracing::warn!(mailbox, %error, "cannot read the mailbox's Sieve script");
                    continue;
                }
            };
            let Some(script) = script else { continue };
            let Ok(targets) = external_forwards(&script.text, internal) else {
                unreadable += 1;
                continue;
            };
            for target in targets {
                let (Ok(mailbox), Ok(forward_to)) =
                    (EmailAddress::parse(mailbox), EmailAddress::parse(&target))
                else {
                    continue;
                };
                steps.push((
                    "Mail forwarding".into(),
                    format!(
                        "{} forwards to {} (outside the organisation)",
                        mailbox.as_str(),
                        forward_to.as_str()
                    ),
                ));
                found.push(IngestForwarding {
                    mailbox,
                    forward_to,
                    verdict: Verdict::Suspicious,
                });
            }
        }
        let mut detail = format!(
            "checked {} mailbox(es) that received a threat: {} forward outside the organisation",
            mailboxes.len(),
            found.len()
        );
        if unreadable > 0 {
            detail.push_str(&format!("; {unreadable} could not be read"));
        }
        steps.push(("Mail forwarding".into(), detail));
        found
    }
}

/// The portal's way in: reports and manual investigations from server functions.
impl app::server::Investigate for Playbook {
    fn report(
        &self,
        user: CurrentUser,
        mailbox: String,
        internet_message_id: String,
    ) -> app::server::BoxedAnswer<'_> {
        Box::pin(async move {
            let created = self
                .report_message(&user.username, &mailbox, &internet_message_id)
                .await?;
            Ok(created.id)
        })
    }

    fn manual_message(
        &self,
        user: CurrentUser,
        mailbox: String,
        internet_message_id: String,
    ) -> app::server::BoxedAnswer<'_> {
        Box::pin(async move {
            let message = self
                .reported_message(&mailbox, &internet_message_id)
                .await?;
            let created = self
                .started(Trigger::ManualMessage {
                    requested_by: user.username,
                    message: Box::new(message),
                })
                .await?;
            Ok(created.id)
        })
    }

    fn manual(
        &self,
        user: CurrentUser,
        by: ClusterBy,
        value: String,
    ) -> app::server::BoxedAnswer<'_> {
        Box::pin(async move {
            let value = value.trim();
            let value = match by {
                ClusterBy::Url => crate::index::parse::normalise_url(value)
                    .ok_or_else(|| AppError::Invalid("not an http(s) URL".into()))?,
                ClusterBy::Sender if value.contains('@') => value.to_ascii_lowercase(),
                ClusterBy::AttachmentHash
                    if value.len() == 64 && value.chars().all(|c| c.is_ascii_hexdigit()) =>
                {
                    value.to_ascii_lowercase()
                }
                ClusterBy::SubjectFingerprint if !value.is_empty() => {
                    crate::index::parse::fingerprint(value)
                }
                _ => {
                    return Err(AppError::Invalid(format!(
                        "not a {}",
                        by.label().to_lowercase()
                    )))
                }
            };
            let created = self
                .started(Trigger::Manual {
                    requested_by: user.username,
                    by,
                    value,
                })
                .await?;
            Ok(created.id)
        })
    }
}

fn ingest_message(m: &IndexedMessage) -> Option<IngestMessage> {
    Some(IngestMessage {
        mailbox: EmailAddress::parse(&m.mailbox).ok()?,
        internet_message_id: InternetMessageId::parse(&m.internet_message_id).ok()?,
        sender: m.sender.chars().take(998).collect(),
        subject: m.subject.chars().take(998).collect(),
        received_at: m.received_at,
        location: MessageLocation::parse(&m.location),
    })
}

fn short(text: &str) -> String {
    let mut out: String = text.chars().take(120).collect();
    if out.len() < text.len() {
        out.push('…');
    }
    if out.trim().is_empty() {
        out = "(no subject)".into();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn internal() -> Vec<String> {
        vec!["example.test".into()]
    }

    #[test]
    fn a_malicious_indicator_wins_over_everything() {
        let facts = ClusterFacts {
            matched: vec![
                ("domain".into(), "evil.test".into(), Verdict::Suspicious),
                (
                    "url".into(),
                    "http://evil.test/pay".into(),
                    Verdict::Malicious,
                ),
            ],
            reporters: 5,
            failed_auth_domains: vec![],
        };
        let (v, why) = verdict(&facts, &PlaybookConfig::default(), &internal());
        assert_eq!(v, Verdict::Malicious);
        assert!(why.contains("http://evil.test/pay"), "{why}");
    }

    #[test]
    fn several_reporters_make_a_cluster_suspicious_one_does_not() {
        let config = PlaybookConfig::default();
        let one = ClusterFacts {
            reporters: 1,
            ..Default::default()
        };
        assert_eq!(verdict(&one, &config, &internal()).0, Verdict::Clean);
        let two = ClusterFacts {
            reporters: 2,
            ..Default::default()
        };
        assert_eq!(verdict(&two, &config, &internal()).0, Verdict::Suspicious);
    }

    #[test]
    fn failed_authentication_matters_only_for_look_alikes_of_internal_domains() {
        let config = PlaybookConfig::default();
        for (domain, expected) in [
            ("examp1e.test", Verdict::Suspicious),
            ("exarnple.test", Verdict::Suspicious),
            ("example.tset", Verdict::Suspicious),
            ("example.test", Verdict::Clean), // ours: a failure is not a look-alike
            ("mail.example.test", Verdict::Clean), // our subdomain
            ("newsletter.test", Verdict::Clean),
        ] {
            let facts = ClusterFacts {
                failed_auth_domains: vec![domain.into()],
                ..Default::default()
            };
            assert_eq!(
                verdict(&facts, &config, &internal()).0,
                expected,
                "{domain}"
            );
        }
    }

    #[test]
    fn short_subjects_do_not_make_a_fingerprint_cluster() {
        let config = PlaybookConfig::default();
        let keys = cluster_keys(
            "a@evil.test",
            "hi",
            &["http://evil.test/".into()],
            &[],
            &config,
        );
        assert_eq!(
            keys,
            [
                (ClusterBy::Url, "http://evil.test/".to_string()),
                (ClusterBy::Sender, "a@evil.test".to_string())
            ]
        );
        let many: Vec<String> = (0..50).map(|i| format!("http://evil.test/{i}")).collect();
        assert_eq!(
            cluster_keys("", "", &many, &[], &config).len(),
            config.max_urls
        );
    }
}
