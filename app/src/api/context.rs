//! What a server function needs from the request: the state and the signed-in user.

#[cfg(feature = "ssr")]
mod ssr {
    use airdesk_core::{sessions, AppState};

    use crate::model::{AppError, CurrentUser};

    pub fn state() -> Result<AppState, AppError> {
        leptos::prelude::use_context::<AppState>().ok_or_else(|| {
            tracing::error!("AppState missing from the Leptos context");
            AppError::Internal
        })
    }

    pub async fn session() -> Result<tower_sessions::Session, AppError> {
        leptos_axum::extract::<tower_sessions::Session>()
            .await
            .map_err(|e| {
                tracing::error!(error = %e, "no session layer in front of server functions");
                AppError::Internal
            })
    }

    /// The address the request came from (the HTTP layer puts it there; without it, the
    /// unspecified address, which every such request shares).
    pub async fn client_address() -> std::net::IpAddr {
        leptos_axum::extract::<axum::Extension<airdesk_core::signin::ClientAddress>>()
            .await
            .map_or(
                std::net::IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED),
                |found| found.0 .0,
            )
    }

    /// The browser's User-Agent header, as the Sessions page shows it (text, truncated).
    pub async fn user_agent() -> String {
        leptos_axum::extract::<axum::http::HeaderMap>()
            .await
            .ok()
            .and_then(|headers| {
                headers
                    .get(axum::http::header::USER_AGENT)
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_string)
            })
            .unwrap_or_default()
    }

    /// Gives a failed server function the HTTP status of its error (Leptos would send 500).
    pub fn with_status<T>(result: Result<T, AppError>) -> Result<T, AppError> {
        if let Err(error) = &result {
            if let Some(response) = leptos::prelude::use_context::<leptos_axum::ResponseOptions>() {
                let status = axum::http::StatusCode::from_u16(error.status())
                    .unwrap_or(axum::http::StatusCode::INTERNAL_SERVER_ERROR);
                response.set_status(status);
                if let Some(seconds) = error.retry_after() {
                    response.insert_header(
                        axum::http::header::RETRY_AFTER,
                        axum::http::HeaderValue::from(seconds),
                    );
                }
            }
        }
        result
    }

    /// The signed-in user, or Unauthenticated.
    pub async fn user() -> Result<(AppState, CurrentUser), AppError> {
        let state = state()?;
        let user = sessions::current_user(&session().await?, &state.db)
            .await?
            .ok_or(AppError::Unauthenticated)?;
        Ok((state, user))
    }
}

#[cfg(feature = "ssr")]
pub use ssr::*;
