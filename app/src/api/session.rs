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
            if !state.sign_in.local_passwords {
                return Err(AppError::Refused(
                    "password sign-in is turned off here; sign in with your identity provider"
                        .into(),
                ));
            }
            let address = context::client_address().await;
            let user = airdesk_core::signin::sign_in(
                &state.db,
                &state.signin,
                username.trim(),
                &password,
                address,
            )
            .await?;
            let new = airdesk_core::sessions::NewSession {
                user: &user,
                method: airdesk_core::sessions::Method::Password,
                address: address.to_string(),
                user_agent: context::user_agent().await,
                id_token: None,
            };
            airdesk_core::sessions::sign_in(&context::session().await?, &state.db, new).await?;
            tracing::info!(user = %user.username, "signed in");
            leptos_axum::redirect(&crate::model::safe_next(next.as_deref()));
            Ok(())
        }
        .await,
    )
}

/// Ends the session; one begun at the identity provider ends there too (RP-initiated
/// sign-out), and the provider sends the browser back to the sign-in page.
#[server(name = Logout, prefix = "/rpc", endpoint = "logout")]
pub async fn logout() -> Result<(), AppError> {
    super::context::with_status(
        async move {
            use super::context;
            let state = context::state()?;
            let id_token =
                airdesk_core::sessions::sign_out(&context::session().await?, &state.db).await?;
            let mut target = None;
            if let (Some(token), Some(provider)) = (id_token, &state.sign_in.oidc) {
                target = provider.sign_out_url(&token).await;
            }
            leptos_axum::redirect(target.as_deref().unwrap_or("/login"));
            Ok(())
        }
        .await,
    )
}

/// How this portal lets people sign in, for the sign-in page.
#[server(name = SignInOptionsFn, prefix = "/rpc", endpoint = "sign_in_options")]
pub async fn sign_in_options() -> Result<crate::model::SignInOptions, AppError> {
    let state = super::context::state()?;
    Ok(crate::model::SignInOptions {
        provider: state
            .sign_in
            .oidc
            .as_ref()
            .map(|p| p.config().display_name.clone()),
        passwords: state.sign_in.local_passwords,
    })
}
