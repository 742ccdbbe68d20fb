//! Actions for the action center.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::model::{Action, ActionStatus, AppError, Page};

/// One page request of actions.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ActionQuery {
    pub status: Option<ActionStatus>,
    pub cursor: Option<String>,
}

#[server(name = ListActions, prefix = "/rpc", endpoint = "list_actions", input = leptos::server_fn::codec::Json)]
pub async fn list_actions(query: ActionQuery) -> Result<Page<Action>, AppError> {
    super::context::with_status(
        async move {
            use crate::model::PageRequest;
            use crate::server::actions::ActionFilter;
            let (state, _user) = super::context::user().await?;
            let page = PageRequest::parse(None, query.cursor.as_deref())?;
            let filter = ActionFilter {
                status: query.status,
                ..ActionFilter::default()
            };
            crate::server::actions::list(&state.pool, &filter, &page).await
        }
        .await,
    )
}
