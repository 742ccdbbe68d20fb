//! Expiry (DESIGN.md rule 4): a pending action not decided in time expires; an investigation
//! whose remaining actions all expired is Terminated by system (`actions::state` derives it).
//! State-based (it compares `created_at` with now), so a restart simply catches up.

use std::time::Duration;

use super::state::{self, Transition};
use crate::db::{self, query};
use crate::AppState;
use model::{ActionStatus, Actor, AppError, SystemTask};

/// Who expiry acts as in the audit trail.
pub const ACTOR: Actor = Actor::System(SystemTask::Expiry);

/// Actions expired per transaction, so a large backlog never holds the write lock for long.
const BATCH: i64 = 200;

/// Expires every pending action older than the limit; returns how many.
#[tracing::instrument(skip_all)]
pub async fn expire_due(state: &AppState) -> Result<usize, AppError> {
    let mut total = 0;
    loop {
        let expired = expire_batch(state).await?;
        total += expired;
        if expired < BATCH as usize {
            return Ok(total);
        }
    }
}

async fn expire_batch(state: &AppState) -> Result<usize, AppError> {
    let limit =
        chrono::Duration::from_std(state.rules.pending_expiry).unwrap_or(chrono::Duration::MAX);
    let cutoff = db::now()
        .checked_sub_signed(limit)
        .unwrap_or(chrono::DateTime::<chrono::Utc>::MIN_UTC);
    let mut tx = state.db.write().await?;
    // Read under the write lock: an action decided a moment ago is no longer pending here.
    let due: Vec<String> = query(
        "SELECT id FROM actions WHERE status = 'pending' AND created_at < $1
         ORDER BY created_at, id LIMIT $2",
    )
    .bind(cutoff)
    .bind(BATCH)
    .scalars(&mut tx)
    .await?;
    for id in &due {
        let expired = Transition {
            action_id: id,
            from: ActionStatus::Pending,
            to: ActionStatus::Expired,
            actor: &ACTOR,
            event: "action_expired",
            decision: None,
            outcome: None,
        };
        state::transition(&mut tx, expired).await?;
    }
    tx.commit().await?;
    if !due.is_empty() {
        tracing::info!(expired = due.len(), "pending actions expired");
    }
    Ok(due.len())
}

/// How often the expiry task looks: often enough for short limits, at most once a minute.
pub fn interval(limit: Duration) -> Duration {
    (limit / 4).clamp(Duration::from_millis(100), Duration::from_secs(60))
}

/// Runs expiry forever (until the task is dropped).
pub async fn run(state: AppState) {
    let mut ticker = tokio::time::interval(interval(state.rules.pending_expiry));
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticker.tick().await;
        if let Err(error) = expire_due(&state).await {
            tracing::error!(?error, "expiry pass failed; trying again at the next tick");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::interval;
    use std::time::Duration;

    #[test]
    fn the_interval_follows_short_limits_and_caps_at_a_minute() {
        assert_eq!(interval(Duration::from_secs(2)), Duration::from_millis(500));
        assert_eq!(
            interval(Duration::from_millis(10)),
            Duration::from_millis(100)
        );
        assert_eq!(
            interval(Duration::from_secs(7 * 24 * 3600)),
            Duration::from_secs(60)
        );
    }
}
