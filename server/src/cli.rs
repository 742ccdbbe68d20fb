//! The command line: every flag also an `AIRDESK_*` environment variable, every failure one
//! line on stderr and a non-zero exit.

use std::io::BufRead;
use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use app::model::{Role, Username};
use app::server::{audit, tokens, users};

use crate::config::{check_mail_root, Settings};
use crate::demo;
use crate::execution::ExecutionConfig;
use crate::mail::imap::ImapSettings;
use crate::mail::Folders;
use crate::startup::{open_state, shutdown_signal, Application, Failure};

/// Who the command line acts as in the audit trail.
const CLI_ACTOR: &str = "cli";

#[derive(Debug, Parser)]
#[command(
    name = "airdesk",
    version,
    about = "Action center for automated investigation and response on email"
)]
pub struct Cli {
    /// Database URL (SQLite file; created if missing).
    #[arg(
        long,
        global = true,
        env = "AIRDESK_DATABASE_URL",
        default_value = "sqlite://airdesk.db"
    )]
    pub database_url: String,
    /// Folder holding one Maildir++ per mailbox.
    #[arg(
        long,
        global = true,
        env = "AIRDESK_MAIL_ROOT",
        default_value = "./mail"
    )]
    pub mail_root: PathBuf,
    /// The organisation's mail domains, comma-separated: forwarding elsewhere is external.
    #[arg(
        long,
        global = true,
        env = "AIRDESK_INTERNAL_DOMAINS",
        value_delimiter = ','
    )]
    pub internal_domains: Vec<String>,
    /// Approvals of one type on one cluster this close together are duplicates (e.g. 1h, 90m, 2s).
    #[arg(long, global = true, env = "AIRDESK_DEDUP_WINDOW", default_value = "1h", value_parser = humantime::parse_duration)]
    pub dedup_window: std::time::Duration,
    /// Pending actions not decided within this long expire (e.g. 7d, 12h, 2s).
    #[arg(long, global = true, env = "AIRDESK_PENDING_EXPIRY", default_value = "7d", value_parser = humantime::parse_duration)]
    pub pending_expiry: std::time::Duration,
    /// How far back the playbook's email clusters reach (e.g. 30d).
    #[arg(long, global = true, env = "AIRDESK_LOOKBACK", default_value = "30d", value_parser = humantime::parse_duration)]
    pub lookback: std::time::Duration,
    /// Reports by this many different users make a cluster Suspicious.
    #[arg(
        long,
        global = true,
        env = "AIRDESK_REPORTS_FOR_SUSPICIOUS",
        default_value_t = 2
    )]
    pub reports_for_suspicious: usize,
    /// A failing sender domain within this many edits of an internal domain is a look-alike.
    #[arg(
        long,
        global = true,
        env = "AIRDESK_LOOKALIKE_DISTANCE",
        default_value_t = 2
    )]
    pub lookalike_distance: usize,
    /// How often `serve` brings the message index up to date (0 turns it off).
    #[arg(long, global = true, env = "AIRDESK_INDEX_INTERVAL", default_value = "5s", value_parser = humantime::parse_duration)]
    pub index_interval: std::time::Duration,
    /// Messages larger than this many bytes are indexed from their headers only.
    #[arg(long, global = true, env = "AIRDESK_INDEX_MAX_BODY", default_value_t = 32 * 1024 * 1024)]
    pub index_max_body: u64,
    /// Over IMAP: a file naming the mailboxes to index, one address per line.
    #[arg(long, global = true, env = "AIRDESK_INDEX_MAILBOXES")]
    pub index_mailboxes: Option<PathBuf>,
    /// Threat indicators to load at start: a JSON array of {kind, value, verdict, expires_at}.
    #[arg(long, global = true, env = "AIRDESK_INDICATORS_FILE")]
    pub indicators_file: Option<PathBuf>,
    /// Log filter, e.g. `info` or `airdesk=debug,sqlx=warn`.
    #[arg(
        long,
        global = true,
        env = "AIRDESK_LOG",
        default_value = "info,sqlx=warn"
    )]
    pub log: String,
    #[command(flatten)]
    pub folders: FolderArgs,
    #[command(flatten)]
    pub imap: ImapArgs,
    #[command(subcommand)]
    pub command: Command,
}

