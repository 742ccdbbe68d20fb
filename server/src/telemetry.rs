//! Logs: `tracing` to stderr, filtered by `--log` / `AIRDESK_LOG` (an `EnvFilter` directive).

use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;

pub fn init(directive: &str) {
    let filter = EnvFilter::try_new(directive).unwrap_or_else(|_| EnvFilter::new("info"));
    // A second init (tests start many servers in one process) is harmless: keep the first.
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .try_init();
}
