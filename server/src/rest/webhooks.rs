//! `/api/v1/webhooks/deliveries`: what became of each event sent to each endpoint (Admin).

use axum::extract::State;
use axum::Json;
use serde::Deserialize;

use airdesk_core::events::webhooks;
use airdesk_core::AppState;
use model::{Delivery, Page, PageRequest};

use super::caller::Caller;
use super::json::ApiQuery;
use super::problem::{ApiError, Problem};

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DeliveryParams {
    /// Only deliveries in this status.
    #[param(inline, value_type = Option<String>, pattern = "^(pending|delivered|failed)$")]
    pub status: Option<String>,
    pub cursor: Option<String>,
    /// 1 to 500, default 50.
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<u32>,
}

/// Webhook deliveries, newest event first: pending (with the next attempt's time), delivered,
/// or failed (retried for the configured time; the last answer or error says why). Admin only.
#[utoipa::path(
    get, path = "/api/v1/webhooks/deliveries", tag = "webhooks",
    params(DeliveryParams),
    responses(
        (status = 200, body = Page<Delivery>),
        (status = 401, body = Problem),
        (status = 403, body = Problem),
        (status = 422, body = Problem)
    ),
    security(("bearer" = []))
)]
pub async fn deliveries(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(params): ApiQuery<DeliveryParams>,
) -> Result<Json<Page<Delivery>>, ApiError> {
    caller.0.require_administer()?;
    let page = PageRequest::parse(params.limit, params.cursor.as_deref())?;
    Ok(Json(
        webhooks::list(&state.db, params.status.as_deref(), &page).await?,
    ))
}
