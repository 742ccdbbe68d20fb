//! What each command does.

use airdesk_core::policy::{self, PolicyHolder};
use airdesk_core::{audit, index};
use model::AppError;

use super::{
    token, user, AuditCommand, Cli, Command, DemoCommand, MailCommand, PolicyCommand, ServeArgs,
};
use crate::config::{check_mail_root, Settings};
use crate::demo;
use crate::startup::{open_db, open_state, shutdown_signal, Application, Failure};

/// Runs the parsed command.
pub async fn run(cli: Cli) -> Result<(), Failure> {
    let defaults = cli.settings(None)?;
    match &cli.command {
        Command::Serve(args) => serve(&cli.settings(Some(args))?, args).await,
        Command::Scan => scan(&defaults).await,
        Command::Mail(MailCommand::Check { mailboxes }) => mail_check(&defaults, mailboxes).await,
        Command::Migrate => {
            open_db(&defaults).await?;
            println!("migrations applied");
            Ok(())
        }
        Command::User(command) => user::run(&defaults, command).await,
        Command::Token(command) => token::run(&open_db(&defaults).await?, command).await,
        Command::Demo(DemoCommand::Seed(options)) => {
            let root = demo_root(&defaults)?;
            check_mail_root(root)?;
            let state = open_state(&defaults).await?;
            match demo::seed_if_empty(&state, root, options.demo_password.clone()).await? {
                Some(logins) => {
                    print!("{logins}");
                    Ok(())
                }
                None => Err(Failure::Other(
                    "the database already has users; demo seed needs an empty one".into(),
                )),
            }
        }
        Command::Audit(AuditCommand::Verify {
            head,
            seq,
            signature,
        }) => {
            let recorded = head.as_deref().map(|hash| RecordedHead {
                hash,
                seq: *seq,
                signature: signature.as_deref(),
            });
            verify(&defaults, recorded).await
        }
        Command::Policy(PolicyCommand::Test { file, since }) => {
            let holder = PolicyHolder::from_file(file)
                .map_err(|e| Failure::Other(format!("approval policy {}: {e}", file.display())))?;
            let policy = holder.current();
            let db = open_db(&defaults).await?;
            let since = chrono::Duration::from_std(*since)
                .ok()
                .and_then(|d| chrono::Utc::now().checked_sub_signed(d))
                .unwrap_or(chrono::DateTime::<chrono::Utc>::MIN_UTC);
            let report = policy::backtest(&db, &policy, since).await?;
            println!("policy {} (sha256 {})", file.display(), policy.hash());
            print!("{report}");
            Ok(())
        }
    }
}

/// `serve`: seeds the demo first when asked, then serves until SIGINT or SIGTERM.
async fn serve(settings: &Settings, args: &ServeArgs) -> Result<(), Failure> {
    let app = Application::build(settings).await?;
    if args.demo {
        let root = demo_root(settings)?;
        let password = args.demo_options.demo_password.clone();
        match demo::seed_if_empty(app.state(), root, password).await? {
            Some(logins) => print!("{logins}"),
            None => println!("Demo: the database already has users; nothing seeded."),
        }
    }
    let shutdown = shutdown_signal();
    println!("airdesk listening on http://{}", app.local_addr());
    app.run_until(shutdown).await
}

/// `scan`: brings the index up to date once and says how it went.
async fn scan(settings: &Settings) -> Result<(), Failure> {
    let state = open_state(settings).await?;
    let started = std::time::Instant::now();
    let report = index::scan(&state).await?;
    let took = started.elapsed().as_secs_f64();
    state
        .db
        .checkpoint_and_truncate()
        .await
        .map_err(AppError::from)?;
    println!(
        "indexed {} mailboxes: {} added, {} removed, {} unreadable; {} folders read, {} unchanged; {:.1} s ({:.0} messages/s)",
        report.mailboxes,
        report.added,
        report.removed,
        report.unreadable,
        report.folders_listed,
        report.folders_unchanged,
        took,
        report.added as f64 / took.max(0.001)
    );
    if report.scanned_elsewhere > 0 {
        println!(
            "{} changed mailboxes were being scanned by another instance and were left to it",
            report.scanned_elsewhere
        );
    }
    Ok(())
}

