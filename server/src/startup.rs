//! Starting the server: open and migrate the database, check the mail root, bind, and serve
//! until SIGINT or SIGTERM, finishing the requests in flight.

use std::net::SocketAddr;

use axum::Router;
use tokio::net::TcpListener;

use app::model::AppError;
use app::server::db::{self, DbError};
use app::server::AppState;

use crate::config::{check_mail_root, Settings};
use crate::execution::{ExecutionConfig, Executor};
use crate::http::{self, HttpOptions};
use crate::index::Indexer;
use crate::mail::imap::Imap;
use crate::mail::maildir::Maildir;
use crate::mail::SharedStore;
use crate::playbook::{Playbook, Trigger};

/// Loads threat indicators from a JSON file (an array of indicators); a bad file stops the
/// start with one clear line. Returns the ones that are new or changed: they still have to
/// hunt back through the index (known, unchanged ones did when they were first loaded).
async fn load_indicators(
    state: &AppState,
    file: &std::path::Path,
) -> Result<Vec<Trigger>, Failure> {
    let text = std::fs::read_to_string(file)
        .map_err(|e| format!("cannot read the indicators file {}: {e}", file.display()))?;
    let indicators: Vec<crate::rest::intel::Indicator> = serde_json::from_str(&text)
        .map_err(|e| format!("indicators file {}: {e}", file.display()))?;
    let mut hunts = Vec::new();
    for (n, indicator) in indicators.iter().enumerate() {
        let stored = crate::rest::intel::store_indicator(&state.pool, indicator, "indicators-file")
            .await
            .map_err(|e| format!("indicators file {}, entry {}: {e}", file.display(), n + 1))?;
        if stored.changed {
            hunts.push(Trigger::Indicator {
                kind: indicator.kind.clone(),
                value: stored.value,
                verdict: stored.verdict,
            });
        }
    }
    tracing::info!(count = indicators.len(), new_or_changed = hunts.len(), file = %file.display(), "threat indicators loaded");
    Ok(hunts)
}

/// Why a command could not do its work, in one line for the operator.
#[derive(Debug, thiserror::Error)]
pub enum Failure {
    #[error(transparent)]
    Db(#[from] DbError),
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
pub async fn open_state(settings: &Settings) -> Result<AppState, Failure> {
    let pool = db::connect(&settings.database_url).await?;
    db::migrate(&pool).await?;
    Ok(AppState::new(pool, settings.rules()))
}

/// The mail store the settings name: an IMAP server when one is set, else the Maildir++ tree
/// under the mail root.
pub fn mail_store(settings: &Settings) -> SharedStore {
    match &settings.imap {
        Some(imap) => std::sync::Arc::new(Imap::new(imap.clone(), settings.folders.clone())),
        None => std::sync::Arc::new(Maildir::new(&settings.mail_root, settings.folders.clone())),
    }
}

/// The mail store and the index of it: the Maildir tree under the mail root, or the IMAP
/// server with the mailboxes the operator named for indexing.
pub fn store_and_indexer(settings: &Settings, state: &AppState) -> (SharedStore, Indexer) {
    match &settings.imap {
        Some(imap) => {
            let imap = std::sync::Arc::new(Imap::new(imap.clone(), settings.folders.clone()));
            let indexer = Indexer::imap(
                state.pool.clone(),
                imap.clone(),
                settings.index_mailboxes.clone(),
                settings.folders.clone(),
                settings.index.clone(),
            );
            (imap, indexer)
        }
        None => (
            mail_store(settings),
            Indexer::new(
                state.pool.clone(),
                &settings.mail_root,
                settings.folders.clone(),
                settings.index.clone(),
            ),
        ),
    }
}

/// A bound, ready-to-run server.
pub struct Application {
    listener: TcpListener,
    router: Router,
    state: AppState,
    store: SharedStore,
    execution: ExecutionConfig,
    /// The index and how often to bring it up to date.
    indexing: Option<(Indexer, std::time::Duration)>,
    /// Indicators from the file that are new or changed, to hunt once the index is current.
    hunts: (Playbook, Vec<Trigger>),
}

impl Application {
    pub async fn build(settings: &Settings) -> Result<Self, Failure> {
        if settings.imap.is_none() {
            check_mail_root(&settings.mail_root)?;
        }
        let state = open_state(settings).await?;
        let (store, indexer) = store_and_indexer(settings, &state);
        let playbook = Playbook {
            state: state.clone(),
            store: store.clone(),
            config: settings.playbook.clone(),
            indexer: indexer.clone(),
        };
        let hunts = match &settings.indicators_file {
            Some(file) => load_indicators(&state, file).await?,
            None => Vec::new(),
        };
        let options = HttpOptions {
            body_limit: settings.body_limit,
            secure_cookies: settings.secure_cookies,
            playbook: playbook.clone(),
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
            store,
            execution: settings.execution.clone(),
            indexing: settings.index_interval.map(|every| (indexer, every)),
            hunts: (playbook, hunts),
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

    /// The mail store approved actions are carried out on.
    pub fn store(&self) -> &SharedStore {
        &self.store
    }

    /// Serves, and runs the background work (execution workers, expiry, WAL checkpoints), until `shutdown` completes; then lets
    /// requests in flight finish.
    pub async fn run_until<F>(self, shutdown: F) -> Result<(), Failure>
    where
        F: std::future::Future<Output = ()> + Send + 'static,
    {
        let expiry = tokio::spawn(app::server::expiry::run(self.state.clone()));
        let _stop_expiry = AbortOnDrop(expiry);
        let checkpoints = tokio::spawn(app::server::db::checkpoint_periodically(
            self.state.pool.clone(),
        ));
        let _stop_checkpoints = AbortOnDrop(checkpoints);
        let workers = tokio::spawn(
            Executor::new(
                self.state.clone(),
                self.store.clone(),
                self.execution.clone(),
            )
            .run(),
        );
        let _stop_workers = AbortOnDrop(workers);
        let (playbook, hunts) = self.hunts;
        let _stop_hunts = AbortOnDrop(tokio::spawn(hunt_at_start(playbook, hunts)));
        let _stop_indexing = self.indexing.map(|(indexer, every)| {
            AbortOnDrop(tokio::spawn(crate::index::keep_current(indexer, every)))
        });
        axum::serve(self.listener, self.router)
            .with_graceful_shutdown(shutdown)
            .await
            .map_err(|e| Failure::Other(format!("server stopped: {e}")))
    }
}

/// Brings the index up to date, then lets each new or changed indicator from the file hunt
/// back through it, as adding it over the API would.
async fn hunt_at_start(playbook: Playbook, hunts: Vec<Trigger>) {
    if hunts.is_empty() {
        return;
    }
    if let Err(error) = playbook.indexer.scan().await {
        tracing::warn!(%error, "index scan before the indicators' hunt failed; hunting anyway");
    }
    for trigger in hunts {
        match playbook.investigate(trigger).await {
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

/// Completes on SIGINT (Ctrl-C) or SIGTERM.
pub async fn shutdown_signal() {
    let interrupt = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = interrupt => {},
        _ = terminate => {},
    }
    tracing::info!("shutting down: finishing requests in flight");
}
