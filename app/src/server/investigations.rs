//! Investigations: taking in an investigation's result and proposing the actions its verdicts
//! call for; reading one with its evidence; the investigations queue.

use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};
use sqlx::{QueryBuilder, Sqlite, SqliteConnection, SqlitePool};

use super::clock::{db_time, now};
use super::{actions, audit, incidents, new_id, AppState};
use crate::model::{
    ActionSource, ActionStatus, ActionType, AlertView, AppError, ClusterBy, ClusterMessage,
    ClusterView, CurrentUser, Cursor, ForwardingView, IngestInvestigation, Investigation,
    InvestigationCreated, InvestigationStatus, InvestigationSummary, InvestigationType, LogEntry,
    MessageLocation, Page, PageRequest, Severity, Verdict,
};

/// The identity of a cluster across investigations: the same campaign clustered the same way
/// gets the same key, whichever investigation found it.
pub fn cluster_key(by: ClusterBy, value: &str) -> String {
    let value = value.trim();
    let normalised = match by {
        ClusterBy::Sender | ClusterBy::AttachmentHash => value.to_lowercase(),
        ClusterBy::Url | ClusterBy::SubjectFingerprint => value.to_string(),
    };
    hex::encode(Sha256::digest(format!("{}\n{}", by.as_str(), normalised)))
}

/// Records an investigation's result: incident (opened or joined), alert, evidence, clusters,
/// forwarding, log and the pending actions its verdicts call for, in one transaction.
pub async fn ingest(
    state: &AppState,
    actor: &CurrentUser,
    body: &IngestInvestigation,
) -> Result<InvestigationCreated, AppError> {
    ingest_with_steps(state, actor, body, &[]).await
}

