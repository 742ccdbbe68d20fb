//! Users, for the admin's Users page: the same core functions `airdesk user …` calls.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::model::{AppError, Role, UserAccount};

/// Every user, by name (Admin only).
#[server(name = ListUsers, prefix = "/rpc", endpoint = "list_users", input = leptos::server_fn::codec::Json)]
pub async fn list_users() -> Result<Vec<UserAccount>, AppError> {
    super::context::with_status(
        async move {
            let (state, user) = super::context::user().await?;
            user.require_administer()?;
            airdesk_core::users::list(&state.db).await
        }
        .await,
    )
}

/// One change to a user: another role, or disabled / enabled.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum UserChange {
    Role(Role),
    Disabled(bool),
    /// Lifts a sign-in backoff (as `airdesk user unlock`).
    Unlock,
}

/// Changes a user (Admin only); audited, and in force at that user's next request.
#[server(name = ChangeUser, prefix = "/rpc", endpoint = "change_user", input = leptos::server_fn::codec::Json)]
pub async fn change_user(username: String, change: UserChange) -> Result<UserAccount, AppError> {
    super::context::with_status(
        async move {
            use airdesk_core::users;
            let (state, user) = super::context::user().await?;
            user.require_administer()?;
            let actor = crate::model::Actor::from(&user);
            match change {
                UserChange::Role(role) => users::set_role(&state.db, &actor, &username, role).await,
                UserChange::Disabled(disabled) => {
                    users::set_disabled(&state.db, &actor, &username, disabled).await
                }
                UserChange::Unlock => {
                    airdesk_core::signin::unlock(&state.db, &actor, &username).await?;
                    users::list(&state.db)
                        .await?
                        .into_iter()
                        .find(|u| u.username == username.trim())
                        .ok_or_else(|| AppError::NotFound(format!("user {username:?}")))
                }
            }
        }
        .await,
    )
}

/// Adds a local user with a first password (Admin only), as `airdesk user add` does.
#[server(name = AddUser, prefix = "/rpc", endpoint = "add_user", input = leptos::server_fn::codec::Json)]
pub async fn add_user(username: String, password: String, role: Role) -> Result<(), AppError> {
    super::context::with_status(
        async move {
            let (state, user) = super::context::user().await?;
            user.require_administer()?;
            let name = crate::model::Username::parse(&username)?;
            let actor = crate::model::Actor::from(&user);
            airdesk_core::users::create(&state.db, &actor, &name, &password, role).await?;
            Ok(())
        }
        .await,
    )
}
