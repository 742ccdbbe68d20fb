//! Webhook deliveries, for the admin's Deliveries view.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::model::{AppError, Delivery, Page};

/// Which deliveries to list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeliveryQuery {
    /// pending, delivered or failed; all when None.
    pub status: Option<String>,
    pub cursor: Option<String>,
}

/// Deliveries, newest event first (Admin only).
#[server(name = ListDeliveries, prefix = "/rpc", endpoint = "list_deliveries", input = leptos::server_fn::codec::Json)]
pub async fn list_deliveries(query: DeliveryQuery) -> Result<Page<Delivery>, AppError> {
    super::context::with_status(
        async move {
            let (state, user) = super::context::user().await?;
            user.require_administer()?;
            let page = crate::model::PageRequest::parse(None, query.cursor.as_deref())?;
            airdesk_core::events::webhooks::list(&state.db, query.status.as_deref(), &page).await
        }
        .await,
    )
}
