//! Browser sessions live in the same database as everything else, in the engine's own
//! session-store table, so every instance sharing the database knows every session.

use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{self, ExpiredDeletion};

use super::sqlite::Sqlite;
use super::StorageError;

/// The session store of one database.
#[derive(Clone, Debug)]
pub struct SessionStore(Store);

#[derive(Clone, Debug)]
enum Store {
    Sqlite(tower_sessions_sqlx_store::SqliteStore),
}

impl SessionStore {
    pub(super) async fn sqlite(db: &Sqlite) -> Result<Self, StorageError> {
        let store = tower_sessions_sqlx_store::SqliteStore::new(db.reader().clone());
        store.migrate().await?;
        Ok(SessionStore(Store::Sqlite(store)))
    }
}

#[async_trait::async_trait]
impl tower_sessions::SessionStore for SessionStore {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        match &self.0 {
            Store::Sqlite(store) => store.create(record).await,
        }
    }

    async fn save(&self, record: &Record) -> session_store::Result<()> {
        match &self.0 {
            Store::Sqlite(store) => store.save(record).await,
        }
    }

    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        match &self.0 {
            Store::Sqlite(store) => store.load(id).await,
        }
    }

    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        match &self.0 {
            Store::Sqlite(store) => store.delete(id).await,
        }
    }
}

#[async_trait::async_trait]
impl ExpiredDeletion for SessionStore {
    async fn delete_expired(&self) -> session_store::Result<()> {
        match &self.0 {
            Store::Sqlite(store) => store.delete_expired().await,
        }
    }
}
