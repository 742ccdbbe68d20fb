//! Deciding actions over the API: approve, reject, and both in bulk — what the product we model
//! cannot do without a person at a browser.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde::{Deserialize, Serialize};

use airdesk_core::actions::{self, Decision};
use airdesk_core::AppState;
use model::{Action, ActionStatus, ActionType, AppError};

use super::caller::{Caller, Need};
use super::idempotency;
use super::json::JsonBytes;
use super::problem::{ApiError, Problem};

/// Most ids one bulk request may carry.
pub const MAX_BULK: usize = 500;

/// The optional body of approve and reject.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DecisionBody {
    #[schema(max_length = 2000)]
    pub comment: Option<String>,
}

/// The words a decision is made of, for the document.
#[derive(utoipa::ToSchema)]
#[schema(rename_all = "snake_case")]
#[allow(dead_code)]
pub enum DecisionWord {
    Approve,
    Reject,
}

/// What a completed action can be changed to, for the document (`restore_forwarding` undoes
/// Turn off external mail forwarding and nothing else).
#[derive(utoipa::ToSchema)]
#[schema(rename_all = "snake_case")]
#[allow(dead_code)]
pub enum ChangeTarget {
    MoveToInbox,
    MoveToJunk,
    MoveToDeletedItems,
    SoftDelete,
    HardDelete,
    RestoreForwarding,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BulkBody {
    #[schema(value_type = DecisionWord, example = "approve")]
    pub decision: Decision,
    /// Each action is decided on its own; the same id twice is decided once.
    #[schema(min_items = 1, max_items = 500)]
    pub ids: Vec<String>,
    #[schema(max_length = 2000)]
    pub comment: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct BulkResult {
    pub id: String,
    /// The action's status after the decision, or null when it failed.
    pub status: Option<ActionStatus>,
    pub error: Option<Problem>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct BulkResults {
    pub results: Vec<BulkResult>,
}

/// Approve a pending action: it becomes `approved` and is queued for execution, or `duplicate`
/// (with `duplicate_of`) when the same cluster was approved for the same action within the
/// de-duplication window.
#[utoipa::path(
    post, path = "/api/v1/actions/{id}/approve", tag = "actions",
    params(("id" = String, Path), ("Idempotency-Key" = Option<String>, Header)),
    request_body(content = Option<DecisionBody>, description = "Optional comment"),
    responses(
        (status = 200, body = Action), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem), (status = 409, description = "Not pending: says who decided and when", body = Problem),
    ),
    security(("bearer" = []))
)]
pub async fn approve(
    state: State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: JsonBytes,
) -> Response {
    one(state, caller, headers, id, Decision::Approve, body).await
}

/// Reject a pending action: it is never executed.
#[utoipa::path(
    post, path = "/api/v1/actions/{id}/reject", tag = "actions",
    params(("id" = String, Path), ("Idempotency-Key" = Option<String>, Header)),
    request_body(content = Option<DecisionBody>, description = "Optional comment"),
    responses(
        (status = 200, body = Action), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem), (status = 409, body = Problem),
    ),
    security(("bearer" = []))
)]
pub async fn reject(
    state: State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: JsonBytes,
) -> Response {
    one(state, caller, headers, id, Decision::Reject, body).await
}

async fn one(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    id: String,
    decision: Decision,
    body: JsonBytes,
) -> Response {
    let (state, body) = (&state, &body);
    let route = format!("POST /api/v1/actions/{id}/{decision:?}");
    idempotency::checked(
        state,
        &caller,
        Need::Decide,
        &headers,
        &route,
        &body.bytes,
        |user| async move {
            // No body, or JSON null, is no comment. A body of whitespace alone is not JSON:
            // declared as JSON, it is refused like any other that does not parse.
            let request: Option<DecisionBody> = if body.bytes.is_empty() {
                None
            } else {
                body.parse()?
            };
            let request = request.unwrap_or_default();
            let action =
                actions::decide(state, &user, &id, decision, request.comment.as_deref()).await?;
            Ok((
                StatusCode::OK,
                serde_json::to_value(action).map_err(|_| AppError::Internal)?,
            ))
        },
    )
    .await
}

/// Approve or reject many actions: each is decided on its own and reported on its own.
#[utoipa::path(
    post, path = "/api/v1/actions/bulk", tag = "actions",
    params(("Idempotency-Key" = Option<String>, Header)),
    request_body = BulkBody,
    responses(
        (status = 200, body = BulkResults), (status = 400, body = Problem), (status = 401, body = Problem),
        (status = 403, body = Problem), (status = 422, body = Problem),
    ),
    security(("bearer" = []))
)]
pub async fn bulk(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    body: JsonBytes,
) -> Response {
    let (state, body) = (&state, &body);
    idempotency::checked(
        state,
        &caller,
        Need::Decide,
        &headers,
        "POST /api/v1/actions/bulk",
        &body.bytes,
        |user| async move {
            let request: BulkBody = body.parse()?;
            if request.ids.is_empty() || request.ids.len() > MAX_BULK {
                return Err(ApiError::from(AppError::Invalid(format!(
                    "ids must hold 1 to {MAX_BULK} action ids"
                ))));
            }
            // What is wrong with the request as a whole is refused as a whole.
            actions::check_comment(request.comment.as_deref())?;
            let outcomes = actions::decide_many(
                state,
                &user,
                &request.ids,
                request.decision,
                request.comment.as_deref(),
            )
            .await;
            let results = request
                .ids
                .into_iter()
                .zip(outcomes)
                .map(|(id, outcome)| match outcome {
                    Ok(action) => BulkResult {
                        id,
                        status: Some(action.status),
                        error: None,
                    },
                    Err(error) => BulkResult {
                        id,
                        status: None,
                        error: Some(Problem::from_error(&error)),
                    },
                })
                .collect();
            Ok((
                StatusCode::OK,
                serde_json::to_value(BulkResults { results }).map_err(|_| AppError::Internal)?,
            ))
        },
    )
    .await
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangeBody {
    /// `move_to_inbox`, `move_to_junk`, `move_to_deleted_items`, `soft_delete` or
    /// `hard_delete`; `restore_forwarding` for Turn off external mail forwarding.
    #[schema(value_type = ChangeTarget)]
    pub to: ActionType,
}

/// Change or undo a completed email action: a new action (`changed_from` = id), decided by the
/// caller and queued for execution. Hard-deleted mail cannot be changed.
#[utoipa::path(
    post, path = "/api/v1/actions/{id}/change", tag = "actions",
    params(("id" = String, Path), ("Idempotency-Key" = Option<String>, Header)),
    request_body = ChangeBody,
    responses(
        (status = 201, description = "The new action", body = Action), (status = 400, body = Problem),
        (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, description = "Not completed, hard deleted, or already changed", body = Problem),
        (status = 422, body = Problem),
    ),
    security(("bearer" = []))
)]
pub async fn change(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: JsonBytes,
) -> Response {
    let (state, body) = (&state, &body);
    let route = format!("POST /api/v1/actions/{id}/change");
    idempotency::checked(
        state,
        &caller,
        Need::Decide,
        &headers,
        &route,
        &body.bytes,
        |user| async move {
            let request: ChangeBody = body.parse()?;
            let action = actions::change(state, &user, &id, request.to).await?;
            Ok((
                StatusCode::CREATED,
                serde_json::to_value(action).map_err(|_| AppError::Internal)?,
            ))
        },
    )
    .await
}
