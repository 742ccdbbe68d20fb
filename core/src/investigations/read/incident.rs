//! One incident's summary page: every investigation the incident gathers, with the evidence
//! each found and the action answering each piece, read in a fixed number of queries however
//! many investigations and clusters there are (an incident of a large campaign gathers
//! hundreds). What that page does not show is left out — a cluster's messages, an action's
//! per-copy results, the reports' list and the log: each investigation's own page has them.

use std::collections::HashMap;

use chrono::{DateTime, Utc};

use super::ClusterRow;
use crate::actions::read as actions;
use crate::db::{query, Db};
use crate::incidents;
use model::{
    AlertView, AppError, ClusterBy, ClusterView, EvidenceRow, ForwardingView, IncidentDetail,
    Investigation, InvestigationBrief, InvestigationStatus, InvestigationType, Severity, Verdict,
};

#[derive(sqlx::FromRow)]
struct Row {
    id: String,
    incident_id: String,
    title: String,
    investigation_type: String,
    status: String,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    alert_id: String,
    alert_title: String,
    severity: String,
    alert_at: DateTime<Utc>,
}

/// The incident's investigations, oldest first, and the evidence they found with the action
/// answering each piece (see [`IncidentDetail`]).
#[tracing::instrument(skip(db))]
pub async fn of_incident(db: &Db, incident_id: &str) -> Result<IncidentDetail, AppError> {
    let incident = incidents::get(db, incident_id).await?;
    let mut conn = db.read().await?;
    let rows: Vec<Row> = query(
        "SELECT i.id, i.incident_id, i.title, i.investigation_type, i.status, i.created_at, i.updated_at,
                a.id AS alert_id, a.title AS alert_title, a.severity, a.created_at AS alert_at
         FROM investigations i JOIN alerts a ON a.id = i.alert_id
         WHERE i.incident_id = $1 ORDER BY i.created_at, i.id",
    )
    .bind(incident_id)
    .fetch_all(&mut conn)
    .await?;
    let mut clusters: HashMap<String, Vec<ClusterView>> = HashMap::new();
    let cluster_rows: Vec<(String, ClusterRow)> = query(
        "SELECT c.investigation_id, c.id, c.cluster_by, c.cluster_value, c.verdict, c.email_count
         FROM email_clusters c JOIN investigations i ON i.id = c.investigation_id
         WHERE i.incident_id = $1 ORDER BY c.position, c.id",
    )
    .bind(incident_id)
    .fetch_all(&mut conn)
    .await?
    .into_iter()
    .map(
        |(investigation, id, cluster_by, cluster_value, verdict, email_count)| {
            let row = ClusterRow {
                id,
                cluster_by,
                cluster_value,
                verdict,
                email_count,
            };
            (investigation, row)
        },
    )
    .collect();
    for (investigation, c) in cluster_rows {
        clusters
            .entry(investigation)
            .or_default()
            .push(ClusterView {
                messages: Vec::new(),
                cluster_by: ClusterBy::parse(&c.cluster_by).unwrap_or(ClusterBy::Sender),
                verdict: Verdict::parse(&c.verdict).unwrap_or(Verdict::Clean),
                id: c.id,
                cluster_value: c.cluster_value,
                email_count: c.email_count,
            });
    }
    let mut forwarding: HashMap<String, Vec<ForwardingView>> = HashMap::new();
    let forwarding_rows: Vec<(String, String, String, String, Option<String>)> = query(
        "SELECT f.investigation_id, f.mailbox, f.forward_to, f.verdict, f.detail
         FROM mailbox_forwarding f JOIN investigations i ON i.id = f.investigation_id
         WHERE i.incident_id = $1 ORDER BY f.mailbox, f.forward_to",
    )
    .bind(incident_id)
    .fetch_all(&mut conn)
    .await?;
    for (investigation, mailbox, forward_to, verdict, detail) in forwarding_rows {
        forwarding
            .entry(investigation)
            .or_default()
            .push(ForwardingView {
                mailbox,
                forward_to,
                verdict: Verdict::parse(&verdict).unwrap_or(Verdict::Clean),
                detail,
            });
    }
    let reporters: HashMap<String, i64> = query(
        "SELECT r.investigation_id, COUNT(DISTINCT r.reported_by)
         FROM reports r JOIN investigations i ON i.id = r.investigation_id
         WHERE i.incident_id = $1 GROUP BY r.investigation_id",
    )
    .bind(incident_id)
    .fetch_all(&mut conn)
    .await?
    .into_iter()
    .collect();
    let mut actions_of: HashMap<String, Vec<model::Action>> = HashMap::new();
    for action in actions::of_incident(&mut conn, incident_id).await? {
        actions_of
            .entry(action.investigation_id.clone())
            .or_default()
            .push(action);
    }

    let investigations: Vec<Investigation> = rows
        .into_iter()
        .map(|row| {
            Ok(Investigation {
                investigation_type: InvestigationType::parse(&row.investigation_type)
                    .ok_or(AppError::Internal)?,
                status: InvestigationStatus::parse(&row.status).ok_or(AppError::Internal)?,
                clusters: clusters.remove(&row.id).unwrap_or_default(),
                forwarding: forwarding.remove(&row.id).unwrap_or_default(),
                reports: Vec::new(),
                reporter_count: reporters.get(&row.id).copied().unwrap_or(0),
                actions: actions_of.remove(&row.id).unwrap_or_default(),
                log: Vec::new(),
                alert: AlertView {
                    id: row.alert_id,
                    title: row.alert_title,
                    severity: Severity::parse(&row.severity).unwrap_or(Severity::Informational),
                    created_at: row.alert_at,
                    investigation_id: row.id.clone(),
                },
                id: row.id,
                incident_id: row.incident_id,
                title: row.title,
                created_at: row.created_at,
                updated_at: row.updated_at,
            })
        })
        .collect::<Result<_, AppError>>()?;
    Ok(IncidentDetail {
        incident,
        evidence: investigations.iter().flat_map(EvidenceRow::of).collect(),
        investigations: investigations
            .iter()
            .map(InvestigationBrief::from)
            .collect(),
    })
}
