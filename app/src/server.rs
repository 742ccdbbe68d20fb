//! Server-only: persistence and the rules of DESIGN.md, used by server functions and the REST
//! API alike. Nothing here is compiled into the browser build.

pub mod actions;
pub mod audit;
pub mod changes;
pub mod clock;
pub mod db;
pub mod decisions;
pub mod error;
pub mod expiry;
pub mod incidents;
pub mod investigations;
pub mod session;
pub mod tokens;
pub mod users;

use sqlx::SqlitePool;

use crate::model::{AppError, CurrentUser};

/// What every request handler needs: the database and the rules' settings. Passed in, never
/// global, so each test runs against its own database.
#[derive(Clone, Debug)]
pub struct AppState {
    /// For reads (and single-statement writes).
    pub pool: SqlitePool,
    /// One connection for the rules' write transactions: SQLite has one writer at a time, and
    /// waiting for this connection is a fair async queue, where waiting for the file lock is
    /// SQLite's sleep-and-retry busy handler. Correctness does not depend on it: the database
    /// lock still serialises writers across processes.
    pub writer: SqlitePool,
    pub rules: RulesConfig,
    /// Decisions on their way to the writer, committed in groups.
    pub decisions: decisions::Queue,
}

impl AppState {
    pub fn new(pool: SqlitePool, rules: RulesConfig) -> Self {
        let writer = sqlx::sqlite::SqlitePoolOptions::new()
            .max_connections(1)
            .acquire_timeout(std::time::Duration::from_secs(30))
            .connect_lazy_with((*pool.connect_options()).clone());
        AppState {
            pool,
            writer,
            rules,
            decisions: decisions::Queue::default(),
        }
    }
}

/// Settings the rules read.
#[derive(Clone, Debug)]
pub struct RulesConfig {
    /// The organisation's domains: forwarding to anything else is external.
    pub internal_domains: Vec<String>,
    /// An approval of the same type on the same cluster within this long before is a duplicate
    /// (DESIGN.md rule 3).
    pub dedup_window: std::time::Duration,
    /// A pending action not decided within this long expires (DESIGN.md rule 4).
    pub pending_expiry: std::time::Duration,
}

impl Default for RulesConfig {
    fn default() -> Self {
        RulesConfig {
            internal_domains: Vec::new(),
            dedup_window: std::time::Duration::from_secs(3600),
            pending_expiry: std::time::Duration::from_secs(7 * 24 * 3600),
        }
    }
}

/// A new opaque id: UUIDv7, so ids sort roughly by creation time.
pub fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

/// Starts airdesk's own investigations. The server binary implements it (the playbook owns the
/// mail store and the message index, which this crate does not know); server functions reach
/// it through the Leptos context.
pub trait Investigate: Send + Sync {
    /// A user reports a delivered message as phish; answers the investigation's id.
    fn report(
        &self,
        user: CurrentUser,
        mailbox: String,
        internet_message_id: String,
    ) -> BoxedAnswer<'_>;

    /// A manual investigation of one delivered message.
    fn manual_message(
        &self,
        user: CurrentUser,
        mailbox: String,
        internet_message_id: String,
    ) -> BoxedAnswer<'_>;

    /// A manual investigation of one value.
    fn manual(
        &self,
        user: CurrentUser,
        by: crate::model::ClusterBy,
        value: String,
    ) -> BoxedAnswer<'_>;
}

/// What an `Investigate` call comes to: the investigation's id.
pub type BoxedAnswer<'a> =
    std::pin::Pin<Box<dyn std::future::Future<Output = Result<String, AppError>> + Send + 'a>>;

/// The investigator in the Leptos context.
#[derive(Clone)]
pub struct Investigator(pub std::sync::Arc<dyn Investigate>);

impl std::ops::Deref for Investigator {
    type Target = dyn Investigate;

    fn deref(&self) -> &Self::Target {
        self.0.as_ref()
    }
}
