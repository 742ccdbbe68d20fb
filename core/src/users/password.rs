//! My account: where my sign-in comes from, and changing my own password.

use super::audit_user;
use crate::db::{query, Db};
use model::{Actor, AppError, CurrentUser};

/// The issuer of the identity provider a user signs in through, or `None` for a local user.
pub async fn identity_provider(db: &Db, user_id: &str) -> Result<Option<String>, AppError> {
    let issuer: Option<(Option<String>,)> = query("SELECT oidc_issuer FROM users WHERE id = $1")
        .bind(user_id)
        .fetch_optional(db)
        .await?;
    Ok(issuer.and_then(|(i,)| i))
}

/// Changes a local user's own password after checking the current one (throttled like a
/// sign-in would not be: the caller is signed in, and a wrong current password is refused
/// at Argon2's cost). Users of the identity provider have no password here.
pub async fn change_password(
    db: &Db,
    user: &CurrentUser,
    current: &str,
    new: &str,
) -> Result<(), AppError> {
    if identity_provider(db, &user.id).await?.is_some() {
        return Err(AppError::Refused(
            "you sign in through the identity provider: change your password there".into(),
        ));
    }
    if new.chars().count() < super::MIN_PASSWORD_LEN {
        return Err(AppError::Invalid(format!(
            "a password needs at least {} characters",
            super::MIN_PASSWORD_LEN
        )));
    }
    let checked = super::verify_login(db, &user.username, current).await;
    if matches!(checked, Err(AppError::BadCredentials)) {
        return Err(AppError::Invalid("the current password is wrong".into()));
    }
    checked?;
    let hash = super::hash_password(new.to_string()).await?;
    let mut tx = db.write().await?;
    query("UPDATE users SET password_hash = $1 WHERE id = $2")
        .bind(&hash)
        .bind(&user.id)
        .execute(&mut tx)
        .await?;
    let actor = Actor::from(user);
    audit_user(&mut tx, &actor, &user.id, "password_changed", None, None);
    tx.commit().await?;
    Ok(())
}
