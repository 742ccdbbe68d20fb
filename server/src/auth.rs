//! Who is calling: a bearer token (automation) or a signed-in browser session; and the guard
//! that sends a signed-out browser to the login page.

use axum::extract::{FromRef, FromRequestParts, Request, State};
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use axum::http::Method;
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use tower_sessions::Session;

use app::model::{AppError, CurrentUser};
use app::server::{session, tokens, AppState};

use crate::rest::problem::ApiError;

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
            return Ok(Caller(
                tokens::authenticate(&state.pool, token.trim()).await?,
            ));
        }
        let session = parts
            .extensions
            .get::<Session>()
            .ok_or(AppError::Unauthenticated)?;
        let user = session::current_user(session, &state.pool).await?;
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

/// Pages that a signed-out browser may see.
fn is_public(path: &str) -> bool {
    path == "/login"
        || path.starts_with("/rpc/")
        || path.starts_with("/pkg/")
        || path == "/robots.txt"
}

/// Sends a signed-out browser asking for a page to `/login?next=<page>`.
pub async fn require_login(
    State(state): State<AppState>,
    session: Session,
    request: Request,
    next: Next,
) -> Response {
    if request.method() != Method::GET || is_public(request.uri().path()) {
        return next.run(request).await;
    }
    match session::current_user(&session, &state.pool).await {
        Ok(Some(_)) => next.run(request).await,
        Ok(None) => {
            let wanted = request
                .uri()
                .path_and_query()
                .map(|p| p.as_str())
                .unwrap_or("/");
            let target = format!("/login?next={}", app::model::urlencode(wanted));
            Redirect::to(&target).into_response()
        }
        Err(error) => ApiError::from(error).into_response(),
    }
}
