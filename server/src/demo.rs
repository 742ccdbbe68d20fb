//! Demo data: three users, five mailboxes with real Maildir messages, and investigations whose
//! verdicts leave pending actions in every view — two of them on the same email cluster.

use std::fmt;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Duration, Utc};
use rand::distributions::{Alphanumeric, DistString};

use airdesk_core::{investigations, users, AppState};
use model::{
    Actor, ClusterBy, EmailAddress, ForwardTarget, IngestAlert, IngestCluster, IngestForwarding,
    IngestInvestigation, IngestMessage, InternetMessageId, InvestigationType, Role, Severity,
    Username, Verdict,
};

use crate::startup::Failure;

/// The demo users and their password, as printed after seeding.
pub struct DemoLogins {
    pub password: String,
}

impl fmt::Display for DemoLogins {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "Demo data seeded. Sign in with one of:")?;
        for (name, role) in DEMO_USERS {
            writeln!(
                f,
                "  {name:<8} {:<17} password: {}",
                role.label(),
                self.password
            )?;
        }
        Ok(())
    }
}

const DEMO_USERS: [(&str, Role); 3] = [
    ("admin", Role::Admin),
    ("analyst", Role::SearchAndPurge),
    ("reader", Role::Reader),
];

const DOMAIN: &str = "example.test";

/// Seeds demo data unless the database already has users; returns the logins when it did.
pub async fn seed_if_empty(
    state: &AppState,
    mail_root: &Path,
    password: Option<String>,
) -> Result<Option<DemoLogins>, Failure> {
    if users::count(&state.db).await? > 0 {
        return Ok(None);
    }
    let password =
        password.unwrap_or_else(|| Alphanumeric.sample_string(&mut rand::thread_rng(), 16));
    for (name, role) in DEMO_USERS {
        users::create(
            &state.db,
            &Actor::Demo,
            &Username::parse(name)?,
            &password,
            role,
        )
        .await?;
    }
    let now = Utc::now();
    // The invoice campaign is investigated twice: its messages are delivered once.
    let mut delivered = std::collections::HashSet::new();
    for story in stories(now) {
        for cluster in &story.clusters {
            for message in &cluster.messages {
                if !delivered.insert((message.mailbox.clone(), message.internet_message_id.clone()))
                {
                    continue;
                }
                write_message(mail_root, message, &cluster.cluster_value).map_err(|e| {
                    Failure::Other(format!(
                        "cannot write demo mail under {}: {e}",
                        mail_root.display()
                    ))
                })?;
            }
        }
        for forwarding in &story.forwarding {
            write_forwarding(mail_root, forwarding).map_err(|e| {
                Failure::Other(format!(
                    "cannot write demo Sieve scripts under {}: {e}",
                    mail_root.display()
                ))
            })?;
        }
        // Proposed as airdesk's own investigations propose them: by nobody a demo user is,
        // so every demo user with Search and purge may approve them.
        ingest(state, &Actor::Demo, &story).await?;
    }
    Ok(Some(DemoLogins { password }))
}

async fn ingest(
    state: &AppState,
    actor: &Actor,
    story: &IngestInvestigation,
) -> Result<(), Failure> {
    investigations::ingest(state, actor, story).await?;
    Ok(())
}

fn address(local: &str) -> EmailAddress {
    EmailAddress::parse(&format!("{local}@{DOMAIN}")).expect("demo addresses are valid")
}

fn message(
    mailbox: &str,
    id: &str,
    sender: &str,
    subject: &str,
    at: DateTime<Utc>,
) -> IngestMessage {
    IngestMessage {
        mailbox: address(mailbox),
        internet_message_id: InternetMessageId::parse(id).expect("demo ids are valid"),
        sender: sender.to_string(),
        subject: subject.to_string(),
        received_at: at,
        location: None,
    }
}

