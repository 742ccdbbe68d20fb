//! Reading request bodies and query strings, with their failures as problems: unreadable JSON
//! is 400, JSON of the wrong shape 422, a body over the limit 413.

use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, QueryRejection};
use axum::extract::{FromRef, FromRequest, FromRequestParts, Query, Request};
use axum::http::header::CONTENT_TYPE;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use super::problem::ApiError;
use model::AppError;

mod objects;
use objects::Objects;

/// A request body read as bytes (up to the body limit), to be parsed as JSON once the caller's
/// role has been checked: a Reader's request is refused before its body is looked at.
pub struct JsonBytes {
    pub bytes: Bytes,
    is_json: bool,
}

impl JsonBytes {
    /// The body as `T`; a body that is not declared as JSON is 400.
    pub fn parse<T: DeserializeOwned>(&self) -> Result<T, ApiError> {
        if !self.is_json {
            return Err(AppError::Malformed("Content-Type must be application/json".into()).into());
        }
        parse(&self.bytes)
    }
}

impl<S: Send + Sync> FromRequest<S> for JsonBytes
where
    BodyLimit: FromRef<S>,
{
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let is_json = request
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(|v| {
                v.split(';')
                    .next()
                    .unwrap_or_default()
                    .trim()
                    .to_ascii_lowercase()
            })
            .is_some_and(|mime| mime == "application/json" || mime.ends_with("+json"));
        let BodyLimit(limit) = BodyLimit::from_ref(state);
        let bytes =
            Bytes::from_request(request, state)
                .await
                .map_err(|rejection: BytesRejection| {
                    if rejection.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                        ApiError::from(AppError::TooLarge(limit))
                    } else {
                        ApiError::from(AppError::Malformed(rejection.body_text()))
                    }
                })?;
        Ok(JsonBytes { bytes, is_json })
    }
}

/// The largest request body the API accepts, in bytes.
#[derive(Clone, Copy, Debug)]
pub struct BodyLimit(pub usize);

/// Parses JSON: a body that is not JSON at all is 400; JSON of the wrong shape (missing field,
/// unknown word, bad address, an array where an object belongs) is 422 and names where.
pub fn parse<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let value: serde_json::Value = serde_json::from_slice(bytes)
        .map_err(|e| AppError::Malformed(format!("body is not valid JSON: {e}")))?;
    serde_path_to_error::deserialize(Objects(value)).map_err(|e| {
        let path = e.path().to_string();
        let at = if path == "." {
            String::new()
        } else {
            format!(" (at {path})")
        };
        AppError::Invalid(format!("{}{at}", e.into_inner())).into()
    })
}

/// A query string, with a bad one as 400.
pub struct ApiQuery<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        Query::<T>::from_request_parts(parts, state)
            .await
            .map(|Query(v)| ApiQuery(v))
            .map_err(|e: QueryRejection| AppError::Malformed(e.body_text()).into())
    }
}

/// A query parameter that must be one word of a closed vocabulary (`status=pending`), if given;
/// an unknown word is a 422 naming the parameter.
pub fn query_word<T>(
    word: Option<&str>,
    name: &str,
    parse: impl Fn(&str) -> Option<T>,
) -> Result<Option<T>, AppError> {
    // An empty value (`?status=`) is no filter, as a form submitted with the field blank means.
    word.filter(|w| !w.is_empty())
        .map(|w| parse(w).ok_or_else(|| AppError::Invalid(format!("unknown {name} {w:?}"))))
        .transpose()
}
