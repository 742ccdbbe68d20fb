//! Browser sessions live in the same database as everything else, in the engine's own
//! session-store table, so every instance sharing the database knows every session.

use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{self, ExpiredDeletion};

use super::postgres::Postgres;
use super::sqlite::Sqlite;
use super::StorageError;

/// The session store of one database.
#[derive(Clone, Debug)]
pub struct SessionStore(Store);

#[derive(Clone, Debug)]
enum Store {
    Sqlite(tower_sessions_sqlx_store::SqliteStore),
    Postgres(tower_sessions_sqlx_store::PostgresStore),
}

impl SessionStore {
    pub(super) async fn sqlite(db: &Sqlite) -> Result<Self, StorageError> {
        let store = tower_sessions_sqlx_store::SqliteStore::new(db.reader().clone());
        store.migrate().await?;
        Ok(SessionStore(Store::Sqlite(store)))
    }

    pub(super) async fn postgres(db: &Postgres) -> Result<Self, StorageError> {
        let store = tower_sessions_sqlx_store::PostgresStore::new(db.pool().clone());
        // Instances starting together race to create the store's schema and table (CREATE …
        // IF NOT EXISTS is not atomic in PostgreSQL); the loser tries again and finds them.
        let mut tries = 0;
        loop {
            tries += 1;
            match store.migrate().await {
                Ok(()) => break,
                Err(error) if tries < 5 => {
                    tracing::debug!(%error, "session store migration raced another instance; again");
                    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
                }
                Err(error) => return Err(error.into()),
            }
        }
        Ok(SessionStore(Store::Postgres(store)))
    }
}

#[async_trait::async_trait]
impl tower_sessions::SessionStore for SessionStore {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        match &self.0 {
            Store::Sqlite(store) => store.create(record).await,
            Store::Postgres(store) => store.create(record).await,
        }
    }

    async fn save(&self, record: &Record) -> session_store::Result<()> {
        match &self.0 {
            Store::Sqlite(store) => store.save(record).await,
            Store::Postgres(store) => store.save(record).await,
        }
    }

    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        match &self.0 {
            Store::Sqlite(store) => store.load(id).await,
            Store::Postgres(store) => store.load(id).await,
        }
    }

    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        match &self.0 {
            Store::Sqlite(store) => store.delete(id).await,
            Store::Postgres(store) => store.delete(id).await,
        }
    }
}

#[async_trait::async_trait]
impl ExpiredDeletion for SessionStore {
    async fn delete_expired(&self) -> session_store::Result<()> {
        match &self.0 {
            Store::Sqlite(store) => store.delete_expired().await,
            Store::Postgres(store) => store.delete_expired().await,
        }
    }
}
