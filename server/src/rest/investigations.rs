//! `/api/v1/investigations`: ingest a result, read one, list them.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::Json;
use serde::Deserialize;

use airdesk_core::{investigations, AppState};
use model::{
    Actor, AppError, IngestInvestigation, Investigation, InvestigationCreated, InvestigationStatus,
    InvestigationSummary, InvestigationType, Page, PageRequest,
};

use super::caller::{Caller, Need};
use super::idempotency;
use super::json::{query_word, ApiQuery, JsonBytes};
use super::problem::{ApiError, Problem};

/// Ingest the result of an investigation; the server proposes the actions its verdicts call for.
#[utoipa::path(
    post, path = "/api/v1/investigations", tag = "investigations",
    request_body = IngestInvestigation,
    params(("Idempotency-Key" = Option<String>, Header, description = "Retry safely: the first response is replayed")),
    responses(
        (status = 201, description = "Created, with its pending actions", body = InvestigationCreated),
        (status = 400, description = "Malformed JSON", body = Problem),
        (status = 401, description = "No or bad credentials", body = Problem),
        (status = 403, description = "Role lacks Search and purge", body = Problem),
        (status = 413, description = "Body over the limit", body = Problem),
        (status = 422, description = "Well-formed but invalid", body = Problem),
    ),
    security(("bearer" = []))
)]
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    body: JsonBytes,
) -> Response {
    let (state, body) = (&state, &body);
    idempotency::checked(
        state,
        &caller,
        Need::Ingest,
        &headers,
        "POST /api/v1/investigations",
        &body.bytes,
        |user| async move {
            let request: IngestInvestigation = body.parse()?;
            let created = investigations::ingest(state, &Actor::from(&user), &request).await?;
            let json = serde_json::to_value(created).map_err(|_| AppError::Internal)?;
            Ok((StatusCode::CREATED, json))
        },
    )
    .await
}

/// One investigation with its clusters, forwarding, actions and log.
#[utoipa::path(
    get, path = "/api/v1/investigations/{id}", tag = "investigations",
    params(("id" = String, Path, description = "Investigation id")),
    responses(
        (status = 200, body = Investigation),
        (status = 401, body = Problem),
        (status = 404, body = Problem),
    ),
    security(("bearer" = []))
)]
pub async fn get(
    State(state): State<AppState>,
    _caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Investigation>, ApiError> {
    Ok(Json(investigations::get(&state.db, &id).await?))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    /// Only investigations with this status.
    #[param(value_type = Option<InvestigationStatus>)]
    pub status: Option<String>,
    /// Only investigations of this type (`user_reported`, `manual`, `url_verdict_change`, …).
    #[param(value_type = Option<InvestigationType>)]
    pub investigation_type: Option<String>,
    pub cursor: Option<String>,
    /// 1 to 500, default 50.
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<u32>,
}

/// The investigations queue, newest first.
#[utoipa::path(
    get, path = "/api/v1/investigations", tag = "investigations",
    params(ListParams),
    responses(
        (status = 200, body = Page<InvestigationSummary>),
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
) -> Result<Json<Page<InvestigationSummary>>, ApiError> {
    let status = query_word(
        params.status.as_deref(),
        "status",
        InvestigationStatus::parse,
    )?;
    let kind = query_word(
        params.investigation_type.as_deref(),
        "investigation type",
        InvestigationType::parse,
    )?;
    let page = PageRequest::parse(params.limit, params.cursor.as_deref())?;
    Ok(Json(
        investigations::list(&state.db, status, kind, &page).await?,
    ))
}
