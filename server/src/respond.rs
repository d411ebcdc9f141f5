//! Refusals in the format the caller asked for: JSON to a fetch or an API
//! client, a page to a browser.

use axum::Json;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};

use app::error::CourierError;

/// Whether the caller asked for JSON (`Accept: application/json`), as fetch
/// and server-function calls do; everything else gets HTML.
pub fn wants_json(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| v.split(',').any(|item| item.trim().starts_with("application/json")))
}

/// The request's id (`X-Request-Id`), shortened for a sentence: enough to
/// find the request in the log.
pub fn request_ref(headers: &HeaderMap) -> Option<String> {
    let id = headers.get("x-request-id")?.to_str().ok()?;
    Some(
        id.chars()
            .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
            .take(8)
            .collect(),
    )
}

/// A server-side fault names its request, so a report can be traced to the
/// log; a refusal the person can fix themselves does not need to.
pub fn traceable(request_ref: Option<&str>, error: CourierError) -> CourierError {
    match request_ref {
        Some(id) if error.is_server_fault() && !id.is_empty() => error.with_request_id(id),
        _ => error,
    }
}

/// A refusal with its status, as JSON or as a page.
pub fn refusal(headers: &HeaderMap, error: &CourierError) -> Response {
    let error = &traceable(request_ref(headers).as_deref(), error.clone());
    let status = StatusCode::from_u16(error.status_code()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    // Server functions are POSTed form-encoded and read JSON errors, whatever they Accept.
    let mut response = if wants_json(headers) || is_form_post(headers) {
        let mut response = Json(error).into_response();
        response
            .headers_mut()
            .insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
        response
    } else {
        Html(app::confirm_page::render_refusal(error)).into_response()
    };
    *response.status_mut() = status;
    response
}

fn is_form_post(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"))
}
