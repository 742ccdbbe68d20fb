//! Who is calling a REST endpoint: a bearer token (automation) or a signed-in browser session.

use axum::extract::{FromRef, FromRequestParts};
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use tower_sessions::Session;

use airdesk_core::{sessions, tokens, AppState};
use model::{AppError, CurrentUser};

use super::problem::ApiError;

/// The authenticated caller of a REST endpoint. Rejects with 401 problem+json.
pub struct Caller(pub CurrentUser);

impl<S> FromRequestParts<S> for Caller
where
    AppState: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let state = AppState::from_ref(state);
        if let Some(value) = parts.headers.get(AUTHORIZATION) {
            let token = value
                .to_str()
                .ok()
                .and_then(|v| v.strip_prefix("Bearer "))
                .ok_or(AppError::Unauthenticated)?;
            return Ok(Caller(tokens::authenticate(&state.db, token.trim()).await?));
        }
        let session = parts
            .extensions
            .get::<Session>()
            .ok_or(AppError::Unauthenticated)?;
        let user = sessions::current_user(session, &state.db).await?;
        user.map(Caller)
            .ok_or_else(|| AppError::Unauthenticated.into())
    }
}

impl Caller {
    /// The Search and purge permission (DESIGN.md rule 1), or 403.
    pub fn require_decider(&self) -> Result<&CurrentUser, ApiError> {
        if self.0.role.can_decide() {
            Ok(&self.0)
        } else {
            Err(AppError::Forbidden("Search and purge".into()).into())
        }
    }
}
