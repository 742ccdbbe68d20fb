//! airdesk's core: every rule of DESIGN.md and all of its SQL, organised by feature. Actions
//! ([`actions`]: decide, change, expire, execute, and the one state module that changes a
//! status), investigations ([`investigations`]: ingest, the playbook, reading), incidents,
//! threat indicators, the message index, users / tokens / sessions, idempotency and the audit
//! trail. It talks to storage through one [`db::Db`] handle and to mail through the capability
//! traits of the `mail` crate; the portal's server functions and the REST API are thin
//! adapters over it.

pub mod actions;
pub mod audit;
pub mod dashboard;
pub mod db;
pub mod events;
pub mod idempotency;
pub mod incidents;
pub mod index;
pub mod indicators;
pub mod investigations;
mod keyed;
mod leases;
pub mod limit;
pub mod metrics;
pub mod oidc;
pub mod policy;
pub mod sessions;
pub mod signin;
pub mod tokens;
pub mod users;

use std::time::Duration;

use model::InternalDomains;

use crate::db::Db;
use crate::index::IndexConfig;
use crate::investigations::playbook::PlaybookConfig;

/// What every entry point needs: the database, the mail store, and the rules' settings. Passed
/// in, never global, so each test runs against its own database and mail.
#[derive(Clone, Debug)]
pub struct AppState {
    pub db: Db,
    pub rules: RulesConfig,
    /// The mail store, chosen once at start-up.
    pub mail: mail::Backend,
    pub playbook: PlaybookConfig,
    pub index: IndexConfig,
    /// The approval policy in force (reloaded in place).
    pub policy: std::sync::Arc<policy::PolicyHolder>,
    /// The secret that signs the audit trail's head (`--audit-key-file`).
    pub audit_key: Option<std::sync::Arc<Vec<u8>>>,
    /// Sign-in attempts per client address (per instance).
    pub signin: std::sync::Arc<signin::Throttle>,
    /// Scans reports asked for, shared by concurrent reports.
    pub(crate) report_scans: std::sync::Arc<index::coalesce::Gate>,
    /// One report of a copy at a time, so concurrent reports join one investigation.
    pub(crate) report_locks: std::sync::Arc<keyed::Keyed<tokio::sync::Mutex<()>>>,
    /// Reports per user (per instance).
    pub(crate) report_quota: std::sync::Arc<investigations::playbook::ReportQuota>,
    /// Decisions on their way to the writer, committed in groups.
    decisions: actions::decide::Queue,
    /// How people sign in: through an identity provider, with passwords, or both.
    pub sign_in: SignInConfig,
    /// The configuration in force as the Settings page shows it, secrets masked (the
    /// server describes what it was started with).
    pub settings_view: std::sync::Arc<Vec<model::Setting>>,
}

/// The ways to sign in to the portal.
#[derive(Debug, Clone)]
pub struct SignInConfig {
    /// Single sign-on through an OpenID provider (`--oidc-issuer`).
    pub oidc: Option<std::sync::Arc<oidc::Provider>>,
    /// Local users' passwords (`--local-passwords off` refuses them).
    pub local_passwords: bool,
}

impl Default for SignInConfig {
    fn default() -> Self {
        SignInConfig {
            oidc: None,
            local_passwords: true,
        }
    }
}

impl AppState {
    pub fn new(db: Db, rules: RulesConfig, mail: mail::Backend) -> Self {
        AppState {
            db,
            rules,
            mail,
            playbook: PlaybookConfig::default(),
            index: IndexConfig::default(),
            policy: Default::default(),
            audit_key: None,
            signin: Default::default(),
            report_scans: Default::default(),
            report_locks: Default::default(),
            report_quota: Default::default(),
            decisions: actions::decide::Queue::default(),
            sign_in: SignInConfig::default(),
            settings_view: Default::default(),
        }
    }

    /// The configuration as the Settings page shows it.
    pub fn with_settings_view(mut self, view: Vec<model::Setting>) -> Self {
        self.settings_view = std::sync::Arc::new(view);
        self
    }

    /// How people sign in.
    pub fn with_sign_in(mut self, sign_in: SignInConfig) -> Self {
        self.sign_in = sign_in;
        self
    }

    /// The approval policy (without one, the built-in defaults).
    pub fn with_policy(mut self, policy: std::sync::Arc<policy::PolicyHolder>) -> Self {
        self.policy = policy;
        self
    }

    /// The secret that signs the audit trail's head.
    pub fn with_audit_key(mut self, key: Option<Vec<u8>>) -> Self {
        self.audit_key = key.map(std::sync::Arc::new);
        self
    }

    /// The playbook's thresholds.
    pub fn with_playbook(mut self, playbook: PlaybookConfig) -> Self {
        self.playbook = playbook;
        self
    }

    /// How the index works through the store.
    pub fn with_index(mut self, index: IndexConfig) -> Self {
        self.index = index;
        self
    }
}

/// Settings the rules read.
#[derive(Clone, Debug)]
pub struct RulesConfig {
    /// The organisation's domains: forwarding to anything else is external.
    pub internal_domains: InternalDomains,
    /// An approval of the same type on the same cluster within this long before is a duplicate
    /// (DESIGN.md rule 3).
    pub dedup_window: Duration,
    /// A pending action not decided within this long expires (DESIGN.md rule 4).
    pub pending_expiry: Duration,
}

impl Default for RulesConfig {
    fn default() -> Self {
        RulesConfig {
            internal_domains: InternalDomains::default(),
            dedup_window: Duration::from_secs(3600),
            pending_expiry: Duration::from_secs(7 * 24 * 3600),
        }
    }
}

/// A new opaque id: UUIDv7, so ids sort roughly by creation time. Every id airdesk makes
/// comes from here.
pub fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

/// This instance among those sharing a database: `host:pid`. Recorded on the jobs it claims,
/// so an operator (or a test) can tell which instance is running which job.
pub fn instance() -> &'static str {
    static NAME: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    NAME.get_or_init(|| {
        let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
            .map(|h| h.trim().to_string())
            .unwrap_or_else(|_| "localhost".into());
        format!("{host}:{}", std::process::id())
    })
}
