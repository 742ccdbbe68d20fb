//! Gathering what the rules judge: the clusters an indicator's hits fall into, what a
//! cluster's copies match and who reported them, and how threatened mailboxes forward.

use std::collections::BTreeSet;

use super::rules::ClusterFacts;
use crate::index::Selection;
use crate::{indicators, AppState};
use model::{
    AppError, ClusterBy, EmailAddress, ForwardTarget, IndicatorKind, IngestForwarding, Verdict,
};

/// The clusters an indicator hunts: the exact value for a URL, sender or attachment; for a
/// domain, every copy linking to that host and every copy sent from it.
pub fn hunt(kind: IndicatorKind, value: &str) -> Vec<(ClusterBy, String)> {
    match kind.cluster_by() {
        Some(by) => vec![(by, value.to_string())],
        None => vec![
            (ClusterBy::UrlDomain, value.to_string()),
            (ClusterBy::SenderDomain, value.to_string()),
        ],
    }
}

/// Indicator matches, reporters and authentication failures of a cluster's copies.
pub async fn of_cluster(state: &AppState, selection: &Selection) -> Result<ClusterFacts, AppError> {
    let mut facts = ClusterFacts::default();
    for (kind, value, verdict) in indicators::matching(&state.db, selection).await? {
        if !facts.matched.iter().any(|m| m.0 == kind && m.1 == value) {
            facts.matched.push((kind, value, verdict));
        }
    }
    facts.reporters = super::reports::reporters(&state.db, selection).await?.len();
    facts.failed_auth_domains = selection.failed_auth_domains(&state.db).await?;
    Ok(facts)
}

/// Reads the forwarding rules of every mailbox that received a threat, for any way mail
/// leaves the organisation. Rules that cannot be read are a finding too (they cannot be
/// trusted not to forward); a mailbox whose rules cannot be reached at all is logged.
pub async fn check_forwarding(
    state: &AppState,
    mailboxes: &BTreeSet<String>,
    steps: &mut Vec<(String, String)>,
) -> Vec<IngestForwarding> {
    let internal = &state.rules.internal_domains;
    let mut found = Vec::new();
    let mut unreachable = 0;
    for mailbox in mailboxes {
        let findings = match state
            .mail
            .forwarding_checks
            .external_forwards(mailbox, internal)
            .await
        {
            Ok(findings) => findings,
            Err(error) => {
                unreachable += 1;
                tracing::warn!(mailbox, %error, "cannot read the mailbox's forwarding rules");
                continue;
            }
        };
        let Ok(address) = EmailAddress::parse(mailbox) else {
            continue;
        };
        for finding in findings {
            let Ok(forward_to) = ForwardTarget::parse(&finding.target) else {
                continue;
            };
            let line = format!(
                "{} forwards to {} ({} {}; outside the organisation)",
                address.as_str(),
                forward_to.as_str(),
                finding.how,
                finding.detail
            );
            steps.push(("Mail forwarding".into(), line));
            found.push(IngestForwarding {
                mailbox: address.clone(),
                forward_to,
                verdict: Verdict::Suspicious,
                detail: Some(format!("{} {}", finding.how, finding.detail)),
            });
        }
    }
    let mut detail = format!(
        "checked {} mailbox(es) that received a threat: {} way(s) of forwarding outside the organisation",
        mailboxes.len(),
        found.len()
    );
    if unreachable > 0 {
        detail.push_str(&format!("; {unreachable} could not be read"));
    }
    steps.push(("Mail forwarding".into(), detail));
    found
}