fn cluster(
    by: ClusterBy,
    value: &str,
    verdict: Verdict,
    messages: Vec<IngestMessage>,
) -> IngestCluster {
    IngestCluster {
        cluster_by: by,
        cluster_value: value.to_string(),
        verdict,
        messages,
    }
}

fn story(
    title: &str,
    kind: InvestigationType,
    alert: &str,
    severity: Severity,
    clusters: Vec<IngestCluster>,
    forwarding: Vec<IngestForwarding>,
) -> IngestInvestigation {
    IngestInvestigation {
        title: title.to_string(),
        investigation_type: kind,
        alert: IngestAlert {
            title: alert.to_string(),
            severity,
        },
        clusters,
        forwarding,
    }
}

/// The demo's investigations.
fn stories(now: DateTime<Utc>) -> Vec<IngestInvestigation> {
    let mut stories = invoice_campaign(now);
    stories.extend(other_threats(now));
    stories
}

/// The invoice campaign, investigated twice (a user report, then a URL verdict change), so
/// both investigations share one cluster key.
fn invoice_campaign(now: DateTime<Utc>) -> Vec<IngestInvestigation> {
    let invoice = |mailbox: &str, hours| {
        message(
            mailbox,
            "<invoice-20261120@evil.test>",
            "billing@evil.test",
            "Invoice overdue",
            now - Duration::hours(hours),
        )
    };
    vec![
        story(
            "User-reported phish: Invoice overdue",
            InvestigationType::UserReported,
            "Email reported by user as phish",
            Severity::High,
            vec![cluster(
                ClusterBy::Url,
                "http://invoice.evil.test/pay",
                Verdict::Malicious,
                vec![
                    invoice("alice", 30),
                    invoice("bob", 30),
                    invoice("carol", 29),
                ],
            )],
            vec![IngestForwarding {
                mailbox: address("bob"),
                forward_to: ForwardTarget::parse("bob.private@elsewhere.test").expect("valid"),
                detail: None,
                verdict: Verdict::Suspicious,
            }],
        ),
        story(
            "URL verdict change: invoice.evil.test",
            InvestigationType::UrlVerdictChange,
            "URL verdict changed to malicious after delivery",
            Severity::Medium,
            vec![cluster(
                ClusterBy::Url,
                "http://invoice.evil.test/pay",
                Verdict::Malicious,
                vec![
                    invoice("alice", 30),
                    invoice("bob", 30),
                    invoice("carol", 29),
                ],
            )],
            vec![],
        ),
    ]
}

/// A zapped attachment with a hostile subject, a look-alike sender, a clean newsletter and a
/// mailbox forwarding outside.
fn other_threats(now: DateTime<Utc>) -> Vec<IngestInvestigation> {
    let ago = |hours: i64| now - Duration::hours(hours);
    let payroll_subject = "<img src=x onerror=alert(1)> Payroll update";
    let payroll = |mailbox: &str, hours| {
        message(
            mailbox,
            "<payroll-77@examp1e.test>",
            "hr@examp1e.test",
            payroll_subject,
            ago(hours),
        )
    };
    let quota = |mailbox: &str, hours| {
        message(
            mailbox,
            "<quota-5@examp1e.test>",
            "it-support@examp1e.test",
            "Your mailbox is full",
            ago(hours),
        )
    };
    vec![
        story(
            "Zapped file: payroll.xlsm",
            InvestigationType::ZappedFile,
            "Malicious attachment removed after delivery",
            Severity::High,
            vec![cluster(
                ClusterBy::AttachmentHash,
                "9f2c4e1a7b3d5f60818293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8",
                Verdict::Malicious,
                vec![payroll("dave", 20), payroll("erin", 19)],
            )],
            vec![],
        ),
        story(
            "User-reported phish: Your mailbox is full",
            InvestigationType::UserReported,
            "Email reported by user as phish",
            Severity::Medium,
            vec![cluster(
                ClusterBy::Sender,
                "it-support@examp1e.test",
                Verdict::Suspicious,
                vec![quota("carol", 10), quota("dave", 9)],
            )],
            vec![],
        ),
        story(
            "User-reported: Team newsletter",
            InvestigationType::UserReported,
            "Email reported by user as phish",
            Severity::Low,
            vec![cluster(
                ClusterBy::Sender,
                "news@shop.test",
                Verdict::Clean,
                vec![message(
                    "erin",
                    "<news-48@shop.test>",
                    "news@shop.test",
                    "This week's offers",
                    ago(5),
                )],
            )],
            vec![],
        ),
        story(
            "Manual investigation: erin's mail forwarding",
            InvestigationType::Manual,
            "Admin-triggered investigation",
            Severity::Low,
            vec![],
            vec![IngestForwarding {
                mailbox: address("erin"),
                forward_to: ForwardTarget::parse("erin.inbox@freemail.test").expect("valid"),
                detail: None,
                verdict: Verdict::Suspicious,
            }],
        ),
    ]
}

