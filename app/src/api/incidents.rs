//! The incidents queue for the portal.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::model::{
    AppError, IncidentDetail, IncidentSort, IncidentSummary, InvestigationStatus, Page,
};

/// One page request of the incidents queue.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct IncidentQuery {
    pub investigation_state: Option<InvestigationStatus>,
    #[serde(default)]
    pub sort: IncidentSort,
    #[serde(default)]
    pub ascending: bool,
    /// Page size; the default page otherwise.
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}

#[server(name = ListIncidents, prefix = "/rpc", endpoint = "list_incidents", input = leptos::server_fn::codec::Json)]
pub async fn list_incidents(query: IncidentQuery) -> Result<Page<IncidentSummary>, AppError> {
    super::context::with_status(
        async move {
            use crate::model::{IncidentFilter, PageRequest};
            let (state, _user) = super::context::user().await?;
            let page = PageRequest::parse(query.limit, query.cursor.as_deref())?;
            let filter = IncidentFilter {
                investigation_state: query.investigation_state,
                sort: query.sort,
                ascending: query.ascending,
            };
            airdesk_core::incidents::list(&state.db, &filter, &page).await
        }
        .await,
    )
}

/// One incident with its investigations.
#[server(name = GetIncident, prefix = "/rpc", endpoint = "get_incident", input = leptos::server_fn::codec::Json)]
pub async fn get_incident(id: String) -> Result<IncidentDetail, AppError> {
    super::context::with_status(
        async move {
            let (state, _user) = super::context::user().await?;
            airdesk_core::investigations::of_incident(&state.db, &id).await
        }
        .await,
    )
}
