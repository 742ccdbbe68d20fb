//! Incidents: opening or joining one for a new alert, keeping its counts, and the queue.

use chrono::{DateTime, Utc};
use sqlx::{QueryBuilder, Sqlite, SqliteConnection, SqlitePool};

use super::clock::{db_time, now};
use super::new_id;
use crate::model::{
    AppError, Cursor, IncidentDetail, IncidentFilter, IncidentSort, IncidentStatus,
    IncidentSummary, InvestigationStatus, Page, PageRequest, Severity,
};

/// How urgently an investigation status wants a person: the incident shows the most urgent.
fn urgency(status: InvestigationStatus) -> u8 {
    use InvestigationStatus::*;
    match status {
        PendingAction => 9,
        Running => 8,
        Starting => 7,
        Failed => 6,
        PartiallyRemediated => 5,
        TerminatedBySystem => 4,
        TerminatedByUser => 3,
        Remediated => 2,
        NoThreatsFound => 1,
    }
}

fn severity_rank(severity: Severity) -> u8 {
    match severity {
        Severity::Informational => 0,
        Severity::Low => 1,
        Severity::Medium => 2,
        Severity::High => 3,
    }
}

/// The active incident that already holds one of these clusters, if any: a second alert about
/// the same campaign joins it instead of opening another.
pub async fn find_for_clusters(
    conn: &mut SqliteConnection,
    cluster_keys: &[String],
) -> Result<Option<String>, AppError> {
    if cluster_keys.is_empty() {
        return Ok(None);
    }
    let mut query = QueryBuilder::<Sqlite>::new(
        "SELECT inc.id FROM email_clusters c
         JOIN investigations i ON i.id = c.investigation_id
         JOIN incidents inc ON inc.id = i.incident_id
         WHERE inc.status = 'active' AND c.cluster_key IN (",
    );
    let mut list = query.separated(", ");
    for key in cluster_keys {
        list.push_bind(key.clone());
    }
    query.push(") ORDER BY inc.last_activity_at DESC LIMIT 1");
    Ok(query
        .build_query_scalar()
        .fetch_optional(&mut *conn)
        .await?)
}

/// Opens a new incident for an alert.
pub async fn open(
    conn: &mut SqliteConnection,
    title: &str,
    severity: Severity,
) -> Result<String, AppError> {
    let id = new_id();
    let at = db_time(&now());
    sqlx::query(
        "INSERT INTO incidents (id, title, severity, investigation_state, first_activity_at, last_activity_at)
         VALUES ($1, $2, $3, $4, $5, $5)",
    )
    .bind(&id)
    .bind(title)
    .bind(severity.as_str())
    .bind(InvestigationStatus::Starting.as_str())
    .bind(&at)
    .execute(&mut *conn)
    .await?;
    Ok(id)
}

/// Recomputes an incident's counts, state and severity from its rows. Called in the same
/// transaction as whatever changed them.
pub async fn refresh(conn: &mut SqliteConnection, incident_id: &str) -> Result<(), AppError> {
    // One round trip for both lists: this runs in every decision's write transaction.
    let rows: Vec<(String, String)> = sqlx::query_as(
        "SELECT 'investigation', status FROM investigations WHERE incident_id = $1
         UNION ALL SELECT 'alert', severity FROM alerts WHERE incident_id = $1",
    )
    .bind(incident_id)
    .fetch_all(&mut *conn)
    .await?;
    let of = |kind: &'static str| {
        rows.iter()
            .filter(move |(k, _)| k == kind)
            .map(|(_, v)| v.as_str())
    };
    let investigation_count = of("investigation").count();
    let state = of("investigation")
        .filter_map(InvestigationStatus::parse)
        .max_by_key(|s| urgency(*s))
        .unwrap_or(InvestigationStatus::Starting);
    let severity = of("alert")
        .filter_map(Severity::parse)
        .max_by_key(|s| severity_rank(*s))
        .unwrap_or(Severity::Informational);
    sqlx::query(
        "UPDATE incidents SET
            investigation_state = $2,
            severity = $3,
            alert_count = $4,
            investigation_count = $5,
            pending_action_count =
                (SELECT COUNT(*) FROM actions WHERE incident_id = $1 AND status = 'pending'),
            last_activity_at = $6
         WHERE id = $1",
    )
    .bind(incident_id)
    .bind(state.as_str())
    .bind(severity.as_str())
    .bind(of("alert").count() as i64)
    .bind(investigation_count as i64)
    .bind(db_time(&now()))
    .execute(&mut *conn)
    .await?;
    Ok(())
}

