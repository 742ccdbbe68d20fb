//! A small OAuth2 authorisation server for the mail sign-in tests, on loopback: the
//! client-credentials grant (`POST /token`, client authenticated with HTTP Basic) and token
//! introspection (`POST /introspect`, RFC 7662) that Dovecot's oauth2 passdb asks. Tokens
//! expire and can be revoked; the test counts how many were issued.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{Form, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use base64::Engine;
use serde_json::json;

pub const CLIENT_ID: &str = "airdesk";
pub const CLIENT_SECRET: &str = "client-secret-of-airdesk";
/// The service principal the tokens stand for: Dovecot's master user of the oauth2 passdb.
pub const PRINCIPAL: &str = "airdesk-svc";

#[derive(Default)]
struct Tokens {
    /// Token → (expires at, revoked).
    issued: HashMap<String, (Instant, bool)>,
    lifetime: Duration,
    grants: usize,
}

#[derive(Clone)]
pub struct Idp {
    pub address: SocketAddr,
    tokens: Arc<Mutex<Tokens>>,
}

impl Idp {
    /// Starts the server; tokens live `lifetime`.
    pub async fn start(lifetime: Duration) -> Idp {
        let tokens = Arc::new(Mutex::new(Tokens {
            lifetime,
            ..Tokens::default()
        }));
        let app = axum::Router::new()
            .route("/token", axum::routing::post(token))
            .route("/introspect", axum::routing::post(introspect))
            .with_state(tokens.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await });
        Idp { address, tokens }
    }

    pub fn token_url(&self) -> String {
        format!("http://{}/token", self.address)
    }

    pub fn introspection_url(&self) -> String {
        format!("http://{}/introspect", self.address)
    }

    /// A token made outside the grant (what an operator's helper would have written to a file).
    pub fn issue(&self, lifetime: Duration) -> String {
        let mut tokens = self.tokens.lock().unwrap();
        mint(&mut tokens, lifetime)
    }

    /// Every token issued so far stops working.
    pub fn revoke_all(&self) {
        for (_, revoked) in self.tokens.lock().unwrap().issued.values_mut() {
            *revoked = true;
        }
    }

    /// How many tokens the grant has handed out.
    pub fn grants(&self) -> usize {
        self.tokens.lock().unwrap().grants
    }
}

fn mint(tokens: &mut Tokens, lifetime: Duration) -> String {
    let token = format!("tok-{}-{}", tokens.issued.len() + 1, std::process::id());
    tokens
        .issued
        .insert(token.clone(), (Instant::now() + lifetime, false));
    token
}

async fn token(
    State(tokens): State<Arc<Mutex<Tokens>>>,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let expected =
        base64::engine::general_purpose::STANDARD.encode(format!("{CLIENT_ID}:{CLIENT_SECRET}"));
    let authorised = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v == format!("Basic {expected}"));
    if !authorised {
        let body = json!({"error": "invalid_client", "error_description": "unknown client or wrong secret"});
        return (StatusCode::UNAUTHORIZED, Json(body)).into_response();
    }
    if form.get("grant_type").map(String::as_str) != Some("client_credentials") {
        return (
            StatusCode::BAD_REQUEST,
            Json(json!({"error": "unsupported_grant_type"})),
        )
            .into_response();
    }
    let mut tokens = tokens.lock().unwrap();
    tokens.grants += 1;
    let lifetime = tokens.lifetime;
    let token = mint(&mut tokens, lifetime);
    Json(json!({
        "access_token": token,
        "token_type": "Bearer",
        "expires_in": lifetime.as_secs(),
    }))
    .into_response()
}

async fn introspect(
    State(tokens): State<Arc<Mutex<Tokens>>>,
    Form(form): Form<HashMap<String, String>>,
) -> Json<serde_json::Value> {
    let tokens = tokens.lock().unwrap();
    let active = form
        .get("token")
        .and_then(|t| tokens.issued.get(t))
        .is_some_and(|(expires, revoked)| !revoked && Instant::now() < *expires);
    if active {
        Json(json!({"active": true, "username": PRINCIPAL}))
    } else {
        Json(json!({"active": false}))
    }
}
