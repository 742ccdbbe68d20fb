//! The Dashboard's figures (any signed-in user).

use leptos::prelude::*;

use crate::model::{AppError, Dashboard};

#[server(name = GetDashboard, prefix = "/rpc", endpoint = "get_dashboard", input = leptos::server_fn::codec::Json)]
pub async fn get_dashboard() -> Result<Dashboard, AppError> {
    super::context::with_status(
        async move {
            let (state, _user) = super::context::user().await?;
            airdesk_core::dashboard::dashboard(&state.db).await
        }
        .await,
    )
}
