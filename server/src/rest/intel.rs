//! What starts airdesk's own investigations over the API: user reports, threat indicators
//! (each hunts back through the message index), and the index itself (`/messages`).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde::{Deserialize, Serialize};

use app::model::{AppError, Page, PageRequest, Verdict};
use app::server::clock::{db_time, now};
use chrono::{DateTime, Utc};

use super::json::{ApiQuery, JsonBytes};
use super::problem::{ApiError, Problem};
use crate::auth::Caller;
use crate::http::HttpState;
use crate::index::parse::{normalise_url, parse};
use crate::index::IndexedMessage;
use crate::playbook::Trigger;

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
    ),
    security(("bearer" = []))
)]
pub async fn report(
    State(state): State<HttpState>,
    caller: Caller,
    body: JsonBytes,
) -> Result<(StatusCode, Json<ReportAccepted>), ApiError> {
    let request: ReportRequest = body.parse()?;
    let message_id = match (&request.internet_message_id, &request.raw) {
        (Some(id), None) => id.clone(),
        (None, Some(raw)) => parse(raw.as_bytes(), false).internet_message_id,
        _ => return Err(AppError::Invalid("give either internet_message_id or raw".into()).into()),
    };
    let created = state
        .playbook
        .report_message(&caller.0.username, &request.mailbox, &message_id)
        .await?;
    let alert_id: String = sqlx::query_scalar("SELECT alert_id FROM investigations WHERE id = $1")
        .bind(&created.id)
        .fetch_one(&state.app.pool)
        .await
        .map_err(AppError::from)?;
    Ok((
        StatusCode::ACCEPTED,
        Json(ReportAccepted {
            alert_id,
            investigation_id: created.id,
        }),
    ))
}