/// `ingest`, for airdesk's own playbook: `steps` (step, detail) are its log, written after the
/// alert in place of the per-cluster and per-mailbox lines an outside result gets.
pub async fn ingest_with_steps(
    state: &AppState,
    actor: &CurrentUser,
    body: &IngestInvestigation,
    steps: &[(String, String)],
) -> Result<InvestigationCreated, AppError> {
    let rules = &state.rules;
    body.check()?;
    let at = db_time(&now());
    let keys: Vec<String> = body
        .clusters
        .iter()
        .map(|c| cluster_key(c.cluster_by, &c.cluster_value))
        .collect();
    let mut tx = super::db::begin_write(&state.writer).await?;

    let incident_id = match incidents::find_for_clusters(&mut tx, &keys).await? {
        Some(id) => id,
        None => incidents::open(&mut tx, &body.alert.title, body.alert.severity).await?,
    };
    let alert_id = new_id();
    sqlx::query("INSERT INTO alerts (id, incident_id, title, severity, created_at) VALUES ($1, $2, $3, $4, $5)")
        .bind(&alert_id)
        .bind(&incident_id)
        .bind(&body.alert.title)
        .bind(body.alert.severity.as_str())
        .bind(&at)
        .execute(&mut *tx)
        .await?;
    let investigation_id = new_id();
    sqlx::query(
        "INSERT INTO investigations (id, incident_id, alert_id, title, investigation_type, status, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $7)",
    )
    .bind(&investigation_id)
    .bind(&incident_id)
    .bind(&alert_id)
    .bind(&body.title)
    .bind(body.investigation_type.as_str())
    .bind(InvestigationStatus::Running.as_str())
    .bind(&at)
    .execute(&mut *tx)
    .await?;
    let mut log = Log::new(&investigation_id);
    log.add(
        &mut tx,
        "Alert",
        &format!("{} ({})", body.alert.title, body.alert.severity.label()),
    )
    .await?;
    for (step, detail) in steps {
        log.add(&mut tx, step, detail).await?;
    }
    let own_log = steps.is_empty();

    let source = match body.investigation_type {
        InvestigationType::Manual => ActionSource::Manual,
        _ => ActionSource::Automated,
    };
    let mut action_ids = Vec::new();
    for (cluster, key) in body.clusters.iter().zip(&keys) {
        let cluster_id = new_id();
        sqlx::query(
            "INSERT INTO email_clusters (id, investigation_id, cluster_key, cluster_by, cluster_value, verdict, email_count)
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&cluster_id)
        .bind(&investigation_id)
        .bind(key)
        .bind(cluster.cluster_by.as_str())
        .bind(cluster.cluster_value.trim())
        .bind(cluster.verdict.as_str())
        .bind(cluster.messages.len() as i64)
        .execute(&mut *tx)
        .await?;
        for message in &cluster.messages {
            sqlx::query(
                "INSERT INTO cluster_messages (cluster_id, mailbox, internet_message_id, sender, subject, received_at, location)
                 VALUES ($1, $2, $3, $4, $5, $6, $7)
                 ON CONFLICT (cluster_id, mailbox, internet_message_id) DO NOTHING",
            )
            .bind(&cluster_id)
            .bind(message.mailbox.as_str())
            .bind(message.internet_message_id.as_str())
            .bind(&message.sender)
            .bind(&message.subject)
            .bind(db_time(&message.received_at))
            .bind(message.location.unwrap_or(MessageLocation::Inbox).as_str())
            .execute(&mut *tx)
            .await?;
        }
        let remediation = if cluster.verdict.calls_for_action() {
            "pending_approval"
        } else {
            "none"
        };
        let entity = format!(
            "{}: {}",
            cluster.cluster_by.label(),
            cluster.cluster_value.trim()
        );
        add_evidence(
            &mut tx,
            &investigation_id,
            "email_cluster",
            &entity,
            cluster.verdict,
            remediation,
        )
        .await?;
        if own_log {
            log.add(
                &mut tx,
                "Email cluster",
                &format!(
                    "{entity}: {} messages, verdict {}",
                    cluster.messages.len(),
                    cluster.verdict.label()
                ),
            )
            .await?;
        }
        if cluster.verdict.calls_for_action() {
            let id = propose(
                &mut tx,
                Proposal {
                    investigation_id: &investigation_id,
                    incident_id: &incident_id,
                    action_type: ActionType::SoftDeleteCluster,
                    target_kind: "cluster",
                    cluster: Some((&cluster_id, key)),
                    mailbox: None,
                    forward_to: None,
                    source,
                },
                actor,
            )
            .await?;
            action_ids.push(id);
        }
    }

    for forwarding in &body.forwarding {
        let external = !forwarding.forward_to.is_within(&rules.internal_domains);
        sqlx::query(
            "INSERT INTO mailbox_forwarding (investigation_id, mailbox, forward_to, verdict, external)
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (investigation_id, mailbox, forward_to) DO NOTHING",
        )
        .bind(&investigation_id)
        .bind(forwarding.mailbox.as_str())
        .bind(forwarding.forward_to.as_str())
        .bind(forwarding.verdict.as_str())
        .bind(external)
        .execute(&mut *tx)
        .await?;
        let acts = external && forwarding.verdict.calls_for_action();
        let remediation = if acts { "pending_approval" } else { "none" };
        add_evidence(
            &mut tx,
            &investigation_id,
            "mailbox",
            forwarding.mailbox.as_str(),
            forwarding.verdict,
            remediation,
        )
        .await?;
        let where_to = if external {
            "outside the organisation"
        } else {
            "inside the organisation"
        };
        if own_log {
            log.add(
                &mut tx,
                "Mail forwarding",
                &format!(
                    "{} forwards to {} ({where_to})",
                    forwarding.mailbox.as_str(),
                    forwarding.forward_to.as_str()
                ),
            )
            .await?;
        }
        if acts {
            let id = propose(
                &mut tx,
                Proposal {
                    investigation_id: &investigation_id,
                    incident_id: &incident_id,
                    action_type: ActionType::TurnOffForwarding,
                    target_kind: "mailbox",
                    cluster: None,
                    mailbox: Some(forwarding.mailbox.as_str()),
                    forward_to: Some(forwarding.forward_to.as_str()),
                    source,
                },
                actor,
            )
            .await?;
            action_ids.push(id);
        }
    }

    let status = if action_ids.is_empty() {
        InvestigationStatus::NoThreatsFound
    } else {
        InvestigationStatus::PendingAction
    };
    sqlx::query("UPDATE investigations SET status = $2, updated_at = $3 WHERE id = $1")
        .bind(&investigation_id)
        .bind(status.as_str())
        .bind(db_time(&now()))
        .execute(&mut *tx)
        .await?;
    let conclusion = match action_ids.len() {
        0 => "No threats found".to_string(),
        n => format!("{n} pending action(s) await approval"),
    };
    log.add(&mut tx, "Remediation", &conclusion).await?;
    incidents::refresh(&mut tx, &incident_id).await?;
    let after = serde_json::json!({
        "title": body.title, "type": body.investigation_type, "status": status,
        "incident_id": incident_id, "actions": action_ids.len(),
    });
    audit::record(
        &mut tx,
        &actor.username,
        "investigation",
        &investigation_id,
        "investigation_created",
        None,
        Some(after),
    )
    .await?;
    tx.commit().await?;
    let actions = actions::load(&mut *state.pool.acquire().await?, &action_ids).await?;
    tracing::info!(
        investigation_id,
        incident_id,
        actions = actions.len(),
        "investigation ingested"
    );
    Ok(InvestigationCreated {
        id: investigation_id,
        incident_id,
        status,
        actions,
    })
}

