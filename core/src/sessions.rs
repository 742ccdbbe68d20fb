//! Browser sessions. The session store keeps only the id of a `user_sessions` row; the row
//! names the user, how they signed in, from where, and when they were last seen. The user is
//! reloaded with the row on each request, so a role change, a disabled account or a revoked
//! session applies at its next request. Listing and revoking are here too (the Sessions page,
//! "sign out everywhere").

use chrono::{DateTime, Duration, Utc};
use tower_sessions::Session;

use crate::audit::{self, Event};
use crate::db::{self, query, Db};
use crate::new_id;
use model::{Actor, AppError, CurrentUser, Role, Scopes, SessionInfo};

const SESSION_ID: &str = "session";
/// A session unused this long has expired in the store too (`SESSION_IDLE` in the server);
/// its row goes at the next sign-in.
const FORGET_AFTER_HOURS: i64 = 8;
/// Last-seen times are written at most this often per session.
const SEEN_EVERY_SECS: i64 = 60;

/// How a session began.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Password,
    Oidc,
}

/// Who signs in, from where, how.
pub struct NewSession<'a> {
    pub user: &'a CurrentUser,
    pub method: Method,
    pub address: String,
    pub user_agent: String,
    /// The provider's ID token, for signing out there too.
    pub id_token: Option<String>,
}

/// Starts a signed-in session, with a fresh session id (no fixation).
pub async fn sign_in(session: &Session, db: &Db, new: NewSession<'_>) -> Result<(), AppError> {
    let id = new_id();
    let now = db::now();
    let mut tx = db.write().await?;
    query("DELETE FROM user_sessions WHERE last_seen_at < $1")
        .bind(now - Duration::hours(FORGET_AFTER_HOURS))
        .execute(&mut tx)
        .await?;
    query(
        "INSERT INTO user_sessions (id, user_id, method, address, user_agent, id_token, created_at, last_seen_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $7)",
    )
    .bind(&id)
    .bind(&new.user.id)
    .bind(match new.method {
        Method::Password => "password",
        Method::Oidc => "oidc",
    })
    .bind(new.address)
    .bind(new.user_agent.chars().take(200).collect::<String>())
    .bind(new.id_token)
    .bind(now)
    .execute(&mut tx)
    .await?;
    tx.commit().await?;
    session.cycle_id().await.map_err(session_error)?;
    session.insert(SESSION_ID, &id).await.map_err(session_error)
}

/// Ends this browser's session: its row and the store's record. Returns the provider's ID
/// token when the session began there, for signing out at the provider too.
pub async fn sign_out(session: &Session, db: &Db) -> Result<Option<String>, AppError> {
    let id: Option<String> = session.get(SESSION_ID).await.map_err(session_error)?;
    let mut id_token = None;
    if let Some(id) = id {
        let mut tx = db.write().await?;
        id_token = query("DELETE FROM user_sessions WHERE id = $1 RETURNING id_token")
            .bind(&id)
            .fetch_optional::<(Option<String>,)>(&mut tx)
            .await?
            .and_then(|(token,)| token);
        tx.commit().await?;
    }
    session.flush().await.map_err(session_error)?;
    Ok(id_token)
}

#[derive(sqlx::FromRow)]
struct Row {
    user_id: String,
    username: String,
    role: String,
    last_seen_at: DateTime<Utc>,
}

