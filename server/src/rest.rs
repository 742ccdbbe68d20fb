//! The REST API v1 (shared/API.md): JSON, bearer tokens or a session, problem+json errors.

pub mod actions;
pub mod audit;
pub mod caller;
pub mod decisions;
pub mod idempotency;
pub mod incidents;
pub mod intel;
pub mod investigations;
pub mod json;
pub mod openapi;
pub mod policy;
pub mod problem;
pub mod webhooks;

use axum::extract::FromRef;
use axum::routing::{get, post};
use axum::Router;

use airdesk_core::AppState;
use json::BodyLimit;
use problem::ApiError;

/// The `/api/v1` routes, for any router state that holds the application's state and the
/// body limit.
pub fn router<S>() -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    AppState: FromRef<S>,
    BodyLimit: FromRef<S>,
{
    Router::new()
        .route(
            "/investigations",
            post(investigations::create).get(investigations::list),
        )
        .route("/investigations/{id}", get(investigations::get))
        .route("/actions", get(actions::list))
        .route("/actions/bulk", post(decisions::bulk))
        .route("/actions/export.csv", get(actions::export))
        .route("/actions/{id}", get(actions::get))
        .route("/actions/{id}/approve", post(decisions::approve))
        .route("/actions/{id}/reject", post(decisions::reject))
        .route("/actions/{id}/change", post(decisions::change))
        .route("/audit", get(audit::list))
        .route("/audit/head", get(audit::head))
        .route("/incidents", get(incidents::list))
        .route("/reports", post(intel::report))
        .route(
            "/indicators",
            get(intel::list_indicators).post(intel::add_indicator),
        )
        .route(
            "/indicators/{id}",
            axum::routing::delete(intel::delete_indicator),
        )
        .route("/messages", get(intel::messages))
        .route("/policy", get(policy::get))
        .route("/webhooks/deliveries", get(webhooks::deliveries))
        .route("/openapi.json", get(openapi::document))
        .fallback(|| async { ApiError::from(model::AppError::NotFound("endpoint".into())) })
}
