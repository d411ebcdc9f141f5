//! Server functions answer every error with 500; Courier's errors know their
//! status (400, 403, 404, 413 …). This layer gives each error response from
//! `/api/*` the status its `CourierError` names, including errors raised
//! before the function runs (missing or unreadable arguments).

use axum::body::{Body, to_bytes};
use axum::http::StatusCode;
use axum::response::Response;

use app::error::CourierError;

/// Error bodies are one sentence; anything larger is left alone.
const MAX_ERROR_BODY: usize = 16 * 1024;

use leptos::server_fn::error::SERVER_FN_ERROR_HEADER;

pub async fn status_from_error(response: Response) -> Response {
    if response.status() != StatusCode::INTERNAL_SERVER_ERROR
        || !response.headers().contains_key(SERVER_FN_ERROR_HEADER)
    {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let Ok(bytes) = to_bytes(body, MAX_ERROR_BODY).await else {
        return Response::from_parts(parts, Body::empty());
    };
    if let Ok(error) = serde_json::from_slice::<CourierError>(&bytes) {
        parts.status = StatusCode::from_u16(error.status_code()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    }
    Response::from_parts(parts, Body::from(bytes))
}
