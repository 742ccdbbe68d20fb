//! `/api/v1/actions`: read actions, filtered and a keyset page at a time.

use axum::extract::{Path, State};
use axum::Json;
use serde::Deserialize;

use airdesk_core::actions::{self, ActionFilter, ResultCounts};
use airdesk_core::AppState;
use model::{Action, ActionStatus, ActionType, AppError, Page, PageRequest};

use super::caller::Caller;
use super::json::{query_word, ApiQuery};
use super::problem::{ApiError, Problem};

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    /// `pending`, `approved`, … (Pending is served oldest first, everything else newest first).
    #[param(value_type = Option<ActionStatus>)]
    pub status: Option<String>,
    /// `soft_delete_cluster`, `turn_off_forwarding`, …
    #[serde(rename = "type")]
    #[param(rename = "type", value_type = Option<ActionType>)]
    pub action_type: Option<String>,
    pub investigation_id: Option<String>,
    pub cursor: Option<String>,
    /// 1 to 500, default 50.
    #[param(minimum = 1, maximum = 500)]
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
        status: query_word(params.status.as_deref(), "status", ActionStatus::parse)?,
        action_type: query_word(params.action_type.as_deref(), "type", ActionType::parse)?,
        investigation_id: params.investigation_id.filter(|id| !id.is_empty()),
        ..ActionFilter::default()
    };
    let page = PageRequest::parse(params.limit, params.cursor.as_deref())?;
    Ok(Json(actions::list(&state.db, &filter, &page).await?))
}

/// One action with its per-message results; a pending one with its `impact`: the copies and
/// mailboxes it would touch now and the approval policy's rule for it, counted when asked.
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
    Ok(Json(actions::get_with_impact(&state, &id).await?))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ExportParams {
    /// Only this status; without it, every decided action (History).
    #[param(value_type = Option<ActionStatus>)]
    pub status: Option<String>,
    #[serde(rename = "type")]
    #[param(rename = "type", value_type = Option<ActionType>)]
    pub action_type: Option<String>,
    pub decided_by: Option<String>,
    /// Only actions created within this many days.
    #[param(minimum = 0, maximum = 36500)]
    pub within_days: Option<u32>,
}

/// Rows one export holds at most.
const EXPORT_LIMIT: usize = 100_000;

/// History as CSV (newest first), with the same filters as the portal's History tab, streamed
/// a page at a time; at most 100,000 actions, and when more match, a last row whose `id` is
/// `TRUNCATED` says so. Text that came from outside (comments, subjects in details) is
/// neutralised for spreadsheets: a cell starting with `=`, `+`, `-`, `@`, tab or CR gets a
/// leading `'`.
#[utoipa::path(
    get, path = "/api/v1/actions/export.csv", tag = "actions",
    params(ExportParams),
    responses((status = 200, content_type = "text/csv", body = String), (status = 401, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = []))
)]
pub async fn export(
    State(state): State<AppState>,
    _caller: Caller,
    ApiQuery(params): ApiQuery<ExportParams>,
) -> Result<axum::response::Response, ApiError> {
    use axum::http::header;
    use axum::response::IntoResponse;
    let filter = ActionFilter {
        status: query_word(params.status.as_deref(), "status", ActionStatus::parse)?,
        decided: true,
        action_type: query_word(params.action_type.as_deref(), "type", ActionType::parse)?,
        decided_by: params.decided_by.filter(|d| !d.trim().is_empty()),
        since: params
            .within_days
            .map(|days| model::days_before(chrono::Utc::now(), days))
            .transpose()?,
        ..ActionFilter::default()
    };
    // The first page is read before answering, so a database that cannot be read is a
    // problem response, not a 200 cut short; the rest is streamed a page at a time, and
    // memory stays that of one page however long the history.
    let first = export_page(&state, &filter, None, 0).await?;
    let rest = futures_util::stream::try_unfold(
        (state, filter, first.next, first.written),
        |(state, filter, cursor, written)| async move {
            let Some(cursor) = cursor else {
                return Ok(None);
            };
            let page = export_page(&state, &filter, Some(cursor), written).await?;
            Ok::<_, ApiError>(Some((page.csv, (state, filter, page.next, page.written))))
        },
    );
    let header_and_first = futures_util::stream::once(async move { Ok(first.csv) });
    let body = futures_util::StreamExt::map(
        futures_util::StreamExt::chain(header_and_first, rest),
        |chunk: Result<Vec<u8>, ApiError>| {
            chunk.map_err(|error| std::io::Error::other(error.0.to_string()))
        },
    );
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"airdesk-history.csv\"",
            ),
        ],
        axum::body::Body::from_stream(body),
    )
        .into_response())
}

