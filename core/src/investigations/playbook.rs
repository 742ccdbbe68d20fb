//! The investigation playbook: from an alert to clusters, verdicts, forwarding checks and
//! pending actions, each step written to the investigation's log. The verdict rules are pure
//! functions ([`rules`]); the rest gathers their facts from the message index and the mail
//! store ([`facts`]), and hands the result to the same ingest the REST API uses, so the
//! proposals, the duplicate rule and the audit trail are the ones every investigation gets.
//! People start it by reporting a message or asking about one ([`reports`]), by adding a
//! threat indicator, or by asking about a sender, URL, attachment or subject ([`manual`]).

pub mod facts;
pub mod reports;
pub mod rules;

use std::collections::BTreeSet;
use std::time::Duration;

use chrono::{DateTime, Utc};

use super::ingest::{self, ClusterFinding, Findings, Members};
use crate::index::{self, IndexedMessage, Selection};
use crate::{db, AppState};
use model::{
    Actor, AppError, ClusterBy, CurrentUser, IndicatorKind, IngestAlert, InvestigationCreated,
    InvestigationType, Severity, Verdict,
};

pub use reports::{manual_message, report, ReportQuota, Reported};
pub use rules::{cluster_keys, lookalike, verdict, ClusterFacts};

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
    /// The most URLs of one message that become clusters of their own (the log says which
    /// were left; their copies still fall in the message's sender and subject clusters).
    pub max_urls: usize,
}

impl Default for PlaybookConfig {
    fn default() -> Self {
        PlaybookConfig {
            lookback: Duration::from_secs(30 * 24 * 3600),
            reports_for_suspicious: 2,
            lookalike_distance: 2,
            max_urls: 20,
        }
    }
}

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
        kind: IndicatorKind,
        value: String,
        verdict: Verdict,
        /// Who added it: a user's name, or `indicators-file`.
        added_by: String,
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

/// What an investigation is about, before its clusters are built.
struct Plan {
    title: String,
    kind: InvestigationType,
    alert: IngestAlert,
    keys: Vec<(ClusterBy, String)>,
    /// An indicator's verdict, which every cluster it built gets.
    forced: Option<(Verdict, String)>,
    steps: Vec<(String, String)>,
}

/// Investigates and records the result; `None` when an indicator hunt found nothing.
#[tracing::instrument(skip_all, fields(trigger = trigger.describe()))]
pub async fn investigate(
    state: &AppState,
    trigger: Trigger,
) -> Result<Option<InvestigationCreated>, AppError> {
    let since = lookback_start(state);
    let Some(mut plan) = plan(state, &trigger).await? else {
        return Ok(None);
    };
    let (clusters, threatened) = build_clusters(state, &mut plan, since).await?;
    if clusters.is_empty() && plan.forced.is_some() {
        // An indicator nothing in the look-back matches: nothing to investigate.
        return Ok(None);
    }
    let forwarding = facts::check_forwarding(state, &threatened, &mut plan.steps).await;
    let body = Findings {
        title: plan.title,
        investigation_type: plan.kind,
        alert: plan.alert,
        clusters,
        forwarding,
    };
    // Recorded as the playbook, on behalf of whoever started it: the audit trail says who
    // asked, while the actions stay automated proposals (the one who asked may approve them).
    let actor = Actor::playbook_for(trigger.started_by());
    let created = ingest::record(state, &actor, &body, &plan.steps).await?;
    if let Trigger::Report {
        reported_by,
        message,
    } = &trigger
    {
        reports::link(state, reported_by, message, &created.id).await?;
    }
    Ok(Some(created))
}

/// The oldest mail the playbook looks at, and the oldest investigation a report may join.
fn lookback_start(state: &AppState) -> DateTime<Utc> {
    chrono::Duration::from_std(state.playbook.lookback)
        .ok()
        .and_then(|lookback| db::now().checked_sub_signed(lookback))
        .unwrap_or(DateTime::<Utc>::MIN_UTC)
}

