//! `airdesk policy test`: what a policy would have done with the actions already recorded —
//! per rule, how many it would have approved on its own, held for one or two people, or
//! forbidden — and where it disagrees with what people decided. It reads, and changes nothing.

use std::collections::BTreeMap;
use std::fmt;

use chrono::{DateTime, Utc};

use super::{Policy, Then};
use crate::actions::facts;
use crate::db::{query, Db};
use model::AppError;

/// Per rule: the actions it decided, by what it said, and the disagreements with people.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct RuleTally {
    pub approve: u64,
    pub require_approval: u64,
    pub require_two_approvals: u64,
    pub forbid: u64,
    /// It would have approved on its own what a person rejected.
    pub approved_but_rejected: u64,
    /// It would have forbidden what a person approved.
    pub forbidden_but_approved: u64,
}

/// The whole replay.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Report {
    /// Actions replayed.
    pub actions: u64,
    /// Of them, decided by a person (approved, rejected, or since executed).
    pub decided_by_people: u64,
    /// By rule name, in name order.
    pub rules: BTreeMap<String, RuleTally>,
}

/// Actions read and judged at a time.
const CHUNK: usize = 500;

/// Replays every action created since `since` against `policy`.
pub async fn backtest(db: &Db, policy: &Policy, since: DateTime<Utc>) -> Result<Report, AppError> {
    let mut report = Report::default();
    let mut after = String::new();
    loop {
        let rows: Vec<(String, String, Option<String>)> = query(
            "SELECT id, status, decided_by FROM actions WHERE created_at >= $1 AND id > $2 ORDER BY id LIMIT $3",
        )
        .bind(since)
        .bind(after.as_str())
        .bind(i64::try_from(CHUNK).unwrap_or(500))
        .fetch_all(db)
        .await?;
        let Some((last, ..)) = rows.last() else {
            break;
        };
        after = last.clone();
        let ids: Vec<&str> = rows.iter().map(|(id, ..)| id.as_str()).collect();
        let facts = facts::load(db, &ids).await?;
        for (id, status, decided_by) in &rows {
            let Some(facts) = facts.get(id) else {
                continue;
            };
            let outcome = policy.evaluate(facts);
            let tally = report.rules.entry(outcome.rule).or_default();
            match outcome.then {
                Then::Approve => tally.approve += 1,
                Then::RequireApproval => tally.require_approval += 1,
                Then::RequireTwoApprovals => tally.require_two_approvals += 1,
                Then::Forbid => tally.forbid += 1,
            }
            report.actions += 1;
            // What a person decided: rejected, or approved (whatever execution made of it).
            let by_person = decided_by
                .as_deref()
                .is_some_and(|by| !by.starts_with("policy:") && by != "system");
            if !by_person {
                continue;
            }
            report.decided_by_people += 1;
            let rejected = status == "rejected";
            let approved = !rejected && !matches!(status.as_str(), "pending" | "expired");
            if outcome.then == Then::Approve && rejected {
                tally.approved_but_rejected += 1;
            }
            if outcome.then == Then::Forbid && approved {
                tally.forbidden_but_approved += 1;
            }
        }
        if rows.len() < CHUNK {
            break;
        }
    }
    Ok(report)
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{} actions replayed ({} decided by people)",
            self.actions, self.decided_by_people
        )?;
        writeln!(
            f,
            "{:<32} {:>8} {:>8} {:>8} {:>8}   disagreements with people",
            "rule", "auto", "one", "two", "forbid"
        )?;
        for (rule, t) in &self.rules {
            writeln!(
                f,
                "{rule:<32} {:>8} {:>8} {:>8} {:>8}   {} approved that people rejected, {} forbidden that people approved",
                t.approve, t.require_approval, t.require_two_approvals, t.forbid,
                t.approved_but_rejected, t.forbidden_but_approved
            )?;
        }
        Ok(())
    }
}
