//! API bearer tokens: shown once at creation, stored as SHA-256, acting with their user's role
//! narrowed to their scopes, until they expire or are revoked.

use chrono::{DateTime, Duration, Utc};
use rand::RngCore;
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::audit::{self, Event};
use crate::db::{self, query, Db};
use crate::{new_id, users};
use model::{Actor, AppError, CurrentUser, Role, Scopes};

/// Every token starts with this, so leaked tokens are easy to spot in logs and scanners.
pub const PREFIX: &str = "adk_";

/// How stale `last_used_at` may get: recording every request would make each API call a
/// write; once a minute still tells an operator which tokens are alive.
const LAST_USE_GRANULARITY: Duration = Duration::seconds(60);

/// What a new token may do and for how long.
#[derive(Debug, Clone)]
pub struct Grant {
    pub label: String,
    pub scopes: Scopes,
    pub expires_at: Option<DateTime<Utc>>,
}

impl Grant {
    /// Every scope, no expiry: what a token was before scopes existed.
    pub fn full(label: &str) -> Grant {
        Grant {
            label: label.to_string(),
            scopes: Scopes::ALL,
            expires_at: None,
        }
    }
}

/// A token made: its id (for `token revoke`) and the secret, shown this once.
#[derive(Debug)]
pub struct Created {
    pub id: String,
    pub secret: String,
}

/// One token as `token list` shows it. Never the secret, which is not kept.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct TokenInfo {
    pub id: String,
    pub username: String,
    pub label: String,
    /// NULL for a token made before scopes existed: it has its role's full power.
    pub scopes: Option<String>,
    pub created_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

/// Creates a token for the named user and returns it in clear text, the only time it exists so.
#[tracing::instrument(skip(db))]
pub async fn create(
    db: &Db,
    actor: &Actor,
    username: &str,
    grant: &Grant,
) -> Result<Created, AppError> {
    let user = users::find_by_name(db, username)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("user {username:?}")))?;
    let now = db::now();
    if grant.expires_at.is_some_and(|at| at <= now) {
        return Err(AppError::Invalid(
            "a token must expire in the future".into(),
        ));
    }
    let mut secret = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut secret);
    let token = format!("{PREFIX}{}", hex::encode(secret));
    let id = new_id();
    let scopes = grant.scopes.to_words();
    let mut tx = db.write().await?;
    query(
        "INSERT INTO api_tokens (id, user_id, name, token_sha256, created_at, scopes, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(&id)
    .bind(&user.id)
    .bind(&grant.label)
    .bind(digest(&token))
    .bind(now)
    .bind(&scopes)
    .bind(grant.expires_at)
    .execute(&mut tx)
    .await?;
    let after = serde_json::json!({
        "user": user.username, "name": grant.label, "scopes": scopes, "expires_at": grant.expires_at,
    });
    let event = Event {
        actor,
        entity_kind: "api_token",
        entity_id: &id,
        event: "token_created",
        before: None,
        after: Some(after),
    };
    audit::record(&mut tx, event);
    tx.commit().await?;
    Ok(Created { id, secret: token })
}

/// Every token, newest first, revoked and expired ones included.
pub async fn list(db: &Db) -> Result<Vec<TokenInfo>, AppError> {
    Ok(query(
        "SELECT t.id, u.username, t.name AS label, t.scopes, t.created_at, t.expires_at,
                t.last_used_at, t.revoked_at
         FROM api_tokens t JOIN users u ON u.id = t.user_id
         ORDER BY t.created_at DESC, t.id DESC",
    )
    .fetch_all(db)
    .await?)
}

/// Revokes a token: every later request with it gets 401. Revoking twice is a conflict, so a
/// typo'd id is never reported as done.
#[tracing::instrument(skip(db))]
pub async fn revoke(db: &Db, actor: &Actor, id: &str) -> Result<(), AppError> {
    let mut tx = db.write().await?;
    let found: Option<(String, Option<DateTime<Utc>>)> =
        query("SELECT name, revoked_at FROM api_tokens WHERE id = $1")
            .bind(id)
            .fetch_optional(&mut tx)
            .await?;
    let (label, revoked_at) = found.ok_or_else(|| AppError::NotFound(format!("token {id:?}")))?;
    if let Some(at) = revoked_at {
        return Err(AppError::Conflict(format!(
            "token {id} was already revoked at {at}"
        )));
    }
    query("UPDATE api_tokens SET revoked_at = $1 WHERE id = $2")
        .bind(db::now())
        .bind(id)
        .execute(&mut tx)
        .await?;
    let event = Event {
        actor,
        entity_kind: "api_token",
        entity_id: id,
        event: "token_revoked",
        before: None,
        after: Some(serde_json::json!({"name": label})),
    };
    audit::record(&mut tx, event);
    tx.commit().await?;
    Ok(())
}

#[derive(sqlx::FromRow)]
struct Authenticated {
    token_id: String,
    scopes: Option<String>,
    last_used_at: Option<DateTime<Utc>>,
    id: String,
    username: String,
    role: String,
}

/// The user a bearer token acts for, with the token's scopes, or Unauthenticated: unknown,
/// expired and revoked tokens and disabled users all get the same answer.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn authenticate(db: &Db, token: &str) -> Result<CurrentUser, AppError> {
    if !token.starts_with(PREFIX) || token.len() > 128 {
        return Err(AppError::Unauthenticated);
    }
    let now = db::now();
    // Token and user in one query: this runs on every API request.
    let row: Option<Authenticated> = query(
        "SELECT t.id AS token_id, t.scopes, t.last_used_at, u.id, u.username, u.role
         FROM api_tokens t JOIN users u ON u.id = t.user_id
         WHERE t.token_sha256 = $1 AND NOT u.disabled AND t.revoked_at IS NULL
           AND (t.expires_at IS NULL OR t.expires_at > $2)",
    )
    .bind(digest(token))
    .bind(now)
    .fetch_optional(db)
    .await?;
    let row = row.ok_or(AppError::Unauthenticated)?;
    let role = Role::parse(&row.role).ok_or(AppError::Internal)?;
    // A stored word we cannot read grants nothing rather than everything.
    let scopes = match &row.scopes {
        None => Scopes::ALL,
        Some(words) => Scopes::parse(words).ok_or(AppError::Internal)?,
    };
    if row
        .last_used_at
        .is_none_or(|at| now - at >= LAST_USE_GRANULARITY)
    {
        record_use(db.clone(), row.token_id, now);
    }
    Ok(CurrentUser {
        id: row.id,
        username: row.username,
        role,
        scopes,
    })
}

/// Writes `last_used_at` off the request's path; a failure only costs the record.
fn record_use(db: Db, token_id: String, at: DateTime<Utc>) {
    tokio::spawn(async move {
        let written = async {
            let mut tx = db.write_rows().await?;
            query("UPDATE api_tokens SET last_used_at = $1 WHERE id = $2")
                .bind(at)
                .bind(&token_id)
                .execute(&mut tx)
                .await?;
            tx.commit().await
        };
        if let Err(error) = written.await {
            tracing::warn!(%error, "could not record a token's last use");
        }
    });
}

fn digest(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}
