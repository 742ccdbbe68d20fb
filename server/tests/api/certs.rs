//! A test CA made at test time (rcgen), and server certificates it signs: valid for 127.0.0.1,
//! expired, or for another host name. Nothing is read from or written to the system's stores.

use std::net::{IpAddr, Ipv4Addr};
use std::path::{Path, PathBuf};

pub use crate::dovecot::ServerCert;
use rcgen::{
    date_time_ymd, BasicConstraints, Certificate, CertificateParams, DnType, IsCa, KeyPair, SanType,
};

pub struct TestCa {
    cert: Certificate,
    key: KeyPair,
}

/// Which certificate a test server presents.
#[derive(Clone, Copy, Debug)]
pub enum Kind {
    /// For 127.0.0.1 and localhost, valid now.
    Valid,
    /// For 127.0.0.1, but its validity ended in 2021.
    Expired,
    /// Valid now, for mail.example.test only.
    OtherHost,
}

impl TestCa {
    pub fn new(name: &str) -> TestCa {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.distinguished_name.push(DnType::CommonName, name);
        let key = KeyPair::generate().unwrap();
        let cert = params.self_signed(&key).unwrap();
        TestCa { cert, key }
    }

    pub fn pem(&self) -> String {
        self.cert.pem()
    }

    /// Writes the CA's certificate where a client's `--mail-ca-file` can read it.
    pub fn write(&self, dir: &Path) -> PathBuf {
        let file = dir.join("ca.pem");
        std::fs::write(&file, self.pem()).unwrap();
        file
    }

    pub fn server_cert(&self, kind: Kind) -> ServerCert {
        let names = match kind {
            Kind::Valid | Kind::Expired => vec!["localhost".to_string()],
            Kind::OtherHost => vec!["mail.example.test".to_string()],
        };
        let mut params = CertificateParams::new(names).unwrap();
        if !matches!(kind, Kind::OtherHost) {
            params
                .subject_alt_names
                .push(SanType::IpAddress(IpAddr::V4(Ipv4Addr::LOCALHOST)));
        }
        params
            .distinguished_name
            .push(DnType::CommonName, "airdesk test mail server");
        if matches!(kind, Kind::Expired) {
            params.not_before = date_time_ymd(2020, 1, 1);
            params.not_after = date_time_ymd(2021, 1, 1);
        }
        let key = KeyPair::generate().unwrap();
        let cert = params.signed_by(&key, &self.cert, &self.key).unwrap();
        ServerCert {
            cert_pem: cert.pem(),
            key_pem: key.serialize_pem(),
        }
    }
}
