//! Server functions answer every error with 500; Courier's errors know their
//! status (400, 403, 404, 413 …). This layer gives each error response from
//! `/api/*` the status its `CourierError` names, including errors raised
//! before the function runs (missing or unreadable arguments).

use axum::body::{Body, to_bytes};
use axum::extract::Request;
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::Response;

use app::error::CourierError;

/// Error bodies are one sentence; anything larger is left alone.
const MAX_ERROR_BODY: usize = 16 * 1024;

use leptos::server_fn::error::SERVER_FN_ERROR_HEADER;

pub async fn status_from_error(request: Request, next: Next) -> Response {
    let request_ref = crate::respond::request_ref(request.headers());
    let response = next.run(request).await;
    if response.status() != StatusCode::INTERNAL_SERVER_ERROR
        || !response.headers().contains_key(SERVER_FN_ERROR_HEADER)
    {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let Ok(bytes) = to_bytes(body, MAX_ERROR_BODY).await else {
        return Response::from_parts(parts, Body::empty());
    };
    let Ok(error) = serde_json::from_slice::<CourierError>(&bytes) else {
        return Response::from_parts(parts, Body::from(bytes));
    };
    parts.status = StatusCode::from_u16(error.status_code()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    parts.extensions.insert(crate::respond::RefusalCode::of(&error));
    let error = crate::respond::traceable(request_ref.as_deref(), error);
    let body = serde_json::to_vec(&error)
        .map(Body::from)
        .unwrap_or_else(|_| Body::from(bytes));
    parts.headers.remove(http::header::CONTENT_LENGTH);
    Response::from_parts(parts, body)
}
