//! The phish-report mailbox (`--report-mailbox`): employees send or forward suspicious mail
//! there; each message becomes a user report of the original — attached whole, or found in
//! the reporter's own mailbox by what an inline forward names — and is filed into
//! `Processed`, or `Unprocessable` with the reason in the log. Filing is what marks a message
//! read: across restarts and instances nothing is reported twice, and a report read twice
//! before it was filed (two instances at once, a crash between) joins the investigation the
//! first one started, since one reporter counts once per copy.
//!
//! Everything in a report is the sender's to write. The reporter must be a mailbox of the
//! store, and the original must be in that mailbox: a report can only ever point at mail its
//! reporter actually received.

use std::time::Duration;

use mail::parse::report::{read_report, Original, UserReport};

use crate::db::query;
use crate::index::{self, IndexedMessage};
use crate::investigations::playbook::reports::{self, Reported};
use crate::AppState;
use model::{message_id, AppError};

/// Where handled reports go.
pub const PROCESSED: &str = "Processed";
/// Where reports that cannot be read or matched go.
pub const UNPROCESSABLE: &str = "Unprocessable";

/// How the report mailbox is read.
#[derive(Debug, Clone)]
pub struct IntakeConfig {
    /// The mailbox employees send reports to.
    pub mailbox: String,
    /// How often it is read.
    pub every: Duration,
    /// Reports larger than this are Unprocessable (an attached original is read whole).
    pub max_bytes: u64,
    /// Reports read per round.
    pub batch: usize,
}

impl IntakeConfig {
    pub fn new(mailbox: &str) -> Self {
        IntakeConfig {
            mailbox: mailbox.trim().to_ascii_lowercase(),
            every: Duration::from_secs(15),
            max_bytes: 25 * 1024 * 1024,
            batch: 100,
        }
    }
}

/// What one round did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Round {
    /// Reports that started an investigation.
    pub started: usize,
    /// Reports that joined an investigation already covering the reported copy.
    pub joined: usize,
    pub unprocessable: usize,
    /// Left in the inbox for the next round (the reporter's quota, the database away).
    pub deferred: usize,
}

/// What became of one report.
#[derive(Debug)]
enum Fate {
    Reported(Reported),
    Unprocessable(String),
    Deferred(AppError),
}

/// Reads what waits in the report mailbox once.
#[tracing::instrument(skip_all, fields(mailbox = %config.mailbox))]
pub async fn process(state: &AppState, config: &IntakeConfig) -> Result<Round, AppError> {
    let waiting = state
        .mail
        .intake
        .waiting(&config.mailbox, config.batch, config.max_bytes + 1)
        .await
        .map_err(|e| {
            crate::metrics::connector_error(
                state.mail.kind,
                "intake",
                crate::metrics::store_error_kind(&e),
            );
            tracing::warn!(error = %e, "cannot read the report mailbox");
            AppError::Internal
        })?;
    let mut round = Round::default();
    for message in waiting {
        let fate = if message.size > config.max_bytes {
            Fate::Unprocessable(format!("larger than {} bytes", config.max_bytes))
        } else {
            match read_report(&message.raw) {
                Ok(report) => handle(state, config, report).await,
                Err(why) => Fate::Unprocessable(why.to_string()),
            }
        };
        let folder = match &fate {
            Fate::Reported(reported) => {
                if reported.joined {
                    round.joined += 1;
                } else {
                    round.started += 1;
                }
                tracing::info!(
                    investigation_id = reported.investigation_id,
                    joined = reported.joined,
                    "report from the mailbox"
                );
                PROCESSED
            }
            Fate::Unprocessable(reason) => {
                round.unprocessable += 1;
                tracing::warn!(handle = message.handle, reason, "report unprocessable");
                UNPROCESSABLE
            }
            Fate::Deferred(error) => {
                round.deferred += 1;
                tracing::info!(handle = message.handle, %error, "report left for the next round");
                continue;
            }
        };
        if let Err(error) = state
            .mail
            .intake
            .file(&config.mailbox, &message.handle, folder)
            .await
        {
            // Read again next round: it joins what this one started.
            tracing::warn!(%error, "cannot file a handled report; it will be read again");
        }
    }
    Ok(round)
}

