//! `/api/v1/actions`: read actions, filtered and a keyset page at a time.

use axum::extract::{Path, State};
use axum::Json;
use serde::Deserialize;

use app::model::{Action, ActionStatus, ActionType, AppError, Page, PageRequest};
use app::server::actions::{self, ActionFilter};
use app::server::AppState;

use super::json::ApiQuery;
use super::problem::{ApiError, Problem};
use crate::auth::Caller;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct ListParams {
    /// `pending`, `approved`, … (Pending is served oldest first, everything else newest first).
    pub status: Option<String>,
    /// `soft_delete_cluster`, `turn_off_forwarding`, …
    #[serde(rename = "type")]
    #[param(rename = "type")]
    pub action_type: Option<String>,
    pub investigation_id: Option<String>,
    pub cursor: Option<String>,
    /// 1 to 500, default 50.
    pub limit: Option<u32>,
}

/// Actions, filtered by status, type and investigation.
#[utoipa::path(
    get, path = "/api/v1/actions", tag = "actions",
    params(ListParams),
    responses(
        (status = 200, body = Page<Action>),
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
) -> Result<Json<Page<Action>>, ApiError> {
    let filter = ActionFilter {
        status: params
            .status
            .as_deref()
            .map(|s| {
                ActionStatus::parse(s)
                    .ok_or_else(|| AppError::Invalid(format!("unknown status {s:?}")))
            })
            .transpose()?,
        action_type: params
            .action_type
            .as_deref()
            .map(|t| {
                ActionType::parse(t).ok_or_else(|| AppError::Invalid(format!("unknown type {t:?}")))
            })
            .transpose()?,
        investigation_id: params.investigation_id,
        ..ActionFilter::default()
    };
    let page = PageRequest::parse(params.limit, params.cursor.as_deref())?;
    Ok(Json(actions::list(&state.pool, &filter, &page).await?))
}

/// One action with its per-message results.
#[utoipa::path(
    get, path = "/api/v1/actions/{id}", tag = "actions",
    params(("id" = String, Path, description = "Action id")),
    responses((status = 200, body = Action), (status = 401, body = Problem), (status = 404, body = Problem)),
    security(("bearer" = []))
)]
pub async fn get(
    State(state): State<AppState>,
    _caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Action>, ApiError> {
    Ok(Json(actions::get(&state.pool, &id).await?))
}
