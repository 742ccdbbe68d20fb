//! `/api/v1/incidents`: the incidents queue, as the portal shows it.

use axum::extract::State;
use axum::Json;
use serde::Deserialize;

use airdesk_core::{incidents, AppState};
use model::{
    AppError, IncidentFilter, IncidentSort, IncidentSummary, InvestigationStatus, Page, PageRequest,
};

use super::caller::Caller;
use super::json::{query_word, ApiQuery};
use super::problem::{ApiError, Problem};

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    /// Only incidents in this Automated investigation state (`pending_action`, …).
    #[param(value_type = Option<InvestigationStatus>)]
    pub state: Option<String>,
    /// `last_activity` (default), `first_activity`, `severity` or `pending_actions`.
    #[param(value_type = Option<IncidentSort>)]
    pub sort: Option<String>,
    /// `desc` (default: latest, most severe, most pending first) or `asc`.
    #[param(pattern = "^(asc|desc)?$")]
    pub order: Option<String>,
    pub cursor: Option<String>,
    /// 1 to 500, default 50.
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<u32>,
}

/// The incidents queue, keyset-paged in any of its sorts.
#[utoipa::path(
    get, path = "/api/v1/incidents", tag = "investigations",
    params(ListParams),
    responses(
        (status = 200, body = Page<IncidentSummary>),
        (status = 400, body = Problem),
        (status = 401, body = Problem),
        (status = 422, body = Problem),
    ),
    security(("bearer" = []))
)]
pub async fn list(
    State(state): State<AppState>,
    _caller: Caller,
    ApiQuery(params): ApiQuery<ListParams>,
) -> Result<Json<Page<IncidentSummary>>, ApiError> {
    let investigation_state =
        query_word(params.state.as_deref(), "state", InvestigationStatus::parse)?;
    let sort = query_word(params.sort.as_deref(), "sort", IncidentSort::parse)?.unwrap_or_default();
    let ascending = match params.order.as_deref() {
        None | Some("" | "desc") => false,
        Some("asc") => true,
        Some(other) => {
            return Err(AppError::Invalid(format!("order {other:?} is not asc or desc")).into())
        }
    };
    let filter = IncidentFilter {
        investigation_state,
        sort,
        ascending,
    };
    let page = PageRequest::parse(params.limit, params.cursor.as_deref())?;
    Ok(Json(incidents::list(&state.db, &filter, &page).await?))
}
