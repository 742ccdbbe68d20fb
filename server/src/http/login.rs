//! The guard that sends a signed-out browser asking for a page to the login page.

use axum::extract::{Request, State};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use tower_sessions::Session;

use airdesk_core::{sessions, AppState};

use crate::rest::problem::ApiError;

/// Pages that a signed-out browser may see.
fn is_public(path: &str) -> bool {
    path == "/login"
        || super::is_server_function(path)
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
    match sessions::current_user(&session, &state.db).await {
        Ok(Some(_)) => next.run(request).await,
        Ok(None) => {
            let wanted = request
                .uri()
                .path_and_query()
                .map(|p| p.as_str())
                .unwrap_or("/");
            let target = format!("/login?next={}", model::urlencode(wanted));
            Redirect::to(&target).into_response()
        }
        Err(error) => ApiError::from(error).into_response(),
    }
}