/// `mail check`: one paragraph per mailbox; a mailbox that cannot be opened, or a server that
/// lacks what the connector needs, fails the command (after every mailbox is reported).
async fn mail_check(settings: &Settings, named: &[String]) -> Result<(), Failure> {
    let backend = settings.backend()?;
    println!("mail store: {}", settings.mail.describe());
    let mailboxes = if named.is_empty() {
        backend
            .check
            .mailboxes()
            .await
            .map_err(|e| Failure::Other(e.to_string()))?
    } else {
        named.to_vec()
    };
    if mailboxes.is_empty() {
        return Err(Failure::Other(
            "no mailbox to check: name some (airdesk mail check alice@example.test) or give \
             --index-mailboxes"
                .into(),
        ));
    }
    let mut failed = 0;
    for mailbox in &mailboxes {
        println!();
        match backend.check.check(mailbox).await {
            Ok(report) => {
                println!("{mailbox}");
                println!("  transport     {}", report.transport);
                println!("  capabilities  {}", report.capabilities.join(" "));
                println!("  folders       {}", report.folders.join(", "));
                match &report.sieve {
                    Ok(lines) => println!("  sieve         {}", lines.join("; ")),
                    Err(why) => println!("  sieve         unreadable: {why}"),
                }
                for lack in &report.missing {
                    println!("  MISSING       {lack}");
                }
                if !report.missing.is_empty() {
                    failed += 1;
                }
            }
            Err(error) => {
                println!("{mailbox}\n  FAILED        {error}");
                failed += 1;
            }
        }
    }
    println!();
    if failed > 0 {
        return Err(Failure::Other(format!(
            "{failed} of {} mailboxes failed the check",
            mailboxes.len()
        )));
    }
    println!("{} mailboxes checked: all can be reached", mailboxes.len());
    Ok(())
}

/// `audit verify`: walks the chain; a broken one is a failure naming the first bad event.
/// A head someone recorded from `GET /api/v1/audit/head`.
struct RecordedHead<'a> {
    hash: &'a str,
    seq: Option<i64>,
    signature: Option<&'a str>,
}

async fn verify(settings: &Settings, recorded: Option<RecordedHead<'_>>) -> Result<(), Failure> {
    if let Some(RecordedHead {
        hash,
        seq: Some(seq),
        signature: Some(signature),
    }) = &recorded
    {
        let key = settings.audit_key()?.ok_or_else(|| {
            Failure::Other("checking a head's signature needs --audit-key-file".into())
        })?;
        if !audit::head_signed(&key, *seq, hash, signature) {
            return Err(Failure::Other(format!(
                "the signature of head {seq} {hash} is not this key's: the head was not recorded from this server"
            )));
        }
    }
    let db = open_db(settings).await?;
    let walked = audit::walk(&db, recorded.as_ref().map(|r| r.hash)).await?;
    if let Some(event) = walked.broken {
        return Err(Failure::Other(format!(
            "audit chain broken at event {} (id {}, {} {} at {})",
            event.seq, event.id, event.event, event.entity_id, event.at
        )));
    }
    if !walked.head_found {
        let hash = recorded.as_ref().map_or("", |r| r.hash);
        return Err(Failure::Other(format!(
            "audit chain cut short: the recorded head {hash} is not in it (it holds {} events)",
            walked.events
        )));
    }
    match recorded {
        Some(head) => println!(
            "audit chain intact: {} events, the recorded head {} among them",
            walked.events, head.hash
        ),
        None => println!("audit chain intact: {} events", walked.events),
    }
    Ok(())
}

/// Demo mail is written as files: it needs the Maildir store.
fn demo_root(settings: &Settings) -> Result<&std::path::Path, Failure> {
    settings.mail_root().ok_or_else(|| {
        Failure::Other("demo data is written into the Maildir store; drop --imap-url".into())
    })
}
