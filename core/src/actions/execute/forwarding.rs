//! Turning a mailbox's external forwarding off, and undoing that, through the store's
//! forwarding capability. What `turn_off` hands out for undo is recorded in
//! `forwarding_changes`, so the undo can be carried out by any worker, however much later.

use serde_json::json;

use super::jobs::{self, Claimed};
use super::{Executor, Outcome, Stop};
use crate::db::{self, query};
use mail::{ForwardingError, StoreError, TurnOff};
use model::MessageResult;

impl Executor {
    pub(super) async fn turn_off_forwarding(&self, job: &Claimed) -> Result<(), Stop> {
        let Some(mailbox) = job.action.mailbox.clone() else {
            return Ok(());
        };
        if self.has_result(job).await? {
            return Ok(());
        }
        let internal = &self.state.rules.internal_domains;
        let done = self
            .state
            .mail
            .forwarding
            .turn_off(&mailbox, internal)
            .await;
        let outcome = match done {
            Ok(TurnOff::NothingToDo) => mailbox_outcome(
                MessageResult::AlreadyInDestination,
                "no forwarding outside the organisation is active".into(),
            ),
            Ok(TurnOff::Done {
                undo,
                addresses,
                detail,
            }) => {
                let mut tx = self.state.db.write_rows().await?;
                query(
                    "INSERT INTO forwarding_changes (action_id, mailbox, original_script, addresses, at)
                     VALUES ($1, $2, $3, $4, $5) ON CONFLICT (action_id) DO NOTHING",
                )
                .bind(&job.action.id)
                .bind(&mailbox)
                .bind(&undo)
                .bind(json!(addresses).to_string())
                .bind(db::now())
                .execute(&mut tx)
                .await?;
                tx.commit().await?;
                mailbox_outcome(MessageResult::Success, detail)
            }
            Err(ForwardingError::Store(StoreError::Unavailable(why))) => {
                return Err(Stop::Unavailable(why))
            }
            Err(ForwardingError::Store(StoreError::Refused(why)))
            | Err(ForwardingError::Unreadable(why)) => {
                crate::metrics::connector_error(self.state.mail.kind, "forwarding", "refused");
                mailbox_outcome(MessageResult::Failed, why)
            }
        };
        jobs::record(&self.state.db, &self.config, job, &mailbox, &[outcome]).await
    }

    /// Whether a mailbox action already has its one result (it ran before a crash).
    async fn has_result(&self, job: &Claimed) -> Result<bool, Stop> {
        let results: i64 = query("SELECT COUNT(*) FROM action_results WHERE action_id = $1")
            .bind(&job.action.id)
            .scalar(&self.state.db)
            .await?;
        Ok(results > 0)
    }

    /// Undo of turning forwarding off: the rules as recorded, active again.
    pub(super) async fn restore_forwarding(&self, job: &Claimed) -> Result<(), Stop> {
        let Some(mailbox) = job.action.mailbox.clone() else {
            return Ok(());
        };
        if self.has_result(job).await? {
            return Ok(());
        }
        let undo: Option<String> =
            query("SELECT original_script FROM forwarding_changes WHERE action_id = $1")
                .bind(&job.action.changed_from)
                .optional_scalar(&self.state.db)
                .await?;
        let outcome = match undo {
            None => mailbox_outcome(
                MessageResult::AlreadyInDestination,
                "nothing was turned off, so nothing needs restoring".into(),
            ),
            Some(undo) => match self.state.mail.forwarding.restore(&mailbox, &undo).await {
                Ok(done) => mailbox_outcome(MessageResult::Success, done),
                Err(StoreError::Unavailable(why)) => return Err(Stop::Unavailable(why)),
                Err(StoreError::Refused(why)) => {
                    crate::metrics::connector_error(self.state.mail.kind, "forwarding", "refused");
                    mailbox_outcome(MessageResult::Failed, why)
                }
            },
        };
        jobs::record(&self.state.db, &self.config, job, &mailbox, &[outcome]).await
    }
}

/// The one result of an action on a mailbox.
fn mailbox_outcome(result: MessageResult, detail: String) -> Outcome {
    Outcome {
        member: None,
        internet_message_id: None,
        result,
        location: None,
        folder: None,
        detail: Some(detail),
    }
}
