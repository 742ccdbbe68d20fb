//! Incidents: opening or joining one for a new alert, keeping its counts, and the queue.

use chrono::{DateTime, Utc};

use crate::db::{self, query, Db, Tx};
use crate::new_id;
use model::{
    AppError, Cursor, IncidentFilter, IncidentSort, IncidentStatus, IncidentSummary,
    InvestigationStatus, Page, PageRequest, Severity,
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
pub(crate) async fn find_for_clusters(
    tx: &mut Tx<'_>,
    cluster_keys: &[String],
) -> Result<Option<String>, AppError> {
    if cluster_keys.is_empty() {
        return Ok(None);
    }
    let mut select = query(
        "SELECT inc.id FROM email_clusters c
         JOIN investigations i ON i.id = c.investigation_id
         JOIN incidents inc ON inc.id = i.incident_id
         WHERE inc.status = 'active' AND c.cluster_key IN (",
    );
    select
        .push_list(cluster_keys)
        .push(") ORDER BY inc.last_activity_at DESC LIMIT 1");
    Ok(select.optional_scalar(tx).await?)
}

/// Opens a new incident for an alert.
pub(crate) async fn open(
    tx: &mut Tx<'_>,
    title: &str,
    severity: Severity,
) -> Result<String, AppError> {
    let id = new_id();
    let at = db::now();
    query(
        "INSERT INTO incidents (id, title, severity, investigation_state, first_activity_at, last_activity_at)
         VALUES ($1, $2, $3, $4, $5, $5)",
    )
    .bind(&id)
    .bind(title)
    .bind(severity)
    .bind(InvestigationStatus::Starting)
    .bind(at)
    .execute(&mut *tx)
    .await?;
    Ok(id)
}

/// Recomputes an incident's counts, state and severity from its rows. Called in the same
/// transaction as whatever changed them.
pub(crate) async fn refresh(tx: &mut Tx<'_>, incident_id: &str) -> Result<(), AppError> {
    refresh_all(tx, &[incident_id]).await
}

/// As [`refresh`], for every incident a batch touched, in two statements whatever their
/// number: this runs in every decision's write transaction.
pub(crate) async fn refresh_all(tx: &mut Tx<'_>, incident_ids: &[&str]) -> Result<(), AppError> {
    if incident_ids.is_empty() {
        return Ok(());
    }
    // Counts are derived, so one writer at a time derives them (see refresh_investigations).
    tx.lock_rows("incidents", incident_ids.iter().copied())
        .await?;
    // How many investigations of each status, alerts of each severity and pending actions
    // each incident has, all in one round trip.
    let mut select = query(
        "SELECT incident_id, 'investigation', status, COUNT(*) FROM investigations WHERE incident_id IN (",
    );
    select.push_list(incident_ids.iter().copied());
    select.push(
        ") GROUP BY incident_id, status
         UNION ALL SELECT incident_id, 'alert', severity, COUNT(*) FROM alerts WHERE incident_id IN (",
    );
    select.push_list(incident_ids.iter().copied());
    select.push(
        ") GROUP BY incident_id, severity
         UNION ALL SELECT incident_id, 'pending', '', COUNT(*) FROM actions WHERE status = 'pending' AND incident_id IN (",
    );
    select
        .push_list(incident_ids.iter().copied())
        .push(") GROUP BY incident_id");
    let rows: Vec<(String, String, String, i64)> = select.fetch_all(&mut *tx).await?;
    let mut update = query(
        "WITH v (id, investigation_state, severity, alert_count, investigation_count, pending_action_count)
         AS (VALUES ",
    );
    // Padding rows name no incident, so change nothing.
    update.push_rows(incident_ids, |update, incident| {
        let Some((_, incident_id)) = incident else {
            update.push_bind("").push(", ");
            update.push_bind(InvestigationStatus::Starting).push(", ");
            update.push_bind(Severity::Informational).push(", 0, 0, 0");
            return;
        };
        let of = |kind: &'static str| {
            rows.iter()
                .filter(move |(id, k, _, _)| id == incident_id && k == kind)
                .map(|(_, _, value, count)| (value.as_str(), *count))
        };
        let count = |kind: &'static str| of(kind).map(|(_, n)| n).sum::<i64>();
        let state = of("investigation")
            .filter_map(|(status, _)| InvestigationStatus::parse(status))
            .max_by_key(|s| urgency(*s))
            .unwrap_or(InvestigationStatus::Starting);
        let severity = of("alert")
            .filter_map(|(severity, _)| Severity::parse(severity))
            .max_by_key(|s| severity_rank(*s))
            .unwrap_or(Severity::Informational);
        update.push_bind(*incident_id).push(", ");
        update.push_bind(state).push(", ");
        update.push_bind(severity).push(", ");
        update.push_bind(count("alert")).push(", ");
        update.push_bind(count("investigation")).push(", ");
        update.push_bind(count("pending"));
    });
    update.push(
        ")
         UPDATE incidents SET
            investigation_state = v.investigation_state,
            severity = v.severity,
            alert_count = v.alert_count,
            investigation_count = v.investigation_count,
            pending_action_count = v.pending_action_count,
            last_activity_at = ",
    );
    update.push_bind(db::now());
    update.push(" FROM v WHERE incidents.id = v.id");
    update.execute(&mut *tx).await?;
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
    /// This row's place in the queue sorted by `sort`, as a cursor.
    fn cursor(&self, sort: IncidentSort) -> Cursor {
        let number = |n: i64| Cursor {
            key: n.to_string(),
            id: self.id.clone(),
        };
        match sort {
            IncidentSort::LastActivity => Cursor::at_time(&self.last_activity_at, &self.id),
            IncidentSort::FirstActivity => Cursor::at_time(&self.first_activity_at, &self.id),
            IncidentSort::Severity => number(self.severity_rank),
            IncidentSort::PendingActions => number(self.pending_action_count),
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

/// One incident's row (its investigations are `investigations::of_incident`).
#[tracing::instrument(skip(db))]
pub async fn get(db: &Db, id: &str) -> Result<IncidentSummary, AppError> {
    let row: IncidentRow = query(
        "SELECT id, title, severity, status, investigation_state, alert_count, investigation_count,
                pending_action_count, first_activity_at, last_activity_at, severity_rank
         FROM incidents WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(db)
    .await?
    .ok_or_else(|| AppError::NotFound(format!("incident {id:?}")))?;
    Ok(row.into_summary())
}

/// The incidents queue: latest activity first unless the filter sorts otherwise. Every sort
/// pages by keyset on (its column, id), so a deep page costs what the first does.
#[tracing::instrument(skip(db))]
pub async fn list(
    db: &Db,
    filter: &IncidentFilter,
    page: &PageRequest,
) -> Result<Page<IncidentSummary>, AppError> {
    let mut select = query(
        "SELECT id, title, severity, status, investigation_state, alert_count, investigation_count,
                pending_action_count, first_activity_at, last_activity_at, severity_rank
         FROM incidents WHERE 1 = 1",
    );
    if let Some(state) = filter.investigation_state {
        select.push(" AND investigation_state = ").push_bind(state);
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
    if let Some(cursor) = &page.after {
        select.push(&format!(" AND ({column}, id) {after} ("));
        if numeric {
            select.push_bind(cursor.number()?);
        } else {
            select.push_bind(cursor.time()?);
        }
        select.push(", ").push_bind(&cursor.id).push(")");
    }
    select.push(&format!(" ORDER BY {column} {order}, id {order} LIMIT "));
    select.push_bind(page.fetch());
    let mut rows: Vec<IncidentRow> = select.fetch_all(db).await?;
    let next = page.next_cursor(&mut rows, |r| r.cursor(filter.sort).encode());
    let items = rows.into_iter().map(IncidentRow::into_summary).collect();
    Ok(Page { items, next })
}
