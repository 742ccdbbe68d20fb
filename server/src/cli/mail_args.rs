//! The mail store's flags: the IMAP (or JMAP) server and ManageSieve beside it, how their certificates
//! are checked, and how airdesk signs in (a password or OAuth2).

use std::path::PathBuf;

use clap::{Args, ValueEnum};

use mail::imap::{Endpoint, ImapSettings};
use mail::jmap::JmapSettings;
use mail::oauth::{Bearer, Mechanism, TokenSource};
use mail::tls::{Security, Tls, TlsSettings};

/// A remote IMAP server instead of the local Maildir tree.
#[derive(Debug, Args)]
pub struct ImapArgs {
    /// IMAP server; when set it replaces the maildir connector. `imaps://host[:993]` (TLS
    /// from the first byte), `imap://host[:143]` (STARTTLS required off this machine; clear
    /// text only on loopback or with `?starttls=off`).
    #[arg(long, global = true, env = "AIRDESK_IMAP_URL")]
    pub imap_url: Option<String>,
    /// The service account that may open every mailbox (with Dovecot, a master user; with
    /// Cyrus, an admin or an account the mailboxes' ACLs grant). Also for a JMAP store.
    #[arg(
        long,
        global = true,
        env = "AIRDESK_IMAP_USER",
        visible_alias = "mail-user"
    )]
    pub imap_user: Option<String>,
    /// File holding the service account's password (first line).
    #[arg(
        long,
        global = true,
        env = "AIRDESK_IMAP_PASSWORD_FILE",
        visible_alias = "mail-password-file"
    )]
    pub imap_password_file: Option<PathBuf>,
    /// Joins mailbox and service account in the login name: `alice@example.test*admin`.
    /// Empty: the service account signs in authorised as the mailbox (SASL PLAIN's
    /// authorisation identity), as Cyrus expects.
    #[arg(
        long,
        global = true,
        env = "AIRDESK_IMAP_MASTER_SEPARATOR",
        default_value = "*"
    )]
    pub imap_master_separator: String,
    /// Most connections execution opens to the IMAP server at once.
    #[arg(
        long,
        global = true,
        env = "AIRDESK_IMAP_CONNECTIONS",
        default_value_t = 8
    )]
    pub imap_connections: usize,
    /// Most connections the message index opens at once: a pool of its own, so scans never
    /// hold the connections execution needs.
    #[arg(
        long,
        global = true,
        env = "AIRDESK_IMAP_INDEX_CONNECTIONS",
        default_value_t = 2
    )]
    pub imap_index_connections: usize,
    /// ManageSieve server for forwarding rules, `sieve://host[:4190]` (STARTTLS required off
    /// this machine, as for imap://).
    #[arg(long, global = true, env = "AIRDESK_MANAGESIEVE_URL")]
    pub managesieve_url: Option<String>,
    /// Most ManageSieve sessions open at once for execution, and as many again for the
    /// forwarding checks of investigations (two pools: checks never take execution's).
    #[arg(
        long,
        global = true,
        env = "AIRDESK_MANAGESIEVE_CONNECTIONS",
        default_value_t = 4
    )]
    pub managesieve_connections: usize,
    /// Sign in to IMAP and ManageSieve with OAuth2 instead of a password: a file whose first
    /// line is a bearer token, read again at every sign-in (an operator's helper refreshes it).
    #[arg(
        long,
        global = true,
        env = "AIRDESK_IMAP_OAUTH2_TOKEN_FILE",
        conflicts_with = "imap_oauth2_token_url"
    )]
    pub imap_oauth2_token_file: Option<PathBuf>,
    /// Or: the OAuth2 token endpoint of the client-credentials grant; tokens are fetched again
    /// before they expire, and after a server refuses one.
    #[arg(long, global = true, env = "AIRDESK_IMAP_OAUTH2_TOKEN_URL")]
    pub imap_oauth2_token_url: Option<String>,
    /// The client id of the client-credentials grant.
    #[arg(long, global = true, env = "AIRDESK_IMAP_OAUTH2_CLIENT_ID")]
    pub imap_oauth2_client_id: Option<String>,
    /// A file holding the client secret of the client-credentials grant (first line).
    #[arg(long, global = true, env = "AIRDESK_IMAP_OAUTH2_CLIENT_SECRET_FILE")]
    pub imap_oauth2_client_secret_file: Option<PathBuf>,
    /// Scopes to ask the token endpoint for (repeatable), e.g.
    /// https://outlook.office365.com/.default.
    #[arg(
        long,
        global = true,
        env = "AIRDESK_IMAP_OAUTH2_SCOPE",
        value_delimiter = ' '
    )]
    pub imap_oauth2_scope: Vec<String>,
    /// The SASL mechanism that carries the token.
    #[arg(
        long,
        global = true,
        env = "AIRDESK_IMAP_SASL",
        value_enum,
        default_value = "xoauth2"
    )]
    pub imap_sasl: SaslArg,
    /// A PEM file of the private CA that mail servers' certificates (IMAP, ManageSieve, the
    /// SMTP relay) chain to; only it is trusted. The system's roots when unset.
    #[arg(long, global = true, env = "AIRDESK_MAIL_CA_FILE")]
    pub mail_ca_file: Option<PathBuf>,
    /// Accept any certificate from mail servers: encrypted, but not authenticated. For a test
    /// bench only; logged as a warning at every start.
    #[arg(
        long,
        global = true,
        env = "AIRDESK_MAIL_TLS_INSECURE",
        conflicts_with = "mail_ca_file"
    )]
    pub mail_tls_insecure: bool,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum SaslArg {
    Xoauth2,
    Oauthbearer,
}