/// The signed-in user, if any: their session row still there and their account enabled.
pub async fn current_user(session: &Session, db: &Db) -> Result<Option<CurrentUser>, AppError> {
    let id: Option<String> = session.get(SESSION_ID).await.map_err(session_error)?;
    let Some(id) = id else { return Ok(None) };
    let row: Option<Row> = query(
        "SELECT u.id AS user_id, u.username, u.role, s.last_seen_at FROM user_sessions s \
         JOIN users u ON u.id = s.user_id WHERE s.id = $1 AND NOT u.disabled",
    )
    .bind(&id)
    .fetch_optional(db)
    .await?;
    let Some(row) = row else { return Ok(None) };
    let now = db::now();
    if now - row.last_seen_at > Duration::seconds(SEEN_EVERY_SECS) {
        let mut tx = db.write().await?;
        query("UPDATE user_sessions SET last_seen_at = $1 WHERE id = $2")
            .bind(now)
            .bind(&id)
            .execute(&mut tx)
            .await?;
        tx.commit().await?;
    }
    Ok(Some(CurrentUser {
        id: row.user_id,
        username: row.username,
        role: Role::parse(&row.role).ok_or(AppError::Internal)?,
        scopes: Scopes::ALL,
    }))
}

/// This browser's session id, to mark it in a list.
pub async fn this_session(session: &Session) -> Result<Option<String>, AppError> {
    session.get(SESSION_ID).await.map_err(session_error)
}

#[derive(sqlx::FromRow)]
struct Listed {
    id: String,
    username: String,
    method: String,
    address: String,
    user_agent: String,
    created_at: DateTime<Utc>,
    last_seen_at: DateTime<Utc>,
}

/// Open sessions, newest first: one user's, or everyone's (`None`).
pub async fn list(db: &Db, user_id: Option<&str>) -> Result<Vec<SessionInfo>, AppError> {
    let rows: Vec<Listed> = query(
        "SELECT s.id, u.username, s.method, s.address, s.user_agent, s.created_at, s.last_seen_at \
         FROM user_sessions s JOIN users u ON u.id = s.user_id \
         WHERE ($1 IS NULL OR s.user_id = $1) AND s.last_seen_at >= $2 \
         ORDER BY s.last_seen_at DESC, s.id",
    )
    .bind(user_id)
    .bind(db::now() - Duration::hours(FORGET_AFTER_HOURS))
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| SessionInfo {
            id: r.id,
            username: r.username,
            method: r.method,
            address: r.address,
            user_agent: r.user_agent,
            created_at: r.created_at,
            last_seen_at: r.last_seen_at,
            current: false,
        })
        .collect())
}

/// Revokes one session. `owner` limits it to that user's sessions (a non-admin revoking
/// their own); another's session is then "not found", so ids of others cannot be probed.
pub async fn revoke(db: &Db, actor: &Actor, id: &str, owner: Option<&str>) -> Result<(), AppError> {
    let mut tx = db.write().await?;
    let gone: Option<(String,)> = query(
        "DELETE FROM user_sessions WHERE id = $1 AND ($2 IS NULL OR user_id = $2) RETURNING user_id",
    )
    .bind(id)
    .bind(owner)
    .fetch_optional(&mut tx)
    .await?;
    let Some((user_id,)) = gone else {
        return Err(AppError::NotFound(format!("session {id}")));
    };
    audit::record(
        &mut tx,
        Event {
            actor,
            entity_kind: "user",
            entity_id: &user_id,
            event: "session_revoked",
            before: Some(serde_json::json!({"session": id})),
            after: None,
        },
    );
    tx.commit().await?;
    Ok(())
}

/// Ends every session of a user ("sign out everywhere"); returns how many ended.
pub async fn revoke_all(db: &Db, actor: &Actor, user_id: &str) -> Result<u64, AppError> {
    let mut tx = db.write().await?;
    let ended = query("DELETE FROM user_sessions WHERE user_id = $1")
        .bind(user_id)
        .execute(&mut tx)
        .await?;
    audit::record(
        &mut tx,
        Event {
            actor,
            entity_kind: "user",
            entity_id: user_id,
            event: "sessions_revoked",
            before: None,
            after: Some(serde_json::json!({"sessions_ended": ended})),
        },
    );
    tx.commit().await?;
    Ok(ended)
}

fn session_error(error: tower_sessions::session::Error) -> AppError {
    tracing::error!(error = %error, "session store error");
    AppError::Internal
}
