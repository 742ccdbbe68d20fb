//! OAuth2 sign-in to mail servers (SASL XOAUTH2 and OAUTHBEARER, RFC 7628): a bearer token from
//! a file that an operator's helper keeps fresh, or one fetched with the client-credentials
//! grant (the `oauth2` crate) and fetched again before it expires or after the server refused
//! it. The token is the service principal's; the SASL user is the mailbox it acts as.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use oauth2::basic::BasicClient;
use oauth2::{ClientId, ClientSecret, Scope, TokenResponse, TokenUrl};
use tokio::sync::Mutex;

use crate::tls::Tls;
use crate::StoreError;

/// Which SASL mechanism carries the token.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mechanism {
    /// Google's and Microsoft's `XOAUTH2`.
    XOAuth2,
    /// RFC 7628 `OAUTHBEARER`.
    OAuthBearer,
}

impl Mechanism {
    pub fn name(self) -> &'static str {
        match self {
            Mechanism::XOAuth2 => "XOAUTH2",
            Mechanism::OAuthBearer => "OAUTHBEARER",
        }
    }

    /// The client's first (and only) message, before base64.
    pub fn initial_response(self, user: &str, host: &str, port: u16, token: &str) -> String {
        match self {
            Mechanism::XOAuth2 => format!("user={user}\x01auth=Bearer {token}\x01\x01"),
            Mechanism::OAuthBearer => {
                // RFC 5801's GS2 header: ',' and '=' in the authorisation identity are escaped.
                let user = user.replace('=', "=3D").replace(',', "=2C");
                format!("n,a={user},\x01host={host}\x01port={port}\x01auth=Bearer {token}\x01\x01")
            }
        }
    }
}

/// Where tokens come from.
#[derive(Clone)]
pub enum TokenSource {
    /// The file's first line, read at every sign-in (the helper replaces the file).
    File(PathBuf),
    /// The client-credentials grant against a token endpoint.
    ClientCredentials {
        token_url: String,
        client_id: String,
        client_secret: String,
        scopes: Vec<String>,
    },
}

impl std::fmt::Debug for TokenSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TokenSource::File(path) => f.debug_tuple("File").field(path).finish(),
            TokenSource::ClientCredentials {
                token_url,
                client_id,
                scopes,
                ..
            } => f
                .debug_struct("ClientCredentials")
                .field("token_url", token_url)
                .field("client_id", client_id)
                .field("scopes", scopes)
                .finish_non_exhaustive(),
        }
    }
}

/// A token and when to stop using it.
struct Cached {
    token: String,
    refresh_at: Instant,
}

/// Bearer tokens for one service principal, shared by every connection.
#[derive(Clone)]
pub struct Bearer {
    source: TokenSource,
    pub mechanism: Mechanism,
    http: reqwest::Client,
    cached: Arc<Mutex<Option<Cached>>>,
}

impl std::fmt::Debug for Bearer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Bearer")
            .field("source", &self.source)
            .field("mechanism", &self.mechanism)
            .finish_non_exhaustive()
    }
}

