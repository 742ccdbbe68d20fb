//! Actions as people and scripts read them: one at a time, or a keyset page at a time.

use chrono::{DateTime, Utc};

use crate::db::{query, Db, Query, Target};
use model::{
    Action, ActionResult, ActionSource, ActionStatus, ActionTarget, ActionType, AppError,
    ClusterBy, Cursor, MessageLocation, MessageResult, Page, PageRequest,
};

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
        d.decided_by AS first_decided_by, d.decided_at AS first_decided_at
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
    duplicate_of: Option<String>,
    changed_from: Option<String>,
    outcome: Option<String>,
    first_decided_by: Option<String>,
    first_decided_at: Option<DateTime<Utc>>,
}

impl ActionRow {
    fn into_action(self, results: Vec<ActionResult>) -> Result<Action, AppError> {
        let bad = |what: &str, value: &str| {
            tracing::error!(what, value, "unknown word in the actions table");
            AppError::Internal
        };
        Ok(Action {
            action_type: ActionType::parse(&self.action_type)
                .ok_or_else(|| bad("type", &self.action_type))?,
            status: ActionStatus::parse(&self.status).ok_or_else(|| bad("status", &self.status))?,
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
            details: match (
                &self.duplicate_of,
                &self.first_decided_at,
                &self.first_decided_by,
            ) {
                (Some(first), Some(at), Some(by)) => Some(format!(
                    "De-duplicated: the same cluster was approved at {} by {by} (action {first})",
                    at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
                )),
                _ => self.outcome,
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
            duplicate_of: self.duplicate_of,
            changed_from: self.changed_from,
            results,
        })
    }
}

#[derive(sqlx::FromRow)]
struct ResultRow {
    action_id: String,
    mailbox: String,
    internet_message_id: Option<String>,
    result: String,
    location: Option<String>,
    detail: Option<String>,
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
    let mut conn = db.read().await?;
    let mut rows: Vec<ActionRow> = select.fetch_all(&mut conn).await?;
    let next = page.next_cursor(&mut rows, |r| {
        Cursor::at_time(&r.created_at, &r.id).encode()
    });
    let items = attach_results(&mut conn, rows).await?;
    Ok(Page { items, next })
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
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    // Only actions that have run have per-message results: pending and decided-but-queued
    // pages (the common ones) need no second query.
    let ran = |status: &str| {
        matches!(
            status,
            "in_progress" | "completed" | "partially_completed" | "failed"
        )
    };
    let ids: Vec<String> = rows
        .iter()
        .filter(|r| ran(&r.status))
        .map(|r| r.id.clone())
        .collect();
    let results: Vec<ResultRow> = if ids.is_empty() {
        Vec::new()
    } else {
        let mut select = query(
            "SELECT action_id, mailbox, internet_message_id, result, location, detail
             FROM action_results WHERE action_id IN (",
        );
        select.push_list(&ids).push(") ORDER BY at, mailbox");
        select.fetch_all(on).await?
    };
    rows.into_iter()
        .map(|row| {
            let mine = results
                .iter()
                .filter(|r| r.action_id == row.id)
                .map(|r| ActionResult {
                    mailbox: r.mailbox.clone(),
                    internet_message_id: r.internet_message_id.clone(),
                    result: MessageResult::parse(&r.result).unwrap_or(MessageResult::Failed),
                    location: r.location.as_deref().and_then(MessageLocation::parse),
                    detail: r.detail.clone(),
                })
                .collect();
            row.into_action(mine)
        })
        .collect()
}