/// Finds the reported copy and reports it.
async fn handle(state: &AppState, config: &IntakeConfig, report: UserReport) -> Fate {
    let reporter = report.reporter;
    if reporter == config.mailbox {
        return Fate::Unprocessable("sent by the report mailbox itself".into());
    }
    match index::is_indexed(state, &reporter).await {
        Ok(true) => {}
        Ok(false) => {
            return Fate::Unprocessable(format!(
                "the reporter {reporter:?} is not a mailbox of the store"
            ))
        }
        Err(error) => return Fate::Deferred(error),
    }
    let found = match &report.original {
        Original::Attached {
            internet_message_id,
            content_sha256,
        } => {
            reports::reported_message(state, &reporter, internet_message_id, Some(content_sha256))
                .await
        }
        Original::Inline {
            message_ids,
            from,
            subject,
            date,
        } => {
            by_forwarded_headers(
                state,
                &reporter,
                message_ids,
                from.as_deref(),
                subject.as_deref(),
                *date,
            )
            .await
        }
    };
    let message = match found {
        Ok(message) => message,
        Err(AppError::NotFound(_)) | Err(AppError::Invalid(_)) => {
            return Fate::Unprocessable(format!(
                "the reported original is not in {reporter}'s mailbox"
            ))
        }
        Err(error) => return Fate::Deferred(error),
    };
    match reports::report_by_mail(state, &reporter, message).await {
        Ok(reported) => Fate::Reported(reported),
        Err(error) => Fate::Deferred(error),
    }
}

/// The copy an inline forward names: by a Message-ID it refers to, else by the forwarded
/// block's sender and subject — of the copies in the reporter's mailbox that match, the one
/// received nearest the block's date (the latest, without one).
async fn by_forwarded_headers(
    state: &AppState,
    reporter: &str,
    message_ids: &[String],
    from: Option<&str>,
    subject: Option<&str>,
    date: Option<chrono::DateTime<chrono::Utc>>,
) -> Result<IndexedMessage, AppError> {
    for id in message_ids {
        match reports::reported_message(state, reporter, id, None).await {
            Ok(message) => return Ok(message),
            Err(AppError::NotFound(_)) | Err(AppError::Invalid(_)) => {}
            Err(error) => return Err(error),
        }
    }
    let (Some(from), Some(subject)) = (from, subject) else {
        return Err(AppError::NotFound("the forwarded original".into()));
    };
    let find = || async {
        query(
            "SELECT internet_message_id, received_at FROM messages
             WHERE mailbox = $1 AND sender = $2 AND subject = $3
             ORDER BY received_at DESC, id DESC LIMIT 50",
        )
        .bind(reporter)
        .bind(from)
        .bind(subject.trim())
        .fetch_all::<(String, chrono::DateTime<chrono::Utc>)>(&state.db)
        .await
    };
    let mut candidates = find().await?;
    if candidates.is_empty() {
        index::coalesce::scan(state).await?;
        candidates = find().await?;
    }
    // The one received nearest the forwarded Date, or the latest.
    let chosen = match date {
        Some(date) => candidates
            .iter()
            .min_by_key(|(_, at)| (*at - date).num_seconds().abs()),
        None => candidates.first(),
    };
    let (id, _) = chosen.ok_or_else(|| AppError::NotFound("the forwarded original".into()))?;
    reports::reported_message(state, reporter, &message_id::bracketed(id), None).await
}

/// Reads the report mailbox every `config.every`, for as long as the server runs.
pub async fn run(state: AppState, config: IntakeConfig) {
    let mut tick = tokio::time::interval(config.every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        match process(&state, &config).await {
            Ok(round) if round != Round::default() => tracing::info!(?round, "report mailbox read"),
            Ok(_) => {}
            Err(error) => tracing::warn!(%error, "report mailbox round failed; next try soon"),
        }
    }
}
