//! What starts airdesk's own investigations over the API: user reports, threat indicators
//! (each hunts back through the message index), and the index itself (`/messages`).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde::{Deserialize, Serialize};

use airdesk_core::index::{self, IndexedMessage, MessageFilter};
use airdesk_core::investigations::playbook::{self, reports, Trigger};
use airdesk_core::{indicators, AppState};
use mail::parse::{normalise_url, parse};
use model::{Actor, AppError, Indicator, Page, PageRequest};

use super::caller::{Caller, Need};
use super::json::{ApiQuery, JsonBytes};
use super::problem::{ApiError, Problem};

/// A user's report: a message already delivered (mailbox + Internet Message-ID), or the
/// message itself as RFC 5322 text.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReportRequest {
    pub mailbox: String,
    pub internet_message_id: Option<String>,
    /// The reported message, raw; its Message-ID finds the delivered copy.
    pub raw: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ReportAccepted {
    pub alert_id: String,
    pub investigation_id: String,
    /// True when a report of the same copy had already started this investigation: the
    /// report was added to it (and counts towards the cluster's reporters) instead.
    pub joined: bool,
}

/// Report a message as phish: the playbook investigates it (clusters across every mailbox,
/// verdicts, forwarding) and proposes actions. Any signed-in user may report.
#[utoipa::path(
    post, path = "/api/v1/reports", tag = "investigations",
    request_body = ReportRequest,
    responses(
        (status = 202, description = "Investigated; poll the investigation for its actions", body = ReportAccepted),
        (status = 400, body = Problem), (status = 401, body = Problem),
        (status = 404, description = "No such message in the mailbox's index", body = Problem),
        (status = 422, body = Problem),
        (status = 429, description = "The user's report quota is used up; see Retry-After", body = Problem),
    ),
    security(("bearer" = []))
)]
pub async fn report(
    State(state): State<AppState>,
    caller: Caller,
    body: JsonBytes,
) -> Result<(StatusCode, Json<ReportAccepted>), ApiError> {
    let request: ReportRequest = body.parse()?;
    let (message_id, content) = match (&request.internet_message_id, &request.raw) {
        (Some(id), None) => (id.clone(), None),
        (None, Some(raw)) => (
            parse(raw.as_bytes(), false).internet_message_id,
            Some(mail::parse::content_hash(raw.as_bytes())),
        ),
        _ => return Err(AppError::Invalid("give either internet_message_id or raw".into()).into()),
    };
    let reported = playbook::report(
        &state,
        &caller.0,
        &request.mailbox,
        &message_id,
        content.as_deref(),
    )
    .await?;
    let alert_id = reports::alert_of(&state.db, &reported.investigation_id).await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(ReportAccepted {
            alert_id,
            investigation_id: reported.investigation_id,
            joined: reported.joined,
        }),
    ))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct IndicatorAdded {
    pub id: String,
    /// The investigations its retro-hunt started (none when nothing in the index matched).
    pub investigation_ids: Vec<String>,
}

/// Add a threat indicator: it hunts back through the index and investigates every hit.
#[utoipa::path(
    post, path = "/api/v1/indicators", tag = "investigations",
    request_body = Indicator,
    responses(
        (status = 201, body = IndicatorAdded),
        (status = 400, body = Problem), (status = 401, body = Problem),
        (status = 403, description = "Role lacks Search and purge", body = Problem),
        (status = 422, body = Problem),
    ),
    security(("bearer" = []))
)]
pub async fn add_indicator(
    State(state): State<AppState>,
    caller: Caller,
    body: JsonBytes,
) -> Result<(StatusCode, Json<IndicatorAdded>), ApiError> {
    let user = caller.require(Need::Hunt)?;
    let indicator: Indicator = body.parse()?;
    // Added over the API, it always hunts (mail may have arrived since it was last added).
    let stored = indicators::store(&state.db, &indicator, &Actor::from(user)).await?;
    let trigger = Trigger::Indicator {
        kind: indicator.kind,
        value: stored.value,
        verdict: stored.verdict,
        added_by: user.username.clone(),
    };
    let created = playbook::investigate(&state, trigger).await?;
    Ok((
        StatusCode::CREATED,
        Json(IndicatorAdded {
            id: stored.id,
            investigation_ids: created.into_iter().map(|c| c.id).collect(),
        }),
    ))
}

/// Every indicator, newest first.
#[utoipa::path(
    get, path = "/api/v1/indicators", tag = "investigations",
    responses((status = 200, body = Vec<Indicator>), (status = 401, body = Problem)),
    security(("bearer" = []))
)]
pub async fn list_indicators(
    State(state): State<AppState>,
    _caller: Caller,
) -> Result<Json<Vec<Indicator>>, ApiError> {
    Ok(Json(indicators::list(&state.db).await?))
}

/// Remove an indicator (investigations it started stay).
#[utoipa::path(
    delete, path = "/api/v1/indicators/{id}", tag = "investigations",
    params(("id" = String, Path, description = "Indicator id")),
    responses((status = 204), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)),
    security(("bearer" = []))
)]
pub async fn delete_indicator(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let user = caller.require(Need::Hunt)?;
    indicators::delete(&state.db, &id, &Actor::from(user)).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MessageParams {
    pub mailbox: Option<String>,
    pub internet_message_id: Option<String>,
    pub sender: Option<String>,
    pub url: Option<String>,
    pub cursor: Option<String>,
    /// 1 to 500, default 50.
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<u32>,
}

/// Indexed messages, with where each is now.
#[utoipa::path(
    get, path = "/api/v1/messages", tag = "investigations",
    params(MessageParams),
    responses((status = 200, body = Page<IndexedMessage>), (status = 401, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = []))
)]
pub async fn messages(
    State(state): State<AppState>,
    _caller: Caller,
    ApiQuery(params): ApiQuery<MessageParams>,
) -> Result<Json<Page<IndexedMessage>>, ApiError> {
    let page = PageRequest::parse(params.limit, None)?;
    let after: i64 = match params.cursor.as_deref().filter(|c| !c.is_empty()) {
        Some(c) => c
            .parse()
            .map_err(|_| AppError::Invalid("cursor is not one this server gave".into()))?,
        None => 0,
    };
    // An empty value is no filter, as everywhere in the API.
    let given = |value: Option<String>| value.filter(|v| !v.trim().is_empty());
    let url = given(params.url)
        .as_deref()
        .map(|url| {
            normalise_url(url).ok_or_else(|| AppError::Invalid("url is not an http(s) URL".into()))
        })
        .transpose()?;
    let filter = MessageFilter {
        mailbox: given(params.mailbox).map(|m| m.trim().to_ascii_lowercase()),
        internet_message_id: given(params.internet_message_id).map(|id| id.trim().to_string()),
        sender: given(params.sender).map(|s| s.trim().to_ascii_lowercase()),
        url,
    };
    Ok(Json(index::list(&state.db, &filter, after, &page).await?))
}
