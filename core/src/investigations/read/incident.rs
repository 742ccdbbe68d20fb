//! One incident's summary page: every investigation the incident gathers, with the evidence
//! each found and the action answering each piece, read in a fixed number of queries however
//! many investigations and clusters there are (an incident of a large campaign gathers
//! hundreds). What that page does not show is left out — a cluster's messages, an action's
//! per-copy results, the reports' list and the log: each investigation's own page has them.

use std::collections::HashMap;

use super::{forwarding_view, ClusterRow, Found, InvestigationRow, WITH_ALERT};
use crate::actions::read as actions;
use crate::db::{query, Db};
use crate::incidents;
use model::{
    AppError, ClusterView, EvidenceRow, ForwardingView, IncidentDetail, Investigation,
    InvestigationBrief,
};

/// A cluster and the investigation that found it.
#[derive(sqlx::FromRow)]
struct Placed {
    investigation_id: String,
    #[sqlx(flatten)]
    cluster: ClusterRow,
}

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
    let mut clusters: HashMap<String, Vec<ClusterView>> = HashMap::new();
    let cluster_rows: Vec<Placed> = query(
        "SELECT c.investigation_id, c.id, c.cluster_by, c.cluster_value, c.verdict, c.email_count
         FROM email_clusters c JOIN investigations i ON i.id = c.investigation_id
         WHERE i.incident_id = $1 ORDER BY c.position, c.id",
    )
    .bind(incident_id)
    .fetch_all(&mut conn)
    .await?;
    for placed in cluster_rows {
        let view = placed.cluster.view(Vec::new());
        clusters
            .entry(placed.investigation_id)
            .or_default()
            .push(view);
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
        let view = forwarding_view((mailbox, forward_to, verdict, detail));
        forwarding.entry(investigation).or_default().push(view);
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
            let id = row.id.clone();
            row.with(Found {
                clusters: clusters.remove(&id).unwrap_or_default(),
                forwarding: forwarding.remove(&id).unwrap_or_default(),
                reports: Vec::new(),
                reporter_count: reporters.get(&id).copied().unwrap_or(0),
                actions: actions_of.remove(&id).unwrap_or_default(),
                log: Vec::new(),
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
