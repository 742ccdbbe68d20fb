//! `/api/v1/audit`: the audit trail, oldest first.

use axum::extract::State;
use axum::Json;
use serde::Deserialize;

use airdesk_core::audit::{self, AuditEvent, Head};
use airdesk_core::AppState;
use model::{Page, PageRequest};

use super::caller::Caller;
use super::json::ApiQuery;
use super::problem::{ApiError, Problem};

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    pub cursor: Option<String>,
    /// 1 to 500, default 50.
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<u32>,
}

/// Audit events, each with the hash of the one before.
#[utoipa::path(
    get, path = "/api/v1/audit", tag = "audit",
    params(ListParams),
    responses((status = 200, body = Page<AuditEvent>), (status = 401, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = []))
)]
pub async fn list(
    State(state): State<AppState>,
    _caller: Caller,
    ApiQuery(params): ApiQuery<ListParams>,
) -> Result<Json<Page<AuditEvent>>, ApiError> {
    let page = PageRequest::parse(params.limit, params.cursor.as_deref())?;
    Ok(Json(audit::list(&state.db, &page).await?))
}

/// The audit trail's last event, signed with the server's audit key (when it has one). Record
/// it now and then: `airdesk audit verify --head HASH` later shows whether any event up to it
/// was removed or changed.
#[utoipa::path(
    get, path = "/api/v1/audit/head", tag = "audit",
    responses((status = 200, body = Head), (status = 401, body = Problem)),
    security(("bearer" = []))
)]
pub async fn head(State(state): State<AppState>, _caller: Caller) -> Result<Json<Head>, ApiError> {
    let key = state.audit_key.as_deref().map(Vec::as_slice);
    Ok(Json(audit::head(&state.db, key).await?))
}
