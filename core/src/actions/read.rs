//! Actions as people and scripts read them: one at a time, or a keyset page at a time.

mod evidence;
mod results;

use chrono::{DateTime, Utc};

use crate::db::{query, Db, Query, Target};
pub use evidence::of_incident as evidence_of_incident;
use model::{
    Action, ActionResult, ActionSource, ActionStatus, ActionTarget, ActionType, AppError, Approval,
    ClusterBy, Cursor, Page, PageRequest,
};
use results::{approvals_of, counts_of, results_of};
pub use results::{ResultCounts, RESULTS_SHOWN};

/// The filters of `GET /api/v1/actions`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ActionFilter {
    pub status: Option<ActionStatus>,
    /// Only decided actions: anything but Pending (the History tab).
    pub decided: bool,
    pub action_type: Option<ActionType>,
    pub investigation_id: Option<String>,
    pub decided_by: Option<String>,
    /// Only actions created at or after this time.
    pub since: Option<DateTime<Utc>>,
    /// Only approved email actions, whatever became of them (the Office action center's
    /// remediations).
    pub remediations: bool,
}

const SELECT: &str = "SELECT a.id, a.action_type, a.status, a.investigation_id, a.incident_id,
        i.title AS investigation_title, n.title AS incident_title, a.target_kind, a.cluster_id, c.cluster_by, c.cluster_value,
        c.email_count, a.mailbox, a.internet_message_id, a.forward_to, a.source, a.created_at,
        a.decided_by, a.decided_at, a.comment, a.duplicate_of, a.changed_from, a.outcome,
        a.duplicate_copies, a.new_copies, d.decided_by AS first_decided_by, d.decided_at AS first_decided_at,
        a.approvals_required, a.policy_rule, a.proposed_by
    FROM actions a
    JOIN investigations i ON i.id = a.investigation_id
    JOIN incidents n ON n.id = a.incident_id
    LEFT JOIN email_clusters c ON c.id = a.cluster_id
    LEFT JOIN actions d ON d.id = a.duplicate_of";

#[derive(sqlx::FromRow)]
struct ActionRow {
    id: String,
    action_type: String,
    status: String,
    investigation_id: String,
    incident_id: String,
    investigation_title: String,
    incident_title: String,
    target_kind: String,
    cluster_id: Option<String>,
    cluster_by: Option<String>,
    cluster_value: Option<String>,
    email_count: Option<i64>,
    mailbox: Option<String>,
    internet_message_id: Option<String>,
    forward_to: Option<String>,
    source: String,
    created_at: DateTime<Utc>,
    decided_by: Option<String>,
    decided_at: Option<DateTime<Utc>>,
    comment: Option<String>,
    changed_from: Option<String>,
    #[sqlx(flatten)]
    came_to: CameTo,
    approvals_required: i64,
    policy_rule: Option<String>,
    proposed_by: Option<String>,
}

impl ActionRow {
    /// The action's id and how many approvals it needs.
    fn approvals_wanted(&self) -> (&str, i64) {
        (&self.id, self.approvals_required)
    }

    fn into_action(
        self,
        results: Vec<ActionResult>,
        approvals: Vec<Approval>,
    ) -> Result<Action, AppError> {
        let bad = |what: &str, value: &str| {
            tracing::error!(what, value, "unknown word in the actions table");
            AppError::Internal
        };
        let status =
            ActionStatus::parse(&self.status).ok_or_else(|| bad("status", &self.status))?;
        let mut action = Action {
            action_type: ActionType::parse(&self.action_type)
                .ok_or_else(|| bad("type", &self.action_type))?,
            details: self.came_to.details(status),
            status,
            source: ActionSource::parse(&self.source).ok_or_else(|| bad("source", &self.source))?,
            target: ActionTarget {
                kind: self.target_kind,
                cluster_id: self.cluster_id,
                cluster_by: self.cluster_by.as_deref().and_then(ClusterBy::parse),
                cluster_value: self.cluster_value,
                email_count: self.email_count,
                mailbox: self.mailbox,
                internet_message_id: self.internet_message_id,
                forward_to: self.forward_to,
            },
            id: self.id,
            investigation_id: self.investigation_id,
            incident_id: self.incident_id,
            investigation_title: self.investigation_title,
            incident_title: self.incident_title,
            created_at: self.created_at,
            decided_by: self.decided_by,
            decided_at: self.decided_at,
            comment: self.comment,
            duplicate_of: self.came_to.duplicate_of,
            changed_from: self.changed_from,
            results,
            approvals_required: u8::try_from(self.approvals_required).unwrap_or(u8::MAX),
            approvals,
            policy_rule: self.policy_rule,
            proposed_by: self.proposed_by,
            impact: None,
        };
        // Every view that shows an action's details shows who it still waits for.
        if let Some(awaiting) = action.awaiting() {
            action.details = Some(awaiting);
        }
        Ok(action)
    }
}