impl Bearer {
    /// The token endpoint is reached over TLS verified like the mail servers (`tls`), and
    /// never through a redirect (a token request must not be sent somewhere else).
    pub fn new(source: TokenSource, mechanism: Mechanism, tls: &Tls) -> Result<Bearer, String> {
        let mut http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(30));
        if let Some(config) = tls.client_config() {
            http = http.use_preconfigured_tls((*config).clone());
        }
        Ok(Bearer {
            source,
            mechanism,
            http: http
                .build()
                .map_err(|e| format!("OAuth2 HTTP client: {e}"))?,
            cached: Arc::new(Mutex::new(None)),
        })
    }

    /// A token to sign in with now.
    pub async fn token(&self) -> Result<String, String> {
        match &self.source {
            TokenSource::File(path) => {
                let text = tokio::fs::read_to_string(path).await.map_err(|e| {
                    format!("cannot read the OAuth2 token file {}: {e}", path.display())
                })?;
                let token = text.lines().next().unwrap_or_default().trim().to_string();
                if token.is_empty() {
                    return Err(format!("the OAuth2 token file {} is empty", path.display()));
                }
                Ok(token)
            }
            TokenSource::ClientCredentials { .. } => {
                let mut cached = self.cached.lock().await;
                if let Some(current) = cached.as_ref() {
                    if Instant::now() < current.refresh_at {
                        return Ok(current.token.clone());
                    }
                }
                let fresh = self.fetch().await?;
                let token = fresh.token.clone();
                *cached = Some(fresh);
                Ok(token)
            }
        }
    }

    /// Signs in with `attempt`. A token the server refuses may have been revoked
    /// or cut short: when the source can give another, the cached one is dropped and `attempt`
    /// runs once more with a fresh one (on a new connection: Dovecot, for one, refuses every
    /// later try on a connection that failed one).
    /// `attempt` is given the mechanism's initial response for `login` on `host:port`.
    pub async fn sign_in<T, F>(
        &self,
        login: &str,
        host: &str,
        port: u16,
        attempt: impl Fn(String) -> F,
    ) -> Result<T, StoreError>
    where
        F: std::future::Future<Output = Result<T, StoreError>>,
    {
        let response = |token: &str| self.mechanism.initial_response(login, host, port, token);
        let token = self.token().await.map_err(StoreError::Unavailable)?;
        match attempt(response(&token)).await {
            Err(StoreError::Refused(why)) if self.can_refresh() => {
                tracing::debug!(%why, "the server refused the token; fetching another");
                self.refused(&token).await;
                let token = self.token().await.map_err(StoreError::Unavailable)?;
                attempt(response(&token)).await
            }
            other => other,
        }
    }

    /// The server refused `token`: a cached one is not used again (revoked, or expired early).
    async fn refused(&self, token: &str) {
        let mut cached = self.cached.lock().await;
        if cached.as_ref().is_some_and(|c| c.token == token) {
            *cached = None;
        }
    }

    /// Whether another token could be had after a refusal (not from a file: the helper owns it).
    fn can_refresh(&self) -> bool {
        matches!(self.source, TokenSource::ClientCredentials { .. })
    }

    /// The client-credentials grant; the token is used until a quarter of its life (at most a
    /// minute) is left.
    async fn fetch(&self) -> Result<Cached, String> {
        let TokenSource::ClientCredentials {
            token_url,
            client_id,
            client_secret,
            scopes,
        } = &self.source
        else {
            return Err("no token endpoint".into());
        };
        let client = BasicClient::new(ClientId::new(client_id.clone()))
            .set_client_secret(ClientSecret::new(client_secret.clone()))
            .set_token_uri(
                TokenUrl::new(token_url.clone())
                    .map_err(|e| format!("OAuth2 token URL {token_url:?}: {e}"))?,
            );
        let started = Instant::now();
        let mut request = client.exchange_client_credentials();
        for scope in scopes {
            request = request.add_scope(Scope::new(scope.clone()));
        }
        let response = request
            .request_async(&self.http)
            .await
            .map_err(|e| format!("OAuth2 token endpoint {token_url}: {}", describe(&e)))?;
        let lifetime = response.expires_in().unwrap_or(Duration::from_secs(3600));
        let margin = (lifetime / 4).min(Duration::from_secs(60));
        Ok(Cached {
            token: response.access_token().secret().clone(),
            refresh_at: started + lifetime.saturating_sub(margin),
        })
    }
}

/// The token endpoint's refusal in its own words (`invalid_client: …`), else the transport's.
fn describe<RE: std::error::Error + 'static>(
    error: &oauth2::RequestTokenError<RE, oauth2::basic::BasicErrorResponse>,
) -> String {
    match error {
        oauth2::RequestTokenError::ServerResponse(response) => response.to_string(),
        other => {
            let mut text = other.to_string();
            let mut source = std::error::Error::source(other);
            while let Some(cause) = source {
                text.push_str(&format!(": {cause}"));
                source = cause.source();
            }
            text
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn initial_responses_carry_the_mailbox_and_the_token() {
        assert_eq!(
            Mechanism::XOAuth2.initial_response("alice@example.test", "h", 993, "t0k"),
            "user=alice@example.test\x01auth=Bearer t0k\x01\x01"
        );
        assert_eq!(
            Mechanism::OAuthBearer.initial_response("a,b=c@example.test", "mail.test", 993, "t"),
            "n,a=a=2Cb=3Dc@example.test,\x01host=mail.test\x01port=993\x01auth=Bearer t\x01\x01"
        );
    }

    #[tokio::test]
    async fn a_token_file_is_read_at_each_sign_in_and_an_empty_one_refused() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("token");
        let tls = Tls::new(&Default::default()).unwrap();
        let bearer =
            Bearer::new(TokenSource::File(file.clone()), Mechanism::XOAuth2, &tls).unwrap();
        assert!(bearer.token().await.unwrap_err().contains("cannot read"));
        std::fs::write(&file, "first\n").unwrap();
        assert_eq!(bearer.token().await.unwrap(), "first");
        std::fs::write(&file, "second\n").unwrap();
        assert_eq!(
            bearer.token().await.unwrap(),
            "second",
            "the helper's new token"
        );
        std::fs::write(&file, "\n").unwrap();
        assert!(bearer.token().await.unwrap_err().contains("is empty"));
        assert!(!bearer.can_refresh());
    }
}
