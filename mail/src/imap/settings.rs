//! How to reach an IMAP server (and its ManageSieve beside it).

use std::time::Duration;

/// Where and how to reach the server.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImapSettings {
    /// `host:port` of the IMAP server (plain IMAP; run it on a trusted network or loopback).
    pub address: String,
    /// The service account.
    pub user: String,
    pub password: String,
    /// Joins mailbox and service account in a master-user login (Dovecot: `*`).
    pub master_separator: String,
    /// `host:port` of the ManageSieve server, for forwarding.
    pub managesieve: Option<String>,
    /// Most connections execution opens to the server at once.
    pub max_connections: usize,
    /// Most connections the index opens at once, a pool of its own beside execution's.
    pub index_connections: usize,
    /// Most ManageSieve sessions of each pool (execution's, investigations').
    pub sieve_connections: usize,
    /// Longest wait for connecting or for one command.
    pub timeout: Duration,
}

impl ImapSettings {
    /// The service account acting as `mailbox`: `alice@example.test*admin`.
    pub fn login_name(&self, mailbox: &str) -> String {
        format!("{mailbox}{}{}", self.master_separator, self.user)
    }

    /// Reads `imap://host:port` or `sieve://host:port` (the port is required).
    pub fn address_of(url: &str, scheme: &str) -> Result<String, String> {
        let rest = url
            .strip_prefix(&format!("{scheme}://"))
            .ok_or_else(|| format!("{url:?} does not start with {scheme}://"))?;
        let rest = rest.trim_end_matches('/');
        match rest.rsplit_once(':') {
            Some((host, port)) if !host.is_empty() && port.parse::<u16>().is_ok() => {
                Ok(rest.to_string())
            }
            _ => Err(format!(
                "{url:?} must name a host and a port, e.g. {scheme}://127.0.0.1:143"
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_name_a_host_and_port() {
        assert_eq!(
            ImapSettings::address_of("imap://127.0.0.1:1143", "imap").unwrap(),
            "127.0.0.1:1143"
        );
        assert!(ImapSettings::address_of("imap://mail.example.test", "imap").is_err());
        assert!(ImapSettings::address_of("sieve://h:4190", "imap").is_err());
    }
}
