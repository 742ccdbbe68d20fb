//! Signing in with a password, throttled: per client address by a rate limiter in memory,
//! and per name (from one address, and from all of them) by failures counted in the database
//! with an exponential backoff. Every success and failure is audited; the password never is,
//! and a name that has no account is recorded only as its hash.
//!
//! Why two kinds: the limiter sheds a flood from one address before any hashing or writing
//! (cheap, per instance); the counted failures stop guessing at one account from anywhere,
//! hold on every instance sharing the database, and can be lifted by an operator
//! (`airdesk user unlock`).

use std::net::IpAddr;
use std::time::Duration;

use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};

use crate::audit::{self, Event};
use crate::db::{self, query, Db, Tx};
use crate::limit::Limiter;
use crate::users;
use model::{Actor, AppError, CurrentUser};

/// The address a request came from (the peer, or the client a trusted proxy names), put in
/// the request's extensions by the HTTP layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientAddress(pub IpAddr);

/// Failures of one name from one address before its backoff starts.
const PAIR_THRESHOLD: i64 = 5;
/// Failures of one name from all addresses together before its backoff starts: guessing
/// spread over many addresses still ends, while one noisy address cannot lock the name out
/// for everybody else (it is stopped at [`PAIR_THRESHOLD`] first).
const NAME_THRESHOLD: i64 = 20;
/// The first backoff; each further failure doubles it, up to [`MAX_BACKOFF`].
const FIRST_BACKOFF_SECS: i64 = 2;
const MAX_BACKOFF_SECS: i64 = 15 * 60;
/// Failures older than this, with no backoff running, are forgotten: a person who mistypes
/// a password now and then never reaches a threshold.
const FORGET_AFTER_SECS: i64 = 15 * 60;

/// Sign-in attempts one address may make: a burst, then one every two seconds.
const ADDRESS_BURST: u32 = 30;
const ADDRESS_PERIOD: Duration = Duration::from_secs(2);

/// The per-address limiter, shared by every request an instance serves.
#[derive(Debug)]
pub struct Throttle {
    addresses: Limiter<IpAddr>,
}

impl Default for Throttle {
    fn default() -> Self {
        Throttle {
            addresses: Limiter::new(ADDRESS_BURST, ADDRESS_PERIOD),
        }
    }
}

impl Throttle {
    /// Takes one attempt from `address`'s allowance, or says how long to wait.
    fn admit(&self, address: IpAddr) -> Result<(), AppError> {
        self.addresses
            .admit(&address, || "too many sign-ins from this address".into())
    }
}

fn too_many(retry_after: u64) -> AppError {
    AppError::TooMany {
        what: "too many failed sign-ins".into(),
        retry_after,
    }
}

/// The stored form of a name: SHA-256 of its lower-cased, trimmed text.
fn subject(username: &str) -> String {
    hex::encode(Sha256::digest(username.trim().to_lowercase().as_bytes()))
}

#[derive(sqlx::FromRow)]
struct Failures {
    address: String,
    failures: i64,
    last_failed_at: DateTime<Utc>,
    locked_until: Option<DateTime<Utc>>,
}

/// Signs `username` in with `password` from `address`, or says why not: 429 while a backoff
/// runs (the password is not even checked), 401 for a wrong name or password.
#[tracing::instrument(skip(db, throttle, password))]
pub async fn sign_in(
    db: &Db,
    throttle: &Throttle,
    username: &str,
    password: &str,
    address: IpAddr,
) -> Result<CurrentUser, AppError> {
    throttle.admit(address)?;
    let subject = subject(username);
    let address_text = address.to_string();
    let now = db::now();
    let rows = failures(db, &subject, &address_text).await?;
    if let Some(until) = rows.iter().filter_map(|r| r.locked_until).max() {
        if until > now {
            let wait = (until - now).num_milliseconds().max(0) as u64;
            return Err(too_many(wait.div_ceil(1000).max(1)));
        }
    }
    match users::verify_login(db, username, password).await {
        Ok(user) => {
            succeeded(db, &user, &subject, &address_text).await?;
            Ok(user)
        }
        Err(AppError::BadCredentials) => {
            let locked = failed(db, username, &subject, &address_text).await?;
            match locked {
                Some(retry_after) => Err(too_many(retry_after)),
                None => Err(AppError::BadCredentials),
            }
        }
        Err(other) => Err(other),
    }
}

/// The failures counted against a name from this address and from all.
async fn failures<'a>(
    on: impl Into<db::Target<'a>>,
    subject: &str,
    address: &str,
) -> Result<Vec<Failures>, AppError> {
    Ok(query(
        "SELECT address, failures, last_failed_at, locked_until FROM signin_failures
         WHERE subject = $1 AND (address = $2 OR address = '')",
    )
    .bind(subject)
    .bind(address)
    .fetch_all(on)
    .await?)
}

/// Forgets the failures from this address and audits the sign-in.
async fn succeeded(
    db: &Db,
    user: &CurrentUser,
    subject: &str,
    address: &str,
) -> Result<(), AppError> {
    let mut tx = db.write().await?;
    query("DELETE FROM signin_failures WHERE subject = $1 AND address = $2")
        .bind(subject)
        .bind(address)
        .execute(&mut tx)
        .await?;
    let actor = Actor::from(user);
    audit::record(
        &mut tx,
        Event {
            actor: &actor,
            entity_kind: "user",
            entity_id: &user.id,
            event: "signed_in",
            before: None,
            after: Some(serde_json::json!({"address": address})),
        },
    );
    tx.commit().await?;
    Ok(())
}

