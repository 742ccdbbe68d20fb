//! Deciding from the portal: the same rules as the REST API (`airdesk_core::actions`),
//! reached through server functions.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::model::{Action, ActionStatus, ActionType, AppError};

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
            use airdesk_core::actions::{decide, Decision};
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

/// Approve or reject several actions at once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BulkDecideRequest {
    pub ids: Vec<String>,
    pub approve: bool,
    pub comment: Option<String>,
}

/// What one action of a bulk decision came to: its new status, or why not.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BulkOutcome {
    pub id: String,
    pub status: Option<ActionStatus>,
    pub error: Option<String>,
}

#[server(name = DecideActions, prefix = "/rpc", endpoint = "decide_actions", input = leptos::server_fn::codec::Json)]
pub async fn decide_actions(request: BulkDecideRequest) -> Result<Vec<BulkOutcome>, AppError> {
    super::context::with_status(
        async move {
            use airdesk_core::actions::{decide_many, Decision};
            /// The most actions one bulk decision takes (as the REST API).
            const MAX_BULK: usize = 500;
            let (state, user) = super::context::user().await?;
            if request.ids.is_empty() || request.ids.len() > MAX_BULK {
                return Err(AppError::Invalid(format!("select 1 to {MAX_BULK} actions")));
            }
            user.require_decide()?;
            let decision = if request.approve {
                Decision::Approve
            } else {
                Decision::Reject
            };
            let outcomes = decide_many(
                &state,
                &user,
                &request.ids,
                decision,
                request.comment.as_deref(),
            )
            .await;
            Ok(request
                .ids
                .into_iter()
                .zip(outcomes)
                .map(|(id, outcome)| match outcome {
                    Ok(action) => BulkOutcome {
                        id,
                        status: Some(action.status),
                        error: None,
                    },
                    Err(error) => BulkOutcome {
                        id,
                        status: None,
                        error: Some(error.to_string()),
                    },
                })
                .collect())
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
            airdesk_core::actions::change(&state, &user, &request.id, request.to).await
        }
        .await,
    )
}
