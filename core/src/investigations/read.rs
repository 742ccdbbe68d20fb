//! Reading investigations: one with everything it found, and the investigations queue.

use chrono::{DateTime, Utc};

use crate::actions::read as actions;
use crate::db::{query, Conn, Db};
use model::{
    AlertView, AppError, ClusterBy, ClusterMessage, ClusterView, Cursor, ForwardingView,
    Investigation, InvestigationStatus, InvestigationSummary, InvestigationType, LogEntry,
    MessageLocation, Page, PageRequest, ReportView, Severity, Verdict,
};

mod incident;

pub use incident::of_incident;

/// An investigation's row with its alert's (`i` and `a` in [`WITH_ALERT`]).
#[derive(sqlx::FromRow)]
struct InvestigationRow {
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

/// The columns of [`InvestigationRow`], from `investigations i` joined with its alert `a`.
const WITH_ALERT: &str = "SELECT i.id, i.incident_id, i.title, i.investigation_type, i.status,
        i.created_at, i.updated_at, a.id AS alert_id, a.title AS alert_title, a.severity,
        a.created_at AS alert_at
    FROM investigations i JOIN alerts a ON a.id = i.alert_id";

/// What an investigation found, beside its row.
#[derive(Default)]
struct Found {
    clusters: Vec<ClusterView>,
    forwarding: Vec<ForwardingView>,
    reports: Vec<ReportView>,
    reporter_count: i64,
    actions: Vec<model::Action>,
    log: Vec<LogEntry>,
}

impl InvestigationRow {
    fn with(self, found: Found) -> Result<Investigation, AppError> {
        Ok(Investigation {
            investigation_type: InvestigationType::parse(&self.investigation_type)
                .ok_or(AppError::Internal)?,
            status: InvestigationStatus::parse(&self.status).ok_or(AppError::Internal)?,
            alert: AlertView {
                id: self.alert_id,
                title: self.alert_title,
                severity: Severity::parse(&self.severity).unwrap_or(Severity::Informational),
                created_at: self.alert_at,
                investigation_id: self.id.clone(),
            },
            id: self.id,
            incident_id: self.incident_id,
            title: self.title,
            created_at: self.created_at,
            updated_at: self.updated_at,
            clusters: found.clusters,
            forwarding: found.forwarding,
            reports: found.reports,
            reporter_count: found.reporter_count,
            actions: found.actions,
            log: found.log,
        })
    }
}

/// A row of `mailbox_forwarding`: mailbox, forward_to, verdict, detail.
type ForwardingRow = (String, String, String, Option<String>);

fn forwarding_view((mailbox, forward_to, verdict, detail): ForwardingRow) -> ForwardingView {
    ForwardingView {
        mailbox,
        forward_to,
        verdict: Verdict::parse(&verdict).unwrap_or(Verdict::Clean),
        detail,
    }
}

impl ClusterRow {
    fn view(self, messages: Vec<ClusterMessage>) -> ClusterView {
        ClusterView {
            messages,
            cluster_by: ClusterBy::parse(&self.cluster_by).unwrap_or(ClusterBy::Sender),
            verdict: Verdict::parse(&self.verdict).unwrap_or(Verdict::Clean),
            id: self.id,
            cluster_value: self.cluster_value,
            email_count: self.email_count,
        }
    }
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
    mailbox: String,
    internet_message_id: String,
    sender: String,
    subject: String,
    received_at: DateTime<Utc>,
    location: String,
}

/// One investigation with everything it found.
#[tracing::instrument(skip(db))]
pub async fn get(db: &Db, id: &str) -> Result<Investigation, AppError> {
    let mut conn = db.read().await?;
    let row: InvestigationRow = query(format!("{WITH_ALERT} WHERE i.id = $1"))
        .bind(id)
        .fetch_optional(&mut conn)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("investigation {id:?}")))?;
    let clusters = clusters(&mut conn, id).await?;
    let forwarding: Vec<ForwardingRow> = query(
        "SELECT mailbox, forward_to, verdict, detail FROM mailbox_forwarding
         WHERE investigation_id = $1 ORDER BY mailbox, forward_to",
    )
    .bind(id)
    .fetch_all(&mut conn)
    .await?;
    let reports: Vec<(String, String, DateTime<Utc>)> = query(
        "SELECT reported_by, mailbox, reported_at FROM reports WHERE investigation_id = $1
         ORDER BY reported_at, reported_by LIMIT $2",
    )
    .bind(id)
    .bind(Investigation::REPORTS_SHOWN)
    .fetch_all(&mut conn)
    .await?;
    let reporter_count: i64 =
        query("SELECT COUNT(DISTINCT reported_by) FROM reports WHERE investigation_id = $1")
            .bind(id)
            .scalar(&mut conn)
            .await?;
    let log: Vec<(DateTime<Utc>, String, String)> = query(
        "SELECT at, step, detail FROM investigation_log WHERE investigation_id = $1 ORDER BY seq",
    )
    .bind(id)
    .fetch_all(&mut conn)
    .await?;
    let action_ids: Vec<String> =
        query("SELECT id FROM actions WHERE investigation_id = $1 ORDER BY created_at, id")
            .bind(id)
            .scalars(&mut conn)
            .await?;
    let actions = actions::load(&mut conn, &action_ids).await?;

    row.with(Found {
        clusters,
        forwarding: forwarding.into_iter().map(forwarding_view).collect(),
        reports: reports
            .into_iter()
            .map(|(reported_by, mailbox, reported_at)| ReportView {
                reported_by,
                mailbox,
                reported_at,
            })
            .collect(),
        reporter_count,
        actions,
        log: log
            .into_iter()
            .map(|(at, step, detail)| LogEntry { at, step, detail })
            .collect(),
    })
}

