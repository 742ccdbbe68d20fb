//! The policy in force, and its reloading: on SIGHUP and when the file changes, the file is
//! read and checked whole; a valid one replaces the policy at once, an invalid one is refused
//! with its line and reason and the previous policy stays in force. Every load and every
//! refusal is audited with the policy's hash.

use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use sha2::{Digest, Sha256};

use super::{Policy, PolicyError};
use crate::audit::{self, Event};
use crate::db::Db;
use model::{Actor, AppError, SystemTask};

/// Shared by every part of an instance that decides or proposes.
#[derive(Debug)]
pub struct PolicyHolder {
    current: RwLock<Arc<Policy>>,
    /// The file it came from, if any.
    path: Option<PathBuf>,
    /// The last refusal, so a broken file is reported once, not at every look.
    last_refused: std::sync::Mutex<Option<String>>,
    /// The hash the watcher read last time it looked.
    last_seen: std::sync::Mutex<Option<String>>,
}

impl Default for PolicyHolder {
    fn default() -> Self {
        PolicyHolder {
            current: RwLock::new(Arc::new(Policy::builtin())),
            path: None,
            last_refused: Default::default(),
            last_seen: Default::default(),
        }
    }
}

/// How often the file is looked at for changes (besides SIGHUP).
const POLL: Duration = Duration::from_secs(1);

impl PolicyHolder {
    /// Reads the policy file; at start an invalid one stops the instance (with the line and
    /// reason), since running on some other policy than the operator wrote is not safe.
    pub fn from_file(path: &Path) -> Result<PolicyHolder, PolicyError> {
        let policy = Policy::parse(&read(path)?, &path.display().to_string())?;
        Ok(PolicyHolder {
            current: RwLock::new(Arc::new(policy)),
            path: Some(path.to_owned()),
            last_refused: Default::default(),
            last_seen: Default::default(),
        })
    }

    /// The policy in force now.
    pub fn current(&self) -> Arc<Policy> {
        self.current
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }

    /// Reads the file again (SIGHUP: the operator says it is complete). A valid, changed
    /// policy replaces the one in force; an invalid one is refused and the one in force stays.
    /// Both are audited; an unchanged file is not.
    pub async fn reload(&self, db: &Db) -> Result<bool, AppError> {
        self.reload_if(db, |_| true).await
    }

    /// What the watcher does every second: a changed file is taken only once it reads the
    /// same on two looks in a row, so a file caught half-written by an editor that does not
    /// replace it atomically (a shorter, still valid policy, say) is never put in force.
    async fn look(&self, db: &Db) -> Result<bool, AppError> {
        self.reload_if(db, |hash| {
            let mut seen = self.last_seen.lock().unwrap_or_else(|p| p.into_inner());
            let stable = seen.as_deref() == Some(hash);
            *seen = Some(hash.to_owned());
            stable
        })
        .await
    }

    async fn reload_if(&self, db: &Db, stable: impl Fn(&str) -> bool) -> Result<bool, AppError> {
        let Some(path) = &self.path else {
            return Ok(false);
        };
        let before = self.current();
        let candidate = read(path).and_then(|text| {
            let hash = hex::encode(Sha256::digest(text.as_bytes()));
            if hash == before.hash() || !stable(&hash) {
                return Ok(None);
            }
            Policy::parse(&text, &path.display().to_string()).map(Some)
        });
        let (event, after, outcome) = match candidate {
            Ok(None) => return Ok(false),
            Ok(Some(policy)) => {
                let after = serde_json::json!({"hash": policy.hash(), "rules": policy.rules.len()});
                tracing::info!(path = %path.display(), hash = policy.hash(), "policy reloaded");
                *self
                    .current
                    .write()
                    .unwrap_or_else(|poisoned| poisoned.into_inner()) = Arc::new(policy);
                *self.last_refused.lock().unwrap_or_else(|p| p.into_inner()) = None;
                ("policy_reloaded", after, true)
            }
            Err(error) => {
                if !self.first_refusal(&error) {
                    return Ok(false);
                }
                tracing::error!(path = %path.display(), %error, "policy file refused; the previous policy stays in force");
                let after =
                    serde_json::json!({"refused": error.to_string(), "in_force": before.hash()});
                ("policy_refused", after, false)
            }
        };
        let before = serde_json::json!({"hash": before.hash()});
        let origin = path.to_str().unwrap_or("policy");
        audited(db, origin, event, Some(before), after).await?;
        Ok(outcome)
    }

