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
            }
        }
        .await,
    )
}
