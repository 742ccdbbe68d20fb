//! TLS for every connection to a mail server (IMAP, ManageSieve; the SMTP relay reads the same
//! settings): rustls with the system's roots, or only a private CA's, or — when an operator
//! asks for it in so many words — no verification at all, logged loudly at every start.

use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{verify_tls12_signature, verify_tls13_signature, CryptoProvider};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;

/// Which certificates a mail server's may chain to.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TlsSettings {
    /// Only this PEM file's certificates are trusted (a private CA); the system's roots if unset.
    pub ca_file: Option<PathBuf>,
    /// Accepts any certificate (`--mail-tls-insecure`): the connection is encrypted, not
    /// authenticated. Only for a test bench; every start logs it as a warning.
    pub insecure: bool,
}

/// How a connection is secured, read from its URL.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Security {
    /// No TLS (`imap://` or `sieve://` on loopback, or `?starttls=off` said outright).
    Plain,
    /// TLS from the first byte (`imaps://`).
    Implicit,
    /// STARTTLS, and a server that does not offer it is refused, never used in clear.
    StartTls,
}

impl Security {
    /// The security a URL asks for: `imaps://` is implicit TLS; `imap://` (or `sieve://`) needs
    /// STARTTLS unless its host is this machine, and `?starttls=required|off` says so outright.
    pub fn of_url(url: &url::Url, implicit_scheme: Option<&str>) -> Result<Security, String> {
        let host = url.host_str().unwrap_or_default().trim_matches(['[', ']']);
        let implicit = implicit_scheme == Some(url.scheme());
        let mut security = if implicit {
            Security::Implicit
        } else if is_loopback(host) {
            Security::Plain
        } else {
            Security::StartTls
        };
        for (key, value) in url.query_pairs() {
            match (key.as_ref(), value.as_ref(), implicit) {
                ("starttls", "required", false) => security = Security::StartTls,
                ("starttls", "off", false) => security = Security::Plain,
                _ => {
                    return Err(format!(
                        "{url}: unknown parameter {key}={value} (only starttls=required or \
                         starttls=off, and neither with implicit TLS)"
                    ))
                }
            }
        }
        Ok(security)
    }
}

/// Whether `host` names this machine.
pub fn is_loopback(host: &str) -> bool {
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// A rustls client configuration built once from [`TlsSettings`], shared by every connection.
/// A machine without system roots can still speak clear text on loopback: the missing roots
/// are the error of the first TLS connection (and of [`Tls::ready`]), not of start-up.
#[derive(Clone)]
pub struct Tls {
    config: Result<Arc<ClientConfig>, String>,
}

impl std::fmt::Debug for Tls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Tls")
    }
}

impl Tls {
    /// Reads the CA file (or the system's roots) once; a CA file that cannot be read or holds
    /// no certificate is an error, not an empty trust store that would refuse everything with
    /// a confusing reason.
    pub fn new(settings: &TlsSettings) -> Result<Tls, String> {
        match Tls::config(settings) {
            Err(error) if settings.ca_file.is_some() => Err(error),
            config => Ok(Tls { config }),
        }
    }

    /// The rustls configuration, for other clients that must trust what the mail connections
    /// trust (the OAuth2 token endpoint); `None` without a trust store.
    pub fn client_config(&self) -> Option<Arc<ClientConfig>> {
        self.config.as_ref().ok().cloned()
    }

    /// Whether TLS connections can be made: an error if there is no trust store.
    pub fn ready(&self) -> Result<(), String> {
        self.config.as_ref().map(|_| ()).map_err(Clone::clone)
    }

    fn config(settings: &TlsSettings) -> Result<Arc<ClientConfig>, String> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let builder = ClientConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .map_err(|e| format!("TLS: {e}"))?;
        let config = if settings.insecure {
            tracing::warn!(
                "--mail-tls-insecure: mail servers' certificates are NOT verified; anyone on the \
                 network path can read and change what airdesk sends and receives"
            );
            builder
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(AnyCertificate(provider)))
                .with_no_client_auth()
        } else {
            builder
                .with_root_certificates(roots(settings)?)
                .with_no_client_auth()
        };
        Ok(Arc::new(config))
    }

    /// Runs the TLS handshake on `stream` for `host` (a DNS name or an IP address, as the URL
    /// gave it); a certificate that does not verify fails with the reason.
    pub async fn connect(&self, host: &str, stream: TcpStream) -> Result<MailStream, String> {
        let name = ServerName::try_from(host.trim_matches(['[', ']']).to_string())
            .map_err(|e| format!("TLS: {host:?} is not a host name: {e}"))?;
        tokio_rustls::TlsConnector::from(self.config.clone()?)
            .connect(name, stream)
            .await
            .map(|stream| MailStream::Tls(Box::new(stream)))
            .map_err(|e| format!("TLS with {host}: {}", reason(&e)))
    }
}