    /// Audits the policy this instance starts with.
    pub async fn record_start(&self, db: &Db) -> Result<(), AppError> {
        let policy = self.current();
        let after = serde_json::json!({"hash": policy.hash(), "rules": policy.rules.len()});
        audited(db, policy.origin(), "policy_loaded", None, after).await
    }

    /// Reloads on SIGHUP and whenever the file's contents change, until the runtime ends.
    pub fn watch(self: Arc<Self>, db: Db) {
        if self.path.is_none() {
            return;
        }
        tokio::spawn(async move {
            let mut hangup = match tokio::signal::unix::signal(
                tokio::signal::unix::SignalKind::hangup(),
            ) {
                Ok(signal) => Some(signal),
                Err(error) => {
                    tracing::warn!(%error, "no SIGHUP handler; the policy file is still watched");
                    None
                }
            };
            let mut poll = tokio::time::interval(POLL);
            loop {
                let hangup_now = tokio::select! {
                    _ = poll.tick() => false,
                    Some(()) = async { match &mut hangup { Some(h) => h.recv().await, None => None } } => {
                        tracing::info!("SIGHUP: reading the policy file again");
                        true
                    }
                };
                let reloaded = match hangup_now {
                    true => self.reload(&db).await,
                    false => self.look(&db).await,
                };
                if let Err(error) = reloaded {
                    tracing::error!(?error, "policy reload could not be recorded");
                }
            }
        });
    }
}

impl PolicyHolder {
    /// Whether this refusal is news: the same broken file is reported once, not at every look.
    fn first_refusal(&self, error: &PolicyError) -> bool {
        let key = error.to_string();
        let mut last = self.last_refused.lock().unwrap_or_else(|p| p.into_inner());
        if last.as_deref() == Some(key.as_str()) {
            return false;
        }
        *last = Some(key);
        true
    }
}

/// One audit event about the policy, in a transaction of its own.
async fn audited(
    db: &Db,
    origin: &str,
    event: &'static str,
    before: Option<serde_json::Value>,
    after: serde_json::Value,
) -> Result<(), AppError> {
    let mut tx = db.write().await?;
    audit::record(
        &mut tx,
        Event {
            actor: &Actor::System(SystemTask::Policy),
            entity_kind: "policy",
            entity_id: origin,
            event,
            before,
            after: Some(after),
        },
    );
    tx.commit().await?;
    Ok(())
}

fn read(path: &Path) -> Result<String, PolicyError> {
    let text = std::fs::read(path).map_err(|error| PolicyError {
        line: None,
        reason: format!("cannot read {}: {error}", path.display()),
    })?;
    if text.len() > super::file::MAX_BYTES {
        return Err(PolicyError {
            line: None,
            reason: format!(
                "{} is over {} bytes",
                path.display(),
                super::file::MAX_BYTES
            ),
        });
    }
    let text = String::from_utf8(text).map_err(|_| PolicyError {
        line: None,
        reason: format!("{} is not UTF-8", path.display()),
    })?;
    // An empty file is far more often one being written than a wish for the defaults (say
    // those with a `[defaults]` line): refused, so a policy is never dropped by accident.
    if text.trim().is_empty() {
        return Err(PolicyError {
            line: None,
            reason: format!(
                "{} is empty; write [defaults] for the built-in defaults",
                path.display()
            ),
        });
    }
    Ok(text)
}
