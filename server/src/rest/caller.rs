//! Who is calling a REST endpoint: a bearer token (automation) or a signed-in browser session.

use axum::extract::{FromRef, FromRequestParts};
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use axum::http::Method;
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
            let user = tokens::authenticate(&state.db, token.trim()).await?;
            // Reading is a scope too: an ingest-only token learns nothing it did not send.
            if parts.method == Method::GET || parts.method == Method::HEAD {
                user.require_read()?;
            }
            return Ok(Caller(user));
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

/// What a POST needs of its caller beyond being signed in.
#[derive(Debug, Clone, Copy)]
pub enum Need {
    /// Approve, reject, change: Search and purge, `decide` scope.
    Decide,
    /// Submit investigations: Search and purge, `ingest` scope.
    Ingest,
    /// Start a hunt through every mailbox (indicators): Search and purge, `ingest` scope —
    /// the rule manual investigations follow too.
    Hunt,
}

impl Caller {
    /// The caller if their role and their token's scopes allow `need`, or 403 saying which.
    pub fn require(&self, need: Need) -> Result<&CurrentUser, ApiError> {
        match need {
            Need::Decide => self.0.require_decide()?,
            Need::Ingest => self.0.require_ingest()?,
            Need::Hunt => self.0.require_hunt()?,
        }
        Ok(&self.0)
    }
}