impl Trigger {
    /// Who asked for this investigation.
    fn started_by(&self) -> &str {
        match self {
            Trigger::Report { reported_by, .. } => reported_by,
            Trigger::Indicator { added_by, .. } => added_by,
            Trigger::ManualMessage { requested_by, .. } | Trigger::Manual { requested_by, .. } => {
                requested_by
            }
        }
    }

    fn describe(&self) -> &'static str {
        match self {
            Trigger::Report { .. } => "report",
            Trigger::Indicator { .. } => "indicator",
            Trigger::ManualMessage { .. } => "manual message",
            Trigger::Manual { .. } => "manual",
        }
    }
}

/// What the trigger asks about; `None` for an indicator that hunts up nothing.
async fn plan(state: &AppState, trigger: &Trigger) -> Result<Option<Plan>, AppError> {
    Ok(Some(match trigger {
        Trigger::Report {
            reported_by: who,
            message,
        } => message_plan(state, who, message, false).await?,
        Trigger::ManualMessage {
            requested_by: who,
            message,
        } => message_plan(state, who, message, true).await?,
        Trigger::Indicator {
            kind,
            value,
            verdict,
            ..
        } => {
            let keys = facts::hunt(*kind, value);
            let steps = vec![(
                "Indicators".to_string(),
                format!(
                    "new {} {kind} indicator {value}: {} cluster(s) to build",
                    verdict.label().to_lowercase(),
                    keys.len()
                ),
            )];
            if keys.is_empty() {
                return Ok(None);
            }
            let (kind_of, label) = if *kind == IndicatorKind::AttachmentHash {
                (InvestigationType::ZappedFile, "Zapped file")
            } else {
                (InvestigationType::UrlVerdictChange, "URL verdict change")
            };
            Plan {
                title: format!("{label}: {}", short(value)),
                kind: kind_of,
                alert: IngestAlert {
                    title: format!("Threat indicator added: {kind} {}", short(value)),
                    severity: Severity::High,
                },
                keys,
                forced: Some((*verdict, format!("{kind} indicator {value}"))),
                steps,
            }
        }
        Trigger::Manual {
            requested_by,
            by,
            value,
        } => Plan {
            title: format!("Manual investigation: {}", short(value)),
            kind: InvestigationType::Manual,
            alert: IngestAlert {
                title: format!("Manual investigation requested by {requested_by}"),
                severity: Severity::Medium,
            },
            keys: vec![(*by, value.clone())],
            forced: None,
            steps: vec![(
                "Indicators".into(),
                format!("{requested_by} asked about {}: {value}", by.label()),
            )],
        },
    }))
}

/// A report of, or a question about, one delivered message: cluster by what it carries.
async fn message_plan(
    state: &AppState,
    who: &str,
    message: &IndexedMessage,
    manual: bool,
) -> Result<Plan, AppError> {
    let (urls, attachments) = index::indicators_of(&state.db, message.id).await?;
    let hashes: Vec<String> = attachments.iter().map(|(h, _)| h.clone()).collect();
    let step = format!(
        "{who} {} {} in {}: {} URL(s), {} attachment(s), sender {}, subject fingerprint \"{}\"",
        if manual { "asked about" } else { "reported" },
        message.internet_message_id,
        message.mailbox,
        urls.len(),
        hashes.len(),
        message.sender,
        message.subject_fingerprint
    );
    let (keys, left) = cluster_keys(
        &message.sender,
        &message.subject_fingerprint,
        &urls,
        &hashes,
        &state.playbook,
    );
    let mut steps = vec![("Indicators".to_string(), step)];
    if !left.is_empty() {
        steps.push((
            "Indicators".into(),
            format!(
                "{} more URL(s) of the message were not clustered on their own (limit {}); its sender and subject clusters hold its copies: {}",
                left.len(),
                state.playbook.max_urls,
                left.join(" ")
            ),
        ));
    }
    let (title, kind, alert) = if manual {
        (
            format!("Manual investigation: {}", short(&message.subject)),
            InvestigationType::Manual,
            format!("Manual investigation requested by {who}"),
        )
    } else {
        (
            format!(
                "User-reported phish: {} (reported by {who})",
                short(&message.subject)
            ),
            InvestigationType::UserReported,
            "Email reported by user as phish".to_string(),
        )
    };
    Ok(Plan {
        title,
        kind,
        alert: IngestAlert {
            title: alert,
            severity: Severity::Medium,
        },
        keys,
        forced: None,
        steps,
    })
}

