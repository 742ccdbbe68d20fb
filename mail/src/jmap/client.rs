//! JMAP over HTTP (RFC 8620): the session resource, method calls batched into one request, and
//! blob downloads. What the calls mean for mail is in the other modules.

use std::time::Duration;

use serde_json::{json, Map, Value};
use tokio::sync::Mutex;

use super::JmapSettings;
use crate::StoreError;

/// The capabilities every request uses.
const USING: [&str; 2] = ["urn:ietf:params:jmap:core", "urn:ietf:params:jmap:mail"];

/// What the session resource says about the server.
#[derive(Debug, Clone)]
pub struct Session {
    /// The session's state: a method answer naming another one means it changed.
    pub state: String,
    pub api_url: url::Url,
    /// `…/download/{accountId}/{blobId}/{name}?accept={type}`, absolute.
    pub download_url: String,
    /// Every capability the server announces, with its limits.
    pub capabilities: Map<String, Value>,
    /// Accounts the signed-in user sees: (name, id).
    pub accounts: Vec<(String, String)>,
    pub max_objects_in_get: usize,
    pub max_objects_in_set: usize,
    pub max_calls_in_request: usize,
}

/// One method's answer: its name (`Email/get`, or `error`) and arguments.
pub type Answer = (String, Value);

/// A JMAP server's HTTP client: the session is fetched once and again when the server says
/// its state changed.
pub struct Client {
    http: reqwest::Client,
    settings: JmapSettings,
    session: Mutex<Option<Session>>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("session_url", &self.settings.session_url.as_str())
            .field("user", &self.settings.user)
            .finish_non_exhaustive()
    }
}

impl Client {
    pub fn new(settings: JmapSettings) -> Result<Client, String> {
        let origin = settings.session_url.origin();
        // `/.well-known/jmap` redirects to the session resource: followed on the same origin
        // only, so credentials are never sent anywhere else.
        let redirects = reqwest::redirect::Policy::custom(move |attempt| {
            if attempt.previous().len() > 3 {
                attempt.error("too many redirects")
            } else if attempt.url().origin() != origin {
                attempt.error("a redirect to another origin")
            } else {
                attempt.follow()
            }
        });
        let mut http = reqwest::Client::builder()
            .redirect(redirects)
            .connect_timeout(settings.timeout)
            .timeout(settings.timeout.max(Duration::from_secs(30)));
        if let Some(config) = settings.tls.client_config() {
            http = http.use_preconfigured_tls((*config).clone());
        }
        Ok(Client {
            http: http.build().map_err(|e| e.to_string())?,
            settings,
            session: Mutex::new(None),
        })
    }

    async fn authorize(
        &self,
        request: reqwest::RequestBuilder,
    ) -> Result<reqwest::RequestBuilder, StoreError> {
        Ok(match &self.settings.oauth2 {
            Some(bearer) => request.bearer_auth(bearer.token().await.map_err(|e| {
                StoreError::Unavailable(format!("cannot get an OAuth2 token: {e}"))
            })?),
            None => request.basic_auth(&self.settings.user, Some(&self.settings.password)),
        })
    }

    /// The session, fetched the first time.
    pub async fn session(&self) -> Result<Session, StoreError> {
        let mut cached = self.session.lock().await;
        if let Some(session) = cached.as_ref() {
            return Ok(session.clone());
        }
        let request = self
            .authorize(self.http.get(self.settings.session_url.clone()))
            .await?;
        let response = request.send().await.map_err(unavailable)?;
        let base = response.url().clone();
        let body = answer_body(response).await?;
        let session = parse_session(&base, &body)?;
        *cached = Some(session.clone());
        Ok(session)
    }

