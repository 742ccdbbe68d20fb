//! Recording an investigation's result: incident (opened or joined), alert, evidence,
//! clusters, forwarding, log and the pending actions its verdicts call for — in one
//! transaction, so a result is recorded whole or not at all. A cluster's members are copies:
//! those named from outside are matched to the copies the index holds (by mailbox and
//! Message-ID, confirmed by sender and subject) so that execution acts on store handles; those
//! the playbook found are written straight from the index.

use crate::actions::read;
use crate::actions::state::{self, NewAction, NewInvestigation};
use crate::audit::{self, Event};
use crate::db::{self, query, Tx};
use crate::index::{self, Selection};
use crate::{incidents, new_id, AppState};
use model::{
    ActionSource, ActionType, Actor, AppError, ClusterBy, IngestAlert, IngestForwarding,
    IngestInvestigation, IngestMessage, InvestigationCreated, InvestigationType, Verdict,
};

use super::cluster_key;
use crate::policy::{Level, Policy};

mod log;
mod proposals;

use log::Log;

/// What an investigation found, as it is recorded.
#[derive(Debug, Clone)]
pub struct Findings {
    pub title: String,
    pub investigation_type: InvestigationType,
    pub alert: IngestAlert,
    pub clusters: Vec<ClusterFinding>,
    pub forwarding: Vec<IngestForwarding>,
}

/// One email cluster and its verdict.
#[derive(Debug, Clone)]
pub struct ClusterFinding {
    pub cluster_by: ClusterBy,
    pub cluster_value: String,
    pub verdict: Verdict,
    pub members: Members,
}

/// A cluster's copies: named one by one (from outside), or every copy the index selects.
#[derive(Debug, Clone)]
pub enum Members {
    Listed(Vec<IngestMessage>),
    Index(Selection),
}

impl From<&IngestInvestigation> for Findings {
    fn from(body: &IngestInvestigation) -> Self {
        Findings {
            title: body.title.clone(),
            investigation_type: body.investigation_type,
            alert: body.alert.clone(),
            clusters: body
                .clusters
                .iter()
                .map(|c| ClusterFinding {
                    cluster_by: c.cluster_by,
                    cluster_value: c.cluster_value.clone(),
                    verdict: c.verdict,
                    members: Members::Listed(c.messages.clone()),
                })
                .collect(),
            forwarding: body.forwarding.clone(),
        }
    }
}

/// Records an investigation's result from outside (the REST API, the demo).
pub async fn ingest(
    state: &AppState,
    actor: &Actor,
    body: &IngestInvestigation,
) -> Result<InvestigationCreated, AppError> {
    body.check()?;
    record(state, actor, &Findings::from(body), &[]).await
}

/// Where the actions of a result come from: a person's result over the API (or the portal),
/// a manual investigation, or airdesk's own playbook.
fn source_of(actor: &Actor, investigation_type: InvestigationType) -> ActionSource {
    match (actor.person(), investigation_type) {
        (Some(_), _) => ActionSource::Api,
        (None, InvestigationType::Manual) => ActionSource::Manual,
        (None, _) => ActionSource::Automated,
    }
}

/// Records findings. `steps` (step, detail) are the playbook's log, written after the alert in
/// place of the per-cluster and per-mailbox lines an outside result gets.
#[tracing::instrument(skip_all, fields(title = %body.title, actor = %actor.describe()))]
pub async fn record(
    state: &AppState,
    actor: &Actor,
    body: &Findings,
    steps: &[(String, String)],
) -> Result<InvestigationCreated, AppError> {
    let keys: Vec<String> = body
        .clusters
        .iter()
        .map(|c| cluster_key(c.cluster_by, &c.cluster_value))
        .collect();
    let policy = state.policy.current();
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
        source: source_of(actor, body.investigation_type),
        policy: &policy,
        withheld: 0,
        action_ids: Vec::new(),
        turned_off: Vec::new(),
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
            .is_internal(&state.rules.internal_domains);
        record.forwarding(&mut tx, forwarding, external).await?;
    }
    let automatic = proposals::settle(&mut tx, &policy, &record.action_ids).await?;
    let created = record.conclude(&mut tx, body).await?;
    tx.commit().await?;
    crate::actions::decide::approve_automatically(state, &automatic).await;
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
    policy: &'a Policy,
    /// Actions the verdicts called for but a group automated `none` kept from being proposed.
    withheld: usize,
    action_ids: Vec<String>,
    /// Mailboxes with a Turn off external mail forwarding proposed: one per mailbox.
    turned_off: Vec<String>,
}