/// Counts a failure against the name from this address and from all; starts or lengthens a
/// backoff past a threshold. Returns the seconds to wait if this failure started one.
async fn failed(
    db: &Db,
    username: &str,
    subject: &str,
    address: &str,
) -> Result<Option<u64>, AppError> {
    let account = users::find_by_name(db, username.trim()).await?;
    let mut tx = db.write().await?;
    // Read again under the write lock: concurrent failures each count.
    let seen = failures(&mut tx, subject, address).await?;
    let now = db::now();
    let mut longest = None;
    for (key, threshold) in [(address, PAIR_THRESHOLD), ("", NAME_THRESHOLD)] {
        let before = seen.iter().find(|r| r.address == key);
        let failures = match before {
            Some(row)
                if row.locked_until.is_some()
                    || (now - row.last_failed_at).num_seconds() < FORGET_AFTER_SECS =>
            {
                row.failures + 1
            }
            _ => 1,
        };
        let locked_until = backoff(failures, threshold).map(|secs| {
            longest = longest.max(Some(secs as u64));
            now + chrono::Duration::seconds(secs)
        });
        record_failure(&mut tx, subject, key, failures, now, locked_until).await?;
    }
    // Who tried: the account if there is one; a name without one only as its hash, since
    // people type passwords into the name field.
    let (entity_id, after) = match &account {
        Some(user) => (
            user.id.clone(),
            serde_json::json!({"username": user.username, "address": address, "locked_for_seconds": longest}),
        ),
        None => (
            format!("unknown:{}", &subject[..16]),
            serde_json::json!({"username_sha256": subject, "address": address, "locked_for_seconds": longest}),
        ),
    };
    audit::record(
        &mut tx,
        Event {
            actor: &Actor::System(model::SystemTask::SignIn),
            entity_kind: "user",
            entity_id: &entity_id,
            event: "signin_failed",
            before: None,
            after: Some(after),
        },
    );
    tx.commit().await?;
    Ok(longest)
}

/// The backoff after `failures` failures, past `threshold`: 2 s, 4 s, 8 s … up to 15 min.
fn backoff(failures: i64, threshold: i64) -> Option<i64> {
    let over = failures - threshold;
    (over >= 0).then(|| {
        let doubling = u32::try_from(over.min(20)).unwrap_or(20);
        (FIRST_BACKOFF_SECS << doubling).min(MAX_BACKOFF_SECS)
    })
}

async fn record_failure(
    tx: &mut Tx<'_>,
    subject: &str,
    address: &str,
    failures: i64,
    now: DateTime<Utc>,
    locked_until: Option<DateTime<Utc>>,
) -> Result<(), AppError> {
    query(
        "INSERT INTO signin_failures (subject, address, failures, last_failed_at, locked_until)
         VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (subject, address) DO UPDATE SET failures = excluded.failures,
             last_failed_at = excluded.last_failed_at, locked_until = excluded.locked_until",
    )
    .bind(subject)
    .bind(address)
    .bind(failures)
    .bind(now)
    .bind(locked_until)
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// Lifts every backoff on `username` and forgets its failures (`airdesk user unlock`).
/// Returns whether there was anything to lift.
pub async fn unlock(db: &Db, actor: &Actor, username: &str) -> Result<bool, AppError> {
    let subject = subject(username);
    let account = users::find_by_name(db, username.trim()).await?;
    let mut tx = db.write().await?;
    let cleared = query("DELETE FROM signin_failures WHERE subject = $1")
        .bind(&subject)
        .execute(&mut tx)
        .await?;
    let entity_id = account
        .as_ref()
        .map_or_else(|| format!("unknown:{}", &subject[..16]), |u| u.id.clone());
    audit::record(
        &mut tx,
        Event {
            actor,
            entity_kind: "user",
            entity_id: &entity_id,
            event: "user_unlocked",
            before: None,
            after: Some(serde_json::json!({"username": username.trim(), "rows_cleared": cleared})),
        },
    );
    tx.commit().await?;
    Ok(cleared > 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_backoff_starts_at_the_threshold_doubles_and_stops_growing() {
        assert_eq!(backoff(4, 5), None);
        assert_eq!(backoff(5, 5), Some(2));
        assert_eq!(backoff(6, 5), Some(4));
        assert_eq!(backoff(10, 5), Some(64));
        assert_eq!(backoff(500, 5), Some(MAX_BACKOFF_SECS));
    }

    #[test]
    fn names_are_kept_as_hashes_whatever_their_case() {
        assert_eq!(subject(" Analyst "), subject("analyst"));
        assert_eq!(subject("analyst").len(), 64);
        assert!(!subject("analyst").contains("analyst"));
    }

    #[test]
    fn one_address_gets_its_burst_then_waits_while_another_is_untouched() {
        let throttle = Throttle::default();
        let one: IpAddr = "192.0.2.1".parse().unwrap();
        let other: IpAddr = "192.0.2.2".parse().unwrap();
        for _ in 0..ADDRESS_BURST {
            throttle.admit(one).unwrap();
        }
        let refused = throttle.admit(one).unwrap_err();
        assert!(matches!(refused, AppError::TooMany { retry_after, .. } if retry_after >= 1));
        throttle.admit(other).unwrap();
    }
}
