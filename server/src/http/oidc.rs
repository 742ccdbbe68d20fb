//! The two addresses of single sign-on: `/auth/oidc/start` sends the browser to the identity
//! provider, `/auth/oidc/callback` takes it back. The rules are in `airdesk_core::oidc`.
//!
//! The sign-in in progress is found through its own cookie, `SameSite=Lax`: the provider's
//! redirect back is a cross-site navigation, which a `Strict` cookie (the session's) does not
//! ride. For the same reason a successful callback answers with a page that moves on by
//! itself rather than a redirect: a redirect chain that began at another site does not carry
//! the new `Strict` session cookie either, and the first page would look signed out.

use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::{Extension, Router};
use serde::Deserialize;
use tower_sessions::cookie::{Cookie, SameSite};
use tower_sessions::Session;

use airdesk_core::oidc::{Callback, Refusal};
use airdesk_core::sessions::{self, Method, NewSession};
use airdesk_core::signin::ClientAddress;

use super::HttpState;

const COOKIE: &str = "airdesk_oidc";
const COOKIE_PATH: &str = "/auth/oidc";

pub fn router() -> Router<HttpState> {
    Router::new()
        .route("/auth/oidc/start", get(start))
        .route("/auth/oidc/callback", get(callback))
}

#[derive(Deserialize)]
struct Start {
    next: Option<String>,
}

fn refused(refusal: Refusal) -> Response {
    Redirect::to(&format!("/login?refused={}", refusal.code())).into_response()
}

fn pending_cookie(value: &str, secure: bool, max_age_secs: i64) -> HeaderValue {
    let cookie = Cookie::build((COOKIE, value.to_string()))
        .path(COOKIE_PATH)
        .http_only(true)
        .secure(secure)
        .same_site(SameSite::Lax)
        .max_age(tower_sessions::cookie::time::Duration::seconds(
            max_age_secs,
        ))
        .build();
    HeaderValue::from_str(&cookie.to_string()).unwrap_or(HeaderValue::from_static(""))
}

async fn start(State(state): State<HttpState>, Query(start): Query<Start>) -> Response {
    let Some(provider) = state.app.sign_in.oidc.clone() else {
        return (StatusCode::NOT_FOUND, "single sign-on is not configured").into_response();
    };
    let next = model::safe_next(start.next.as_deref());
    match provider.start(&state.app.db, &next).await {
        Ok(started) => {
            let mut response = Redirect::to(&started.authorize_url).into_response();
            response.headers_mut().insert(
                header::SET_COOKIE,
                pending_cookie(&started.browser_key, state.secure_cookies, 600),
            );
            response
        }
        Err(refusal) => refused(refusal),
    }
}

async fn callback(
    State(state): State<HttpState>,
    session: Session,
    address: Option<Extension<ClientAddress>>,
    headers: HeaderMap,
    Query(answer): Query<Callback>,
) -> Response {
    let Some(provider) = state.app.sign_in.oidc.clone() else {
        return (StatusCode::NOT_FOUND, "single sign-on is not configured").into_response();
    };
    let browser_key = headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(Cookie::split_parse)
        .filter_map(Result::ok)
        .find(|c| c.name() == COOKIE)
        .map(|c| c.value().to_string());
    let finished = provider
        .finish(&state.app.db, browser_key.as_deref(), answer)
        .await;
    let mut response = match finished {
        Err(refusal) => refused(refusal),
        Ok(signed_in) => {
            let user_agent = headers
                .get(header::USER_AGENT)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_string();
            let new = NewSession {
                user: &signed_in.user,
                method: Method::Oidc,
                address: address.map(|a| a.0 .0.to_string()).unwrap_or_default(),
                user_agent,
                id_token: Some(signed_in.id_token.clone()),
            };
            match sessions::sign_in(&session, &state.app.db, new).await {
                Ok(()) => {
                    tracing::info!(user = %signed_in.user.username, "signed in through the identity provider");
                    onward(&signed_in.next)
                }
                Err(error) => crate::rest::problem::ApiError::from(error).into_response(),
            }
        }
    };
    response.headers_mut().append(
        header::SET_COOKIE,
        pending_cookie("", state.secure_cookies, 0),
    );
    response
}

/// A page that sends the browser on to `next` (a path of this site, percent-encoded ASCII
/// from `safe_next`) as a navigation of its own, so the new session cookie rides it.
fn onward(next: &str) -> Response {
    let next: String = next
        .chars()
        .map(|c| match c {
            '&' => "&amp;".to_string(),
            '"' => "&quot;".to_string(),
            '<' => "&lt;".to_string(),
            '>' => "&gt;".to_string(),
            '\'' => "&#39;".to_string(),
            c => c.to_string(),
        })
        .collect();
    let page = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta http-equiv=\"refresh\" content=\"0;url={next}\"><title>Signed in</title></head>\
         <body><main><p>Signed in. <a href=\"{next}\">Continue</a></p></main></body></html>"
    );
    (
        [(header::CACHE_CONTROL, HeaderValue::from_static("no-store"))],
        axum::response::Html(page),
    )
        .into_response()
}
