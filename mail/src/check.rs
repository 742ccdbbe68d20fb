//! `airdesk mail check`: connect, sign in, list what can be seen and what the server offers,
//! and change nothing. Each backend says what it needs; a server without it fails the check
//! before any action depends on it.

use crate::StoreError;

/// What one mailbox looked like through the connector.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailboxReport {
    pub mailbox: String,
    /// How the connection was made: `TLS 1.3 (TLS13_AES_256_GCM_SHA384)`, `clear text`, or
    /// `files` for a Maildir store.
    pub transport: String,
    /// The server's capabilities after sign-in (IMAP `CAPABILITY`).
    pub capabilities: Vec<String>,
    /// Every folder the connector can open.
    pub folders: Vec<String>,
    /// Forwarding rules: what the Sieve server offers (or where the scripts are), or why they
    /// cannot be read.
    pub sieve: Result<Vec<String>, String>,
    /// What the connector needs and the server lacks: each a reason the check fails.
    pub missing: Vec<String>,
}

impl MailboxReport {
    /// The report of what a connection showed: what `needs` names and the capabilities lack,
    /// and a Sieve server that cannot be read, are each a reason the check fails.
    pub fn new(
        mailbox: &str,
        transport: String,
        capabilities: Vec<String>,
        folders: Vec<String>,
        sieve: Result<Vec<String>, String>,
        needs: &[(&str, &str)],
    ) -> MailboxReport {
        let mut lacks = missing(&capabilities, needs);
        if let Err(why) = &sieve {
            lacks.push(format!("Sieve: {why}"));
        }
        MailboxReport {
            mailbox: mailbox.to_string(),
            transport,
            capabilities,
            folders,
            sieve,
            missing: lacks,
        }
    }
}

/// A backend's self-check.
#[async_trait::async_trait]
pub trait Check: Send + Sync + std::fmt::Debug {
    /// The mailboxes the store itself can list (a Maildir tree), or none (IMAP cannot list a
    /// server's mailboxes: the operator names them).
    async fn mailboxes(&self) -> Result<Vec<String>, StoreError>;

    /// Signs in as `mailbox` and reads, never writes.
    async fn check(&self, mailbox: &str) -> Result<MailboxReport, StoreError>;
}

/// What ManageSieve offers for a mailbox, or why forwarding cannot be read: `sieve` is the
/// ManageSieve client when a server is configured.
pub async fn sieve_report(
    sieve: Option<crate::imap::ManageSieve>,
    mailbox: &str,
) -> Result<Vec<String>, String> {
    match sieve {
        None => Err(
            "no ManageSieve server is configured (--managesieve-url): forwarding \
             can be neither read nor turned off"
                .to_string(),
        ),
        Some(sieve) => sieve.capabilities(mailbox).await.map_err(|e| e.to_string()),
    }
}

/// The capabilities an IMAP server must offer: what the connector's commands rely on.
pub const IMAP_NEEDS: [(&str, &str); 2] = [
    (
        "MOVE",
        "moves must be atomic (UID MOVE), never copy-then-delete",
    ),
    (
        "UIDPLUS",
        "hard delete expunges only the messages given (UID EXPUNGE)",
    ),
];

/// Which of `needs` the capability list lacks, with why each matters.
pub fn missing(capabilities: &[String], needs: &[(&str, &str)]) -> Vec<String> {
    needs
        .iter()
        .filter(|(name, _)| !capabilities.iter().any(|c| c.eq_ignore_ascii_case(name)))
        .map(|(name, why)| format!("{name}: {why}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_server_without_move_or_uidplus_is_named_for_it() {
        let dovecot: Vec<String> = ["IMAP4rev1", "move", "UIDPLUS", "CONDSTORE"]
            .map(String::from)
            .to_vec();
        assert!(missing(&dovecot, &IMAP_NEEDS).is_empty());
        let old = vec!["IMAP4rev1".to_string(), "UIDPLUS".to_string()];
        let lacks = missing(&old, &IMAP_NEEDS);
        assert_eq!(lacks.len(), 1);
        assert!(lacks[0].starts_with("MOVE:"), "{lacks:?}");
    }
}
