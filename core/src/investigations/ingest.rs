//! Recording an investigation's result: incident (opened or joined), alert, evidence,
//! clusters, forwarding, log and the pending actions its verdicts call for — in one
//! transaction, so a result is recorded whole or not at all.

use crate::actions::read;
use crate::actions::state::{self, NewAction, NewInvestigation};
use crate::audit::{self, Event};
use crate::db::{self, query, Tx};
use crate::{incidents, new_id, AppState};
use model::{
    ActionSource, ActionType, Actor, AppError, IngestCluster, IngestForwarding,
    IngestInvestigation, InvestigationCreated, InvestigationType, MessageLocation, Verdict,
};

use super::cluster_key;

/// Records an investigation's result from outside (the REST API, the demo).
pub async fn ingest(
    state: &AppState,
    actor: &Actor,
    body: &IngestInvestigation,
) -> Result<InvestigationCreated, AppError> {
    ingest_with_steps(state, actor, body, &[]).await
}

/// `ingest`, for airdesk's own playbook: `steps` (step, detail) are its log, written after the
/// alert in place of the per-cluster and per-mailbox lines an outside result gets.
#[tracing::instrument(skip_all, fields(title = %body.title, actor = %actor.describe()))]
pub async fn ingest_with_steps(
    state: &AppState,
    actor: &Actor,
    body: &IngestInvestigation,
    steps: &[(String, String)],
) -> Result<InvestigationCreated, AppError> {
    body.check()?;
    let keys: Vec<String> = body
        .clusters
        .iter()
        .map(|c| cluster_key(c.cluster_by, &c.cluster_value))
        .collect();
    let mut tx = state.db.write().await?;
    let incident_id = match incidents::find_for_clusters(&mut tx, &keys).await? {
        Some(id) => id,
        None => incidents::open(&mut tx, &body.alert.title, body.alert.severity).await?,
    };
    let alert_id = new_id();
    query("INSERT INTO alerts (id, incident_id, title, severity, created_at) VALUES ($1, $2, $3, $4, $5)")
        .bind(&alert_id)
        .bind(&incident_id)
        .bind(&body.alert.title)
        .bind(body.alert.severity)
        .bind(db::now())
        .execute(&mut tx)
        .await?;
    let new = NewInvestigation {
        incident_id: &incident_id,
        alert_id: &alert_id,
        title: &body.title,
        investigation_type: body.investigation_type,
    };
    let investigation_id = state::open_investigation(&mut tx, &new).await?;
    let mut record = Recording {
        log: Log::new(&investigation_id),
        investigation_id: &investigation_id,
        incident_id: &incident_id,
        actor,
        own_log: steps.is_empty(),
        source: match body.investigation_type {
            InvestigationType::Manual => ActionSource::Manual,
            _ => ActionSource::Automated,
        },
        action_ids: Vec::new(),
    };
    let alert = format!("{} ({})", body.alert.title, body.alert.severity.label());
    record.log.add(&mut tx, "Alert", &alert).await?;
    for (step, detail) in steps {
        record.log.add(&mut tx, step, detail).await?;
    }
    for (position, (cluster, key)) in body.clusters.iter().zip(&keys).enumerate() {
        record.cluster(&mut tx, position, cluster, key).await?;
    }
    for forwarding in &body.forwarding {
        let external = !forwarding
            .forward_to
            .is_within(&state.rules.internal_domains);
        record.forwarding(&mut tx, forwarding, external).await?;
    }
    let created = record.conclude(&mut tx, body).await?;
    tx.commit().await?;
    let actions = read::load(&state.db, &record.action_ids).await?;
    tracing::info!(
        investigation_id,
        incident_id,
        actions = actions.len(),
        "investigation ingested"
    );
    Ok(InvestigationCreated { actions, ..created })
}

/// One investigation being written.
struct Recording<'a> {
    investigation_id: &'a str,
    incident_id: &'a str,
    actor: &'a Actor,
    log: Log<'a>,
    /// Whether the log says what each cluster and mailbox came to (an outside result), or the
    /// playbook's steps already did.
    own_log: bool,
    source: ActionSource,
    action_ids: Vec<String>,
}