    /// Sends method calls (`[name, arguments, call id]`) in one request; answers in order.
    pub async fn call(&self, calls: Vec<Value>) -> Result<Vec<Answer>, StoreError> {
        let session = self.session().await?;
        let body = json!({"using": USING, "methodCalls": calls});
        let request = self
            .authorize(self.http.post(session.api_url.clone()))
            .await?
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body.to_string());
        let response = request.send().await.map_err(unavailable)?;
        let body = answer_body(response).await?;
        // A changed session (new accounts, new limits) is read again next time.
        if let Some(state) = body.get("sessionState").and_then(Value::as_str) {
            if state != session.state {
                let mut cached = self.session.lock().await;
                if cached.as_ref().is_some_and(|s| s.state == session.state) {
                    *cached = None;
                }
            }
        }
        let answers = body
            .get("methodResponses")
            .and_then(Value::as_array)
            .ok_or_else(|| StoreError::Refused("a JMAP answer without methodResponses".into()))?;
        Ok(answers
            .iter()
            .map(|answer| {
                let name = answer.get(0).and_then(Value::as_str).unwrap_or("error");
                let arguments = answer.get(1).cloned().unwrap_or(Value::Null);
                (name.to_string(), arguments)
            })
            .collect())
    }

    /// The first `limit` bytes of a blob, and whether that was all of it.
    pub async fn download(
        &self,
        account: &str,
        blob: &str,
        limit: u64,
    ) -> Result<(Vec<u8>, bool), StoreError> {
        let session = self.session().await?;
        let url = session
            .download_url
            .replace("{accountId}", &encode(account))
            .replace("{blobId}", &encode(blob))
            .replace("{name}", "message.eml")
            .replace("{type}", "message/rfc822");
        let url = url::Url::parse(&url)
            .map_err(|e| StoreError::Refused(format!("the server's download URL: {e}")))?;
        let mut response = self
            .authorize(self.http.get(url))
            .await?
            .send()
            .await
            .map_err(unavailable)?;
        if !response.status().is_success() {
            return Err(status_error(response.status(), "download"));
        }
        let mut bytes = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(unavailable)? {
            let room = usize::try_from(limit)
                .unwrap_or(usize::MAX)
                .saturating_sub(bytes.len());
            if chunk.len() > room {
                bytes.extend_from_slice(&chunk[..room]);
                return Ok((bytes, false));
            }
            bytes.extend_from_slice(&chunk);
        }
        Ok((bytes, true))
    }
}

/// A method's arguments, or why it failed: `error` answers name their type (RFC 8620 3.6.2).
pub fn expect(answer: Option<Answer>, method: &str, mailbox: &str) -> Result<Value, StoreError> {
    let Some((name, arguments)) = answer else {
        return Err(StoreError::Refused(format!("no answer to {method}")));
    };
    if name == method {
        return Ok(arguments);
    }
    let kind = arguments
        .get("type")
        .and_then(Value::as_str)
        .unwrap_or("unknown");
    // RFC 8620 gives a description; Cyrus names the arguments it refused instead.
    let description = arguments
        .get("description")
        .and_then(Value::as_str)
        .map(|d| format!(": {d}"))
        .or_else(|| arguments.get("arguments").map(|a| format!(" ({a})")))
        .unwrap_or_default();
    Err(match kind {
        "serverUnavailable" | "serverFail" | "serverPartialFail" => {
            StoreError::Unavailable(format!("{method}: {kind}{description}"))
        }
        "accountNotFound" => StoreError::Refused(format!(
            "mailbox {mailbox} cannot be opened: no such account, or the service account may not open it"
        )),
        _ => StoreError::Refused(format!("{method}: {kind}{description}")),
    })
}

/// The objects of a `/get` answer's `list` (none when it has none).
pub fn listed(answer: &Value) -> impl Iterator<Item = &Value> {
    answer
        .get("list")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
}

fn unavailable(error: reqwest::Error) -> StoreError {
    // reqwest's Display leaves out the cause (a refused connection, a certificate that does
    // not verify): the chain is the reason.
    let mut text = error.to_string();
    let mut source = std::error::Error::source(&error);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    StoreError::Unavailable(text)
}

fn status_error(status: reqwest::StatusCode, what: &str) -> StoreError {
    match status.as_u16() {
        401 | 403 => StoreError::Refused(format!(
            "the JMAP server refused the service account's sign-in ({status})"
        )),
        500.. => StoreError::Unavailable(format!("JMAP {what}: {status}")),
        _ => StoreError::Refused(format!("JMAP {what}: {status}")),
    }
}

