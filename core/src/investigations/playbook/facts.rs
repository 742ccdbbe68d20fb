//! Gathering what the rules judge: the clusters an indicator's hits fall into, what a
//! cluster's messages match and who reported them, and where threatened mailboxes forward.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};

use super::rules::ClusterFacts;
use crate::index::{self, IndexedMessage};
use crate::{indicators, AppState};
use model::{AppError, ClusterBy, EmailAddress, IndicatorKind, IngestForwarding, Verdict};

/// The clusters an indicator's hits fall into.
pub async fn hunt(
    state: &AppState,
    kind: IndicatorKind,
    value: &str,
    since: DateTime<Utc>,
) -> Result<Vec<(ClusterBy, String)>, AppError> {
    if let Some(by) = kind.cluster_by() {
        return Ok(vec![(by, value.to_string())]);
    }
    // A domain: every URL on it, and every sender from it.
    let limit = state.playbook.max_cluster_messages as i64;
    let mut keys: BTreeSet<(ClusterBy, String)> = BTreeSet::new();
    for (_, url) in index::by_url_domain(&state.db, value, since, limit).await? {
        keys.insert((ClusterBy::Url, url));
    }
    for sender in index::senders_on_domain(&state.db, value, since, 50).await? {
        keys.insert((ClusterBy::Sender, sender));
    }
    Ok(keys.into_iter().take(50).collect())
}

/// Indicator matches, reporters and authentication failures of a cluster's messages.
pub async fn of_cluster(
    state: &AppState,
    messages: &[IndexedMessage],
) -> Result<ClusterFacts, AppError> {
    let mut facts = ClusterFacts::default();
    let mut reporters: BTreeSet<String> = BTreeSet::new();
    for chunk in messages.chunks(400) {
        let ids: Vec<i64> = chunk.iter().map(|m| m.id).collect();
        for (kind, value, verdict) in indicators::matching(&state.db, &ids).await? {
            if !facts.matched.iter().any(|m| m.0 == kind && m.1 == value) {
                facts.matched.push((kind, value, verdict));
            }
        }
        let message_ids: Vec<&str> = chunk
            .iter()
            .map(|m| m.internet_message_id.as_str())
            .collect();
        reporters.extend(super::reports::reporters(&state.db, &message_ids).await?);
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

/// Reads the forwarding rules of every mailbox that received a threat, for forwarding outside
/// the organisation. A mailbox whose rules cannot be read is logged, not fatal.
pub async fn check_forwarding(
    state: &AppState,
    mailboxes: &BTreeSet<String>,
    steps: &mut Vec<(String, String)>,
) -> Vec<IngestForwarding> {
    let internal = &state.rules.internal_domains;
    let mut found = Vec::new();
    let mut unreadable = 0;
    for mailbox in mailboxes {
        let targets = match state
            .mail
            .forwarding
            .external_forwards(mailbox, internal)
            .await
        {
            Ok(targets) => targets,
            Err(error) => {
                unreadable += 1;
                tracing::warn!(mailbox, %error, "cannot read the mailbox's forwarding rules");
                continue;
            }
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
