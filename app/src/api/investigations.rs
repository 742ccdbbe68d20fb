//! The investigations queue for the portal.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::model::{AppError, Investigation, InvestigationStatus, InvestigationSummary, Page};

/// One page request of the investigations queue.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct InvestigationQuery {
    pub status: Option<InvestigationStatus>,
    pub cursor: Option<String>,
}

#[server(name = ListInvestigations, prefix = "/rpc", endpoint = "list_investigations", input = leptos::server_fn::codec::Json)]
pub async fn list_investigations(
    query: InvestigationQuery,
) -> Result<Page<InvestigationSummary>, AppError> {
    super::context::with_status(
        async move {
            use crate::model::PageRequest;
            let (state, _user) = super::context::user().await?;
            let page = PageRequest::parse(None, query.cursor.as_deref())?;
            crate::server::investigations::list(&state.pool, query.status, &page).await
        }
        .await,
    )
}

/// One investigation with its evidence, actions and log.
#[server(name = GetInvestigation, prefix = "/rpc", endpoint = "get_investigation", input = leptos::server_fn::codec::Json)]
pub async fn get_investigation(id: String) -> Result<Investigation, AppError> {
    super::context::with_status(
        async move {
            let (state, _user) = super::context::user().await?;
            crate::server::investigations::get(&state.pool, &id).await
        }
        .await,
    )
}
