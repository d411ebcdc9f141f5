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

pub use app::error::request_ref;

/// A refusal's wire code (the `code` of `CourierError`'s JSON), carried on
/// the response it was built into so the metrics layer can count refusals
/// by reason without reading bodies.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RefusalCode(pub &'static str);

impl RefusalCode {
    /// Every code, in the order the metrics list them.
    pub const ALL: [&'static str; 14] = CourierError::CODES;

    pub fn of(error: &CourierError) -> Self {
        Self(error.code())
    }
}

/// A refusal with its status, as JSON or as a page.
pub fn refusal(headers: &HeaderMap, error: &CourierError) -> Response {
    let error = &error.clone().traceable(request_ref(headers).as_deref());
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
    response.extensions_mut().insert(RefusalCode::of(error));
    response
}

fn is_form_post(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusal_codes_are_the_wire_codes() {
        let sentence = || "A sentence.".to_owned();
        let errors = [
            CourierError::BadRequest(sentence()),
            CourierError::Forbidden(sentence()),
            CourierError::NotFound(sentence()),
            CourierError::TooLarge(sentence()),
            CourierError::TooManyRequests(sentence()),
            CourierError::StoreRefused(sentence()),
            CourierError::PolicyExpired(sentence()),
            CourierError::StoreUnavailable(sentence()),
            CourierError::Network(sentence()),
            CourierError::Internal(sentence()),
            CourierError::StorageFull(sentence()),
            CourierError::Unauthorized(sentence()),
            CourierError::Gone(sentence()),
            CourierError::Unavailable(sentence()),
        ];
        for (error, listed) in errors.iter().zip(RefusalCode::ALL) {
            let wire = serde_json::to_value(error).expect("JSON");
            assert_eq!(RefusalCode::of(error).0, wire["code"], "{error:?}");
            assert_eq!(RefusalCode::of(error).0, listed);
        }
    }

    #[test]
    fn a_refusal_carries_its_code() {
        let response = refusal(&HeaderMap::new(), &CourierError::TooLarge("Too large.".to_owned()));
        assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
        assert_eq!(response.extensions().get(), Some(&RefusalCode("too_large")));
    }
}
