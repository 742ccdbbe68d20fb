//! Administering users: the list, a role changed, an account disabled or enabled again. The
//! command line and the portal's admin pages call these same functions. Each change is audited
//! and takes effect at once: sessions keep only a user id and tokens are checked against their
//! user on every request, so a disabled user's open session and tokens are refused on their
//! next request, and a new role applies to it. The last enabled admin cannot be disabled or
//! lose the role — nobody would be left who could undo it.

use chrono::{DateTime, Utc};

use crate::audit::{self, Event};
use crate::db::{query, Db, Tx};
use model::{Actor, AppError, Role, UserAccount};

#[derive(sqlx::FromRow)]
struct UserInfo {
    id: String,
    username: String,
    role: String,
    disabled: bool,
    created_at: DateTime<Utc>,
    oidc_issuer: Option<String>,
}

impl UserInfo {
    fn account(self) -> Result<UserAccount, AppError> {
        Ok(UserAccount {
            role: Role::parse(&self.role).ok_or(AppError::Internal)?,
            id: self.id,
            username: self.username,
            disabled: self.disabled,
            created_at: self.created_at,
            identity_provider: self.oidc_issuer,
        })
    }
}

/// Every user, by name.
pub async fn list(db: &Db) -> Result<Vec<UserAccount>, AppError> {
    let rows: Vec<UserInfo> = query(
        "SELECT id, username, role, disabled, created_at, oidc_issuer FROM users ORDER BY username",
    )
    .fetch_all(db)
    .await?;
    rows.into_iter().map(UserInfo::account).collect()
}

/// Gives the named user another role. The same role again is a conflict, so a typo is never
/// reported as a change.
#[tracing::instrument(skip(db))]
pub async fn set_role(
    db: &Db,
    actor: &Actor,
    username: &str,
    role: Role,
) -> Result<UserAccount, AppError> {
    let mut tx = db.write().await?;
    let user = named(&mut tx, username).await?;
    if user.role == role.as_str() {
        return Err(AppError::Conflict(format!(
            "{} already has the role {}",
            user.username,
            role.label()
        )));
    }
    if user.role == Role::Admin.as_str() && !user.disabled {
        keep_an_admin(&mut tx, &user, "lose the admin role").await?;
    }
    query("UPDATE users SET role = $1 WHERE id = $2")
        .bind(role)
        .bind(&user.id)
        .execute(&mut tx)
        .await?;
    let event = Event {
        actor,
        entity_kind: "user",
        entity_id: &user.id,
        event: "user_role_changed",
        before: Some(serde_json::json!({"role": user.role})),
        after: Some(serde_json::json!({"role": role})),
    };
    audit::record(&mut tx, event);
    tx.commit().await?;
    UserInfo {
        role: role.as_str().to_string(),
        ..user
    }
    .account()
}

/// Disables (or enables again) the named user. Disabling twice, or enabling an enabled user,
/// is a conflict.
#[tracing::instrument(skip(db))]
pub async fn set_disabled(
    db: &Db,
    actor: &Actor,
    username: &str,
    disabled: bool,
) -> Result<UserAccount, AppError> {
    let mut tx = db.write().await?;
    let user = named(&mut tx, username).await?;
    if user.disabled == disabled {
        let state = if disabled { "disabled" } else { "enabled" };
        return Err(AppError::Conflict(format!(
            "{} is already {state}",
            user.username
        )));
    }
    if disabled && user.role == Role::Admin.as_str() {
        keep_an_admin(&mut tx, &user, "be disabled").await?;
    }
    query("UPDATE users SET disabled = $1 WHERE id = $2")
        .bind(disabled)
        .bind(&user.id)
        .execute(&mut tx)
        .await?;
    let event = Event {
        actor,
        entity_kind: "user",
        entity_id: &user.id,
        event: if disabled {
            "user_disabled"
        } else {
            "user_enabled"
        },
        before: None,
        after: Some(serde_json::json!({"username": user.username})),
    };
    audit::record(&mut tx, event);
    tx.commit().await?;
    UserInfo { disabled, ..user }.account()
}

async fn named(tx: &mut Tx<'_>, username: &str) -> Result<UserInfo, AppError> {
    query("SELECT id, username, role, disabled, created_at, oidc_issuer FROM users WHERE username = $1")
        .bind(username.trim())
        .fetch_optional(&mut *tx)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("user {:?}", username.trim())))
}

/// Refuses a change that would leave no enabled admin. Inside the write transaction, which
/// every writer takes in turn, so two admins cannot each remove the other at once.
async fn keep_an_admin(tx: &mut Tx<'_>, user: &UserInfo, change: &str) -> Result<(), AppError> {
    let others: i64 =
        query("SELECT COUNT(*) FROM users WHERE role = $1 AND NOT disabled AND id <> $2")
            .bind(Role::Admin)
            .bind(&user.id)
            .scalar(&mut *tx)
            .await?;
    if others == 0 {
        return Err(AppError::Conflict(format!(
            "{} is the last enabled admin and cannot {change}",
            user.username
        )));
    }
    Ok(())
}
