//! Limits on a portal answer that stops making progress. Pages render as their data arrives,
//! in milliseconds; under load, about once in a thousand pages, one has been seen to stop for
//! ever — mid-body, the server idle and the connection open, as in leptos-rs/leptos#4851, and
//! also before its head. Such a request keeps its connection, and a graceful shutdown,
//! waiting. Here it ends instead, and says so in the log.

use std::time::Duration;

use axum::extract::{Request, State};
use axum::http::{Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::Router;
use tower_http::timeout::ResponseBodyTimeoutLayer;

/// How long a page may go without progress: to its head, and between two parts of its body.
pub const PAGE_STALL: Duration = Duration::from_secs(30);

/// Applies both limits to `routes`. A body's clock runs only while the server owes the next
/// part, not while a slow client reads; a cut body ends the connection (the browser sees a
/// failed load, never a page that looks whole), and the request's trace logs the failure.
pub fn limit<S: Clone + Send + Sync + 'static>(routes: Router<S>, stall: Duration) -> Router<S> {
    routes
        .layer(middleware::from_fn_with_state(stall, page_head))
        .layer(ResponseBodyTimeoutLayer::new(stall))
}

/// A page (a GET outside the server functions) that has not begun its answer within `stall`
/// gets a 503 that asks for a reload. Server functions are left alone: one may decide a long
/// list of actions, and cutting it would hide which decisions were made.
async fn page_head(State(stall): State<Duration>, request: Request, next: Next) -> Response {
    if request.method() != Method::GET || super::is_server_function(request.uri().path()) {
        return next.run(request).await;
    }
    match tokio::time::timeout(stall, next.run(request)).await {
        Ok(response) => response,
        Err(_) => {
            // The request's span (TraceLayer, outside) carries its path and id.
            tracing::error!(?stall, "the page did not begin its answer in time");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                "The page took too long to render. Reload it.",
            )
                .into_response()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;
    use axum::routing::{get, post};
    use futures_util::{stream, StreamExt};
    use tower::ServiceExt;

    const STALL: Duration = Duration::from_millis(200);

    /// A page that sends `first`, then nothing, for ever.
    fn stalling_body(first: &'static str) -> Body {
        let parts =
            stream::once(async move { Ok::<_, std::io::Error>(first) }).chain(stream::pending());
        Body::from_stream(parts)
    }

    fn routes() -> Router {
        let never = std::future::pending::<&'static str>;
        limit(
            Router::new()
                .route("/never", get(never))
                .route("/rpc/slow", get(never).post(never))
                .route("/form", post(never))
                .route("/half", get(|| async { stalling_body("<html><body>half") }))
                .route(
                    "/slow-but-moving",
                    get(|| async {
                        let parts = stream::iter(0..4).then(|i| async move {
                            tokio::time::sleep(STALL / 2).await;
                            Ok::<_, std::io::Error>(format!("part {i}\n"))
                        });
                        Body::from_stream(parts)
                    }),
                ),
            STALL,
        )
    }

    async fn get_from(router: Router, path: &str) -> Option<Response> {
        let request = Request::get(path).body(Body::empty()).unwrap();
        tokio::time::timeout(STALL * 10, router.oneshot(request))
            .await
            .ok()
            .map(|r| r.unwrap())
    }

    #[tokio::test]
    async fn a_page_without_a_head_is_answered_503_in_time() {
        let response = get_from(routes(), "/never").await.expect("answered");
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        let body = axum::body::to_bytes(response.into_body(), 1 << 16)
            .await
            .unwrap();
        assert!(String::from_utf8_lossy(&body).contains("Reload"));
    }

    #[tokio::test]
    async fn a_body_that_stops_mid_page_ends_in_an_error_not_a_page() {
        let response = get_from(routes(), "/half").await.expect("answered");
        assert_eq!(response.status(), StatusCode::OK);
        let read = tokio::time::timeout(
            STALL * 10,
            axum::body::to_bytes(response.into_body(), 1 << 16),
        )
        .await
        .expect("the stalled body is cut within the limit");
        assert!(read.is_err(), "a cut page must not read as whole");
    }

    #[tokio::test]
    async fn a_slow_page_that_keeps_sending_is_not_cut() {
        // Four parts, each half the limit apart: twice the limit in all.
        let response = get_from(routes(), "/slow-but-moving")
            .await
            .expect("answered");
        let body = axum::body::to_bytes(response.into_body(), 1 << 16)
            .await
            .expect("a page that keeps sending reads whole");
        assert_eq!(body.iter().filter(|b| **b == b'\n').count(), 4);
    }

    #[tokio::test]
    async fn server_functions_and_posts_have_no_head_limit() {
        for (method, path) in [
            ("GET", "/rpc/slow"),
            ("POST", "/rpc/slow"),
            ("POST", "/form"),
        ] {
            let request = Request::builder()
                .method(method)
                .uri(path)
                .body(Body::empty())
                .unwrap();
            let answered = tokio::time::timeout(STALL * 3, routes().oneshot(request)).await;
            assert!(answered.is_err(), "{method} {path} was cut");
        }
    }
}
