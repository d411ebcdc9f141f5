//! Logs through `tracing`, filtered by `RUST_LOG` (default `info`), each
//! request's lines in a span that carries its id.

use std::io::IsTerminal as _;

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderName, Request};
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;
use tracing_subscriber::EnvFilter;

pub fn init() {
    let filter = EnvFilter::try_from_default_env()
        // s3s logs every request at debug and failures at error; keep its noise down.
        .unwrap_or_else(|_| EnvFilter::new("info,s3s=warn,aws_config=warn"));
    // A second init (tests start many servers in one process) is harmless.
    let ansi = std::io::stderr().is_terminal();
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false)
        .with_ansi(ansi)
        .with_writer(std::io::stderr)
        .try_init();
}

/// Every request gets an id (`X-Request-Id`, a new UUID: never the caller's,
/// which could repeat or pick one),
/// which every log line of the request carries and the response returns, so
/// a report can be traced to its log.
pub fn trace_requests<S: Clone + Send + Sync + 'static>(router: Router<S>) -> Router<S> {
    let span = |request: &Request<Body>| {
        let id = request
            .headers()
            .get(REQUEST_ID)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        tracing::info_span!("request", id, method = %request.method(), path = request.uri().path())
    };
    // Outermost last: the id is set first, then the span opens, then the
    // response carries the id back.
    router
        .layer(PropagateRequestIdLayer::new(REQUEST_ID))
        .layer(TraceLayer::new_for_http().make_span_with(span))
        .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
        .layer(axum::middleware::map_request(|mut request: Request<Body>| async move {
            request.headers_mut().remove(REQUEST_ID);
            request
        }))
}

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");
