//! How people sign in to the portal: single sign-on through an OpenID provider, and whether
//! local passwords are accepted beside it.

use std::path::PathBuf;

use clap::Args;

use airdesk_core::oidc::{OidcConfig, Provider, RoleMap};
use airdesk_core::SignInConfig;

#[derive(Debug, Args)]
pub struct SignInArgs {
    /// The OpenID provider's issuer URL (discovery reads `/.well-known/openid-configuration`
    /// under it): turns on "Sign in with …" on the sign-in page.
    #[arg(long, env = "AIRDESK_OIDC_ISSUER", requires_all = ["oidc_client_id", "oidc_role_map"])]
    pub oidc_issuer: Option<String>,
    /// The name on the sign-in button ("Sign in with <name>"); the issuer's host if not given.
    #[arg(long, env = "AIRDESK_OIDC_NAME")]
    pub oidc_name: Option<String>,
    /// This portal's client id at the provider. Its redirect URI there is
    /// `<--public-url>/auth/oidc/callback`, and its post-sign-out URI `<--public-url>/login`.
    #[arg(long, env = "AIRDESK_OIDC_CLIENT_ID")]
    pub oidc_client_id: Option<String>,
    /// A file holding the client secret (none: a public client, PKCE alone).
    #[arg(long, env = "AIRDESK_OIDC_CLIENT_SECRET_FILE")]
    pub oidc_client_secret_file: Option<PathBuf>,
    /// The claim (in the ID token, else the user info) whose values give the airdesk role;
    /// dots walk into objects (`realm_access.roles`).
    #[arg(long, env = "AIRDESK_OIDC_ROLE_CLAIM", default_value = "groups")]
    pub oidc_role_claim: String,
    /// Claim value to role: `soc-readers=reader,soc-analysts=search_and_purge,soc-admins=admin`.
    /// The highest mapped role wins; a user with no mapped value is refused.
    #[arg(long, env = "AIRDESK_OIDC_ROLE_MAP")]
    pub oidc_role_map: Option<String>,
    /// Scopes asked for besides `openid` (space- or comma-separated).
    #[arg(long, env = "AIRDESK_OIDC_SCOPES", default_value = "profile email")]
    pub oidc_scopes: String,
    /// A PEM file of the certificates to trust for the provider instead of the system's.
    #[arg(long, env = "AIRDESK_OIDC_CA_FILE")]
    pub oidc_ca_file: Option<PathBuf>,
    /// `off` refuses password sign-in in the portal (the form is gone; API tokens still work).
    #[arg(long, env = "AIRDESK_LOCAL_PASSWORDS", default_value = "on", value_parser = ["on", "off"])]
    pub local_passwords: String,
}

impl SignInArgs {
    pub fn config(&self, public_url: &str) -> Result<SignInConfig, String> {
        let local_passwords = self.local_passwords == "on";
        let Some(issuer) = &self.oidc_issuer else {
            if !local_passwords {
                return Err(
                    "--local-passwords off needs --oidc-issuer: nobody could sign in".into(),
                );
            }
            return Ok(SignInConfig::default());
        };
        let issuer = issuer.trim_end_matches('/').to_string();
        let read = |file: &PathBuf, what: &str| {
            std::fs::read(file).map_err(|e| format!("cannot read {what} {}: {e}", file.display()))
        };
        let client_secret = match &self.oidc_client_secret_file {
            Some(file) => {
                let text = String::from_utf8(read(file, "--oidc-client-secret-file")?)
                    .map_err(|_| "--oidc-client-secret-file is not text".to_string())?;
                Some(text.trim().to_string()).filter(|s| !s.is_empty())
            }
            None => None,
        };
        let ca_pem = match &self.oidc_ca_file {
            Some(file) => Some(read(file, "--oidc-ca-file")?),
            None => None,
        };
        let display_name = self.oidc_name.clone().unwrap_or_else(|| {
            url::Url::parse(&issuer)
                .ok()
                .and_then(|u| u.host_str().map(str::to_string))
                .unwrap_or_else(|| "your identity provider".into())
        });
        let role_map = RoleMap::parse(self.oidc_role_map.as_deref().unwrap_or_default())
            .map_err(|e| format!("--oidc-role-map: {e}"))?;
        let mut scopes: Vec<String> = self
            .oidc_scopes
            .split([' ', ','])
            .filter(|s| !s.is_empty() && *s != "openid")
            .map(str::to_string)
            .collect();
        scopes.dedup();
        let config = OidcConfig {
            issuer,
            display_name,
            client_id: self.oidc_client_id.clone().unwrap_or_default(),
            client_secret,
            public_url: public_url.to_string(),
            role_claim: self.oidc_role_claim.clone(),
            role_map,
            scopes,
            ca_pem,
        };
        let provider = Provider::new(config).map_err(|e| e.to_string())?;
        Ok(SignInConfig {
            oidc: Some(std::sync::Arc::new(provider)),
            local_passwords,
        })
    }
}
