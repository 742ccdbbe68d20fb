//! The approval policy in force, and what it says of one pending action now.

use leptos::prelude::*;

use crate::model::{Action, AppError, PolicyView};

/// The policy in force on this instance (the Policy page; any signed-in user may read it).
#[server(name = GetPolicy, prefix = "/rpc", endpoint = "get_policy", input = leptos::server_fn::codec::Json)]
pub async fn get_policy() -> Result<PolicyView, AppError> {
    super::context::with_status(
        async move {
            let (state, _user) = super::context::user().await?;
            Ok(state.policy.current().describe())
        }
        .await,
    )
}

/// One action with, while it is pending, its `impact`: the copies and mailboxes it would
/// touch and the rule that applies, counted again now (the decision dialog asks when it opens).
#[server(name = GetImpact, prefix = "/rpc", endpoint = "get_impact", input = leptos::server_fn::codec::Json)]
pub async fn get_impact(id: String) -> Result<Action, AppError> {
    super::context::with_status(
        async move {
            let (state, _user) = super::context::user().await?;
            airdesk_core::actions::get_with_impact(&state, &id).await
        }
        .await,
    )
}
