//! Starting the server: open and migrate the database, open the mail store, bind, and serve
//! until SIGINT or SIGTERM, finishing the requests in flight — with the background work
//! (execution workers, expiry, checkpoints, indexing, the indicators file's hunts, webhook
//! deliveries) beside it.

use std::net::SocketAddr;

use axum::Router;
use tokio::net::TcpListener;

use airdesk_core::actions::{expire, Executor};
use airdesk_core::db::{Db, OpenError};
use airdesk_core::events::webhooks;
use airdesk_core::investigations::playbook::{self, Trigger};
use airdesk_core::policy::PolicyHolder;
use airdesk_core::{index, indicators, AppState};
use model::{Actor, AppError, Indicator};

use crate::config::{check_mail_root, Settings};
use crate::http::{self, HttpOptions};

/// Why a command could not do its work, in one line for the operator.
#[derive(Debug, thiserror::Error)]
pub enum Failure {
    #[error(transparent)]
    Db(#[from] OpenError),
    #[error("{0}")]
    App(#[from] AppError),
    #[error("{0}")]
    Other(String),
}

impl From<String> for Failure {
    fn from(text: String) -> Self {
        Failure::Other(text)
    }
}

/// Opens the database named in the settings and applies pending migrations.
pub async fn open_db(settings: &Settings) -> Result<Db, Failure> {
    let db = Db::connect_with(&settings.database_url, settings.database_pool).await?;
    db.migrate().await?;
    Ok(db)
}

/// The database and the mail store, with the rules' settings: what every command acts on.
pub async fn open_state(settings: &Settings) -> Result<AppState, Failure> {
    // A policy file that does not hold stops every command before it touches anything: acting
    // on another policy than the one the operator wrote is not safe.
    let policy = match &settings.policy {
        Some(file) => PolicyHolder::from_file(file)
            .map_err(|e| format!("approval policy {}: {e}", file.display()))?,
        None => PolicyHolder::default(),
    };
    let audit_key = settings.audit_key()?;
    let db = open_db(settings).await?;
    Ok(
        AppState::new(db, settings.rules.clone(), settings.backend()?)
            .with_audit_key(audit_key)
            .with_playbook(settings.playbook.clone())
            .with_sign_in(settings.sign_in.clone())
            .with_settings_view(crate::settings_view::describe(settings))
            .with_index(settings.index.clone())
            .with_policy(std::sync::Arc::new(policy)),
    )
}

/// Loads threat indicators from a JSON file (an array of indicators); a bad file stops the
/// start with one clear line. Returns the ones that are new or changed: they still have to
/// hunt back through the index (known, unchanged ones did when they were first loaded).
async fn load_indicators(
    state: &AppState,
    file: &std::path::Path,
) -> Result<Vec<Trigger>, Failure> {
    let text = std::fs::read_to_string(file)
        .map_err(|e| format!("cannot read the indicators file {}: {e}", file.display()))?;
    let list: Vec<Indicator> = serde_json::from_str(&text)
        .map_err(|e| format!("indicators file {}: {e}", file.display()))?;
    let mut hunts = Vec::new();
    for (n, indicator) in list.iter().enumerate() {
        let stored = indicators::store(&state.db, indicator, &Actor::IndicatorsFile)
            .await
            .map_err(|e| format!("indicators file {}, entry {}: {e}", file.display(), n + 1))?;
        if stored.changed {
            hunts.push(Trigger::Indicator {
                kind: indicator.kind,
                value: stored.value,
                verdict: stored.verdict,
                added_by: Actor::IndicatorsFile.name().to_string(),
            });
        }
    }
    tracing::info!(count = list.len(), new_or_changed = hunts.len(), file = %file.display(), "threat indicators loaded");
    Ok(hunts)
}

/// A bound, ready-to-run server.
pub struct Application {
    listener: TcpListener,
    router: Router,
    state: AppState,
    settings: Settings,
    /// Indicators from the file that are new or changed, to hunt once the index is current.
    hunts: Vec<Trigger>,
}

impl Application {
    pub async fn build(settings: &Settings) -> Result<Self, Failure> {
        if let Some(root) = settings.mail_root() {
            check_mail_root(root)?;
        }
        crate::metrics::handle();
        let state = open_state(settings).await?;
        announce(&state, settings).await;
        webhooks::register(&state.db, &settings.webhooks.endpoints).await?;
        if settings.notify.is_some() {
            airdesk_core::events::notify::register(&state.db).await?;
        }
        state.policy.record_start(&state.db).await?;
        state.policy.clone().watch(state.db.clone());
        let hunts = match &settings.indicators_file {
            Some(file) => load_indicators(&state, file).await?,
            None => Vec::new(),
        };
        let options = HttpOptions {
            body_limit: settings.body_limit,
            secure_cookies: settings.secure_cookies,
            trusted_proxies: settings.trusted_proxies.clone(),
        };
        let router = http::app(state.clone(), &options)
            .await
            .map_err(|e| Failure::Other(format!("cannot prepare the session store: {e}")))?;
        let listener = TcpListener::bind(settings.listen)
            .await
            .map_err(|e| Failure::Other(format!("cannot listen on {}: {e}", settings.listen)))?;
        Ok(Application {
            listener,
            router,
            state,
            settings: settings.clone(),
            hunts,
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .expect("a bound listener has an address")
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serves, and runs the background work, until `shutdown` completes; then lets requests in
    /// flight finish.
    pub async fn run_until<F>(self, shutdown: F) -> Result<(), Failure>
    where
        F: std::future::Future<Output = ()> + Send + 'static,
    {
        let state = self.state;
        let executor = Executor::new(state.clone(), self.settings.execution.clone());
        let _background = [
            AbortOnDrop(tokio::spawn(expire::run(state.clone()))),
            AbortOnDrop(tokio::spawn(state.db.clone().checkpoint_periodically())),
            AbortOnDrop(tokio::spawn(executor.run())),
            AbortOnDrop(tokio::spawn(hunt_at_start(state.clone(), self.hunts))),
            AbortOnDrop(tokio::spawn(webhooks::run(
                state.clone(),
                self.settings.webhooks.clone(),
            ))),
        ];
        let _notify = self.settings.notify.clone().map(|config| {
            AbortOnDrop(tokio::spawn(airdesk_core::events::notify::run(
                state.clone(),
                config,
            )))
        });
        let _intake = self.settings.intake.clone().map(|config| {
            AbortOnDrop(tokio::spawn(airdesk_core::investigations::intake::run(
                state.clone(),
                config,
            )))
        });
        let _indexing = self
            .settings
            .index_interval
            .map(|every| AbortOnDrop(tokio::spawn(index::keep_current(state.clone(), every))));
        let router = self
            .router
            .into_make_service_with_connect_info::<SocketAddr>();
        axum::serve(self.listener, router)
            .with_graceful_shutdown(shutdown)
            .await
            .map_err(|e| Failure::Other(format!("server stopped: {e}")))
    }
}

/// The instance's health and version line: which binary, on which database engine and
/// version, migrated or not, with how many execution workers — one line per instance, so the
/// log of several instances sharing a database says who is who.
async fn announce(state: &AppState, settings: &Settings) {
    let database = state
        .db
        .describe()
        .await
        .unwrap_or_else(|e| format!("unreadable ({e})"));
    let migrated = state.db.is_migrated().await.unwrap_or(false);
    tracing::info!(
        version = env!("CARGO_PKG_VERSION"),
        database,
        migrated,
        pool = settings.database_pool,
        workers = settings.execution.workers,
        policy = %state.policy.current().origin(),
        policy_hash = %state.policy.current().hash(),
        pid = std::process::id(),
        "airdesk instance starting"
    );
}

/// Brings the index up to date, then lets each new or changed indicator from the file hunt
/// back through it, as adding it over the API would.
async fn hunt_at_start(state: AppState, hunts: Vec<Trigger>) {
    if hunts.is_empty() {
        return;
    }
    if let Err(error) = index::scan(&state).await {
        tracing::warn!(%error, "index scan before the indicators' hunt failed; hunting anyway");
    }
    for trigger in hunts {
        match playbook::investigate(&state, trigger).await {
            Ok(Some(created)) => tracing::info!(
                investigation_id = created.id,
                "indicator from the file started an investigation"
            ),
            Ok(None) => {}
            Err(error) => tracing::warn!(%error, "an indicator's hunt failed"),
        }
    }
}

/// Stops a background task when the server stops.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Completes on SIGINT (Ctrl-C) or SIGTERM. The handlers are installed when this is called,
/// not when the future is first polled: a signal sent as soon as the server says it is
/// listening must stop it cleanly, not kill it.
pub fn shutdown_signal() -> impl std::future::Future<Output = ()> + Send + 'static {
    use tokio::signal::unix::{signal, SignalKind};
    let interrupt = signal(SignalKind::interrupt());
    let terminate = signal(SignalKind::terminate());
    async move {
        let wait = |installed: std::io::Result<tokio::signal::unix::Signal>| async move {
            match installed {
                Ok(mut signal) => {
                    signal.recv().await;
                }
                Err(_) => std::future::pending::<()>().await,
            }
        };
        tokio::select! {
            _ = wait(interrupt) => {},
            _ = wait(terminate) => {},
        }
        tracing::info!("shutting down: finishing requests in flight");
    }
}