async fn answer_body(response: reqwest::Response) -> Result<Value, StoreError> {
    let status = response.status();
    if !status.is_success() {
        return Err(status_error(status, "request"));
    }
    let bytes = response.bytes().await.map_err(unavailable)?;
    serde_json::from_slice(&bytes)
        .map_err(|e| StoreError::Refused(format!("the JMAP server's answer is not JSON: {e}")))
}

fn parse_session(base: &url::Url, body: &Value) -> Result<Session, StoreError> {
    let text = |name: &str| {
        body.get(name)
            .and_then(Value::as_str)
            .ok_or_else(|| StoreError::Refused(format!("the JMAP session has no {name}")))
    };
    let api_url = base
        .join(text("apiUrl")?)
        .map_err(|e| StoreError::Refused(format!("the JMAP session's apiUrl: {e}")))?;
    // The template's braces must survive: joined as text, not as a URL.
    let download = text("downloadUrl")?;
    let download_url = if download.contains("://") {
        download.to_string()
    } else {
        format!("{}{}", base.origin().ascii_serialization(), download)
    };
    if api_url.origin() != base.origin()
        || !download_url.starts_with(&base.origin().ascii_serialization())
    {
        return Err(StoreError::Refused(
            "the JMAP session points to another origin; refusing to send credentials there".into(),
        ));
    }
    let capabilities = body
        .get("capabilities")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    let core = capabilities.get(USING[0]);
    let limit = |name: &str, default: usize| {
        core.and_then(|c| c.get(name))
            .and_then(Value::as_u64)
            .and_then(|n| usize::try_from(n).ok())
            .filter(|n| *n > 0)
            .unwrap_or(default)
    };
    let accounts = body
        .get("accounts")
        .and_then(Value::as_object)
        .map(|accounts| {
            accounts
                .iter()
                .map(|(id, account)| {
                    let name = account.get("name").and_then(Value::as_str).unwrap_or(id);
                    (name.to_string(), id.clone())
                })
                .collect()
        })
        .unwrap_or_default();
    Ok(Session {
        state: body
            .get("state")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string(),
        api_url,
        download_url,
        max_objects_in_get: limit("maxObjectsInGet", 500),
        max_objects_in_set: limit("maxObjectsInSet", 500),
        max_calls_in_request: limit("maxCallsInRequest", 16),
        capabilities,
        accounts,
    })
}

/// Percent-encodes one path segment of the download URL.
fn encode(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_session_is_read_relative_to_where_it_was_found_and_never_sends_elsewhere() {
        let base = url::Url::parse("http://127.0.0.1:8080/jmap").unwrap();
        let body = json!({
            "state": "7",
            "apiUrl": "/jmap/",
            "downloadUrl": "/jmap/download/{accountId}/{blobId}/{name}?accept={type}",
            "capabilities": {"urn:ietf:params:jmap:core": {"maxObjectsInSet": 4096}},
            "accounts": {"a1": {"name": "alice@example.test"}}
        });
        let session = parse_session(&base, &body).unwrap();
        assert_eq!(session.api_url.as_str(), "http://127.0.0.1:8080/jmap/");
        assert_eq!(
            session.download_url,
            "http://127.0.0.1:8080/jmap/download/{accountId}/{blobId}/{name}?accept={type}"
        );
        assert_eq!(session.max_objects_in_set, 4096);
        assert_eq!(session.state, "7");
        assert_eq!(session.max_objects_in_get, 500);
        assert_eq!(
            session.accounts,
            [("alice@example.test".to_string(), "a1".to_string())]
        );
        let elsewhere = json!({"apiUrl": "https://collector.evil.test/jmap", "downloadUrl": "/d"});
        assert!(parse_session(&base, &elsewhere).is_err());
    }

    #[test]
    fn method_errors_say_whether_to_retry() {
        let error = |kind: &str| Some(("error".to_string(), json!({"type": kind})));
        assert!(matches!(
            expect(error("serverUnavailable"), "Email/get", "a"),
            Err(StoreError::Unavailable(_))
        ));
        let Err(StoreError::Refused(text)) = expect(error("accountNotFound"), "Email/get", "a@x")
        else {
            panic!("refused");
        };
        assert!(text.contains("a@x"), "{text}");
        assert!(expect(Some(("Email/get".into(), json!({}))), "Email/get", "a").is_ok());
    }
}