/// An investigation's email clusters in the order it found them, each with its first
/// [`ClusterView::MESSAGES_SHOWN`] messages (`email_count` says how many it holds; execution
/// acts on all of them).
async fn clusters(conn: &mut Conn, id: &str) -> Result<Vec<ClusterView>, AppError> {
    let cluster_rows: Vec<ClusterRow> = query(
        "SELECT id, cluster_by, cluster_value, verdict, email_count FROM email_clusters
         WHERE investigation_id = $1 ORDER BY position, id",
    )
    .bind(id)
    .fetch_all(&mut *conn)
    .await?;
    let mut clusters = Vec::with_capacity(cluster_rows.len());
    for c in cluster_rows {
        let message_rows: Vec<MessageRow> = query(
            "SELECT mailbox, internet_message_id, sender, subject, received_at, location
             FROM cluster_messages WHERE cluster_id = $1
             ORDER BY received_at, mailbox, id LIMIT $2",
        )
        .bind(&c.id)
        .bind(ClusterView::MESSAGES_SHOWN)
        .fetch_all(&mut *conn)
        .await?;
        let messages = message_rows
            .into_iter()
            .map(|m| ClusterMessage {
                location: MessageLocation::parse(&m.location).unwrap_or(MessageLocation::Other),
                mailbox: m.mailbox,
                internet_message_id: m.internet_message_id,
                sender: m.sender,
                subject: m.subject,
                received_at: m.received_at,
            })
            .collect();
        clusters.push(c.view(messages));
    }
    Ok(clusters)
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
#[tracing::instrument(skip(db))]
pub async fn list(
    db: &Db,
    status: Option<InvestigationStatus>,
    investigation_type: Option<InvestigationType>,
    page: &PageRequest,
) -> Result<Page<InvestigationSummary>, AppError> {
    let mut select = query(
        "SELECT i.id, i.incident_id, i.title, i.investigation_type, i.status, i.created_at, i.updated_at,
            i.user_count,
            (SELECT COUNT(*) FROM evidence e WHERE e.investigation_id = i.id AND e.verdict <> 'clean') AS threat_count,
            (SELECT COUNT(*) FROM actions a WHERE a.investigation_id = i.id) AS action_count
         FROM investigations i WHERE 1 = 1",
    );
    if let Some(status) = status {
        select.push(" AND i.status = ").push_bind(status);
    }
    if let Some(kind) = investigation_type {
        select.push(" AND i.investigation_type = ").push_bind(kind);
    }
    if let Some(cursor) = &page.after {
        select.push(" AND (i.created_at, i.id) < (");
        select.push_bind(cursor.time()?).push(", ");
        select.push_bind(&cursor.id).push(")");
    }
    select.push(" ORDER BY i.created_at DESC, i.id DESC LIMIT ");
    select.push_bind(page.fetch());
    let mut rows: Vec<SummaryRow> = select.fetch_all(db).await?;
    let next = page.next_cursor(&mut rows, |r| {
        Cursor::at_time(&r.created_at, &r.id).encode()
    });
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
