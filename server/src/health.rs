//! `/healthz` (the process answers) and `/readyz` (the database answers and is migrated).

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde_json::{json, Value};

use airdesk_core::AppState;

pub async fn healthz() -> Json<Value> {
    Json(json!({"status": "ok"}))
}

/// Ready when the database answers and every migration this binary knows is applied; says
/// which database it sees, so an operator can tell instances apart behind a load balancer.
pub async fn readyz(State(state): State<AppState>) -> (StatusCode, Json<Value>) {
    let migrated = state.db.is_migrated().await;
    let database = state.db.describe().await;
    match (migrated, database) {
        (Ok(true), Ok(database)) => (
            StatusCode::OK,
            Json(json!({"status": "ready", "database": database, "migrations": "applied"})),
        ),
        (Ok(false), Ok(database)) => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(
                json!({"status": "not ready", "detail": "migrations not applied",
                        "database": database, "migrations": "pending"}),
            ),
        ),
        (Err(error), _) | (_, Err(error)) => {
            tracing::warn!(error = %error, "readiness check: database unreachable");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(json!({"status": "not ready", "detail": "database unreachable"})),
            )
        }
    }
}
