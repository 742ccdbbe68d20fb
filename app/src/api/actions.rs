//! Actions for the action center.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::model::{Action, ActionStatus, ActionType, AppError, Page};

/// One page request of actions.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ActionQuery {
    pub status: Option<ActionStatus>,
    /// Only decided actions (History): anything but Pending.
    #[serde(default)]
    pub decided: bool,
    pub action_type: Option<ActionType>,
    pub decided_by: Option<String>,
    /// Only actions created within this many days.
    pub within_days: Option<u32>,
    /// Only approved email actions (the Office action center's remediations).
    #[serde(default)]
    pub remediations: bool,
    pub cursor: Option<String>,
}

#[server(name = ListActions, prefix = "/rpc", endpoint = "list_actions", input = leptos::server_fn::codec::Json)]
pub async fn list_actions(query: ActionQuery) -> Result<Page<Action>, AppError> {
    super::context::with_status(
        async move {
            use crate::model::PageRequest;
            use airdesk_core::actions::ActionFilter;
            let (state, _user) = super::context::user().await?;
            let page = PageRequest::parse(None, query.cursor.as_deref())?;
            let filter = ActionFilter {
                status: query.status,
                decided: query.decided,
                remediations: query.remediations,
                action_type: query.action_type,
                decided_by: query.decided_by.filter(|d| !d.trim().is_empty()),
                since: query
                    .within_days
                    .map(|days| crate::model::days_before(chrono::Utc::now(), days))
                    .transpose()?,
                ..ActionFilter::default()
            };
            airdesk_core::actions::list(&state.db, &filter, &page).await
        }
        .await,
    )
}

/// One action with its results (the side panel follows a change's progress with it).
#[server(name = GetAction, prefix = "/rpc", endpoint = "get_action", input = leptos::server_fn::codec::Json)]
pub async fn get_action(id: String) -> Result<Action, AppError> {
    super::context::with_status(
        async move {
            let (state, _user) = super::context::user().await?;
            airdesk_core::actions::get(&state.db, &id).await
        }
        .await,
    )
}
