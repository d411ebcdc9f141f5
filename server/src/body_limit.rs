//! Requests to the app are small (files never pass through it): a body over
//! the cap is refused with a sentence, before anything reads it.

use axum::body::Body;
use axum::extract::Request;
use axum::http::header;
use axum::middleware::Next;
use axum::response::Response;

use app::error::CourierError;

use crate::respond::refusal;

/// Server-function arguments are a file name, a type and a size.
pub const MAX_REQUEST_BODY: usize = 64 * 1024;

pub async fn cap(request: Request, next: Next) -> Response {
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|length| length > MAX_REQUEST_BODY as u64) {
        return refusal(request.headers(), &too_large());
    }
    if declared.is_some() {
        return next.run(request).await;
    }
    // No length: read it here, up to the cap, so an oversized body gets the
    // same 413 and sentence instead of an error deep inside a handler.
    let (parts, body) = request.into_parts();
    match axum::body::to_bytes(body, MAX_REQUEST_BODY).await {
        Ok(bytes) => next.run(Request::from_parts(parts, Body::from(bytes))).await,
        Err(_) => refusal(&parts.headers, &too_large()),
    }
}

fn too_large() -> CourierError {
    CourierError::TooLarge(
        "That request is too large for Courier. Files go straight to storage, never through Courier.".to_owned(),
    )
}
