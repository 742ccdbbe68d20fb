//! My account and sessions: who I am and where my role comes from, my password, my open
//! sessions (everyone's for an admin), revoking one, and signing out everywhere. Thin
//! adapters over `airdesk_core::sessions` and `airdesk_core::users`.

use leptos::prelude::*;

use crate::model::{AppError, MyAccount, SessionInfo};

/// Who I am, my role and where it comes from.
#[server(name = MyAccountFn, prefix = "/rpc", endpoint = "my_account", input = leptos::server_fn::codec::Json)]
pub async fn my_account() -> Result<MyAccount, AppError> {
    super::context::with_status(
        async move {
            let (state, user) = super::context::user().await?;
            let identity_provider =
                airdesk_core::users::identity_provider(&state.db, &user.id).await?;
            let role_claim = identity_provider.as_ref().and_then(|_| {
                state
                    .sign_in
                    .oidc
                    .as_ref()
                    .map(|p| p.config().role_claim.clone())
            });
            Ok(MyAccount {
                username: user.username,
                role: user.role,
                identity_provider,
                role_claim,
            })
        }
        .await,
    )
}

/// Changes my password (local users); my other sessions end.
#[server(name = ChangePassword, prefix = "/rpc", endpoint = "change_password")]
pub async fn change_password(current: String, new: String) -> Result<(), AppError> {
    super::context::with_status(
        async move {
            use airdesk_core::sessions;
            let (state, user) = super::context::user().await?;
            airdesk_core::users::change_password(&state.db, &user, &current, &new).await?;
            let session = super::context::session().await?;
            let this = sessions::this_session(&session).await?;
            let actor = crate::model::Actor::from(&user);
            for other in sessions::list(&state.db, Some(&user.id)).await? {
                if Some(&other.id) != this.as_ref() {
                    sessions::revoke(&state.db, &actor, &other.id, Some(&user.id)).await?;
                }
            }
            Ok(())
        }
        .await,
    )
}

/// Open sessions: mine, or everyone's (Admin only).
#[server(name = ListSessions, prefix = "/rpc", endpoint = "list_sessions", input = leptos::server_fn::codec::Json)]
pub async fn list_sessions(everyone: bool) -> Result<Vec<SessionInfo>, AppError> {
    super::context::with_status(
        async move {
            use airdesk_core::sessions;
            let (state, user) = super::context::user().await?;
            if everyone {
                user.require_administer()?;
            }
            let this = sessions::this_session(&super::context::session().await?).await?;
            let owner = (!everyone).then_some(user.id.as_str());
            let mut list = sessions::list(&state.db, owner).await?;
            for session in &mut list {
                session.current = Some(&session.id) == this.as_ref();
            }
            Ok(list)
        }
        .await,
    )
}

/// Revokes a session: one of mine, or anyone's for an admin. It is refused at its next
/// request.
#[server(name = RevokeSession, prefix = "/rpc", endpoint = "revoke_session", input = leptos::server_fn::codec::Json)]
pub async fn revoke_session(id: String) -> Result<(), AppError> {
    super::context::with_status(
        async move {
            let (state, user) = super::context::user().await?;
            let owner = (!user.can_administer()).then_some(user.id.as_str());
            let actor = crate::model::Actor::from(&user);
            airdesk_core::sessions::revoke(&state.db, &actor, &id, owner).await
        }
        .await,
    )
}

/// Ends every session of mine, this one included.
#[server(name = SignOutEverywhere, prefix = "/rpc", endpoint = "sign_out_everywhere")]
pub async fn sign_out_everywhere() -> Result<(), AppError> {
    super::context::with_status(
        async move {
            let (state, user) = super::context::user().await?;
            let actor = crate::model::Actor::from(&user);
            airdesk_core::sessions::revoke_all(&state.db, &actor, &user.id).await?;
            let session = super::context::session().await?;
            airdesk_core::sessions::sign_out(&session, &state.db).await?;
            leptos_axum::redirect("/login");
            Ok(())
        }
        .await,
    )
}
