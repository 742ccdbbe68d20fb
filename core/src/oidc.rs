//! Signing in through an OpenID provider: the authorization code flow with PKCE, its `state`
//! bound to the browser that started it and its `nonce` to the ID token, the ID token's
//! signature, issuer, audience and expiry checked by the `openidconnect` crate, and the
//! airdesk role read from a claim at every sign-in ([`roles`]). The user is known by the
//! provider's issuer and subject ([`crate::users::sign_in_external`]).
//!
//! A sign-in started here is kept in the database (`oidc_pending`), not in memory, so the
//! provider may send the browser back to any instance sharing it.

mod pending;
mod refusal;
pub mod roles;

use std::sync::Arc;
use std::time::{Duration, Instant};

use openidconnect::core::{
    CoreAuthDisplay, CoreAuthPrompt, CoreErrorResponseType, CoreGenderClaim, CoreJsonWebKey,
    CoreJweContentEncryptionAlgorithm, CoreJwsSigningAlgorithm, CoreResponseType,
    CoreRevocableToken, CoreRevocationErrorResponse, CoreTokenIntrospectionResponse, CoreTokenType,
};
use openidconnect::{
    AdditionalClaims, AuthenticationFlow, AuthorizationCode, Client, ClientId, ClientSecret,
    CsrfToken, EmptyExtraTokenFields, EndpointMaybeSet, EndpointNotSet, EndpointSet, IdToken,
    IdTokenFields, IssuerUrl, LogoutRequest, Nonce, OAuth2TokenResponse, PkceCodeChallenge,
    PkceCodeVerifier, PostLogoutRedirectUrl, ProviderMetadataWithLogout, RedirectUrl, Scope,
    StandardErrorResponse, StandardTokenResponse, TokenResponse, UserInfoClaims,
};
use serde::{Deserialize, Serialize};

use crate::db::Db;
use crate::users::{self, External};
use model::{AppError, CurrentUser, Username};
pub use refusal::Refusal;
use refusal::{describe, refused};
pub use roles::RoleMap;

/// How long the provider's metadata and keys are trusted before being read again.
const METADATA_FOR: Duration = Duration::from_secs(300);

/// Every claim the provider sends beyond the standard ones, for the role claim.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct OtherClaims {
    #[serde(flatten)]
    pub claims: serde_json::Map<String, serde_json::Value>,
}
impl AdditionalClaims for OtherClaims {}

type Fields = IdTokenFields<
    OtherClaims,
    EmptyExtraTokenFields,
    CoreGenderClaim,
    CoreJweContentEncryptionAlgorithm,
    CoreJwsSigningAlgorithm,
>;
type ProviderIdToken = IdToken<
    OtherClaims,
    CoreGenderClaim,
    CoreJweContentEncryptionAlgorithm,
    CoreJwsSigningAlgorithm,
>;
type OidcClient<
    HasAuthUrl = EndpointNotSet,
    HasTokenUrl = EndpointNotSet,
    HasUserInfoUrl = EndpointNotSet,
> = Client<
    OtherClaims,
    CoreAuthDisplay,
    CoreGenderClaim,
    CoreJweContentEncryptionAlgorithm,
    CoreJsonWebKey,
    CoreAuthPrompt,
    StandardErrorResponse<CoreErrorResponseType>,
    StandardTokenResponse<Fields, CoreTokenType>,
    CoreTokenIntrospectionResponse,
    CoreRevocableToken,
    CoreRevocationErrorResponse,
    HasAuthUrl,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    HasTokenUrl,
    HasUserInfoUrl,
>;

/// How airdesk signs people in through the provider (`--oidc-*`).
#[derive(Debug, Clone)]
pub struct OidcConfig {
    pub issuer: String,
    /// The name on the sign-in button: "Sign in with …".
    pub display_name: String,
    pub client_id: String,
    pub client_secret: Option<String>,
    /// This portal's address as browsers reach it: the callback and the page after sign-out
    /// hang off it.
    pub public_url: String,
    pub role_claim: String,
    pub role_map: RoleMap,
    /// Scopes asked for besides `openid`.
    pub scopes: Vec<String>,
    /// A PEM bundle trusted instead of the system's roots.
    pub ca_pem: Option<Vec<u8>>,
}

/// What the provider's redirect back brought.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Callback {
    pub code: Option<String>,
    pub state: Option<String>,
    pub error: Option<String>,
    /// The issuer that answered (RFC 9207): when present it must be ours.
    pub iss: Option<String>,
}

/// A sign-in that succeeded.
pub struct SignedIn {
    pub user: CurrentUser,
    /// The raw ID token, kept with the session for RP-initiated sign-out.
    pub id_token: String,
    pub next: String,
}

