//! Users of the identity provider: created at their first sign-in, known by the provider's
//! issuer and subject (never by name: a provider account called like a local one does not
//! become it), their role set from the provider's claim at every sign-in.

use super::audit_user;
use crate::db::{self, query, Db};
use crate::new_id;
use model::{Actor, AppError, CurrentUser, Role, Scopes, SystemTask, Username};

/// How a sign-in through the provider ended.
#[derive(Debug)]
pub enum External {
    SignedIn(CurrentUser),
    /// The claim maps to no role: refused, and the user's open sessions end.
    NoRole,
    /// Disabled in airdesk: the provider does not override an admin.
    Disabled,
    /// A new user whose name is another account's.
    NameTaken,
}

#[derive(sqlx::FromRow)]
struct Known {
    id: String,
    username: String,
    role: String,
    disabled: bool,
}

/// Records a sign-in through the provider: a first one creates the user, later ones update
/// the role to what the claim says now. Every creation and change is audited.
#[tracing::instrument(skip(db))]
pub async fn sign_in_external(
    db: &Db,
    issuer: &str,
    subject: &str,
    username: &Username,
    role: Option<Role>,
) -> Result<External, AppError> {
    let actor = Actor::System(SystemTask::SignIn);
    let mut tx = db.write().await?;
    let known: Option<Known> = query(
        "SELECT id, username, role, disabled FROM users WHERE oidc_issuer = $1 AND oidc_subject = $2",
    )
    .bind(issuer)
    .bind(subject)
    .fetch_optional(&mut tx)
    .await?;
    let Some(known) = known else {
        let Some(role) = role else {
            return Ok(External::NoRole);
        };
        let id = new_id();
        let inserted = query(
            "INSERT INTO users (id, username, password_hash, role, created_at, oidc_issuer, oidc_subject) \
             VALUES ($1, $2, '', $3, $4, $5, $6)",
        )
        .bind(&id)
        .bind(username.as_str())
        .bind(role)
        .bind(db::now())
        .bind(issuer)
        .bind(subject)
        .execute(&mut tx)
        .await;
        match inserted {
            Err(e) if e.is_unique_violation() => return Ok(External::NameTaken),
            other => other?,
        };
        let after = serde_json::json!({
            "username": username.as_str(), "role": role, "source": "oidc", "issuer": issuer,
        });
        audit_user(&mut tx, &actor, &id, "user_created", None, Some(after));
        let signed_in = Actor::User(username.as_str().to_string());
        audit_user(
            &mut tx,
            &signed_in,
            &id,
            "signed_in",
            None,
            Some(serde_json::json!({"method": "oidc", "issuer": issuer, "role": role})),
        );
        tx.commit().await?;
        return Ok(External::SignedIn(CurrentUser {
            id,
            username: username.as_str().to_string(),
            role,
            scopes: Scopes::ALL,
        }));
    };
    if known.disabled {
        return Ok(External::Disabled);
    }
    let old = Role::parse(&known.role).ok_or(AppError::Internal)?;
    let Some(role) = role else {
        // The provider no longer gives this person a role: whatever they still have open
        // here ends now, not at its expiry — their sessions and their API tokens (which would
        // otherwise keep the role the provider has taken away).
        let ended = query("DELETE FROM user_sessions WHERE user_id = $1")
            .bind(&known.id)
            .execute(&mut tx)
            .await?;
        let revoked = query(
            "UPDATE api_tokens SET revoked_at = $1 WHERE user_id = $2 AND revoked_at IS NULL",
        )
        .bind(db::now())
        .bind(&known.id)
        .execute(&mut tx)
        .await?;
        audit_user(
            &mut tx,
            &actor,
            &known.id,
            "user_role_lost",
            Some(serde_json::json!({"role": old})),
            Some(serde_json::json!({
                "role": null, "sessions_ended": ended, "tokens_revoked": revoked, "source": "oidc",
            })),
        );
        tx.commit().await?;
        return Ok(External::NoRole);
    };
    if role != old {
        query("UPDATE users SET role = $1 WHERE id = $2")
            .bind(role)
            .bind(&known.id)
            .execute(&mut tx)
            .await?;
        audit_user(
            &mut tx,
            &actor,
            &known.id,
            "user_role_changed",
            Some(serde_json::json!({"role": old})),
            Some(serde_json::json!({"role": role, "source": "oidc"})),
        );
    }
    let signed_in = Actor::User(known.username.clone());
    audit_user(
        &mut tx,
        &signed_in,
        &known.id,
        "signed_in",
        None,
        Some(serde_json::json!({"method": "oidc", "issuer": issuer, "role": role})),
    );
    tx.commit().await?;
    Ok(External::SignedIn(CurrentUser {
        id: known.id,
        username: known.username,
        role,
        scopes: Scopes::ALL,
    }))
}
