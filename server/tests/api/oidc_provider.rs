//! The identity provider of the single sign-on tests: the `oidc-provider` npm package
//! (`scripts/oidc-provider.mjs`) on loopback, behind a small proxy of the test's own that is
//! the issuer browsers and airdesk talk to. The proxy passes everything through, or spoils
//! one thing on purpose: the ID token's signature, its audience (the flow is run for another
//! client of the same provider), or its freshness (the token answer held back past the ID
//! token's lifetime). Every token airdesk sees was issued and signed by the real provider.

use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use serde_json::{json, Value};

pub const CLIENT_ID: &str = "airdesk";
pub const CLIENT_SECRET: &str = "client-secret-of-airdesk-portal";
pub const OTHER_CLIENT_ID: &str = "other-app";
pub const OTHER_SECRET: &str = "client-secret-of-another-app";

/// What the proxy spoils.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tamper {
    Nothing,
    Signature,
    Audience,
    /// Hold the token answer back this long.
    Slow(Duration),
}

pub struct Provider {
    pub issuer: String,
    pub accounts: std::path::PathBuf,
    tamper: Arc<Mutex<Tamper>>,
    child: Child,
    _dir: tempfile::TempDir,
}

impl Drop for Provider {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl Provider {
    /// Starts the provider for a portal at `portal` (its callback and sign-out pages are
    /// the registered redirect URIs), with `accounts` (login → claims).
    pub async fn start(
        portal: &str,
        accounts: Value,
        groups_in_id_token: bool,
        id_token_ttl: u64,
    ) -> Provider {
        let dir = tempfile::tempdir().unwrap();
        let accounts_file = dir.path().join("accounts.json");
        std::fs::write(&accounts_file, accounts.to_string()).unwrap();
        let proxy = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let issuer = format!("http://{}", proxy.local_addr().unwrap());
        let port = free_port();
        let client = |id: &str, secret: &str| {
            json!({
                "client_id": id, "client_secret": secret,
                "redirect_uris": [format!("{portal}/auth/oidc/callback")],
                "post_logout_redirect_uris": [format!("{portal}/login")],
            })
        };
        let clients = json!([
            client(CLIENT_ID, CLIENT_SECRET),
            client(OTHER_CLIENT_ID, OTHER_SECRET)
        ]);
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../scripts/oidc-provider.mjs");
        let mut child = Command::new("node")
            .arg(script)
            .env("OIDC_PORT", port.to_string())
            .env("OIDC_ISSUER", &issuer)
            .env("OIDC_CLIENTS", clients.to_string())
            .env("OIDC_ACCOUNTS_FILE", &accounts_file)
            .env("OIDC_GROUPS_IN_ID_TOKEN", if groups_in_id_token { "1" } else { "0" })
            .env("OIDC_ID_TOKEN_TTL", id_token_ttl.to_string())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("node runs scripts/oidc-provider.mjs (npm install puts oidc-provider in node_modules)");
        let upstream = format!("http://127.0.0.1:{port}");
        let mut ready = false;
        for _ in 0..200 {
            let answer = reqwest::get(format!("{upstream}/.well-known/openid-configuration")).await;
            if answer.is_ok_and(|r| r.status().is_success()) {
                ready = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        if !ready {
            let _ = child.kill();
            panic!("oidc-provider did not answer");
        }
        let tamper = Arc::new(Mutex::new(Tamper::Nothing));
        let state = Proxy {
            upstream,
            tamper: tamper.clone(),
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
        };
        let app = axum::Router::new()
            .fallback(forward)
            .with_state(Arc::new(state));
        tokio::spawn(async move { axum::serve(proxy, app).await });
        Provider {
            issuer,
            accounts: accounts_file,
            tamper,
            child,
            _dir: dir,
        }
    }

    pub fn set_tamper(&self, tamper: Tamper) {
        *self.tamper.lock().unwrap() = tamper;
    }

    /// Replaces the accounts (as a directory change would at a real provider).
    pub fn set_accounts(&self, accounts: Value) {
        std::fs::write(&self.accounts, accounts.to_string()).unwrap();
    }
}

struct Proxy {
    upstream: String,
    tamper: Arc<Mutex<Tamper>>,
    http: reqwest::Client,
}

async fn forward(
    State(proxy): State<Arc<Proxy>>,
    method: Method,
    uri: Uri,
    mut headers: HeaderMap,
    body: Bytes,
) -> Response {
    let tamper = *proxy.tamper.lock().unwrap();
    let mut target = format!(
        "{}{}",
        proxy.upstream,
        uri.path_and_query().map_or("/", |p| p.as_str())
    );
    let is_token = uri.path() == "/token";
    if tamper == Tamper::Audience {
        // The same sign-in, run for another client: a real token, for another audience.
        if uri.path() == "/auth" {
            target = target.replace(
                &format!("client_id={CLIENT_ID}"),
                &format!("client_id={OTHER_CLIENT_ID}"),
            );
        }
        if is_token {
            let basic = base64::engine::general_purpose::STANDARD
                .encode(format!("{OTHER_CLIENT_ID}:{OTHER_SECRET}"));
            headers.insert("authorization", format!("Basic {basic}").parse().unwrap());
        }
    }
    // The provider names its endpoints after the host it is asked as: the proxy's.
    if let Some(host) = headers.remove("host") {
        headers.insert("x-forwarded-host", host);
    }
    headers.remove("content-length");
    let answer = proxy
        .http
        .request(method, &target)
        .headers(headers)
        .body(body)
        .send()
        .await;
    let Ok(answer) = answer else {
        return StatusCode::BAD_GATEWAY.into_response();
    };
    let status = answer.status();
    let mut headers = answer.headers().clone();
    let mut body = answer.bytes().await.unwrap_or_default().to_vec();
    if is_token && status.is_success() {
        match tamper {
            Tamper::Signature => {
                let mut token: Value = serde_json::from_slice(&body).unwrap();
                let id_token = token["id_token"].as_str().unwrap().to_string();
                let (head, signature) = id_token.rsplit_once('.').unwrap();
                let mut signature = base64::engine::general_purpose::URL_SAFE_NO_PAD
                    .decode(signature)
                    .unwrap();
                signature[10] ^= 0x01;
                let signature = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(signature);
                token["id_token"] = json!(format!("{head}.{signature}"));
                body = serde_json::to_vec(&token).unwrap();
            }
            Tamper::Slow(wait) => tokio::time::sleep(wait).await,
            _ => {}
        }
    }
    headers.remove("content-length");
    headers.remove("transfer-encoding");
    (status, headers, body).into_response()
}