impl ImapArgs {
    /// The IMAP settings, if an IMAP server is named (by `--mail-store` or `--imap-url`); a
    /// clear line for what is missing.
    pub(super) fn settings(&self, url: Option<&str>) -> Result<Option<ImapSettings>, String> {
        let Some(url) = url else {
            return Ok(None);
        };
        let imap = Endpoint::parse(url, &["imap", "imaps"]).map_err(|e| format!("IMAP {e}"))?;
        let tls = Tls::new(&self.tls_settings())?;
        let oauth2 = self.oauth2(&tls)?;
        let (user, password) = match &oauth2 {
            // With OAuth2 the token is the service principal's: a service account name is
            // Dovecot's master-user form; hosted services take the mailbox alone.
            Some(_) => (self.imap_user.clone().unwrap_or_default(), String::new()),
            None => {
                let user = self
                    .imap_user
                    .clone()
                    .ok_or("an IMAP store needs --imap-user (the service account)")?;
                let file = self.imap_password_file.as_ref().ok_or(
                    "an IMAP store needs --imap-password-file (or an --imap-oauth2-… token)",
                )?;
                (user, first_line(file, "IMAP password")?)
            }
        };
        let managesieve = self.managesieve()?;
        if std::iter::once(&imap)
            .chain(&managesieve)
            .any(|endpoint| endpoint.security != Security::Plain)
        {
            tls.ready()?;
        }
        Ok(Some(ImapSettings {
            imap,
            tls,
            user,
            password,
            oauth2,
            master_separator: self.imap_master_separator.clone(),
            managesieve,
            max_connections: self.imap_connections.max(1),
            index_connections: self.imap_index_connections.max(1),
            sieve_connections: self.managesieve_connections.max(1),
            timeout: std::time::Duration::from_secs(30),
        }))
    }