/// Gives the mailbox an active Sieve script (Dovecot's layout) that files newsletters and
/// forwards everything to the outside address, as a compromised account's rule would.
fn write_forwarding(root: &Path, forwarding: &IngestForwarding) -> std::io::Result<()> {
    let mailbox = root.join(forwarding.mailbox.as_str());
    for sub in ["cur", "new", "tmp"] {
        std::fs::create_dir_all(mailbox.join(sub))?;
    }
    let script = format!(
        "require [\"fileinto\", \"copy\"];\n\
         # Newsletters to their own folder.\n\
         if header :contains \"list-id\" \"newsletter\" {{\n    fileinto \"Junk\";\n}}\n\
         # Keep a copy of everything somewhere else.\n\
         redirect :copy \"{}\";\n",
        forwarding.forward_to.as_str()
    );
    mail::maildir::files::write_atomically(
        &mailbox.join("sieve/roundcube.sieve"),
        script.as_bytes(),
    )?;
    let link = mailbox.join(".dovecot.sieve");
    if std::fs::symlink_metadata(&link).is_err() {
        std::os::unix::fs::symlink("sieve/roundcube.sieve", &link)?;
    }
    Ok(())
}

/// Writes a message into the mailbox's Maildir++ INBOX (`cur/`), through `tmp/` so it appears
/// whole or not at all, and creates the folders Dovecot expects.
fn write_message(root: &Path, message: &IngestMessage, url: &str) -> std::io::Result<PathBuf> {
    let mailbox = root.join(message.mailbox.as_str());
    for folder in ["", ".Junk", ".Deleted Items", ".Recoverable Items"] {
        let dir = mailbox.join(folder);
        for sub in ["cur", "new", "tmp"] {
            std::fs::create_dir_all(dir.join(sub))?;
        }
        if !folder.is_empty() {
            std::fs::write(dir.join("maildirfolder"), b"")?;
        }
    }
    let unique = format!(
        "{}.M{}P{}.airdesk",
        message.received_at.timestamp(),
        message
            .internet_message_id
            .as_str()
            .bytes()
            .map(u32::from)
            .sum::<u32>(),
        std::process::id()
    );
    let text = format!(
        "Return-Path: <{sender}>\r\nMessage-ID: {id}\r\nDate: {date}\r\nFrom: {sender}\r\nTo: {to}\r\n\
         Subject: {subject}\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n\
         Please review: {url}\r\n",
        sender = message.sender,
        id = message.internet_message_id.as_str(),
        date = message.received_at.to_rfc2822(),
        to = message.mailbox.as_str(),
        subject = message.subject,
    );
    let tmp = mailbox.join("tmp").join(&unique);
    let target = mailbox.join("cur").join(format!("{unique}:2,"));
    std::fs::write(&tmp, text)?;
    std::fs::rename(&tmp, &target)?;
    Ok(target)
}