struct Proposal<'a> {
    investigation_id: &'a str,
    incident_id: &'a str,
    action_type: ActionType,
    target_kind: &'a str,
    cluster: Option<(&'a str, &'a str)>,
    mailbox: Option<&'a str>,
    forward_to: Option<&'a str>,
    source: ActionSource,
}

async fn propose(
    tx: &mut SqliteConnection,
    p: Proposal<'_>,
    actor: &CurrentUser,
) -> Result<String, AppError> {
    let id = new_id();
    let at = db_time(&now());
    sqlx::query(
        "INSERT INTO actions (id, investigation_id, incident_id, action_type, status, target_kind, cluster_id,
                              cluster_key, mailbox, forward_to, source, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12)",
    )
    .bind(&id)
    .bind(p.investigation_id)
    .bind(p.incident_id)
    .bind(p.action_type.as_str())
    .bind(ActionStatus::Pending.as_str())
    .bind(p.target_kind)
    .bind(p.cluster.map(|c| c.0))
    .bind(p.cluster.map(|c| c.1))
    .bind(p.mailbox)
    .bind(p.forward_to)
    .bind(p.source.as_str())
    .bind(&at)
    .execute(&mut *tx)
    .await?;
    let after = serde_json::json!({"type": p.action_type, "status": ActionStatus::Pending});
    audit::record(
        tx,
        &actor.username,
        "action",
        &id,
        "action_proposed",
        None,
        Some(after),
    )
    .await?;
    Ok(id)
}

