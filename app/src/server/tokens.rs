//! API bearer tokens: shown once at creation, stored as SHA-256, acting with their user's role.

use rand::RngCore;
use sha2::{Digest, Sha256};
use sqlx::SqlitePool;

use super::clock::{db_time, now};
use super::{audit, new_id, users};
use crate::model::{AppError, CurrentUser, Role};

/// Every token starts with this, so leaked tokens are easy to spot in logs and scanners.
pub const PREFIX: &str = "adk_";

/// Creates a token for the named user and returns it in clear text, the only time it exists so.
pub async fn create(
    pool: &SqlitePool,
    actor: &str,
    username: &str,
    name: &str,
) -> Result<String, AppError> {
    let user = users::find_by_name(pool, username)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("user {username:?}")))?;
    let mut secret = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut secret);
    let token = format!("{PREFIX}{}", hex::encode(secret));
    let id = new_id();
    let mut tx = super::db::begin_write(pool).await?;
    sqlx::query(
        "INSERT INTO api_tokens (id, user_id, name, token_sha256, created_at) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(&id)
    .bind(&user.id)
    .bind(name)
    .bind(digest(&token))
    .bind(db_time(&now()))
    .execute(&mut *tx)
    .await?;
    let after = serde_json::json!({"user": user.username, "name": name});
    audit::record(
        &mut tx,
        actor,
        "api_token",
        &id,
        "token_created",
        None,
        Some(after),
    )
    .await?;
    tx.commit().await?;
    Ok(token)
}

/// The user a bearer token acts for, or Unauthenticated.
pub async fn authenticate(pool: &SqlitePool, token: &str) -> Result<CurrentUser, AppError> {
    if !token.starts_with(PREFIX) || token.len() > 128 {
        return Err(AppError::Unauthenticated);
    }
    // Token and user in one query: this runs on every API request.
    let row: Option<(String, String, String)> = sqlx::query_as(
        "SELECT u.id, u.username, u.role FROM api_tokens t JOIN users u ON u.id = t.user_id
         WHERE t.token_sha256 = $1 AND u.disabled = 0",
    )
    .bind(digest(token))
    .fetch_optional(pool)
    .await?;
    let (id, username, role) = row.ok_or(AppError::Unauthenticated)?;
    let role = Role::parse(&role).ok_or(AppError::Internal)?;
    Ok(CurrentUser { id, username, role })
}

fn digest(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}