/// One page of the export as CSV text (with the header row first), and where the next
/// starts; `None` once [`EXPORT_LIMIT`] rows are written or the history ends.
struct ExportPage {
    csv: Vec<u8>,
    next: Option<String>,
    written: usize,
}

async fn export_page(
    state: &AppState,
    filter: &ActionFilter,
    cursor: Option<String>,
    mut written: usize,
) -> Result<ExportPage, ApiError> {
    let page = PageRequest::parse(Some(PageRequest::MAX_LIMIT), cursor.as_deref())?;
    let Page { items, next } = actions::list_counted(&state.db, filter, &page).await?;
    let mut out = csv::Writer::from_writer(Vec::new());
    if cursor.is_none() {
        out.write_record(EXPORT_COLUMNS).map_err(csv_error)?;
    }
    let room = EXPORT_LIMIT - written;
    for (action, counts) in items.iter().take(room) {
        out.write_record(export_row(action, counts))
            .map_err(csv_error)?;
        written += 1;
    }
    // A limit never cuts a history short silently: the last row says more actions match.
    let more = items.len() > room || (written == EXPORT_LIMIT && next.is_some());
    if more {
        out.write_record(truncated_row()).map_err(csv_error)?;
    }
    let csv = out
        .into_inner()
        .map_err(|e| csv_error(e.into_error().into()))?;
    Ok(ExportPage {
        csv,
        next: next.filter(|_| !more && written < EXPORT_LIMIT),
        written,
    })
}

const EXPORT_COLUMNS: [&str; 13] = [
    "id",
    "type",
    "status",
    "entity",
    "investigation",
    "created_at",
    "decided_by",
    "decided_at",
    "comment",
    "details",
    "messages",
    "succeeded",
    "failed",
];

/// One action as a CSV row, in [`EXPORT_COLUMNS`] order.
fn export_row(a: &Action, counts: &ResultCounts) -> [String; 13] {
    [
        a.id.clone(),
        a.action_type.as_str().to_string(),
        a.status.as_str().to_string(),
        spreadsheet_safe(&a.target.describe()),
        spreadsheet_safe(&a.investigation_title),
        a.created_at.to_rfc3339(),
        spreadsheet_safe(a.decided_by.as_deref().unwrap_or_default()),
        a.decided_at.map(|t| t.to_rfc3339()).unwrap_or_default(),
        spreadsheet_safe(a.comment.as_deref().unwrap_or_default()),
        spreadsheet_safe(a.details.as_deref().unwrap_or_default()),
        counts.messages.to_string(),
        counts.succeeded.to_string(),
        counts.failed.to_string(),
    ]
}

/// The row after the last of an export cut at [`EXPORT_LIMIT`].
fn truncated_row() -> [String; 13] {
    let mut row: [String; 13] = Default::default();
    row[0] = "TRUNCATED".into();
    row[8] = format!(
        "More actions match: an export holds at most {EXPORT_LIMIT}. Narrow it (within_days, status, type, decided_by) to export the rest."
    );
    row
}

fn csv_error(e: csv::Error) -> AppError {
    tracing::error!(error = %e, "writing CSV");
    AppError::Internal
}

/// A cell a spreadsheet will not run as a formula.
fn spreadsheet_safe(text: &str) -> String {
    match text.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{text}"),
        _ => text.to_string(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn formulas_are_neutralised() {
        assert_eq!(
            super::spreadsheet_safe("=HYPERLINK(\"x\")"),
            "'=HYPERLINK(\"x\")"
        );
        assert_eq!(super::spreadsheet_safe("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(super::spreadsheet_safe("fine"), "fine");
    }
}