/// A threat indicator.
#[derive(Debug, Clone, Deserialize, Serialize, utoipa::ToSchema, sqlx::FromRow)]
pub struct Indicator {
    #[serde(default)]
    pub id: String,
    /// `url`, `domain`, `sender` or `attachment_hash`.
    pub kind: String,
    pub value: String,
    /// `malicious` or `suspicious`.
    pub verdict: String,
    pub expires_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct IndicatorAdded {
    pub id: String,
    /// The investigations its retro-hunt started (none when nothing in the index matched).
    pub investigation_ids: Vec<String>,
}

impl Indicator {
    /// The value in the form the index holds, or why it is not one.
    fn normalised(&self) -> Result<(String, Verdict), AppError> {
        let verdict = match Verdict::parse(&self.verdict) {
            Some(v) if v.calls_for_action() => v,
            _ => {
                return Err(AppError::Invalid(
                    "verdict must be malicious or suspicious".into(),
                ))
            }
        };
        let value = self.value.trim();
        if value.is_empty() || value.len() > 2048 {
            return Err(AppError::Invalid(
                "value must be 1 to 2048 characters".into(),
            ));
        }
        let value = match self.kind.as_str() {
            "url" => normalise_url(value)
                .ok_or_else(|| AppError::Invalid("value is not an http(s) URL".into()))?,
            "domain" if value.contains('.') && !value.contains(['/', '@', ' ']) => {
                value.to_ascii_lowercase()
            }
            "sender" if value.contains('@') && !value.contains(' ') => value.to_ascii_lowercase(),
            "attachment_hash"
                if value.len() == 64 && value.chars().all(|c| c.is_ascii_hexdigit()) =>
            {
                value.to_ascii_lowercase()
            }
            "domain" | "sender" | "attachment_hash" => {
                return Err(AppError::Invalid(format!("value is not a {}", self.kind)))
            }
            other => {
                return Err(AppError::Invalid(format!(
                    "unknown kind {other:?}: url, domain, sender or attachment_hash"
                )))
            }
        };
        Ok((value, verdict))
    }
}

/// A stored indicator: its id, normalised value and verdict, and whether storing it changed
/// anything (a new indicator, or a new verdict or expiry for a known one).
pub struct Stored {
    pub id: String,
    pub value: String,
    pub verdict: Verdict,
    pub changed: bool,
}

/// Stores (or updates) an indicator; shared by the API and the indicators file read at start.
pub async fn store_indicator(
    pool: &sqlx::SqlitePool,
    indicator: &Indicator,
    by: &str,
) -> Result<Stored, AppError> {
    let (value, verdict) = indicator.normalised()?;
    let changed: Option<String> = sqlx::query_scalar(
        "INSERT INTO indicators (id, kind, value, verdict, expires_at, created_at, created_by)
         VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT (kind, value) DO UPDATE SET verdict = excluded.verdict, expires_at = excluded.expires_at
           WHERE verdict IS NOT excluded.verdict OR expires_at IS NOT excluded.expires_at
         RETURNING id",
    )
    .bind(uuid::Uuid::new_v4().to_string())
    .bind(&indicator.kind)
    .bind(&value)
    .bind(verdict.as_str())
    .bind(indicator.expires_at.as_ref().map(db_time))
    .bind(db_time(&now()))
    .bind(by)
    .fetch_optional(pool)
    .await?;
    let id = match &changed {
        Some(id) => id.clone(),
        None => {
            sqlx::query_scalar("SELECT id FROM indicators WHERE kind = $1 AND value = $2")
                .bind(&indicator.kind)
                .bind(&value)
                .fetch_one(pool)
                .await?
        }
    };
    Ok(Stored {
        id,
        value,
        verdict,
        changed: changed.is_some(),
    })
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
    State(state): State<HttpState>,
    caller: Caller,
    body: JsonBytes,
) -> Result<(StatusCode, Json<IndicatorAdded>), ApiError> {
    let user = caller.require_decider()?;
    let indicator: Indicator = body.parse()?;
    // Added over the API, it always hunts (mail may have arrived since it was last added).
    let stored = store_indicator(&state.app.pool, &indicator, &user.username).await?;
    let created = state
        .playbook
        .investigate(Trigger::Indicator {
            kind: indicator.kind.clone(),
            value: stored.value,
            verdict: stored.verdict,
        })
        .await?;
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
    State(state): State<HttpState>,
    _caller: Caller,
) -> Result<Json<Vec<Indicator>>, ApiError> {
    let rows = sqlx::query_as(
        "SELECT id, kind, value, verdict, expires_at FROM indicators ORDER BY created_at DESC, id LIMIT 10000",
    )
    .fetch_all(&state.app.pool)
    .await
    .map_err(AppError::from)?;
    Ok(Json(rows))
}

/// Remove an indicator (investigations it started stay).
#[utoipa::path(
    delete, path = "/api/v1/indicators/{id}", tag = "investigations",
    params(("id" = String, Path, description = "Indicator id")),
    responses((status = 204), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)),
    security(("bearer" = []))
)]
pub async fn delete_indicator(
    State(state): State<HttpState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    caller.require_decider()?;
    let gone = sqlx::query("DELETE FROM indicators WHERE id = $1")
        .bind(&id)
        .execute(&state.app.pool)
        .await
        .map_err(AppError::from)?
        .rows_affected();
    if gone == 0 {
        return Err(AppError::NotFound(format!("indicator {id:?}")).into());
    }
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct MessageParams {
    pub mailbox: Option<String>,
    pub internet_message_id: Option<String>,
    pub sender: Option<String>,
    pub url: Option<String>,
    pub cursor: Option<String>,
    /// 1 to 500, default 50.
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
    State(state): State<HttpState>,
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
    let mut q = sqlx::QueryBuilder::<sqlx::Sqlite>::new(
        "SELECT m.id, m.mailbox, m.folder, m.location, m.internet_message_id, m.sender, m.sender_domain,
                m.reply_to, m.recipients, m.subject, m.subject_fingerprint, m.received_at, m.spf, m.dkim, m.dmarc
         FROM messages m WHERE m.id > ",
    );
    q.push_bind(after);
    if let Some(mailbox) = &params.mailbox {
        q.push(" AND m.mailbox = ")
            .push_bind(mailbox.trim().to_ascii_lowercase());
    }
    if let Some(id) = &params.internet_message_id {
        q.push(" AND m.internet_message_id = ")
            .push_bind(id.trim().to_string());
    }
    if let Some(sender) = &params.sender {
        q.push(" AND m.sender = ")
            .push_bind(sender.trim().to_ascii_lowercase());
    }
    if let Some(url) = &params.url {
        let url = normalise_url(url)
            .ok_or_else(|| AppError::Invalid("url is not an http(s) URL".into()))?;
        q.push(" AND m.id IN (SELECT message FROM message_urls WHERE url = ")
            .push_bind(url)
            .push(")");
    }
    q.push(" ORDER BY m.id LIMIT ")
        .push_bind(i64::from(page.limit) + 1);
    let mut items: Vec<IndexedMessage> = q
        .build_query_as()
        .fetch_all(&state.app.pool)
        .await
        .map_err(AppError::from)?;
    let next = (items.len() > page.limit as usize)
        .then(|| {
            items.truncate(page.limit as usize);
            items.last().map(|m| m.id.to_string())
        })
        .flatten();
    Ok(Json(Page { items, next }))
}
