//! Sign in, sign out, and who is signed in.

use leptos::prelude::*;

use crate::model::{AppError, CurrentUser};

/// The signed-in user, or `None` for a visitor.
#[server(name = CurrentUserFn, prefix = "/rpc", endpoint = "current_user")]
pub async fn current_user() -> Result<Option<CurrentUser>, AppError> {
    use super::context;
    let state = context::state()?;
    crate::server::session::current_user(&context::session().await?, &state.pool).await
}

/// Checks the password and starts a session; then sends the browser where it was going.
#[server(name = Login, prefix = "/rpc", endpoint = "login")]
pub async fn login(username: String, password: String, next: Option<String>) -> Result<(), AppError> {
    use super::context;
    let state = context::state()?;
    let user = crate::server::users::verify_login(&state.pool, username.trim(), &password).await?;
    crate::server::session::sign_in(&context::session().await?, &user).await?;
    tracing::info!(user = %user.username, "signed in");
    leptos_axum::redirect(&safe_next(next.as_deref()));
    Ok(())
}

/// Ends the session.
#[server(name = Logout, prefix = "/rpc", endpoint = "logout")]
pub async fn logout() -> Result<(), AppError> {
    crate::server::session::sign_out(&super::context::session().await?).await?;
    leptos_axum::redirect("/login");
    Ok(())
}

/// Only paths on this site: `//evil.test` or `https://…` would be an open redirect.
pub fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(path) if path.starts_with('/') && !path.starts_with("//") && !path.contains('\\') => {
            path.to_string()
        }
        _ => "/incidents".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn redirects_stay_on_this_site() {
        assert_eq!(safe_next(Some("/action-center")), "/action-center");
        assert_eq!(safe_next(Some("//evil.test/x")), "/incidents");
        assert_eq!(safe_next(Some("https://evil.test")), "/incidents");
        assert_eq!(safe_next(Some("/\\evil.test")), "/incidents");
        assert_eq!(safe_next(None), "/incidents");
    }
}
