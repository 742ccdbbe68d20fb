//! A sign-in sent to the identity provider and not yet back, kept in the database under the
//! SHA-256 of a key in the browser's cookie: used once, worthless after ten minutes.

use chrono::Duration as Age;
use rand::RngCore;
use sha2::{Digest, Sha256};

use super::refusal::{refused, Refusal};
use crate::db::{self, query, Db};
use model::AppError;

/// How long a sign-in may spend at the provider.
const PENDING_FOR_MINUTES: i64 = 10;

pub(super) struct Pending {
    pub state: String,
    pub nonce: String,
    pub pkce_verifier: String,
    pub next: String,
}

/// The pending sign-in of this browser key, deleted as it is read; `None` when there is none
/// or it is older than ten minutes.
pub(super) async fn take(db: &Db, browser_key: &str) -> Result<Option<Pending>, Refusal> {
    let taken = async {
        let mut tx = db.write().await?;
        let row: Option<(
            String,
            String,
            String,
            String,
            chrono::DateTime<chrono::Utc>,
        )> = query(
            "DELETE FROM oidc_pending WHERE browser_key_sha256 = $1 \
             RETURNING state, nonce, pkce_verifier, next, created_at",
        )
        .bind(key_hash(browser_key))
        .fetch_optional(&mut tx)
        .await?;
        tx.commit().await?;
        Ok::<_, AppError>(row)
    };
    let row = taken
        .await
        .map_err(|e| refused(Refusal::Unavailable, "reading the sign-in", &e))?;
    Ok(row
        .filter(|r| db::now() - r.4 < Age::minutes(PENDING_FOR_MINUTES))
        .map(|(state, nonce, pkce_verifier, next, _)| Pending {
            state,
            nonce,
            pkce_verifier,
            next,
        }))
}

/// Keeps a new sign-in; expired ones are dropped on the way.
pub(super) async fn store(
    db: &Db,
    browser_key: &str,
    state: &str,
    nonce: &str,
    verifier: &str,
    next: &str,
) -> Result<(), Refusal> {
    let stored = async {
        let mut tx = db.write().await?;
        let now = db::now();
        query("DELETE FROM oidc_pending WHERE created_at < $1")
            .bind(now - Age::minutes(PENDING_FOR_MINUTES))
            .execute(&mut tx)
            .await?;
        query(
            "INSERT INTO oidc_pending (browser_key_sha256, state, nonce, pkce_verifier, next, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(key_hash(browser_key))
        .bind(state)
        .bind(nonce)
        .bind(verifier)
        .bind(next)
        .bind(now)
        .execute(&mut tx)
        .await?;
        tx.commit().await?;
        Ok::<_, AppError>(())
    };
    stored
        .await
        .map_err(|e| refused(Refusal::Unavailable, "storing the sign-in", &e))
}

pub(super) fn random_key() -> String {
    let mut key = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut key);
    hex::encode(key)
}

fn key_hash(key: &str) -> String {
    hex::encode(Sha256::digest(key.as_bytes()))
}