impl Recording<'_> {
    async fn cluster(
        &mut self,
        tx: &mut Tx<'_>,
        position: usize,
        cluster: &IngestCluster,
        key: &str,
    ) -> Result<(), AppError> {
        let cluster_id = new_id();
        query(
            "INSERT INTO email_clusters (id, investigation_id, cluster_key, cluster_by, cluster_value, verdict,
                                         email_count, position)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(&cluster_id)
        .bind(self.investigation_id)
        .bind(key)
        .bind(cluster.cluster_by)
        .bind(cluster.cluster_value.trim())
        .bind(cluster.verdict)
        .bind(cluster.messages.len())
        .bind(position)
        .execute(&mut *tx)
        .await?;
        for message in &cluster.messages {
            query(
                "INSERT INTO cluster_messages (cluster_id, mailbox, internet_message_id, sender, subject, received_at, location)
                 VALUES ($1, $2, $3, $4, $5, $6, $7)
                 ON CONFLICT (cluster_id, mailbox, internet_message_id) DO NOTHING",
            )
            .bind(&cluster_id)
            .bind(message.mailbox.as_str())
            .bind(message.internet_message_id.as_str())
            .bind(&message.sender)
            .bind(&message.subject)
            .bind(message.received_at)
            .bind(message.location.unwrap_or(MessageLocation::Inbox))
            .execute(&mut *tx)
            .await?;
        }
        let acts = cluster.verdict.calls_for_action();
        let entity = format!(
            "{}: {}",
            cluster.cluster_by.label(),
            cluster.cluster_value.trim()
        );
        self.evidence(tx, "email_cluster", &entity, cluster.verdict, acts)
            .await?;
        if self.own_log {
            let detail = format!(
                "{entity}: {} messages, verdict {}",
                cluster.messages.len(),
                cluster.verdict.label()
            );
            self.log.add(tx, "Email cluster", &detail).await?;
        }
        if acts {
            let new = NewAction {
                investigation_id: self.investigation_id,
                incident_id: self.incident_id,
                action_type: ActionType::SoftDeleteCluster,
                target_kind: "cluster",
                cluster_id: Some(&cluster_id),
                cluster_key: Some(key),
                mailbox: None,
                internet_message_id: None,
                forward_to: None,
                source: self.source,
            };
            self.action_ids
                .push(state::propose(tx, &new, self.actor).await?);
        }
        Ok(())
    }

    async fn forwarding(
        &mut self,
        tx: &mut Tx<'_>,
        forwarding: &IngestForwarding,
        external: bool,
    ) -> Result<(), AppError> {
        query(
            "INSERT INTO mailbox_forwarding (investigation_id, mailbox, forward_to, verdict, external)
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (investigation_id, mailbox, forward_to) DO NOTHING",
        )
        .bind(self.investigation_id)
        .bind(forwarding.mailbox.as_str())
        .bind(forwarding.forward_to.as_str())
        .bind(forwarding.verdict)
        .bind(external)
        .execute(&mut *tx)
        .await?;
        let acts = external && forwarding.verdict.calls_for_action();
        let mailbox = forwarding.mailbox.as_str();
        self.evidence(tx, "mailbox", mailbox, forwarding.verdict, acts)
            .await?;
        if self.own_log {
            let where_to = if external {
                "outside the organisation"
            } else {
                "inside the organisation"
            };
            let detail = format!(
                "{mailbox} forwards to {} ({where_to})",
                forwarding.forward_to.as_str()
            );
            self.log.add(tx, "Mail forwarding", &detail).await?;
        }
        if acts {
            let new = NewAction {
                investigation_id: self.investigation_id,
                incident_id: self.incident_id,
                action_type: ActionType::TurnOffForwarding,
                target_kind: "mailbox",
                cluster_id: None,
                cluster_key: None,
                mailbox: Some(mailbox),
                internet_message_id: None,
                forward_to: Some(forwarding.forward_to.as_str()),
                source: self.source,
            };
            self.action_ids
                .push(state::propose(tx, &new, self.actor).await?);
        }
        Ok(())
    }

    async fn evidence(
        &self,
        tx: &mut Tx<'_>,
        kind: &str,
        entity: &str,
        verdict: Verdict,
        pending: bool,
    ) -> Result<(), AppError> {
        let remediation = if pending { "pending_approval" } else { "none" };
        query(
            "INSERT INTO evidence (id, investigation_id, kind, entity, verdict, remediation_status)
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(new_id())
        .bind(self.investigation_id)
        .bind(kind)
        .bind(entity)
        .bind(verdict)
        .bind(remediation)
        .execute(&mut *tx)
        .await?;
        Ok(())
    }

    /// The investigation's status, its last log line, the incident's counts and the audit
    /// event that records it all.
    async fn conclude(
        &mut self,
        tx: &mut Tx<'_>,
        body: &IngestInvestigation,
    ) -> Result<InvestigationCreated, AppError> {
        let proposed = self.action_ids.len();
        let status = state::conclude_ingest(tx, self.investigation_id, proposed).await?;
        let conclusion = match proposed {
            0 => "No threats found".to_string(),
            n => format!("{n} pending action(s) await approval"),
        };
        self.log.add(tx, "Remediation", &conclusion).await?;
        incidents::refresh(tx, self.incident_id).await?;
        let after = serde_json::json!({
            "title": body.title, "type": body.investigation_type, "status": status,
            "incident_id": self.incident_id, "actions": proposed,
        });
        let event = Event {
            actor: self.actor,
            entity_kind: "investigation",
            entity_id: self.investigation_id,
            event: "investigation_created",
            before: None,
            after: Some(after),
        };
        audit::record(tx, event).await?;
        Ok(InvestigationCreated {
            id: self.investigation_id.to_string(),
            incident_id: self.incident_id.to_string(),
            status,
            actions: Vec::new(),
        })
    }
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

    async fn add(&mut self, tx: &mut Tx<'_>, step: &str, detail: &str) -> Result<(), AppError> {
        self.seq += 1;
        query("INSERT INTO investigation_log (investigation_id, seq, at, step, detail) VALUES ($1, $2, $3, $4, $5)")
            .bind(self.investigation_id)
            .bind(self.seq)
            .bind(db::now())
            .bind(step)
            .bind(detail)
            .execute(&mut *tx)
            .await?;
        Ok(())
    }
}
