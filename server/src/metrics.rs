//! `GET /metrics` in the Prometheus text format, and the HTTP request timings behind it. The
//! core records through the `metrics` facade; this installs the exporter once per process and
//! refreshes the gauges read from the database on every scrape.

use std::sync::OnceLock;
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{header, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

use airdesk_core::{metrics as counted, AppState};

/// The process's exporter (a process has one metrics recorder, whatever the number of
/// applications it serves — tests run several).
static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();

/// Installs the exporter, once; None if another recorder was installed first.
pub fn handle() -> Option<&'static PrometheusHandle> {
    HANDLE
        .get_or_init(|| {
            let built = PrometheusBuilder::new()
                .set_buckets_for_metric(
                    Matcher::Suffix("_wait_seconds".into()),
                    counted::WAIT_BUCKETS,
                )
                .and_then(|b| {
                    b.set_buckets_for_metric(
                        Matcher::Full("airdesk_remediation_seconds".into()),
                        counted::WAIT_BUCKETS,
                    )
                })
                .and_then(|b| {
                    b.set_buckets_for_metric(
                        Matcher::Full("airdesk_http_request_duration_seconds".into()),
                        counted::HTTP_BUCKETS,
                    )
                })
                .and_then(|b| b.install_recorder());
            match built {
                Ok(handle) => Some(handle),
                Err(error) => {
                    tracing::error!(%error, "metrics exporter not installed; /metrics will answer 503");
                    None
                }
            }
        })
        .as_ref()
}

/// `GET /metrics`: counters and histograms since this instance started, gauges as the
/// database has them now.
pub async fn scrape(State(state): State<AppState>) -> Response {
    let Some(handle) = handle() else {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            "metrics exporter not installed\n",
        )
            .into_response();
    };
    if let Err(error) = counted::refresh(&state.db).await {
        tracing::warn!(%error, "metrics: cannot read the database's figures");
        return (StatusCode::SERVICE_UNAVAILABLE, "database unavailable\n").into_response();
    }
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        handle.render(),
    )
        .into_response()
}

/// Times each request by its route's pattern (never the path: ids and addresses stay out of
/// labels).
pub async fn time_requests(request: Request, next: Next) -> Response {
    // `/api/v1/actions/:id` rather than axum's `{id}`: braces in a label value trip simple
    // text-format parsers.
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or("unmatched", MatchedPath::as_str)
        .replace('{', ":")
        .replace('}', "");
    // Any word is a method to HTTP: only the known ones become labels.
    let method: &'static str = match request.method().as_str() {
        "GET" => "GET",
        "HEAD" => "HEAD",
        "POST" => "POST",
        "PUT" => "PUT",
        "PATCH" => "PATCH",
        "DELETE" => "DELETE",
        "OPTIONS" => "OPTIONS",
        _ => "other",
    };
    let started = Instant::now();
    let response = next.run(request).await;
    counted::http_request(
        method,
        &route,
        response.status().as_u16(),
        started.elapsed(),
    );
    response
}
