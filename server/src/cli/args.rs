//! The command line's flags and subcommands, each flag also an `AIRDESK_*` variable.

use std::net::SocketAddr;

use clap::{Args, Subcommand, ValueEnum};

use airdesk_core::actions::ExecutionConfig;
use model::{Role, Scope};

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

impl ExecutionArgs {
    pub fn config(&self) -> ExecutionConfig {
        ExecutionConfig {
            workers: self.workers,
            lease: self.job_lease,
            attempts: self.job_attempts.max(1),
            backoff: self.retry_backoff,
            batch: self.job_batch.max(1),
            parallel_mailboxes: self.parallel_mailboxes.max(1),
            ..ExecutionConfig::default()
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the portal and the REST API.
    Serve(Box<ServeArgs>),
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
    /// The approval policy.
    #[command(subcommand)]
    Policy(PolicyCommand),
    /// The mail store.
    #[command(subcommand)]
    Mail(MailCommand),
}

#[derive(Debug, Subcommand)]
pub enum MailCommand {
    /// Connect, sign in as each mailbox, and report how (TLS or not), what the server offers
    /// (IMAP and Sieve capabilities) and the folders it shows, changing nothing. Fails if a
    /// mailbox cannot be opened or the server lacks what airdesk needs.
    Check {
        /// Mailboxes to check; by default those of --index-mailboxes (IMAP) or every mailbox
        /// of the Maildir tree.
        mailboxes: Vec<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum PolicyCommand {
    /// Replay the recorded actions against a policy file, changing nothing: per rule, how many
    /// it would have approved, held for one or two approvals, or forbidden, and where it
    /// disagrees with what people decided.
    Test {
        file: std::path::PathBuf,
        /// How far back to replay.
        #[arg(long, default_value = "30d", value_parser = humantime::parse_duration)]
        since: std::time::Duration,
    },
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
    /// Mark the session cookie Secure and send HSTS: browsers then send the cookie over HTTPS
    /// only. On by default unless --listen is a loopback address (where a TLS proxy in front,
    /// or a browser on the same machine, talks plain HTTP); `--secure-cookies false` turns it
    /// off elsewhere, for a proxy that forwards plain HTTP over a private network.
    #[arg(long, env = "AIRDESK_SECURE_COOKIES", num_args = 0..=1, default_missing_value = "true")]
    pub secure_cookies: Option<bool>,
    /// A reverse proxy in front (repeatable, or comma-separated in the environment): for
    /// requests from it, the client address that sign-in throttling counts is the last one in
    /// X-Forwarded-For that is not itself a trusted proxy. Requests from anywhere else are
    /// counted by their own address, whatever they claim.
    #[arg(
        long = "trusted-proxy",
        env = "AIRDESK_TRUSTED_PROXIES",
        value_delimiter = ','
    )]
    pub trusted_proxies: Vec<std::net::IpAddr>,
    #[command(flatten)]
    pub execution: ExecutionArgs,
    #[command(flatten)]
    pub events: super::events::EventArgs,
    #[command(flatten)]
    pub sign_in: super::sign_in_args::SignInArgs,
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
    /// Lift the sign-in backoff on NAME (from every address) and forget its failed sign-ins.
    Unlock { name: String },
    /// Every user: name, role, enabled or disabled, created.
    List,
    /// Give NAME another role; their open sessions and tokens act with it from their next
    /// request. The last enabled admin keeps theirs.
    Role {
        name: String,
        #[arg(value_enum)]
        role: RoleArg,
    },
    /// Disable NAME: they cannot sign in, and their open sessions and tokens are refused from
    /// their next request. Their history stays. The last enabled admin cannot be disabled.
    Disable { name: String },
    /// Enable NAME again (their tokens that are not revoked or expired work again).
    Enable { name: String },
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
    /// Create a bearer token acting as user NAME and print it (it is stored hashed). It can do
    /// only what both its scopes and the user's role allow.
    Create {
        name: String,
        /// A label to recognise the token by.
        #[arg(long, default_value = "cli")]
        label: String,
        /// What it may do: read, ingest, decide (includes read), admin (everything the role
        /// allows). Repeat for several. Without any, every scope (with a warning), as tokens
        /// were before scopes existed.
        #[arg(long = "scope", value_enum)]
        scopes: Vec<ScopeArg>,
        /// Refuse it after this long (30d, 12h); never, if not given.
        #[arg(long, value_parser = humantime::parse_duration)]
        expires: Option<std::time::Duration>,
    },
    /// Every token: id, user, label, scopes, created, expires, last used, revoked.
    List,
    /// Refuse a token from now on (its row stays, for the audit trail).
    Revoke { id: String },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ScopeArg {
    Read,
    Ingest,
    Decide,
    Admin,
}

impl From<ScopeArg> for Scope {
    fn from(scope: ScopeArg) -> Self {
        match scope {
            ScopeArg::Read => Scope::Read,
            ScopeArg::Ingest => Scope::Ingest,
            ScopeArg::Decide => Scope::Decide,
            ScopeArg::Admin => Scope::Admin,
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum DemoCommand {
    /// Seed an empty database with demo users, mailboxes, incidents and pending actions.
    Seed(DemoOptions),
}

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Check the audit trail's hash chain; name the first broken event. With --head, also
    /// that the event of a head recorded earlier (GET /api/v1/audit/head) is still in it — a
    /// trail cut off after that head fails — and, with --signature and --audit-key-file, that
    /// this server signed that head.
    Verify {
        /// The hash of a recorded head.
        #[arg(long)]
        head: Option<String>,
        /// The recorded head's seq (needed to check its signature).
        #[arg(long, requires = "head")]
        seq: Option<i64>,
        /// The recorded head's signature.
        #[arg(long, requires_all = ["head", "seq"])]
        signature: Option<String>,
    },
}