/// The folder names actions move mail between.
#[derive(Debug, Args)]
pub struct FolderArgs {
    #[arg(
        long,
        global = true,
        env = "AIRDESK_INBOX_FOLDER",
        default_value = "INBOX"
    )]
    pub inbox_folder: String,
    #[arg(
        long,
        global = true,
        env = "AIRDESK_JUNK_FOLDER",
        default_value = "Junk"
    )]
    pub junk_folder: String,
    #[arg(
        long,
        global = true,
        env = "AIRDESK_DELETED_ITEMS_FOLDER",
        default_value = "Deleted Items"
    )]
    pub deleted_items_folder: String,
    /// Where soft-deleted mail waits, restorable.
    #[arg(
        long,
        global = true,
        env = "AIRDESK_RECOVERABLE_ITEMS_FOLDER",
        default_value = "Recoverable Items"
    )]
    pub recoverable_items_folder: String,
}

/// A remote IMAP server instead of the local Maildir tree.
#[derive(Debug, Args)]
pub struct ImapArgs {
    /// IMAP server, e.g. imap://127.0.0.1:143; when set it replaces the maildir connector.
    #[arg(long, global = true, env = "AIRDESK_IMAP_URL")]
    pub imap_url: Option<String>,
    /// The service account that may open every mailbox (with Dovecot, a master user).
    #[arg(long, global = true, env = "AIRDESK_IMAP_USER")]
    pub imap_user: Option<String>,
    /// File holding the service account's password (first line).
    #[arg(long, global = true, env = "AIRDESK_IMAP_PASSWORD_FILE")]
    pub imap_password_file: Option<PathBuf>,
    /// Joins mailbox and service account in the login name: `alice@example.test*admin`.
    #[arg(
        long,
        global = true,
        env = "AIRDESK_IMAP_MASTER_SEPARATOR",
        default_value = "*"
    )]
    pub imap_master_separator: String,
    /// Most connections open to the IMAP server at once.
    #[arg(
        long,
        global = true,
        env = "AIRDESK_IMAP_CONNECTIONS",
        default_value_t = 8
    )]
    pub imap_connections: usize,
    /// ManageSieve server for forwarding rules, e.g. sieve://127.0.0.1:4190.
    #[arg(long, global = true, env = "AIRDESK_MANAGESIEVE_URL")]
    pub managesieve_url: Option<String>,
}

impl ImapArgs {
    /// The IMAP settings, if an IMAP server is named; a clear line for what is missing.
    fn settings(&self) -> Result<Option<ImapSettings>, String> {
        let Some(url) = &self.imap_url else {
            return Ok(None);
        };
        let address = ImapSettings::address_of(url, "imap")?;
        let user = self
            .imap_user
            .clone()
            .ok_or("--imap-url needs --imap-user (the service account)")?;
        let file = self
            .imap_password_file
            .as_ref()
            .ok_or("--imap-url needs --imap-password-file")?;
        let password = std::fs::read_to_string(file)
            .map_err(|e| format!("cannot read the IMAP password file {}: {e}", file.display()))?
            .lines()
            .next()
            .unwrap_or_default()
            .to_string();
        let managesieve = self
            .managesieve_url
            .as_deref()
            .map(|url| ImapSettings::address_of(url, "sieve"))
            .transpose()?;
        Ok(Some(ImapSettings {
            address,
            user,
            password,
            master_separator: self.imap_master_separator.clone(),
            managesieve,
            max_connections: self.imap_connections.max(1),
            timeout: std::time::Duration::from_secs(30),
            fetch_all_up_to: crate::mail::imap::FETCH_ALL_UP_TO,
        }))
    }
}

