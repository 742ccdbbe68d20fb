//! One incident's summary page: every investigation the incident gathers, with the evidence
//! each found and the action answering each piece, read in a fixed number of queries however
//! many investigations and clusters there are (an incident of a large campaign gathers
//! hundreds). What that page does not show is left out — a cluster's messages, an action's
//! per-copy results, the reports and the log: each investigation's own page has them.

use super::{Found, InvestigationRow, WITH_ALERT};
use crate::actions::read as actions;
use crate::db::{query, Db};
use crate::incidents;
use model::{AppError, IncidentDetail, InvestigationBrief};

/// The incident's investigations, oldest first, and the evidence they found with the action
/// answering each piece (see [`IncidentDetail`]).
#[tracing::instrument(skip(db))]
pub async fn of_incident(db: &Db, incident_id: &str) -> Result<IncidentDetail, AppError> {
    let incident = incidents::get(db, incident_id).await?;
    let mut conn = db.read().await?;
    let rows: Vec<InvestigationRow> = query(format!(
        "{WITH_ALERT} WHERE i.incident_id = $1 ORDER BY i.created_at, i.id"
    ))
    .bind(incident_id)
    .fetch_all(&mut conn)
    .await?;
    let mut evidence_of = actions::evidence_of_incident(&mut conn, incident_id).await?;
    let mut evidence = Vec::new();
    let mut investigations = Vec::with_capacity(rows.len());
    for row in rows {
        evidence.extend(evidence_of.remove(&row.id).unwrap_or_default());
        investigations.push(InvestigationBrief::from(&row.with(Found::default())?));
    }
    Ok(IncidentDetail {
        incident,
        investigations,
        evidence,
    })
}
