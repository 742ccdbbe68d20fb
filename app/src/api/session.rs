//! Sign in, sign out, and who is signed in.

use leptos::prelude::*;

use crate::model::{AppError, CurrentUser};

/// The signed-in user, or `None` for a visitor.
#[server(name = CurrentUserFn, prefix = "/rpc", endpoint = "current_user")]
pub async fn current_user() -> Result<Option<CurrentUser>, AppError> {
    super::context::with_status(
        async move {
            use super::context;
            let state = context::state()?;
            airdesk_core::sessions::current_user(&context::session().await?, &state.db).await
        }
        .await,
    )
}

/// Checks the password (throttled per address and per name) and starts a session; then sends
/// the browser where it was going, if that is a page of this site.
#[server(name = Login, prefix = "/rpc", endpoint = "login")]
pub async fn login(
    username: String,
    password: String,
    next: Option<String>,
) -> Result<(), AppError> {
    super::context::with_status(
        async move {
            use super::context;
            let state = context::state()?;
            let address = context::client_address().await;
            let user = airdesk_core::signin::sign_in(
                &state.db,
                &state.signin,
                username.trim(),
                &password,
                address,
            )
            .await?;
            airdesk_core::sessions::sign_in(&context::session().await?, &user).await?;
            tracing::info!(user = %user.username, "signed in");
            leptos_axum::redirect(&crate::model::safe_next(next.as_deref()));
            Ok(())
        }
        .await,
    )
}

/// Ends the session.
#[server(name = Logout, prefix = "/rpc", endpoint = "logout")]
pub async fn logout() -> Result<(), AppError> {
    super::context::with_status(
        async move {
            airdesk_core::sessions::sign_out(&super::context::session().await?).await?;
            leptos_axum::redirect("/login");
            Ok(())
        }
        .await,
    )
}
