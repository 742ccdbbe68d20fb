//! The whole HTTP application in one `Router`: portal pages and server functions, the REST
//! API, health checks and embedded assets, behind sessions, CSRF protection and limits.

mod client;
mod login;
mod oidc;
mod stall;

use std::time::Duration;

use axum::extract::{DefaultBodyLimit, FromRef};
use axum::http::{header, HeaderValue, Request};
use axum::routing::get;
use axum::Router;
use leptos::nonce::use_nonce;
use leptos::prelude::{provide_context, use_context, LeptosOptions};
use leptos_axum::{generate_route_list, LeptosRoutes, ResponseOptions};
use tower_http::csrf::CsrfLayer;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;
use tower_sessions::cookie::SameSite;
use tower_sessions::{ExpiredDeletion, Expiry, SessionManagerLayer};

use airdesk_core::db::SessionStore;
use airdesk_core::AppState;
use app::{shell, App};

use crate::rest::json::BodyLimit;
use crate::{assets, health, rest};

/// The router's state: the application's, plus what Leptos and the extractors need.
#[derive(Clone, Debug)]
pub struct HttpState {
    pub app: AppState,
    pub leptos: LeptosOptions,
    pub body_limit: usize,
    pub secure_cookies: bool,
}

impl FromRef<HttpState> for AppState {
    fn from_ref(state: &HttpState) -> Self {
        state.app.clone()
    }
}

impl FromRef<HttpState> for LeptosOptions {
    fn from_ref(state: &HttpState) -> Self {
        state.leptos.clone()
    }
}

impl FromRef<HttpState> for BodyLimit {
    fn from_ref(state: &HttpState) -> Self {
        BodyLimit(state.body_limit)
    }
}

/// How the HTTP layer behaves.
#[derive(Clone, Debug)]
pub struct HttpOptions {
    pub body_limit: usize,
    pub secure_cookies: bool,
    pub trusted_proxies: Vec<std::net::IpAddr>,
}

/// Idle browser sessions end after this long.
const SESSION_IDLE: tower_sessions::cookie::time::Duration =
    tower_sessions::cookie::time::Duration::hours(8);

/// Builds the application. Creates the session table if needed and starts its clean-up.
pub async fn app(
    state: AppState,
    options: &HttpOptions,
) -> Result<Router, airdesk_core::db::StorageError> {
    let sessions = sessions(&state, options).await?;

    let leptos = LeptosOptions::builder().output_name("airdesk").build();
    let http_state = HttpState {
        app: state.clone(),
        leptos: leptos.clone(),
        body_limit: options.body_limit,
        secure_cookies: options.secure_cookies,
    };
    let (asset_router, site_assets) = assets::load_assets::<HttpState>();

    // The stall limits cover the sign-in guard too (it may write a session's last-seen time).
    let portal = portal(&http_state, site_assets)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            login::require_login,
        ))
        .layer(RequestBodyLimitLayer::new(options.body_limit));
    let portal = stall::limit(portal, stall::PAGE_STALL);

    let request_span = |request: &Request<_>| {
        let id = request
            .headers()
            .get("x-request-id")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("-");
        tracing::info_span!("request", method = %request.method(), path = %request.uri().path(), request_id = %id)
    };

    // Browsers that reached us over HTTPS keep to it for a year (only sent when the cookie is
    // Secure, i.e. when airdesk is served over TLS).
    let hsts = options.secure_cookies.then(|| {
        SetResponseHeaderLayer::overriding(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000"),
        )
    });
    let trusted = client::TrustedProxies(std::sync::Arc::new(options.trusted_proxies.clone()));

    Ok(Router::new()
        .nest("/api/v1", rest::router())
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/metrics", get(crate::metrics::scrape))
        .merge(oidc::router())
        .merge(portal)
        .merge(asset_router)
        .layer(axum::middleware::from_fn(crate::metrics::time_requests))
        .layer(DefaultBodyLimit::max(options.body_limit))
        .layer(CsrfLayer::new())
        .layer(sessions)
        .layer(SetResponseHeaderLayer::overriding(
            header::X_FRAME_OPTIONS,
            HeaderValue::from_static("DENY"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::REFERRER_POLICY,
            HeaderValue::from_static("same-origin"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(NOTHING_CSP),
        ))
        .layer(tower::util::option_layer(hsts))
        .layer(axum::middleware::from_fn_with_state(
            trusted,
            client::client_address,
        ))
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(TraceLayer::new_for_http().make_span_with(request_span))
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
        .with_state(http_state))
}

/// Browser sessions in the database, and the task that deletes expired ones.
async fn sessions(
    state: &AppState,
    options: &HttpOptions,
) -> Result<SessionManagerLayer<SessionStore>, airdesk_core::db::StorageError> {
    let store = state.db.session_store().await?;
    tokio::spawn({
        let store = store.clone();
        async move {
            if let Err(error) = store
                .continuously_delete_expired(Duration::from_secs(600))
                .await
            {
                tracing::error!(%error, "expired-session clean-up stopped");
            }
        }
    });
    Ok(SessionManagerLayer::new(store)
        .with_name("airdesk_session")
        .with_http_only(true)
        .with_same_site(SameSite::Strict)
        .with_secure(options.secure_cookies)
        .with_expiry(Expiry::OnInactivity(SESSION_IDLE)))
}

/// Whether `path` is one of the portal's server functions (`#[server(prefix = "/rpc")]`)
/// rather than a page.
fn is_server_function(path: &str) -> bool {
    path.starts_with("/rpc/")
}

/// The portal's pages and server functions, each with the state in its Leptos context.
fn portal(http_state: &HttpState, site_assets: app::SiteAssets) -> Router<HttpState> {
    let routes = generate_route_list(App);
    let state = http_state.app.clone();
    Router::new().leptos_routes_with_context(
        http_state,
        routes,
        move || provide_context(state.clone()),
        move || {
            set_page_csp();
            shell(site_assets.clone())
        },
    )
}

/// For responses that are not pages (JSON, assets, redirects): they load nothing.
const NOTHING_CSP: &str = "default-src 'none'; frame-ancestors 'none'";

/// A page's policy: scripts only from this origin or inline with this response's nonce (the
/// boot script and Leptos's streaming chunks carry it), no plugins, no framing, no foreign form
/// targets. A subject line that slipped past escaping still could not run.
fn set_page_csp() {
    let Some(nonce) = use_nonce() else { return };
    let Some(response) = use_context::<ResponseOptions>() else {
        return;
    };
    let policy = format!(
        "default-src 'self'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; style-src 'self'; \
         img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; \
         frame-ancestors 'none'; form-action 'self'"
    );
    if let Ok(value) = HeaderValue::from_str(&policy) {
        response.insert_header(header::CONTENT_SECURITY_POLICY, value);
    }
}