/// A sign-in sent to the provider: where to send the browser, and the key its cookie keeps.
pub struct Started {
    pub authorize_url: String,
    pub browser_key: String,
}

/// The provider, its metadata read through discovery and kept for a few minutes.
pub struct Provider {
    config: OidcConfig,
    http: reqwest::Client,
    metadata: tokio::sync::Mutex<Option<(Instant, Arc<ProviderMetadataWithLogout>)>>,
}

impl std::fmt::Debug for Provider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Provider")
            .field("issuer", &self.config.issuer)
            .field("client_id", &self.config.client_id)
            .finish_non_exhaustive()
    }
}

impl Provider {
    /// Checks the configuration; the provider itself is first asked at the first sign-in, so
    /// airdesk starts while the provider is down.
    pub fn new(config: OidcConfig) -> Result<Self, AppError> {
        let issuer = url::Url::parse(&config.issuer)
            .map_err(|e| AppError::Invalid(format!("--oidc-issuer is no URL: {e}")))?;
        let loopback = match issuer.host() {
            Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
            Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
            Some(url::Host::Domain(name)) => name == "localhost",
            None => false,
        };
        if issuer.scheme() != "https" && !(issuer.scheme() == "http" && loopback) {
            return Err(AppError::Invalid(
                "--oidc-issuer must be an https:// URL (http:// only on loopback)".into(),
            ));
        }
        let mut http = reqwest::Client::builder()
            // Following redirects would let a provider's answer send airdesk elsewhere.
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(10));
        if let Some(pem) = &config.ca_pem {
            http = http.tls_built_in_root_certs(false);
            let certificates = reqwest::Certificate::from_pem_bundle(pem)
                .map_err(|e| AppError::Invalid(format!("--oidc-ca-file: {e}")))?;
            for certificate in certificates {
                http = http.add_root_certificate(certificate);
            }
        }
        let http = http.build().map_err(|e| {
            tracing::error!(error = %e, "cannot build the identity provider's HTTP client");
            AppError::Internal
        })?;
        Ok(Provider {
            config,
            http,
            metadata: tokio::sync::Mutex::new(None),
        })
    }

    pub fn config(&self) -> &OidcConfig {
        &self.config
    }

    async fn metadata(&self) -> Result<Arc<ProviderMetadataWithLogout>, Refusal> {
        let mut held = self.metadata.lock().await;
        if let Some((read_at, metadata)) = held.as_ref() {
            if read_at.elapsed() < METADATA_FOR {
                return Ok(metadata.clone());
            }
        }
        let issuer = IssuerUrl::new(self.config.issuer.clone())
            .map_err(|e| refused(Refusal::Unavailable, "issuer", &e))?;
        let metadata = ProviderMetadataWithLogout::discover_async(issuer, &self.http)
            .await
            .map_err(|e| refused(Refusal::Unavailable, "discovery", &e))?;
        let metadata = Arc::new(metadata);
        *held = Some((Instant::now(), metadata.clone()));
        Ok(metadata)
    }

    /// This portal as the provider's client, from the provider's current metadata.
    async fn client(
        &self,
    ) -> Result<OidcClient<EndpointSet, EndpointMaybeSet, EndpointMaybeSet>, Refusal> {
        let metadata = self.metadata().await?;
        let redirect = RedirectUrl::new(format!("{}/auth/oidc/callback", self.config.public_url))
            .map_err(|e| refused(Refusal::Unavailable, "redirect URL", &e))?;
        Ok(OidcClient::from_provider_metadata(
            (*metadata).clone(),
            ClientId::new(self.config.client_id.clone()),
            self.config.client_secret.clone().map(ClientSecret::new),
        )
        .set_redirect_uri(redirect))
    }

    /// Starts a sign-in: a PKCE challenge, a `state` and a `nonce`, kept under a new browser
    /// key for ten minutes; expired ones are dropped on the way.
    pub async fn start(&self, db: &Db, next: &str) -> Result<Started, Refusal> {
        let client = self.client().await?;
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let mut request = client
            .authorize_url(
                AuthenticationFlow::<CoreResponseType>::AuthorizationCode,
                CsrfToken::new_random,
                Nonce::new_random,
            )
            .set_pkce_challenge(challenge);
        for scope in &self.config.scopes {
            request = request.add_scope(Scope::new(scope.clone()));
        }
        let (url, state, nonce) = request.url();
        let browser_key = pending::random_key();
        pending::store(
            db,
            &browser_key,
            state.secret(),
            nonce.secret(),
            verifier.secret(),
            next,
        )
        .await?;
        Ok(Started {
            authorize_url: url.to_string(),
            browser_key,
        })
    }

    /// Finishes a sign-in the provider sent back: the pending sign-in of this browser (used
    /// once, whatever happens next), its `state`, the code exchanged with the PKCE verifier,
    /// the ID token checked with the nonce, the role read and the user created or updated.
    pub async fn finish(
        &self,
        db: &Db,
        browser_key: Option<&str>,
        callback: Callback,
    ) -> Result<SignedIn, Refusal> {
        let pending = match browser_key {
            Some(key) => pending::take(db, key).await?,
            None => None,
        };
        let Some(pending) = pending else {
            return Err(refused(
                Refusal::Expired,
                "no sign-in waits in this browser",
                &"-",
            ));
        };
        if callback.state.as_deref() != Some(pending.state.as_str()) {
            return Err(refused(Refusal::Expired, "state", &"the state differs"));
        }
        if let Some(iss) = &callback.iss {
            if iss.trim_end_matches('/') != self.config.issuer {
                return Err(refused(
                    Refusal::Token,
                    "issuer",
                    &format!("{iss} answered"),
                ));
            }
        }
        if let Some(error) = &callback.error {
            return Err(refused(Refusal::Provider, "the provider's answer", error));
        }
        let Some(code) = callback.code else {
            return Err(refused(
                Refusal::Provider,
                "the provider's answer",
                &"no code",
            ));
        };
        let client = self.client().await?;
        let token = client
            .exchange_code(AuthorizationCode::new(code))
            .map_err(|e| refused(Refusal::Token, "token endpoint", &e))?
            .set_pkce_verifier(PkceCodeVerifier::new(pending.pkce_verifier))
            .request_async(&self.http)
            .await
            .map_err(|e| refused(Refusal::Token, "code exchange", &describe(&e)))?;
        let id_token = token
            .id_token()
            .ok_or_else(|| refused(Refusal::Token, "ID token", &"none came"))?;
        let verifier = client.id_token_verifier();
        let claims = id_token
            .claims(&verifier, &Nonce::new(pending.nonce))
            .map_err(|e| refused(Refusal::Token, "ID token", &e))?;
        let subject = claims.subject().clone();
        let mut values =
            roles::claim_values(&claims.additional_claims().claims, &self.config.role_claim);
        if values.is_none() {
            // Many providers put groups in the user info only.
            if let Ok(request) =
                client.user_info(token.access_token().clone(), Some(subject.clone()))
            {
                let info: UserInfoClaims<OtherClaims, CoreGenderClaim> = request
                    .request_async(&self.http)
                    .await
                    .map_err(|e| refused(Refusal::Token, "user info", &describe(&e)))?;
                values =
                    roles::claim_values(&info.additional_claims().claims, &self.config.role_claim);
            }
        }
        let role = self.config.role_map.role_for(&values.unwrap_or_default());
        let name = [
            claims.preferred_username().map(|n| n.as_str().to_string()),
            claims.email().map(|e| e.as_str().to_string()),
            Some(subject.as_str().to_string()),
        ]
        .into_iter()
        .flatten()
        .find_map(|n| Username::parse(&n).ok())
        .ok_or_else(|| refused(Refusal::Name, "user name", &"no valid name in the claims"))?;
        let outcome =
            users::sign_in_external(db, &self.config.issuer, subject.as_str(), &name, role)
                .await
                .map_err(|e| refused(Refusal::Unavailable, "recording the user", &e))?;
        match outcome {
            External::SignedIn(user) => Ok(SignedIn {
                user,
                id_token: id_token.to_string(),
                next: pending.next,
            }),
            External::NoRole => Err(refused(
                Refusal::NoRole,
                "role",
                &format!("{} maps to no role", self.config.role_claim),
            )),
            External::Disabled => Err(refused(Refusal::Disabled, "account", &"disabled")),
            External::NameTaken => Err(refused(
                Refusal::Name,
                "user name",
                &format!("{} is another account's", name.as_str()),
            )),
        }
    }

    /// Where to send a browser signing out of a session begun at the provider: its end
    /// session endpoint with the ID token as a hint, back to the sign-in page afterwards.
    /// `None` when the provider has no such endpoint (the session here ends all the same).
    pub async fn sign_out_url(&self, id_token: &str) -> Option<String> {
        let metadata = self.metadata().await.ok()?;
        let endpoint = metadata
            .additional_metadata()
            .end_session_endpoint
            .clone()?;
        let hint: ProviderIdToken = id_token.parse().ok()?;
        let back = PostLogoutRedirectUrl::new(format!("{}/login", self.config.public_url)).ok()?;
        let url = LogoutRequest::from(endpoint)
            .set_id_token_hint(&hint)
            .set_client_id(ClientId::new(self.config.client_id.clone()))
            .set_post_logout_redirect_uri(back)
            .http_get_url();
        Some(url.to_string())
    }
}