/// What a decided action came to, as its row holds it: its outcome, and for a duplicate the
/// earlier approval that handles its copies.
#[derive(sqlx::FromRow)]
struct CameTo {
    duplicate_of: Option<String>,
    outcome: Option<String>,
    // Optional so that an action LEFT JOINed and absent reads as nothing.
    duplicate_copies: Option<i64>,
    new_copies: Option<i64>,
    first_decided_by: Option<String>,
    first_decided_at: Option<DateTime<Utc>>,
}

impl CameTo {
    /// What the action came to in words: for a duplicate, the earlier approval that handles
    /// its copies (all of them, or some, with the new ones this one remediates); for one that
    /// ran, execution's outcome.
    fn details(&self, status: ActionStatus) -> Option<String> {
        let (Some(first), Some(at), Some(by)) = (
            &self.duplicate_of,
            &self.first_decided_at,
            &self.first_decided_by,
        ) else {
            return self.outcome.clone();
        };
        let at = at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        let (old, new) = (
            self.duplicate_copies.unwrap_or(0),
            self.new_copies.unwrap_or(0),
        );
        if status == ActionStatus::Duplicate {
            let copies = match old {
                0 => "the same cluster was".to_string(),
                1 => "its copy was".to_string(),
                n => format!("its {n} copies were"),
            };
            return Some(format!(
                "De-duplicated: {copies} approved at {at} by {by} (action {first})"
            ));
        }
        let done = match (status, &self.outcome) {
            (ActionStatus::Completed, Some(outcome)) => format!("remediated ({outcome})"),
            (ActionStatus::Completed, None) => "remediated".to_string(),
            (_, Some(outcome)) => format!("{} ({outcome})", status.label().to_lowercase()),
            (_, None) => format!("to remediate ({})", status.label().to_lowercase()),
        };
        Some(format!(
            "De-duplicated {old} copies already handled by action {first} (approved at {at} by {by}); {new} new copies {done}"
        ))
    }
}

/// One action with its results.
#[tracing::instrument(skip(db))]
pub async fn get(db: &Db, id: &str) -> Result<Action, AppError> {
    let mut conn = db.read().await?;
    load(&mut conn, &[id.to_string()])
        .await?
        .pop()
        .ok_or_else(|| AppError::NotFound(format!("action {id:?}")))
}

/// The actions with these ids, in the order given, with their results.
pub async fn load<'a>(on: impl Into<Target<'a>>, ids: &[String]) -> Result<Vec<Action>, AppError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut on = on.into();
    let mut select = query(SELECT);
    select.push(" WHERE a.id IN (").push_list(ids).push(")");
    let rows: Vec<ActionRow> = select.fetch_all(on.reborrow()).await?;
    let mut actions = attach_results(on, rows).await?;
    actions.sort_by_key(|a| ids.iter().position(|id| *id == a.id));
    Ok(actions)
}

/// A keyset page of actions. Pending is served oldest first (the longest waiting is the most
/// urgent); every other view newest first.
#[tracing::instrument(skip(db))]
pub async fn list(
    db: &Db,
    filter: &ActionFilter,
    page: &PageRequest,
) -> Result<Page<Action>, AppError> {
    let mut conn = db.read().await?;
    let (rows, next) = page_rows(&mut conn, filter, page).await?;
    let items = attach_results(&mut conn, rows).await?;
    Ok(Page { items, next })
}

