//! The investigation's log as ingest writes it: one numbered step after another, in the
//! transaction that records the investigation.

use crate::db::{self, query, Tx};
use model::AppError;

/// The investigation's log, numbered in order.
pub(super) struct Log<'a> {
    investigation_id: &'a str,
    seq: i64,
}

impl<'a> Log<'a> {
    pub(super) fn new(investigation_id: &'a str) -> Self {
        Log {
            investigation_id,
            seq: 0,
        }
    }

    pub(super) async fn add(
        &mut self,
        tx: &mut Tx<'_>,
        step: &str,
        detail: &str,
    ) -> Result<(), AppError> {
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
