//! Deciding from the portal: the same rules as the REST API (`server::decisions`,
//! `server::changes`), reached through server functions.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::model::{Action, ActionType, AppError};

/// Approve or reject one action, with an optional comment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DecideRequest {
    pub id: String,
    pub approve: bool,
    pub comment: Option<String>,
}

#[server(name = DecideAction, prefix = "/rpc", endpoint = "decide_action", input = leptos::server_fn::codec::Json)]
pub async fn decide_action(request: DecideRequest) -> Result<Action, AppError> {
    super::context::with_status(
        async move {
            use crate::server::decisions::{decide, Decision};
            let (state, user) = super::context::user().await?;
            let decision = if request.approve {
                Decision::Approve
            } else {
                Decision::Reject
            };
            decide(
                &state,
                &user,
                &request.id,
                decision,
                request.comment.as_deref(),
            )
            .await
        }
        .await,
    )
}

/// Change a completed email action to another type.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChangeRequest {
    pub id: String,
    pub to: ActionType,
}

#[server(name = ChangeAction, prefix = "/rpc", endpoint = "change_action", input = leptos::server_fn::codec::Json)]
pub async fn change_action(request: ChangeRequest) -> Result<Action, AppError> {
    super::context::with_status(
        async move {
            let (state, user) = super::context::user().await?;
            crate::server::changes::change(&state, &user, &request.id, request.to).await
        }
        .await,
    )
}