/// Every cluster the plan's keys find in the index, with its verdict; and the mailboxes that
/// received a threat. Each cluster takes every copy in the look-back, however many.
async fn build_clusters(
    state: &AppState,
    plan: &mut Plan,
    since: DateTime<Utc>,
) -> Result<(Vec<ClusterFinding>, BTreeSet<String>), AppError> {
    let internal = &state.rules.internal_domains;
    let mut clusters = Vec::new();
    let mut threatened: BTreeSet<String> = BTreeSet::new();
    for (by, value) in std::mem::take(&mut plan.keys) {
        let selection = Selection { by, value, since };
        let (copies, mailboxes) = selection.count(&state.db).await?;
        if copies == 0 {
            continue;
        }
        let mut facts = facts::of_cluster(state, &selection).await?;
        if let Some((verdict, what)) = &plan.forced {
            facts.matched.push(("new".into(), what.clone(), *verdict));
        }
        let (verdict, why) = verdict(&facts, &state.playbook, internal);
        plan.steps.push((
            "Email cluster".into(),
            format!(
                "{}: {}: {copies} message(s) in {mailboxes} mailbox(es): {} ({why})",
                by.label(),
                selection.value,
                verdict.label()
            ),
        ));
        if verdict.calls_for_action() {
            threatened.extend(selection.mailboxes(&state.db).await?);
        }
        clusters.push(ClusterFinding {
            cluster_by: by,
            cluster_value: selection.value.clone(),
            verdict,
            members: Members::Index(selection),
        });
    }
    Ok((clusters, threatened))
}

/// An admin asks about a sender, a URL, an attachment hash or a subject: the value is read the
/// way the index keeps it, then investigated.
#[tracing::instrument(skip(state, user), fields(user = %user.username))]
pub async fn manual(
    state: &AppState,
    user: &CurrentUser,
    by: ClusterBy,
    value: &str,
) -> Result<InvestigationCreated, AppError> {
    user.require_hunt()?;
    let value = value.trim();
    let domain = |v: &str| v.contains('.') && !v.contains(['/', '@', ' ', ':']);
    let value = match by {
        ClusterBy::Url => mail::parse::normalise_url(value)
            .ok_or_else(|| AppError::Invalid("not an http(s) URL".into()))?,
        ClusterBy::UrlPattern => mail::parse::normalise_url(value)
            .and_then(|url| mail::parse::url_pattern(&url))
            .ok_or_else(|| AppError::Invalid("not an http(s) URL".into()))?,
        ClusterBy::UrlDomain | ClusterBy::SenderDomain if domain(value) => {
            value.to_ascii_lowercase()
        }
        ClusterBy::Sender if value.contains('@') => value.to_ascii_lowercase(),
        ClusterBy::AttachmentHash
            if value.len() == 64 && value.chars().all(|c| c.is_ascii_hexdigit()) =>
        {
            value.to_ascii_lowercase()
        }
        ClusterBy::SubjectFingerprint if !value.is_empty() => mail::parse::fingerprint(value),
        _ => {
            return Err(AppError::Invalid(format!(
                "not a {}",
                by.label().to_lowercase()
            )))
        }
    };
    let trigger = Trigger::Manual {
        requested_by: user.username.clone(),
        by,
        value,
    };
    started(state, trigger).await
}

/// Investigates a trigger that always makes an investigation (reports, manual ones).
async fn started(state: &AppState, trigger: Trigger) -> Result<InvestigationCreated, AppError> {
    investigate(state, trigger).await?.ok_or(AppError::Internal)
}

/// At most 120 characters of a subject or value, for titles.
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
