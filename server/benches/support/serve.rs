//! What the benchmarks share: the release `airdesk serve` started on a database as its own
//! process (stopped when dropped), and its peak memory.

use std::io::BufRead;
use std::path::Path;
use std::process::{Child, Command, Stdio};

/// A running `airdesk serve`.
pub struct Server {
    pub child: Child,
    /// `http://127.0.0.1:port`, as the server printed it.
    pub base: String,
}

/// Starts `airdesk serve` on a free loopback port with these extra flags; returns once it
/// listens.
pub fn serve(url: &str, mail_root: &Path, extra: &[&str]) -> Server {
    let mut child = Command::new(env!("CARGO_BIN_EXE_airdesk"))
        .args(["serve", "--listen", "127.0.0.1:0", "--database-url", url])
        .args(extra)
        .arg("--mail-root")
        .arg(mail_root)
        // AIRDESK_BENCH_LOG sets the server's log filter (`warn,sqlx::query=debug` logs
        // every statement with its time, to see where a writer's time goes).
        .env(
            "AIRDESK_LOG",
            std::env::var("AIRDESK_BENCH_LOG").unwrap_or_else(|_| "warn".into()),
        )
        .stdout(Stdio::piped())
        .spawn()
        .expect("airdesk starts");
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let base = line
        .trim()
        .trim_start_matches("airdesk listening on ")
        .to_string();
    Server { child, base }
}

impl Server {
    /// The process's peak resident memory so far (VmHWM), as the kernel says it.
    pub fn peak_memory(&self) -> String {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .unwrap_or_default();
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .map_or_else(|| "unknown".to_string(), |v| v.trim().to_string())
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A size from the environment, or the default.
pub fn env(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// A new database on the PostgreSQL server at `server` (AIRDESK_BENCH_POSTGRES); answers its URL.
pub async fn fresh_postgres(server: &str) -> String {
    use sqlx::Connection;
    let name = format!("bench_{}", std::process::id());
    let mut conn = sqlx::PgConnection::connect(server)
        .await
        .expect("PostgreSQL");
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&mut conn)
        .await
        .unwrap();
    let mut url = reqwest::Url::parse(server).unwrap();
    url.set_path(&name);
    url.to_string()
}

/// Creates the user `name` with this role and a bearer token with every scope; returns the
/// token.
pub async fn user_with_token(db: &airdesk_core::db::Db, name: &str, role: model::Role) -> String {
    let bench = model::Actor::User("bench".into());
    let username = model::Username::parse(name).unwrap();
    airdesk_core::users::create(db, &bench, &username, "bench passphrase", role)
        .await
        .unwrap();
    let grant = airdesk_core::tokens::Grant::full("bench");
    airdesk_core::tokens::create(db, &bench, name, &grant)
        .await
        .unwrap()
        .secret
}
