//! `Idempotency-Key` on POST: a retry with the same key and body gets the first response and
//! changes nothing; the same key with another body is refused.

use std::future::Future;

use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use sha2::{Digest, Sha256};

use airdesk_core::idempotency::{self, Claim};
use airdesk_core::AppState;
use model::{AppError, CurrentUser};

use super::caller::{Caller, Need};
use super::problem::ApiError;

const HEADER: &str = "idempotency-key";

/// For POSTs that need more than being signed in: checks `need` (403 before the body is
/// read), then runs `work` as that user, once per Idempotency-Key.
pub async fn checked<F, Fut>(
    state: &AppState,
    caller: &Caller,
    need: Need,
    headers: &HeaderMap,
    route: &str,
    body: &[u8],
    work: F,
) -> Response
where
    F: FnOnce(CurrentUser) -> Fut,
    Fut: Future<Output = Result<(StatusCode, serde_json::Value), ApiError>>,
{
    match caller.require(need) {
        Ok(user) => once(state, user, headers, route, body, || work(user.clone())).await,
        Err(error) => error.into_response(),
    }
}

/// Runs `work` once per (user, key). Without a key, simply runs it.
pub async fn once<F, Fut>(
    state: &AppState,
    user: &CurrentUser,
    headers: &HeaderMap,
    route: &str,
    body: &[u8],
    work: F,
) -> Response
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Result<(StatusCode, serde_json::Value), ApiError>>,
{
    let key = match headers.get(HEADER).map(read_key).transpose() {
        Ok(key) => key,
        Err(error) => return error.into_response(),
    };
    let Some(key) = key else {
        return respond(work().await);
    };
    let request_hash = {
        let mut hasher = Sha256::new();
        hasher.update(route.as_bytes());
        hasher.update([0]);
        hasher.update(body);
        hex::encode(hasher.finalize())
    };
    match idempotency::claim(&state.db, &user.id, &key, &request_hash).await {
        Ok(Claim::Mine) => {}
        Ok(Claim::Replay(status, body)) => {
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
            let mut response = (status, Json(body)).into_response();
            if status.is_client_error() {
                // A replayed refusal is the same problem document as the first answer.
                response.headers_mut().insert(
                    axum::http::header::CONTENT_TYPE,
                    HeaderValue::from_static("application/problem+json"),
                );
            }
            response
                .headers_mut()
                .insert("idempotent-replayed", HeaderValue::from_static("true"));
            return response;
        }
        Err(error) => return ApiError::from(error).into_response(),
    }
    let outcome = work().await;
    let stored = match &outcome {
        Ok((status, body)) => Some((status.as_u16(), body.clone())),
        // A refusal is an answer too; a server fault is not: let the retry try again.
        Err(ApiError(e)) if e.status() < 500 => Some((
            e.status(),
            serde_json::to_value(super::problem::Problem::from_error(e)).unwrap_or_default(),
        )),
        Err(_) => None,
    };
    if let Err(error) = idempotency::settle(&state.db, &user.id, &key, stored).await {
        tracing::error!(?error, "could not record the idempotent response");
    }
    respond(outcome)
}

fn respond(outcome: Result<(StatusCode, serde_json::Value), ApiError>) -> Response {
    match outcome {
        Ok((status, body)) => (status, Json(body)).into_response(),
        Err(error) => error.into_response(),
    }
}

fn read_key(value: &HeaderValue) -> Result<String, ApiError> {
    let key = value
        .to_str()
        .map_err(|_| AppError::Malformed("Idempotency-Key must be visible ASCII".into()))?;
    // HTTP has already dropped the blanks around a header's value; any left inside count.
    if !key.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(AppError::Malformed(
            "Idempotency-Key must be visible ASCII, without spaces".into(),
        )
        .into());
    }
    if key.is_empty() || key.len() > 255 {
        return Err(
            AppError::Malformed("Idempotency-Key must be 1 to 255 characters".into()).into(),
        );
    }
    Ok(key.to_string())
}
