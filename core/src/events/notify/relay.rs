//! The SMTP relay notifications go through: its URL read strictly, STARTTLS required off this
//! machine, and the lettre transport built from it.

use std::time::Duration;

use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, CertificateStore, Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, Tokio1Executor};
use mail::tls::TlsSettings;

/// How STARTTLS is used on `smtp://`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StartTls {
    /// Refuse a relay that does not offer it (a relay that stops offering it is an attack).
    Required,
    /// Use it when offered.
    Opportunistic,
    Off,
}

/// The relay and how to sign in to it.
#[derive(Clone)]
pub struct Relay {
    pub host: String,
    pub port: u16,
    /// `smtps://`: TLS from the first byte.
    pub implicit_tls: bool,
    pub starttls: StartTls,
    pub credentials: Option<(String, String)>,
    /// The trust store, shared with the mail connectors (`--mail-ca-file`,
    /// `--mail-tls-insecure`).
    pub tls: TlsSettings,
}

impl std::fmt::Debug for Relay {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Relay")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("implicit_tls", &self.implicit_tls)
            .field("starttls", &self.starttls)
            .field("signs_in", &self.credentials.is_some())
            .field("tls", &self.tls)
            .finish()
    }
}

impl Relay {
    /// `smtp://host[:port][?starttls=required|opportunistic|off]` or `smtps://host[:port]`.
    /// STARTTLS is required unless the relay is on loopback (the same machine), where it is
    /// used when offered.
    pub fn parse(url: &str, credentials: Option<(String, String)>) -> Result<Self, String> {
        let parsed = url::Url::parse(url).map_err(|e| format!("--smtp-url: {e}"))?;
        let implicit_tls = match parsed.scheme() {
            "smtp" => false,
            "smtps" => true,
            other => return Err(format!("--smtp-url: {other}:// is not smtp:// or smtps://")),
        };
        if !parsed.username().is_empty() || parsed.password().is_some() {
            return Err(
                "--smtp-url: no credentials in the URL (use --smtp-user and --smtp-password-file)"
                    .into(),
            );
        }
        let host = parsed
            .host_str()
            .ok_or("--smtp-url names no host")?
            .trim_matches(['[', ']'])
            .to_string();
        let loopback = host == "localhost"
            || host
                .parse::<std::net::IpAddr>()
                .is_ok_and(|ip| ip.is_loopback());
        let mut starttls = if loopback {
            StartTls::Opportunistic
        } else {
            StartTls::Required
        };
        for (key, value) in parsed.query_pairs() {
            match (key.as_ref(), value.as_ref()) {
                ("starttls", "required") => starttls = StartTls::Required,
                ("starttls", "opportunistic") => starttls = StartTls::Opportunistic,
                ("starttls", "off") => starttls = StartTls::Off,
                _ => return Err(format!("--smtp-url: unknown parameter {key}={value}")),
            }
        }
        let port = parsed.port().unwrap_or(if implicit_tls { 465 } else { 25 });
        Ok(Relay {
            host,
            port,
            implicit_tls,
            starttls,
            credentials,
            tls: TlsSettings::default(),
        })
    }

    pub(super) fn transport(
        &self,
        timeout: Duration,
    ) -> Result<AsyncSmtpTransport<Tokio1Executor>, String> {
        let tls = || self.tls_parameters();
        let tls = if self.implicit_tls {
            Tls::Wrapper(tls()?)
        } else {
            match self.starttls {
                StartTls::Required => Tls::Required(tls()?),
                StartTls::Opportunistic => Tls::Opportunistic(tls()?),
                StartTls::Off => Tls::None,
            }
        };
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&self.host)
            .port(self.port)
            .tls(tls)
            .timeout(Some(timeout));
        if let Some((user, password)) = &self.credentials {
            builder = builder.credentials(Credentials::new(user.clone(), password.clone()));
        }
        Ok(builder.build())
    }

    /// The system's roots, or only the private CA's; no verification only when asked for.
    fn tls_parameters(&self) -> Result<TlsParameters, String> {
        let mut builder = TlsParameters::builder(self.host.clone());
        if let Some(file) = &self.tls.ca_file {
            let pem = std::fs::read(file)
                .map_err(|e| format!("cannot read the CA file {}: {e}", file.display()))?;
            let ca = Certificate::from_pem(&pem)
                .map_err(|e| format!("CA file {}: {e}", file.display()))?;
            builder = builder
                .certificate_store(CertificateStore::None)
                .add_root_certificate(ca);
        }
        if self.tls.insecure {
            builder = builder.dangerous_accept_invalid_certs(true);
        }
        builder.build_rustls().map_err(|e| format!("TLS: {e}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_relay_off_this_machine_must_offer_starttls() {
        let remote = Relay::parse("smtp://relay.example.test:587", None).unwrap();
        assert_eq!(remote.starttls, StartTls::Required);
        let local = Relay::parse("smtp://127.0.0.1:2525", None).unwrap();
        assert_eq!(local.starttls, StartTls::Opportunistic);
        let explicit = Relay::parse("smtp://127.0.0.1:2525?starttls=required", None).unwrap();
        assert_eq!(explicit.starttls, StartTls::Required);
        assert!(
            Relay::parse("smtps://relay.example.test", None)
                .unwrap()
                .implicit_tls
        );
    }

    #[test]
    fn credentials_in_the_url_and_other_schemes_are_refused() {
        assert!(Relay::parse("smtp://user:secret@relay.example.test", None).is_err());
        assert!(Relay::parse("http://relay.example.test", None).is_err());
        assert!(Relay::parse("smtp://relay.example.test?tls=maybe", None).is_err());
    }
}