/// A page of actions as [`list`] gives it, but with each action's result counts (every
/// result, not only those shown) instead of its results: one grouped query for the page.
/// What the history export writes.
#[tracing::instrument(skip(db))]
pub async fn list_counted(
    db: &Db,
    filter: &ActionFilter,
    page: &PageRequest,
) -> Result<Page<(Action, ResultCounts)>, AppError> {
    let mut conn = db.read().await?;
    let (rows, next) = page_rows(&mut conn, filter, page).await?;
    let mut on = Target::from(&mut conn);
    let mut counts = counts_of(&mut on, &rows).await?;
    let mut approvals = approvals_of(&mut on, rows.iter().map(ActionRow::approvals_wanted)).await?;
    let items = rows
        .into_iter()
        .map(|row| {
            let count = counts.remove(&row.id).unwrap_or_default();
            let approvals = approvals.remove(&row.id).unwrap_or_default();
            Ok((row.into_action(Vec::new(), approvals)?, count))
        })
        .collect::<Result<_, AppError>>()?;
    Ok(Page { items, next })
}

/// The rows of one keyset page, and the cursor of the next.
async fn page_rows(
    conn: &mut crate::db::Conn,
    filter: &ActionFilter,
    page: &PageRequest,
) -> Result<(Vec<ActionRow>, Option<String>), AppError> {
    let oldest_first = filter.status == Some(ActionStatus::Pending);
    let mut select = query(SELECT);
    select.push(" WHERE 1 = 1");
    filter.push_conditions(&mut select);
    if let Some(cursor) = &page.after {
        let op = if oldest_first { ">" } else { "<" };
        // A row-value comparison, so the index range starts at the cursor (an OR of the two
        // columns makes SQLite scan from the start of the range: page 500 cost 500 pages).
        select.push(&format!(" AND (a.created_at, a.id) {op} ("));
        select.push_bind(cursor.time()?).push(", ");
        select.push_bind(&cursor.id).push(")");
    }
    let direction = if oldest_first { "ASC" } else { "DESC" };
    select.push(&format!(
        " ORDER BY a.created_at {direction}, a.id {direction} LIMIT "
    ));
    select.push_bind(page.fetch());
    let mut rows: Vec<ActionRow> = select.fetch_all(&mut *conn).await?;
    let next = page.next_cursor(&mut rows, |r| {
        Cursor::at_time(&r.created_at, &r.id).encode()
    });
    Ok((rows, next))
}

impl ActionFilter {
    fn push_conditions(&self, select: &mut Query) {
        if let Some(status) = self.status {
            select.push(" AND a.status = ").push_bind(status);
        }
        if self.decided {
            select.push(" AND a.status <> 'pending'");
        }
        if self.remediations {
            select.push(
                " AND a.action_type NOT IN ('turn_off_forwarding', 'restore_forwarding')
                  AND a.status IN ('approved', 'in_progress', 'completed', 'partially_completed', 'failed')",
            );
        }
        if let Some(action_type) = self.action_type {
            select.push(" AND a.action_type = ").push_bind(action_type);
        }
        if let Some(decided_by) = &self.decided_by {
            select.push(" AND a.decided_by = ").push_bind(decided_by);
        }
        if let Some(since) = &self.since {
            select.push(" AND a.created_at >= ").push_bind(since);
        }
        if let Some(investigation_id) = &self.investigation_id {
            select
                .push(" AND a.investigation_id = ")
                .push_bind(investigation_id);
        }
    }
}

async fn attach_results<'a>(
    on: impl Into<Target<'a>>,
    rows: Vec<ActionRow>,
) -> Result<Vec<Action>, AppError> {
    let mut on = on.into();
    let mut approvals = approvals_of(&mut on, rows.iter().map(ActionRow::approvals_wanted)).await?;
    let mut actions = Vec::with_capacity(rows.len());
    for row in rows {
        // Only actions that have run have results: pending and decided-but-queued pages (the
        // common ones) need no second query.
        let ran = matches!(
            row.status.as_str(),
            "in_progress" | "completed" | "partially_completed" | "failed"
        );
        let results = match ran {
            true => results_of(&mut on, &row).await?,
            false => Vec::new(),
        };
        let approvals = approvals.remove(&row.id).unwrap_or_default();
        actions.push(row.into_action(results, approvals)?);
    }
    Ok(actions)
}
