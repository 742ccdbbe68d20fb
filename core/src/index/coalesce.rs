//! Scans asked for at the same time run once: a user's report of a message the index lacks
//! brings the whole index up to date (the playbook clusters the reported copy with every copy
//! in every mailbox, so all of them must be indexed, not only the reporter's), and fifty
//! reports at once must not make fifty scans. Each caller takes a ticket; a scan that starts
//! after a ticket was taken covers it (the message that caller looks for was delivered before
//! it asked), so a caller whose ticket a finished scan covers waits for nothing more.

use std::sync::atomic::{AtomicU64, Ordering};

use crate::AppState;
use model::AppError;

/// Scans asked for from outside the indexer.
#[derive(Debug, Default)]
pub struct Gate {
    /// The next ticket.
    tickets: AtomicU64,
    /// Every ticket below this is covered by a finished scan.
    covered: AtomicU64,
    /// Held while a scan runs.
    running: tokio::sync::Mutex<()>,
}

/// Brings the index up to date, sharing one scan with every concurrent caller.
pub async fn scan(state: &AppState) -> Result<(), AppError> {
    let gate = &state.report_scans;
    let ticket = gate.tickets.fetch_add(1, Ordering::SeqCst);
    let _turn = gate.running.lock().await;
    if gate.covered.load(Ordering::SeqCst) > ticket {
        return Ok(());
    }
    let covers = gate.tickets.load(Ordering::SeqCst);
    super::scan(state).await?;
    gate.covered.fetch_max(covers, Ordering::SeqCst);
    Ok(())
}