/// How approved actions are carried out.
#[derive(Debug, Args)]
pub struct ExecutionArgs {
    /// Execution workers in this process; 0 serves only (other instances sharing the database
    /// carry actions out).
    #[arg(long, env = "AIRDESK_WORKERS", default_value_t = 2)]
    pub workers: usize,
    /// How long a worker's claim on a job holds before another may take it over.
    #[arg(long, env = "AIRDESK_JOB_LEASE", default_value = "60s", value_parser = humantime::parse_duration)]
    pub job_lease: std::time::Duration,
    /// Tries before an action whose mail store cannot be reached is Failed.
    #[arg(long, env = "AIRDESK_JOB_ATTEMPTS", default_value_t = 5)]
    pub job_attempts: u32,
    /// Wait before the first retry; it doubles with each try (up to 10 minutes).
    #[arg(long, env = "AIRDESK_RETRY_BACKOFF", default_value = "2s", value_parser = humantime::parse_duration)]
    pub retry_backoff: std::time::Duration,
    /// Messages of one mailbox found, moved and recorded together.
    #[arg(long, env = "AIRDESK_JOB_BATCH", default_value_t = 500)]
    pub job_batch: usize,
    /// Mailboxes of one job worked on at once.
    #[arg(long, env = "AIRDESK_PARALLEL_MAILBOXES", default_value_t = 4)]
    pub parallel_mailboxes: usize,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the portal and the REST API.
    Serve(ServeArgs),
    /// Apply database migrations and exit.
    Migrate,
    /// Manage users.
    #[command(subcommand)]
    User(UserCommand),
    /// Manage API tokens.
    #[command(subcommand)]
    Token(TokenCommand),
    /// Demo data.
    #[command(subcommand)]
    Demo(DemoCommand),
    /// The audit trail.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Index every message of the Maildir store once (later runs read only what changed).
    Scan,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "AIRDESK_LISTEN", default_value = "127.0.0.1:3000")]
    pub listen: SocketAddr,
    /// Seed demo data first if the database has no users.
    #[arg(long, env = "AIRDESK_DEMO")]
    pub demo: bool,
    #[command(flatten)]
    pub demo_options: DemoOptions,
    /// Largest request body accepted, in bytes.
    #[arg(long, env = "AIRDESK_BODY_LIMIT", default_value_t = 1024 * 1024)]
    pub body_limit: usize,
    /// Mark the session cookie Secure (set this when serving over HTTPS).
    #[arg(long, env = "AIRDESK_SECURE_COOKIES")]
    pub secure_cookies: bool,
    #[command(flatten)]
    pub execution: ExecutionArgs,
}

