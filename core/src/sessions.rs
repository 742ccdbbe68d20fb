//! The browser session: only the user's id is stored; the user is reloaded on each request, so
//! a role change or a disabled account applies at once.

use tower_sessions::Session;

use crate::db::Db;
use crate::users;
use model::{AppError, CurrentUser};

const USER_ID: &str = "user_id";

/// Starts a signed-in session, with a fresh session id (no fixation).
pub async fn sign_in(session: &Session, user: &CurrentUser) -> Result<(), AppError> {
    session.cycle_id().await.map_err(session_error)?;
    session
        .insert(USER_ID, &user.id)
        .await
        .map_err(session_error)
}

/// Ends the session and deletes it from the store.
pub async fn sign_out(session: &Session) -> Result<(), AppError> {
    session.flush().await.map_err(session_error)
}

/// The signed-in user, if any.
pub async fn current_user(session: &Session, db: &Db) -> Result<Option<CurrentUser>, AppError> {
    let id: Option<String> = session.get(USER_ID).await.map_err(session_error)?;
    match id {
        Some(id) => users::find(db, &id).await,
        None => Ok(None),
    }
}

fn session_error(error: tower_sessions::session::Error) -> AppError {
    tracing::error!(error = %error, "session store error");
    AppError::Internal
}
