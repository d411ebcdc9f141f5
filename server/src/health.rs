//! Probes for orchestrators and load balancers: `/health` (the process
//! answers: liveness) and `/ready` (its storage answers too: readiness).
//! They are polled every few seconds, so they are never rate limited,
//! cached, timed in the metrics, or logged at info when all is well.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use signer::{Signer, StoreNotReady};
use tokio::sync::Mutex;
use tower_http::set_header::SetResponseHeaderLayer;

/// How long one answer from the store stands for every probe: `/ready` is
/// public, and each check is a request to the store (and, on AWS, a billed
/// one), so a flood of probes makes at most one a second.
const REUSE_FOR: Duration = Duration::from_secs(1);

/// `/health` and `/ready`, for any state.
pub fn routes<S: Clone + Send + Sync + 'static>(signer: Signer) -> Router<S> {
    let readiness = Arc::new(Readiness {
        signer,
        last: Mutex::new(None),
    });
    Router::new()
        .route("/health", get(|| async { "ok" }))
        .route(
            "/ready",
            get(move || {
                let readiness = Arc::clone(&readiness);
                async move { readiness.answer().await }
            }),
        )
        .layer(SetResponseHeaderLayer::overriding(
            header::CACHE_CONTROL,
            crate::cache_control::NO_STORE,
        ))
}

struct Readiness {
    signer: Signer,
    /// The last check and when it finished.
    last: Mutex<Option<(Instant, Result<(), StoreNotReady>)>>,
}

impl Readiness {
    /// 200 `ok`, or 503 with the sentence that says what is wrong (plain
    /// text, both: they are read by whatever polls, not by a browser).
    async fn answer(&self) -> Response {
        match self.check().await {
            Ok(()) => "ok".into_response(),
            Err(not_ready) => (StatusCode::SERVICE_UNAVAILABLE, not_ready.to_string()).into_response(),
        }
    }

    /// Asks the store, unless it answered less than [`REUSE_FOR`] ago.
    /// Probes that arrive during a check wait for it instead of starting
    /// their own (the check is bounded by `signer::READY_TIMEOUT`).
    async fn check(&self) -> Result<(), StoreNotReady> {
        let mut last = self.last.lock().await;
        if let Some((at, outcome)) = last.as_ref()
            && at.elapsed() < REUSE_FOR
        {
            return outcome.clone();
        }
        let outcome = self.signer.ready().await;
        *last = Some((Instant::now(), outcome.clone()));
        outcome
    }
}