/// The trust store: the CA file's certificates alone, or the system's roots.
fn roots(settings: &TlsSettings) -> Result<RootCertStore, String> {
    let mut store = RootCertStore::empty();
    match &settings.ca_file {
        Some(file) => {
            let pem = std::fs::read(file)
                .map_err(|e| format!("cannot read the CA file {}: {e}", file.display()))?;
            for cert in CertificateDer::pem_slice_iter(&pem) {
                let cert = cert.map_err(|e| format!("CA file {}: {e}", file.display()))?;
                store
                    .add(cert)
                    .map_err(|e| format!("CA file {}: {e}", file.display()))?;
            }
            if store.is_empty() {
                return Err(format!(
                    "CA file {} holds no PEM certificate",
                    file.display()
                ));
            }
        }
        None => {
            let found = rustls_native_certs::load_native_certs();
            for error in &found.errors {
                tracing::warn!(%error, "a system root certificate could not be read");
            }
            store.add_parsable_certificates(found.certs);
            if store.is_empty() {
                return Err(
                    "no system root certificates found (install ca-certificates, or \
                     name a private CA with --mail-ca-file)"
                        .into(),
                );
            }
        }
    }
    Ok(store)
}

/// rustls's words for why a handshake failed, with the certificate's reason first.
fn reason(error: &std::io::Error) -> String {
    match error
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<rustls::Error>())
    {
        Some(rustls::Error::InvalidCertificate(why)) => {
            format!("the server's certificate was refused: {why:?}")
        }
        Some(other) => other.to_string(),
        None => error.to_string(),
    }
}

/// A connection to a mail server, in clear or in TLS: what the protocol clients run on.
#[derive(Debug)]
pub enum MailStream {
    Plain(TcpStream),
    Tls(Box<tokio_rustls::client::TlsStream<TcpStream>>),
}

impl MailStream {
    /// `clear text`, or the TLS version and cipher suite in use.
    pub fn describe(&self) -> String {
        match self {
            MailStream::Plain(_) => "clear text".into(),
            MailStream::Tls(stream) => {
                let session = stream.get_ref().1;
                format!(
                    "TLS {:?} ({:?})",
                    session
                        .protocol_version()
                        .unwrap_or(rustls::ProtocolVersion::Unknown(0)),
                    session
                        .negotiated_cipher_suite()
                        .map(|suite| suite.suite())
                        .unwrap_or(rustls::CipherSuite::Unknown(0))
                )
            }
        }
    }
}

impl AsyncRead for MailStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            MailStream::Plain(s) => Pin::new(s).poll_read(cx, buf),
            MailStream::Tls(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for MailStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        match self.get_mut() {
            MailStream::Plain(s) => Pin::new(s).poll_write(cx, buf),
            MailStream::Tls(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            MailStream::Plain(s) => Pin::new(s).poll_flush(cx),
            MailStream::Tls(s) => Pin::new(s.as_mut()).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            MailStream::Plain(s) => Pin::new(s).poll_shutdown(cx),
            MailStream::Tls(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
        }
    }
}

/// `--mail-tls-insecure`: any certificate passes; the handshake's signatures are still checked
/// (so the session keys belong to whoever holds the presented key).
#[derive(Debug)]
struct AnyCertificate(Arc<CryptoProvider>);

impl ServerCertVerifier for AnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn security(url: &str) -> Result<Security, String> {
        Security::of_url(&url::Url::parse(url).unwrap(), Some("imaps"))
    }

    #[test]
    fn urls_choose_tls_and_off_machine_clear_text_needs_saying() {
        assert_eq!(
            security("imaps://mail.example.test:993"),
            Ok(Security::Implicit)
        );
        assert_eq!(
            security("imap://mail.example.test:143"),
            Ok(Security::StartTls)
        );
        assert_eq!(security("imap://127.0.0.1:143"), Ok(Security::Plain));
        assert_eq!(security("imap://[::1]:143"), Ok(Security::Plain));
        assert_eq!(
            security("imap://127.0.0.1:143?starttls=required"),
            Ok(Security::StartTls)
        );
        assert_eq!(
            security("imap://mail.example.test:143?starttls=off"),
            Ok(Security::Plain)
        );
        assert!(security("imaps://mail.example.test:993?starttls=off").is_err());
        assert!(security("imap://mail.example.test:143?tls=maybe").is_err());
    }

    #[test]
    fn a_ca_file_without_a_certificate_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("ca.pem");
        std::fs::write(&file, "not a certificate\n").unwrap();
        let error = Tls::new(&TlsSettings {
            ca_file: Some(file),
            insecure: false,
        })
        .unwrap_err();
        assert!(error.contains("holds no PEM certificate"), "{error}");
    }
}