impl Recording<'_> {
    async fn cluster(
        &mut self,
        tx: &mut Tx<'_>,
        position: usize,
        cluster: &ClusterFinding,
        key: &str,
    ) -> Result<(), AppError> {
        let cluster_id = new_id();
        query(
            "INSERT INTO email_clusters (id, investigation_id, cluster_key, cluster_by, cluster_value, verdict,
                                         email_count, position)
             VALUES ($1, $2, $3, $4, $5, $6, 0, $7)",
        )
        .bind(&cluster_id)
        .bind(self.investigation_id)
        .bind(key)
        .bind(cluster.cluster_by)
        .bind(cluster.cluster_value.trim())
        .bind(cluster.verdict)
        .bind(position)
        .execute(&mut *tx)
        .await?;
        let count = match &cluster.members {
            Members::Listed(messages) => index::insert_listed(tx, &cluster_id, messages).await?,
            Members::Index(selection) => selection.insert_members(tx, &cluster_id).await?,
        };
        query("UPDATE email_clusters SET email_count = $2 WHERE id = $1")
            .bind(&cluster_id)
            .bind(i64::try_from(count).unwrap_or(i64::MAX))
            .execute(&mut *tx)
            .await?;
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
                "{entity}: {count} messages, verdict {}",
                cluster.verdict.label()
            );
            self.log.add(tx, "Email cluster", &detail).await?;
        }
        if acts
            && self
                .may_propose(tx, Some(&cluster_id), None, &entity)
                .await?
        {
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
                proposed_by: self.actor.person(),
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
            "INSERT INTO mailbox_forwarding (investigation_id, mailbox, forward_to, verdict, external, detail)
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (investigation_id, mailbox, forward_to) DO NOTHING",
        )
        .bind(self.investigation_id)
        .bind(forwarding.mailbox.as_str())
        .bind(forwarding.forward_to.as_str())
        .bind(forwarding.verdict)
        .bind(external)
        .bind(&forwarding.detail)
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
        // One turn-off per mailbox: it turns off every way that mailbox forwards.
        let first = !self.turned_off.iter().any(|m| m == mailbox);
        if acts && first && self.may_propose(tx, None, Some(mailbox), mailbox).await? {
            self.turned_off.push(mailbox.to_string());
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
                proposed_by: self.actor.person(),
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
        body: &Findings,
    ) -> Result<InvestigationCreated, AppError> {
        let proposed = self.action_ids.len();
        query(
            "UPDATE investigations SET user_count = (
                 SELECT COUNT(DISTINCT m.mailbox) FROM cluster_messages m
                 JOIN email_clusters c ON c.id = m.cluster_id WHERE c.investigation_id = $1)
             WHERE id = $1",
        )
        .bind(self.investigation_id)
        .execute(&mut *tx)
        .await?;
        let status =
            state::conclude_ingest(tx, self.investigation_id, proposed, self.withheld).await?;
        let conclusion = match (proposed, self.withheld) {
            (0, 0) => "No threats found".to_string(),
            (0, n) => format!("{n} threat(s) found; no action proposed (automation level none)"),
            (n, _) => format!("{n} pending action(s) await approval"),
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
        audit::record(tx, event);
        Ok(InvestigationCreated {
            id: self.investigation_id.to_string(),
            incident_id: self.incident_id.to_string(),
            status,
            actions: Vec::new(),
        })
    }
}
