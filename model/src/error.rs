//! The errors a caller can see, the same for server functions and the REST API.
//! Database text never gets here: the server logs the cause and sends only these words.

use serde::{Deserialize, Serialize};
use server_fn::codec::JsonEncoding;
use server_fn::error::{FromServerFnError, ServerFnErrorErr};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum AppError {
    /// 400: the request could not be read.
    #[error("malformed request: {0}")]
    Malformed(String),
    /// 401: no credentials, or credentials that do not match a user.
    #[error("sign in first")]
    Unauthenticated,
    /// 401: a sign-in with a wrong username or password (which one is not said).
    #[error("wrong username or password")]
    BadCredentials,
    /// 403: the user's role lacks the permission.
    #[error("your role lacks the {0} permission")]
    Forbidden(String),
    /// 403: the approval policy, or separation of duties, does not let this user do this to
    /// this action (the words say which rule and why).
    #[error("{0}")]
    Refused(String),
    /// 404: no such thing.
    #[error("{0} not found")]
    NotFound(String),
    /// 409: the thing is not in a state that allows this (e.g. already decided).
    #[error("{0}")]
    Conflict(String),
    /// 413: the body is over the limit.
    #[error("request body over the limit of {0} bytes")]
    TooLarge(usize),
    /// 422: well-formed but invalid.
    #[error("{0}")]
    Invalid(String),
    /// 429: too many of something (failed sign-ins for a name or from an address, reports by
    /// one user); try again after `retry_after` seconds (sent as `Retry-After`).
    #[error("{what}; try again in {retry_after} seconds")]
    TooMany { what: String, retry_after: u64 },
    /// 503: the server could not be reached (only ever made in the browser).
    #[error("the server could not be reached")]
    Unreachable,
    /// 500: something broke on the server; the details are in its log.
    #[error("internal error; the server log has the details")]
    Internal,
}

impl AppError {
    /// The HTTP status this error becomes.
    pub fn status(&self) -> u16 {
        match self {
            AppError::Malformed(_) => 400,
            AppError::Unauthenticated | AppError::BadCredentials => 401,
            AppError::Forbidden(_) | AppError::Refused(_) => 403,
            AppError::NotFound(_) => 404,
            AppError::Conflict(_) => 409,
            AppError::TooLarge(_) => 413,
            AppError::Invalid(_) => 422,
            AppError::TooMany { .. } => 429,
            AppError::Unreachable => 503,
            AppError::Internal => 500,
        }
    }

    /// Seconds the client should wait before asking again (the `Retry-After` header), if
    /// this error says to wait.
    pub fn retry_after(&self) -> Option<u64> {
        match self {
            AppError::TooMany { retry_after, .. } => Some(*retry_after),
            _ => None,
        }
    }

    /// The short, stable title of the problem (RFC 9457 `title`).
    pub fn title(&self) -> &'static str {
        match self {
            AppError::Malformed(_) => "Malformed request",
            AppError::Unauthenticated | AppError::BadCredentials => "Unauthenticated",
            AppError::Forbidden(_) | AppError::Refused(_) => "Forbidden",
            AppError::NotFound(_) => "Not found",
            AppError::Conflict(_) => "Conflict",
            AppError::TooLarge(_) => "Payload too large",
            AppError::Invalid(_) => "Invalid request",
            AppError::TooMany { .. } => "Too many requests",
            AppError::Unreachable => "Service unavailable",
            AppError::Internal => "Internal server error",
        }
    }
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        match value {
            ServerFnErrorErr::Args(e) | ServerFnErrorErr::Deserialization(e) => {
                AppError::Malformed(e)
            }
            ServerFnErrorErr::Request(_) | ServerFnErrorErr::Response(_) => AppError::Unreachable,
            _ => AppError::Internal,
        }
    }
}