#[derive(sqlx::FromRow)]
struct IncidentRow {
    id: String,
    title: String,
    severity: String,
    status: String,
    investigation_state: String,
    alert_count: i64,
    investigation_count: i64,
    pending_action_count: i64,
    first_activity_at: DateTime<Utc>,
    last_activity_at: DateTime<Utc>,
    severity_rank: i64,
}

impl IncidentRow {
    /// This row's place in the queue sorted by `sort`, as a cursor key.
    fn key(&self, sort: IncidentSort) -> String {
        match sort {
            IncidentSort::LastActivity => db_time(&self.last_activity_at),
            IncidentSort::FirstActivity => db_time(&self.first_activity_at),
            IncidentSort::Severity => self.severity_rank.to_string(),
            IncidentSort::PendingActions => self.pending_action_count.to_string(),
        }
    }

    fn into_summary(self) -> IncidentSummary {
        IncidentSummary {
            severity: Severity::parse(&self.severity).unwrap_or(Severity::Informational),
            status: IncidentStatus::parse(&self.status).unwrap_or(IncidentStatus::Active),
            investigation_state: InvestigationStatus::parse(&self.investigation_state)
                .unwrap_or(InvestigationStatus::Starting),
            id: self.id,
            title: self.title,
            alert_count: self.alert_count,
            investigation_count: self.investigation_count,
            pending_action_count: self.pending_action_count,
            first_activity_at: self.first_activity_at,
            last_activity_at: self.last_activity_at,
        }
    }
}

/// One incident with its investigations, whole (the incident's summary page).
pub async fn get(pool: &SqlitePool, id: &str) -> Result<IncidentDetail, AppError> {
    let row: IncidentRow = sqlx::query_as(
        "SELECT id, title, severity, status, investigation_state, alert_count, investigation_count,
                pending_action_count, first_activity_at, last_activity_at, severity_rank
         FROM incidents WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(pool)
    .await?
    .ok_or_else(|| AppError::NotFound(format!("incident {id:?}")))?;
    let ids: Vec<String> = sqlx::query_scalar(
        "SELECT id FROM investigations WHERE incident_id = $1 ORDER BY created_at, id",
    )
    .bind(id)
    .fetch_all(pool)
    .await?;
    let mut investigations = Vec::with_capacity(ids.len());
    for investigation in ids {
        investigations.push(super::investigations::get(pool, &investigation).await?);
    }
    Ok(IncidentDetail {
        incident: row.into_summary(),
        investigations,
    })
}

/// The incidents queue: latest activity first unless the filter sorts otherwise. Every sort
/// pages by keyset on (its column, id), so a deep page costs what the first does.
pub async fn list(
    pool: &SqlitePool,
    filter: &IncidentFilter,
    page: &PageRequest,
) -> Result<Page<IncidentSummary>, AppError> {
    let mut query = QueryBuilder::<Sqlite>::new(
        "SELECT id, title, severity, status, investigation_state, alert_count, investigation_count,
                pending_action_count, first_activity_at, last_activity_at, severity_rank
         FROM incidents WHERE 1 = 1",
    );
    if let Some(state) = filter.investigation_state {
        query
            .push(" AND investigation_state = ")
            .push_bind(state.as_str());
    }
    let (column, numeric) = match filter.sort {
        IncidentSort::LastActivity => ("last_activity_at", false),
        IncidentSort::FirstActivity => ("first_activity_at", false),
        IncidentSort::Severity => ("severity_rank", true),
        IncidentSort::PendingActions => ("pending_action_count", true),
    };
    let (after, order) = if filter.ascending {
        (">", "ASC")
    } else {
        ("<", "DESC")
    };
    if let Some(Cursor { key, id }) = &page.after {
        query.push(format_args!(" AND ({column}, id) {after} ("));
        if numeric {
            let key: i64 = key
                .parse()
                .map_err(|_| AppError::Invalid("cursor is not one this server gave".into()))?;
            query.push_bind(key);
        } else {
            query.push_bind(key.clone());
        }
        query.push(", ").push_bind(id.clone()).push(")");
    }
    query.push(format_args!(
        " ORDER BY {column} {order}, id {order} LIMIT "
    ));
    query.push_bind(i64::from(page.limit) + 1);
    let mut rows: Vec<IncidentRow> = query.build_query_as().fetch_all(pool).await?;
    let next = if rows.len() > page.limit as usize {
        rows.truncate(page.limit as usize);
        rows.last().map(|r| {
            Cursor {
                key: r.key(filter.sort),
                id: r.id.clone(),
            }
            .encode()
        })
    } else {
        None
    };
    let items = rows.into_iter().map(IncidentRow::into_summary).collect();
    Ok(Page { items, next })
}
