//! What an action carries besides its row: its results (the first [`RESULTS_SHOWN`], those
//! that need attention first), the counts of all of them, and its approvals.

use std::collections::HashMap;

use chrono::{DateTime, Utc};

use super::ActionRow;
use crate::db::{query, Target};
use model::{ActionResult, AppError, Approval, MessageLocation, MessageResult};

/// The most results an action lists when read: those that need attention first (a cluster
/// may hold a million copies; the outcome counts them all).
pub const RESULTS_SHOWN: i64 = 1_000;

#[derive(sqlx::FromRow)]
struct ResultRow {
    mailbox: String,
    internet_message_id: Option<String>,
    result: String,
    location: Option<String>,
    detail: Option<String>,
}

/// How many copies an action acted on, and how many of them succeeded and failed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ResultCounts {
    pub messages: i64,
    pub succeeded: i64,
    pub failed: i64,
}

/// Each action's result counts, every result and not only those shown, in one grouped query.
pub(super) async fn counts_of(
    on: &mut Target<'_>,
    rows: &[ActionRow],
) -> Result<HashMap<String, ResultCounts>, AppError> {
    let mut counts: HashMap<String, ResultCounts> = HashMap::new();
    if rows.is_empty() {
        return Ok(counts);
    }
    let mut select =
        query("SELECT action_id, result, COUNT(*) FROM action_results WHERE action_id IN (");
    select
        .push_list(rows.iter().map(|r| r.id.as_str()))
        .push(") GROUP BY action_id, result");
    let grouped: Vec<(String, String, i64)> = select.fetch_all(on.reborrow()).await?;
    for (action_id, result, n) in grouped {
        let entry = counts.entry(action_id).or_default();
        entry.messages += n;
        match MessageResult::parse(&result) {
            Some(MessageResult::Success) => entry.succeeded += n,
            Some(MessageResult::Failed) => entry.failed += n,
            _ => {}
        }
    }
    Ok(counts)
}

/// The approvals of those actions (id, approvals required) that need more than one, oldest
/// first, in one query (an action one person decides has its approver in `decided_by`, and
/// needs no second query).
pub(super) async fn approvals_of<'r>(
    on: &mut Target<'_>,
    actions: impl IntoIterator<Item = (&'r str, i64)>,
) -> Result<HashMap<String, Vec<Approval>>, AppError> {
    let mut approvals: HashMap<String, Vec<Approval>> = Default::default();
    let ids: Vec<&str> = actions
        .into_iter()
        .filter(|(_, required)| *required > 1)
        .map(|(id, _)| id)
        .collect();
    if ids.is_empty() {
        return Ok(approvals);
    }
    let mut select =
        query("SELECT action_id, username, approved_at, comment FROM action_approvals WHERE action_id IN (");
    select
        .push_list(ids)
        .push(") ORDER BY approved_at, username");
    let rows: Vec<(String, String, DateTime<Utc>, Option<String>)> =
        select.fetch_all(on.reborrow()).await?;
    for (action_id, by, at, comment) in rows {
        approvals
            .entry(action_id)
            .or_default()
            .push(Approval { by, at, comment });
    }
    Ok(approvals)
}

const RESULT_COLUMNS: &str =
    "SELECT mailbox, internet_message_id, result, location, detail FROM action_results";

/// An action's first [`RESULTS_SHOWN`] results: those that need attention first, then the
/// others in the order the copies were clustered. Each query walks an index and stops at the
/// limit, however many results the action has.
pub(super) async fn results_of(
    on: &mut Target<'_>,
    row: &ActionRow,
) -> Result<Vec<ActionResult>, AppError> {
    let on_mailbox = matches!(
        row.action_type.as_str(),
        "turn_off_forwarding" | "restore_forwarding"
    );
    let mut rows: Vec<ResultRow> = if on_mailbox {
        query(format!("{RESULT_COLUMNS} WHERE action_id = $1 ORDER BY at"))
            .bind(&row.id)
            .fetch_all(on.reborrow())
            .await?
    } else {
        query(format!(
            "{RESULT_COLUMNS} WHERE action_id = $1 AND result IN ('failed', 'not_found', 'gone')
             ORDER BY member LIMIT $2"
        ))
        .bind(&row.id)
        .bind(RESULTS_SHOWN)
        .fetch_all(on.reborrow())
        .await?
    };
    let room = RESULTS_SHOWN - i64::try_from(rows.len()).unwrap_or(RESULTS_SHOWN);
    if !on_mailbox && room > 0 {
        let rest: Vec<ResultRow> = query(format!(
            "{RESULT_COLUMNS} WHERE action_id = $1 AND member IS NOT NULL
               AND result NOT IN ('failed', 'not_found', 'gone')
             ORDER BY member LIMIT $2"
        ))
        .bind(&row.id)
        .bind(room)
        .fetch_all(on.reborrow())
        .await?;
        rows.extend(rest);
    }
    Ok(rows
        .into_iter()
        .map(|r| ActionResult {
            result: MessageResult::parse(&r.result).unwrap_or(MessageResult::Failed),
            location: r.location.as_deref().and_then(MessageLocation::parse),
            mailbox: r.mailbox,
            internet_message_id: r.internet_message_id,
            detail: r.detail,
        })
        .collect())
}
