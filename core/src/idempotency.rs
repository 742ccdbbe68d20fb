//! `Idempotency-Key` storage: the first answer to a POST, kept per user and key, so a retry
//! with the same key and request gets that answer and changes nothing. A claim is one insert
//! under the primary key, so of two requests racing with one key, exactly one does the work.

use serde_json::Value;

use crate::db::{self, query, Db};
use model::AppError;

/// What a claim on a key came to.
#[derive(Debug, Clone, PartialEq)]
pub enum Claim {
    /// The key is new: do the work, then [`settle`].
    Mine,
    /// Answered before: replay this status and body.
    Replay(u16, Value),
}

/// Claims `key` for this user and request (a hash of method, path and body).
#[tracing::instrument(level = "debug", skip(db, request_hash))]
pub async fn claim(
    db: &Db,
    user_id: &str,
    key: &str,
    request_hash: &str,
) -> Result<Claim, AppError> {
    let inserted = query(
        "INSERT INTO idempotency_keys (user_id, idem_key, request_sha256, status, body, created_at)
         VALUES ($1, $2, $3, 0, '', $4)",
    )
    .bind(user_id)
    .bind(key)
    .bind(request_hash)
    .bind(db::now())
    .execute(db)
    .await;
    match inserted {
        Ok(_) => Ok(Claim::Mine),
        Err(e) if e.is_unique_violation() => {
            let (hash, status, body): (String, i64, String) = query(
                "SELECT request_sha256, status, body FROM idempotency_keys WHERE user_id = $1 AND idem_key = $2",
            )
            .bind(user_id)
            .bind(key)
            .fetch_one(db)
            .await?;
            if hash != request_hash {
                Err(AppError::Invalid(
                    "this Idempotency-Key was used with a different request".into(),
                ))
            } else if status == 0 {
                Err(AppError::Conflict(
                    "a request with this Idempotency-Key is still in progress".into(),
                ))
            } else {
                let body = serde_json::from_str(&body).map_err(|_| AppError::Internal)?;
                Ok(Claim::Replay(
                    u16::try_from(status).map_err(|_| AppError::Internal)?,
                    body,
                ))
            }
        }
        Err(e) => Err(e.into()),
    }
}

/// Keeps the answer for retries; `None` (a server fault) frees the key for a retry to try again.
#[tracing::instrument(level = "debug", skip(db, answer))]
pub async fn settle(
    db: &Db,
    user_id: &str,
    key: &str,
    answer: Option<(u16, Value)>,
) -> Result<(), AppError> {
    match answer {
        Some((status, body)) => {
            query("UPDATE idempotency_keys SET status = $3, body = $4 WHERE user_id = $1 AND idem_key = $2")
                .bind(user_id)
                .bind(key)
                .bind(i64::from(status))
                .bind(body.to_string())
                .execute(db)
                .await?;
        }
        None => {
            query("DELETE FROM idempotency_keys WHERE user_id = $1 AND idem_key = $2")
                .bind(user_id)
                .bind(key)
                .execute(db)
                .await?;
        }
    }
    Ok(())
}