async fn add_evidence(
    tx: &mut SqliteConnection,
    investigation_id: &str,
    kind: &str,
    entity: &str,
    verdict: Verdict,
    remediation_status: &str,
) -> Result<(), AppError> {
    sqlx::query(
        "INSERT INTO evidence (id, investigation_id, kind, entity, verdict, remediation_status)
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(new_id())
    .bind(investigation_id)
    .bind(kind)
    .bind(entity)
    .bind(verdict.as_str())
    .bind(remediation_status)
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// The investigation's log, numbered in order.
struct Log<'a> {
    investigation_id: &'a str,
    seq: i64,
}

impl<'a> Log<'a> {
    fn new(investigation_id: &'a str) -> Self {
        Log {
            investigation_id,
            seq: 0,
        }
    }

    async fn add(
        &mut self,
        tx: &mut SqliteConnection,
        step: &str,
        detail: &str,
    ) -> Result<(), AppError> {
        self.seq += 1;
        sqlx::query("INSERT INTO investigation_log (investigation_id, seq, at, step, detail) VALUES ($1, $2, $3, $4, $5)")
            .bind(self.investigation_id)
            .bind(self.seq)
            .bind(db_time(&now()))
            .bind(step)
            .bind(detail)
            .execute(&mut *tx)
            .await?;
        Ok(())
    }
}

#[derive(sqlx::FromRow)]
struct InvestigationRow {
    id: String,
    incident_id: String,
    title: String,
    investigation_type: String,
    status: String,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

#[derive(sqlx::FromRow)]
struct ClusterRow {
    id: String,
    cluster_by: String,
    cluster_value: String,
    verdict: String,
    email_count: i64,
}

#[derive(sqlx::FromRow)]
struct MessageRow {
    cluster_id: String,
    mailbox: String,
    internet_message_id: String,
    sender: String,
    subject: String,
    received_at: DateTime<Utc>,
    location: String,
}

/// One investigation with everything it found.
pub async fn get(pool: &SqlitePool, id: &str) -> Result<Investigation, AppError> {
    let mut conn = pool.acquire().await?;
    let row: InvestigationRow = sqlx::query_as(
        "SELECT id, incident_id, title, investigation_type, status, created_at, updated_at
         FROM investigations WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?
    .ok_or_else(|| AppError::NotFound(format!("investigation {id:?}")))?;

    let (alert_id, alert_title, severity, alert_at): (String, String, String, DateTime<Utc>) =
        sqlx::query_as(
            "SELECT a.id, a.title, a.severity, a.created_at
             FROM investigations i JOIN alerts a ON a.id = i.alert_id WHERE i.id = $1",
        )
        .bind(id)
        .fetch_one(&mut *conn)
        .await?;
    let cluster_rows: Vec<ClusterRow> = sqlx::query_as(
        "SELECT id, cluster_by, cluster_value, verdict, email_count FROM email_clusters
         WHERE investigation_id = $1 ORDER BY rowid",
    )
    .bind(id)
    .fetch_all(&mut *conn)
    .await?;
    let message_rows: Vec<MessageRow> = sqlx::query_as(
        "SELECT m.cluster_id, m.mailbox, m.internet_message_id, m.sender, m.subject, m.received_at, m.location
         FROM cluster_messages m JOIN email_clusters c ON c.id = m.cluster_id
         WHERE c.investigation_id = $1 ORDER BY m.received_at, m.mailbox",
    )
    .bind(id)
    .fetch_all(&mut *conn)
    .await?;
    let clusters = cluster_rows
        .into_iter()
        .map(|c| ClusterView {
            messages: message_rows
                .iter()
                .filter(|m| m.cluster_id == c.id)
                .map(|m| ClusterMessage {
                    mailbox: m.mailbox.clone(),
                    internet_message_id: m.internet_message_id.clone(),
                    sender: m.sender.clone(),
                    subject: m.subject.clone(),
                    received_at: m.received_at,
                    location: MessageLocation::parse(&m.location).unwrap_or(MessageLocation::Other),
                })
                .collect(),
            cluster_by: ClusterBy::parse(&c.cluster_by).unwrap_or(ClusterBy::Sender),
            verdict: Verdict::parse(&c.verdict).unwrap_or(Verdict::Clean),
            id: c.id,
            cluster_value: c.cluster_value,
            email_count: c.email_count,
        })
        .collect();

    let forwarding: Vec<(String, String, String)> = sqlx::query_as(
        "SELECT mailbox, forward_to, verdict FROM mailbox_forwarding WHERE investigation_id = $1 ORDER BY mailbox",
    )
    .bind(id)
    .fetch_all(&mut *conn)
    .await?;
    let log: Vec<(DateTime<Utc>, String, String)> = sqlx::query_as(
        "SELECT at, step, detail FROM investigation_log WHERE investigation_id = $1 ORDER BY seq",
    )
    .bind(id)
    .fetch_all(&mut *conn)
    .await?;
    let action_ids: Vec<String> = sqlx::query_scalar(
        "SELECT id FROM actions WHERE investigation_id = $1 ORDER BY created_at, id",
    )
    .bind(id)
    .fetch_all(&mut *conn)
    .await?;
    let actions = actions::load(&mut conn, &action_ids).await?;

    Ok(Investigation {
        investigation_type: InvestigationType::parse(&row.investigation_type)
            .ok_or(AppError::Internal)?,
        status: InvestigationStatus::parse(&row.status).ok_or(AppError::Internal)?,
        id: row.id,
        incident_id: row.incident_id,
        title: row.title,
        created_at: row.created_at,
        updated_at: row.updated_at,
        alert: AlertView {
            id: alert_id,
            title: alert_title,
            severity: Severity::parse(&severity).unwrap_or(Severity::Informational),
            created_at: alert_at,
            investigation_id: id.to_string(),
        },
        clusters,
        forwarding: forwarding
            .into_iter()
            .map(|(mailbox, forward_to, verdict)| ForwardingView {
                mailbox,
                forward_to,
                verdict: Verdict::parse(&verdict).unwrap_or(Verdict::Clean),
            })
            .collect(),
        actions,
        log: log
            .into_iter()
            .map(|(at, step, detail)| LogEntry { at, step, detail })
            .collect(),
    })
}

#[derive(sqlx::FromRow)]
struct SummaryRow {
    id: String,
    incident_id: String,
    title: String,
    investigation_type: String,
    status: String,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    user_count: i64,
    threat_count: i64,
    action_count: i64,
}

/// The investigations queue: newest first, optionally by status and by type.
pub async fn list(
    pool: &SqlitePool,
    status: Option<InvestigationStatus>,
    investigation_type: Option<InvestigationType>,
    page: &PageRequest,
) -> Result<Page<InvestigationSummary>, AppError> {
    let mut query = QueryBuilder::<Sqlite>::new(
        "SELECT i.id, i.incident_id, i.title, i.investigation_type, i.status, i.created_at, i.updated_at,
            (SELECT COUNT(DISTINCT m.mailbox) FROM cluster_messages m JOIN email_clusters c ON c.id = m.cluster_id
              WHERE c.investigation_id = i.id) AS user_count,
            (SELECT COUNT(*) FROM evidence e WHERE e.investigation_id = i.id AND e.verdict <> 'clean') AS threat_count,
            (SELECT COUNT(*) FROM actions a WHERE a.investigation_id = i.id) AS action_count
         FROM investigations i WHERE 1 = 1",
    );
    if let Some(status) = status {
        query.push(" AND i.status = ").push_bind(status.as_str());
    }
    if let Some(kind) = investigation_type {
        query
            .push(" AND i.investigation_type = ")
            .push_bind(kind.as_str());
    }
    if let Some(Cursor { key, id }) = &page.after {
        query
            .push(" AND (i.created_at, i.id) < (")
            .push_bind(key.clone())
            .push(", ")
            .push_bind(id.clone())
            .push(")");
    }
    query.push(" ORDER BY i.created_at DESC, i.id DESC LIMIT ");
    query.push_bind(i64::from(page.limit) + 1);
    let mut rows: Vec<SummaryRow> = query.build_query_as().fetch_all(pool).await?;
    let next = if rows.len() > page.limit as usize {
        rows.truncate(page.limit as usize);
        rows.last().map(|r| {
            Cursor {
                key: db_time(&r.created_at),
                id: r.id.clone(),
            }
            .encode()
        })
    } else {
        None
    };
    rows.into_iter()
        .map(|r| {
            Ok(InvestigationSummary {
                investigation_type: InvestigationType::parse(&r.investigation_type)
                    .ok_or(AppError::Internal)?,
                status: InvestigationStatus::parse(&r.status).ok_or(AppError::Internal)?,
                id: r.id,
                incident_id: r.incident_id,
                title: r.title,
                created_at: r.created_at,
                updated_at: r.updated_at,
                user_count: r.user_count,
                threat_count: r.threat_count,
                action_count: r.action_count,
            })
        })
        .collect::<Result<Vec<_>, AppError>>()
        .map(|items| Page { items, next })
}
