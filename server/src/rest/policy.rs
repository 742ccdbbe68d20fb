//! `/api/v1/policy`: the approval policy in force — its hash, groups, rules and defaults.

use axum::extract::State;
use axum::Json;

use airdesk_core::policy::PolicyView;
use airdesk_core::AppState;

use super::caller::Caller;
use super::problem::{ApiError, Problem};

/// The approval policy in force on this instance (every signed-in caller may read it).
#[utoipa::path(
    get, path = "/api/v1/policy", tag = "policy",
    responses((status = 200, body = PolicyView), (status = 401, body = Problem)),
    security(("bearer" = []))
)]
pub async fn get(
    State(state): State<AppState>,
    _caller: Caller,
) -> Result<Json<PolicyView>, ApiError> {
    Ok(Json(state.policy.current().describe()))
}
