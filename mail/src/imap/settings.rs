//! How to reach an IMAP server (and its ManageSieve beside it), and how the connections are
//! secured.

use std::time::Duration;

use crate::tls::{MailStream, Security, Tls};

/// A server to connect to: host, port and how the connection is secured.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Endpoint {
    /// A DNS name or an IP address, as the URL gave it; TLS checks the certificate against it.
    pub host: String,
    pub port: u16,
    pub security: Security,
}

impl Endpoint {
    /// `host:port`, to connect to.
    pub fn address(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }

    /// Reads `imap://host[:port][?starttls=required|off]`, `imaps://host[:port]` or
    /// `sieve://host[:port][?starttls=…]`. Clear text only on loopback unless `starttls=off`
    /// says it outright; no credentials in the URL (they would end up in logs and `ps`).
    /// `schemes` are the ones the caller takes.
    pub fn parse(url: &str, schemes: &[&str]) -> Result<Endpoint, String> {
        // Errors name the URL without any user or password it carries: they end up in logs.
        let parsed = url::Url::parse(url).map_err(|e| format!("{:?}: {e}", redacted(url)))?;
        let shown = redacted(url);
        let (default_port, implicit) = match parsed.scheme() {
            "imap" => (143, None),
            "imaps" => (993, Some("imaps")),
            "sieve" => (4190, None),
            _ => (0, None),
        };
        if default_port == 0 || !schemes.contains(&parsed.scheme()) {
            let wanted: Vec<String> = schemes.iter().map(|s| format!("{s}://")).collect();
            return Err(format!("{shown:?} is not {}", wanted.join(" or ")));
        }
        if !parsed.username().is_empty() || parsed.password().is_some() {
            return Err(format!(
                "{shown:?}: no credentials in the URL (use the user and password-file settings)"
            ));
        }
        if !matches!(parsed.path(), "" | "/") {
            return Err(format!("{shown:?}: a server URL has no path"));
        }
        let host = parsed
            .host_str()
            .filter(|host| !host.is_empty())
            .ok_or_else(|| format!("{shown:?} names no host"))?
            .trim_matches(['[', ']'])
            .to_string();
        Ok(Endpoint {
            security: Security::of_url(&parsed, implicit)?,
            port: parsed.port().unwrap_or(default_port),
            host,
        })
    }

    /// A TCP connection, in TLS from the first byte if the URL said `imaps://` (STARTTLS is the
    /// protocol client's to run, after the greeting).
    pub async fn open(&self, tls: &Tls) -> Result<MailStream, String> {
        let stream = tokio::net::TcpStream::connect(self.address())
            .await
            .map_err(|e| format!("{}: {e}", self.address()))?;
        stream.set_nodelay(true).ok();
        match self.security {
            Security::Implicit => tls.connect(&self.host, stream).await,
            Security::Plain | Security::StartTls => Ok(MailStream::Plain(stream)),
        }
    }

    /// Plain loopback, as the tests' Dovecot listens.
    pub fn loopback(port: u16) -> Endpoint {
        Endpoint {
            host: "127.0.0.1".into(),
            port,
            security: Security::Plain,
        }
    }
}

/// The URL with whatever stands before an `@` in its authority left out.
fn redacted(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    match rest[..authority_end].rfind('@') {
        Some(at) => format!("{scheme}://…@{}", &rest[at + 1..]),
        None => url.to_string(),
    }
}

/// Where and how to reach the server. Its Debug output leaves the password out.
#[derive(Clone)]
pub struct ImapSettings {
    pub imap: Endpoint,
    /// The service account (empty: each mailbox signs in as itself, as with OAuth2 on hosted
    /// services where the token is the service principal's).
    pub user: String,
    pub password: String,
    /// Sign in with OAuth2 bearer tokens (SASL XOAUTH2 or OAUTHBEARER) instead of the password.
    pub oauth2: Option<crate::oauth::Bearer>,
    /// Joins mailbox and service account in a master-user login (Dovecot: `*`). Empty with a
    /// service account: ManageSieve authenticates as the service account authorised as the
    /// mailbox (SASL PLAIN's authorisation identity, as Cyrus expects).
    pub master_separator: String,
    /// The ManageSieve server, for forwarding.
    pub managesieve: Option<Endpoint>,
    /// The trust store TLS connections verify against.
    pub tls: Tls,
    /// Most connections execution opens to the server at once.
    pub max_connections: usize,
    /// Most connections the index opens at once, a pool of its own beside execution's.
    pub index_connections: usize,
    /// Most ManageSieve sessions of each pool (execution's, investigations').
    pub sieve_connections: usize,
    /// Longest wait for connecting or for one command.
    pub timeout: Duration,
}

impl std::fmt::Debug for ImapSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ImapSettings")
            .field("imap", &self.imap)
            .field("user", &self.user)
            .field("password", &"<secret>")
            .field("oauth2", &self.oauth2)
            .field("managesieve", &self.managesieve)
            .field("max_connections", &self.max_connections)
            .field("index_connections", &self.index_connections)
            .field("sieve_connections", &self.sieve_connections)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl ImapSettings {
    /// Whether the service account acts as each mailbox through SASL's authorisation identity
    /// rather than a master-user login name.
    pub fn proxies(&self) -> bool {
        self.master_separator.is_empty() && !self.user.is_empty()
    }

    /// The service account acting as `mailbox`: `alice@example.test*admin`; the mailbox alone
    /// when there is no service account or it acts through SASL's authorisation identity.
    pub fn login_name(&self, mailbox: &str) -> String {
        if self.user.is_empty() || self.proxies() {
            return mailbox.to_string();
        }
        format!("{mailbox}{}{}", self.master_separator, self.user)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_name_a_host_a_port_and_how_to_secure_them() {
        let imap = ["imap", "imaps"];
        let plain = Endpoint::parse("imap://127.0.0.1:1143", &imap).unwrap();
        assert_eq!(plain, Endpoint::loopback(1143));
        assert_eq!(plain.address(), "127.0.0.1:1143");
        let tls = Endpoint::parse("imaps://mail.example.test", &imap).unwrap();
        assert_eq!((tls.port, tls.security), (993, Security::Implicit));
        let sieve = Endpoint::parse("sieve://mail.example.test", &["sieve"]).unwrap();
        assert_eq!((sieve.port, sieve.security), (4190, Security::StartTls));
        assert_eq!(
            Endpoint::parse("imap://[::1]:143", &imap)
                .unwrap()
                .address(),
            "[::1]:143"
        );
        for wrong in [
            "imap://",
            "pop3://mail.example.test",
            "imap://admin:secret@mail.example.test",
            "imap://mail.example.test/INBOX",
            "mail.example.test:143",
            "sieve://mail.example.test",
        ] {
            let error = Endpoint::parse(wrong, &imap).unwrap_err();
            assert!(!error.contains("secret"), "{error}");
        }
    }
}