#[derive(Debug, Args)]
pub struct DemoOptions {
    /// Password for the demo users (random if not given; printed either way).
    #[arg(long, env = "AIRDESK_DEMO_PASSWORD")]
    pub demo_password: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Add a user; the password is read from the first line of standard input.
    Add {
        name: String,
        #[arg(long, value_enum)]
        role: RoleArg,
        /// Read the password from standard input (required: passwords never go in arguments).
        #[arg(long, required = true)]
        password_stdin: bool,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum RoleArg {
    Reader,
    SearchAndPurge,
    Admin,
}

impl From<RoleArg> for Role {
    fn from(role: RoleArg) -> Self {
        match role {
            RoleArg::Reader => Role::Reader,
            RoleArg::SearchAndPurge => Role::SearchAndPurge,
            RoleArg::Admin => Role::Admin,
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Create a bearer token acting as user NAME and print it (it is stored hashed).
    Create {
        name: String,
        /// A label to recognise the token by.
        #[arg(long, default_value = "cli")]
        label: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum DemoCommand {
    /// Seed an empty database with demo users, mailboxes, incidents and pending actions.
    Seed(DemoOptions),
}

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Check the audit trail's hash chain; name the first broken event.
    Verify,
}

impl Cli {
    /// Parses the arguments; a bad flag is one line on stderr and exit code 2.
    pub fn parse() -> Self {
        match <Self as Parser>::try_parse() {
            Ok(cli) => cli,
            Err(error) => match error.kind() {
                clap::error::ErrorKind::DisplayHelp
                | clap::error::ErrorKind::DisplayVersion
                | clap::error::ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => error.exit(),
                _ => {
                    // clap's message is several lines (error, tip, usage): keep the error, on one.
                    let text = error.to_string();
                    let first = text.split("\n\n").next().unwrap_or("bad arguments");
                    let line = first.split_whitespace().collect::<Vec<_>>().join(" ");
                    eprintln!(
                        "airdesk: {} (see airdesk --help)",
                        line.trim_start_matches("error: ")
                    );
                    std::process::exit(2);
                }
            },
        }
    }

    fn settings(&self, serve: Option<&ServeArgs>) -> Result<Settings, String> {
        let defaults = ExecutionConfig::default();
        Ok(Settings {
            listen: serve.map_or(SocketAddr::from(([127, 0, 0, 1], 3000)), |s| s.listen),
            database_url: self.database_url.clone(),
            mail_root: self.mail_root.clone(),
            internal_domains: self
                .internal_domains
                .iter()
                .map(|d| d.trim().to_ascii_lowercase())
                .filter(|d| !d.is_empty())
                .collect(),
            dedup_window: self.dedup_window,
            pending_expiry: self.pending_expiry,
            body_limit: serve.map_or(1024 * 1024, |s| s.body_limit),
            secure_cookies: serve.is_some_and(|s| s.secure_cookies),
            folders: Folders {
                inbox: self.folders.inbox_folder.clone(),
                junk: self.folders.junk_folder.clone(),
                deleted_items: self.folders.deleted_items_folder.clone(),
                recoverable_items: self.folders.recoverable_items_folder.clone(),
            },
            execution: match serve {
                Some(s) => ExecutionConfig {
                    workers: s.execution.workers,
                    lease: s.execution.job_lease,
                    attempts: s.execution.job_attempts.max(1),
                    backoff: s.execution.retry_backoff,
                    batch: s.execution.job_batch.max(1),
                    parallel_mailboxes: s.execution.parallel_mailboxes.max(1),
                    ..defaults
                },
                None => defaults,
            },
            imap: self.imap.settings()?,
            index_interval: Some(self.index_interval).filter(|d| !d.is_zero()),
            index: crate::index::IndexConfig {
                max_body_bytes: self.index_max_body,
                ..Default::default()
            },
            index_mailboxes: match &self.index_mailboxes {
                Some(file) => std::fs::read_to_string(file)
                    .map_err(|e| format!("cannot read the mailbox list {}: {e}", file.display()))?
                    .lines()
                    .map(|l| l.trim().to_ascii_lowercase())
                    .filter(|l| !l.is_empty() && !l.starts_with('#'))
                    .collect(),
                None => Vec::new(),
            },
            playbook: crate::playbook::PlaybookConfig {
                lookback: self.lookback,
                reports_for_suspicious: self.reports_for_suspicious.max(1),
                lookalike_distance: self.lookalike_distance,
                ..Default::default()
            },
            indicators_file: self.indicators_file.clone(),
        })
    }
}

/// Runs the parsed command.
pub async fn run(cli: Cli) -> Result<(), Failure> {
    let defaults = cli.settings(None)?;
    match &cli.command {
        Command::Serve(args) => {
            let settings = cli.settings(Some(args))?;
            let app = Application::build(&settings).await?;
            if args.demo {
                match demo::seed_if_empty(
                    app.state(),
                    &settings.mail_root,
                    args.demo_options.demo_password.clone(),
                )
                .await?
                {
                    Some(logins) => print!("{logins}"),
                    None => println!("Demo: the database already has users; nothing seeded."),
                }
            }
            println!("airdesk listening on http://{}", app.local_addr());
            app.run_until(shutdown_signal()).await
        }
        Command::Scan => {
            let state = open_state(&defaults).await?;
            let (_, indexer) = crate::startup::store_and_indexer(&defaults, &state);
            let started = std::time::Instant::now();
            let report = indexer.scan().await?;
            let took = started.elapsed().as_secs_f64();
            sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
                .execute(&state.pool)
                .await
                .map_err(app::model::AppError::from)?;
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
            Ok(())
        }
        Command::Migrate => {
            open_state(&defaults).await?;
            println!("migrations applied");
            Ok(())
        }
        Command::User(UserCommand::Add { name, role, .. }) => {
            let username = Username::parse(name)?;
            let password = read_password()?;
            let state = open_state(&defaults).await?;
            let user =
                users::create(&state.pool, CLI_ACTOR, &username, &password, (*role).into()).await?;
            println!(
                "user {} added with role {}",
                user.username,
                user.role.label()
            );
            Ok(())
        }
        Command::Token(TokenCommand::Create { name, label }) => {
            let state = open_state(&defaults).await?;
            let token = tokens::create(&state.pool, CLI_ACTOR, name, label).await?;
            println!("{token}");
            Ok(())
        }
        Command::Demo(DemoCommand::Seed(options)) => {
            check_mail_root(&defaults.mail_root)?;
            let state = open_state(&defaults).await?;
            match demo::seed_if_empty(&state, &defaults.mail_root, options.demo_password.clone())
                .await?
            {
                Some(logins) => {
                    print!("{logins}");
                    Ok(())
                }
                None => Err(Failure::Other(
                    "the database already has users; demo seed needs an empty one".into(),
                )),
            }
        }
        Command::Audit(AuditCommand::Verify) => {
            let state = open_state(&defaults).await?;
            match audit::verify(&state.pool).await? {
                None => {
                    println!("audit chain intact");
                    Ok(())
                }
                Some(event) => Err(Failure::Other(format!(
                    "audit chain broken at event {} (id {}, {} {} at {})",
                    event.seq, event.id, event.event, event.entity_id, event.at
                ))),
            }
        }
    }
}

/// The first line of standard input, without its line ending.
fn read_password() -> Result<String, Failure> {
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line).map_err(|e| {
        Failure::Other(format!("cannot read the password from standard input: {e}"))
    })?;
    let password = line.trim_end_matches(['\r', '\n']).to_string();
    if password.is_empty() {
        return Err(Failure::Other("no password on standard input".into()));
    }
    Ok(password)
}