    /// The JMAP settings for a `--mail-store` of `jmap://host`, `jmap+http://127.0.0.1:port`
    /// (loopback only) or `https://host/.well-known/jmap`: the same service account, OAuth2,
    /// ManageSieve and certificate flags as an IMAP store.
    pub(super) fn jmap_settings(&self, url: &str) -> Result<JmapSettings, String> {
        let session_url =
            JmapSettings::session_url(url).map_err(|e| format!("--mail-store {e}"))?;
        let tls = Tls::new(&self.tls_settings())?;
        let oauth2 = self.oauth2(&tls)?;
        let user = self
            .imap_user
            .clone()
            .ok_or("a JMAP store needs --mail-user (the service account)")?;
        let password = match &oauth2 {
            Some(_) => String::new(),
            None => {
                let file = self.imap_password_file.as_ref().ok_or(
                    "a JMAP store needs --mail-password-file (or an --imap-oauth2-… token)",
                )?;
                first_line(file, "mail password")?
            }
        };
        let managesieve = self.managesieve()?;
        if session_url.scheme() == "https"
            || managesieve
                .as_ref()
                .is_some_and(|endpoint| endpoint.security != Security::Plain)
        {
            tls.ready()?;
        }
        Ok(JmapSettings {
            session_url,
            user,
            password,
            oauth2,
            managesieve,
            tls,
            timeout: std::time::Duration::from_secs(30),
        })
    }

    /// The ManageSieve server, if one is named.
    fn managesieve(&self) -> Result<Option<Endpoint>, String> {
        self.managesieve_url
            .as_deref()
            .map(|url| {
                Endpoint::parse(url, &["sieve"]).map_err(|e| format!("--managesieve-url {e}"))
            })
            .transpose()
    }

    /// Where OAuth2 tokens come from, if they are to be used.
    fn oauth2(&self, tls: &Tls) -> Result<Option<Bearer>, String> {
        let mechanism = match self.imap_sasl {
            SaslArg::Xoauth2 => Mechanism::XOAuth2,
            SaslArg::Oauthbearer => Mechanism::OAuthBearer,
        };
        let source = match (&self.imap_oauth2_token_file, &self.imap_oauth2_token_url) {
            (Some(file), _) => TokenSource::File(file.clone()),
            (None, Some(url)) => {
                // The client secret goes in the request: TLS unless the endpoint is this machine.
                let parsed = url::Url::parse(url)
                    .map_err(|e| format!("--imap-oauth2-token-url {url:?}: {e}"))?;
                let loopback = mail::tls::is_loopback(parsed.host_str().unwrap_or_default());
                if parsed.scheme() != "https" && !(parsed.scheme() == "http" && loopback) {
                    return Err(format!(
                        "--imap-oauth2-token-url {url:?} must be https:// (http:// only on loopback)"
                    ));
                }
                let client_id = self
                    .imap_oauth2_client_id
                    .clone()
                    .ok_or("--imap-oauth2-token-url needs --imap-oauth2-client-id")?;
                let secret = self
                    .imap_oauth2_client_secret_file
                    .as_ref()
                    .ok_or("--imap-oauth2-token-url needs --imap-oauth2-client-secret-file")?;
                TokenSource::ClientCredentials {
                    token_url: url.clone(),
                    client_id,
                    client_secret: first_line(secret, "OAuth2 client secret")?,
                    scopes: self.imap_oauth2_scope.clone(),
                }
            }
            (None, None) => return Ok(None),
        };
        Bearer::new(source, mechanism, tls).map(Some)
    }

    /// How mail servers' certificates are checked (IMAP, ManageSieve, the SMTP relay).
    pub fn tls_settings(&self) -> TlsSettings {
        TlsSettings {
            ca_file: self.mail_ca_file.clone(),
            insecure: self.mail_tls_insecure,
        }
    }
}

/// A secret file's first line.
fn first_line(file: &std::path::Path, what: &str) -> Result<String, String> {
    Ok(std::fs::read_to_string(file)
        .map_err(|e| format!("cannot read the {what} file {}: {e}", file.display()))?
        .lines()
        .next()
        .unwrap_or_default()
        .to_string())
}
