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
        let error = CourierError::TooLarge(
            "That request is too large for Courier. Files go straight to storage, never through Courier.".to_owned(),
        );
        return refusal(request.headers(), &error);
    }
    // A body without a length is cut off at the cap while it is read.
    next.run(request.map(|body| Body::new(http_body_util::Limited::new(body, MAX_REQUEST_BODY))))
        .await
}
