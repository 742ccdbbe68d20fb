//! Users: creation with Argon2id password hashes, sign-in, and loading the current user.

use argon2::password_hash::{
    rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString,
};
use argon2::Argon2;

use crate::audit::{self, Event};
use crate::db::{self, query, Db};
use crate::new_id;
use model::{Actor, AppError, CurrentUser, Role, Scopes, Username};

/// Passwords shorter than this are refused.
pub const MIN_PASSWORD_LEN: usize = 12;

#[derive(sqlx::FromRow)]
struct UserRow {
    id: String,
    username: String,
    role: String,
    password_hash: String,
}

impl UserRow {
    fn into_user(self) -> Result<CurrentUser, AppError> {
        let role = Role::parse(&self.role).ok_or(AppError::Internal)?;
        Ok(CurrentUser {
            id: self.id,
            username: self.username,
            role,
            scopes: Scopes::ALL,
        })
    }
}

/// Creates a user. The password is hashed off the async threads (Argon2 is slow on purpose).
#[tracing::instrument(skip(db, password), fields(username = username.as_str()))]
pub async fn create(
    db: &Db,
    actor: &Actor,
    username: &Username,
    password: &str,
    role: Role,
) -> Result<CurrentUser, AppError> {
    if password.chars().count() < MIN_PASSWORD_LEN {
        return Err(AppError::Invalid(format!(
            "a password needs at least {MIN_PASSWORD_LEN} characters"
        )));
    }
    let hash = hash_password(password.to_string()).await?;
    let id = new_id();
    let mut tx = db.write().await?;
    query(
        "INSERT INTO users (id, username, password_hash, role, created_at) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(&id)
    .bind(username.as_str())
    .bind(&hash)
    .bind(role)
    .bind(db::now())
    .execute(&mut tx)
    .await
    .map_err(|e| {
        if e.is_unique_violation() {
            AppError::Conflict(format!("user {:?} already exists", username.as_str()))
        } else {
            e.into()
        }
    })?;
    let after = serde_json::json!({"username": username.as_str(), "role": role});
    let event = Event {
        actor,
        entity_kind: "user",
        entity_id: &id,
        event: "user_created",
        before: None,
        after: Some(after),
    };
    audit::record(&mut tx, event);
    tx.commit().await?;
    Ok(CurrentUser {
        id,
        username: username.as_str().to_string(),
        role,
        scopes: Scopes::ALL,
    })
}

/// Checks a username and password. Unknown users cost the same Argon2 work as known ones, so
/// timing does not tell which usernames exist.
#[tracing::instrument(skip(db, password))]
pub async fn verify_login(
    db: &Db,
    username: &str,
    password: &str,
) -> Result<CurrentUser, AppError> {
    let row: Option<UserRow> = query(
        "SELECT id, username, role, password_hash FROM users WHERE username = $1 AND NOT disabled",
    )
    .bind(username)
    .fetch_optional(db)
    .await?;
    let hash = row
        .as_ref()
        .map(|r| r.password_hash.clone())
        .unwrap_or_else(|| dummy_hash().to_string());
    let matches = verify_password(password.to_string(), hash).await?;
    match row {
        Some(row) if matches => row.into_user(),
        _ => Err(AppError::BadCredentials),
    }
}

/// Loads an enabled user by id (sessions store only the id, so role changes apply at once).
#[tracing::instrument(level = "debug", skip(db))]
pub async fn find(db: &Db, id: &str) -> Result<Option<CurrentUser>, AppError> {
    let row: Option<UserRow> =
        query("SELECT id, username, role, password_hash FROM users WHERE id = $1 AND NOT disabled")
            .bind(id)
            .fetch_optional(db)
            .await?;
    row.map(UserRow::into_user).transpose()
}

/// Loads an enabled user by name.
pub async fn find_by_name(db: &Db, username: &str) -> Result<Option<CurrentUser>, AppError> {
    let row: Option<UserRow> = query(
        "SELECT id, username, role, password_hash FROM users WHERE username = $1 AND NOT disabled",
    )
    .bind(username)
    .fetch_optional(db)
    .await?;
    row.map(UserRow::into_user).transpose()
}

async fn hash_password(password: String) -> Result<String, AppError> {
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::generate(&mut OsRng);
        Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| {
                tracing::error!(error = %e, "password hashing failed");
                AppError::Internal
            })
    })
    .await
    .map_err(|_| AppError::Internal)?
}

async fn verify_password(password: String, hash: String) -> Result<bool, AppError> {
    tokio::task::spawn_blocking(move || {
        let parsed = PasswordHash::new(&hash).map_err(|e| {
            tracing::error!(error = %e, "stored password hash is unreadable");
            AppError::Internal
        })?;
        Ok(Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok())
    })
    .await
    .map_err(|_| AppError::Internal)?
}

/// A valid Argon2id hash of a random password nobody knows, computed once.
fn dummy_hash() -> &'static str {
    static HASH: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    HASH.get_or_init(|| {
        let salt = SaltString::generate(&mut OsRng);
        Argon2::default()
            .hash_password(new_id().as_bytes(), &salt)
            .map(|h| h.to_string())
            .unwrap_or_default()
    })
}

/// How many users there are (the demo seeds only an empty database).
pub async fn count(db: &Db) -> Result<i64, AppError> {
    Ok(query("SELECT COUNT(*) FROM users").scalar(db).await?)
}
