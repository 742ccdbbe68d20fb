//! API bearer tokens: shown once at creation, stored as SHA-256, acting with their user's role.

use rand::RngCore;
use sha2::{Digest, Sha256};

use crate::audit::{self, Event};
use crate::db::{self, query, Db};
use crate::{new_id, users};
use model::{Actor, AppError, CurrentUser, Role};

/// Every token starts with this, so leaked tokens are easy to spot in logs and scanners.
pub const PREFIX: &str = "adk_";

/// Creates a token for the named user and returns it in clear text, the only time it exists so.
#[tracing::instrument(skip(db))]
pub async fn create(
    db: &Db,
    actor: &Actor,
    username: &str,
    name: &str,
) -> Result<String, AppError> {
    let user = users::find_by_name(db, username)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("user {username:?}")))?;
    let mut secret = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut secret);
    let token = format!("{PREFIX}{}", hex::encode(secret));
    let id = new_id();
    let mut tx = db.write().await?;
    query(
        "INSERT INTO api_tokens (id, user_id, name, token_sha256, created_at) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(&id)
    .bind(&user.id)
    .bind(name)
    .bind(digest(&token))
    .bind(db::now())
    .execute(&mut tx)
    .await?;
    let event = Event {
        actor,
        entity_kind: "api_token",
        entity_id: &id,
        event: "token_created",
        before: None,
        after: Some(serde_json::json!({"user": user.username, "name": name})),
    };
    audit::record(&mut tx, event);
    tx.commit().await?;
    Ok(token)
}

/// The user a bearer token acts for, or Unauthenticated.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn authenticate(db: &Db, token: &str) -> Result<CurrentUser, AppError> {
    if !token.starts_with(PREFIX) || token.len() > 128 {
        return Err(AppError::Unauthenticated);
    }
    // Token and user in one query: this runs on every API request.
    let row: Option<(String, String, String)> = query(
        "SELECT u.id, u.username, u.role FROM api_tokens t JOIN users u ON u.id = t.user_id
         WHERE t.token_sha256 = $1 AND NOT u.disabled",
    )
    .bind(digest(token))
    .fetch_optional(db)
    .await?;
    let (id, username, role) = row.ok_or(AppError::Unauthenticated)?;
    let role = Role::parse(&role).ok_or(AppError::Internal)?;
    Ok(CurrentUser { id, username, role })
}

fn digest(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}
