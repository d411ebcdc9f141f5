//! `GET /confirm-upload`: where the store's 303 lands after an upload. It
//! checks the token against the key, HEADs the object and answers a signed
//! download link: JSON to a fetch (`Accept: application/json`), a page to a
//! plain browser.

use axum::Json;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{Html, IntoResponse, Response};

use app::error::CourierError;
use app::signing::{ConfirmRequest, Signer};

use crate::respond::{refusal, wants_json};

pub async fn confirm_upload(
    State(signer): State<Signer>,
    headers: HeaderMap,
    query: Result<Query<ConfirmRequest>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let outcome = match query {
        Ok(Query(request)) => signer.confirm(request, time::OffsetDateTime::now_utc()).await,
        Err(_) => Err(CourierError::BadRequest(
            "This confirmation link could not be read. Upload the file again.".to_owned(),
        )),
    };
    if let Err(error) = &outcome {
        tracing::info!(status = error.status_code(), %error, "confirmation refused");
    }

    let mut response = match outcome {
        Ok(link) if wants_json(&headers) => {
            let mut response = Json(link).into_response();
            // A fetch that followed the store's cross-origin 303 arrives with
            // `Origin: null` and may read the answer only with this; the token
            // in the URL is the capability and no cookies are involved.
            response
                .headers_mut()
                .insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
            response
        }
        Ok(link) => Html(app::confirm_page::render(link, signer.bucket())).into_response(),
        Err(error) => refusal(&headers, &error),
    };
    // Signed links are personal and short-lived: never cache them.
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
        .headers_mut()
        .insert(header::VARY, HeaderValue::from_static("accept"));
    response
}

/// `OPTIONS /confirm-upload`. An upload sent with progress events is
/// preflighted, and so is the GET the browser makes when it follows the
/// store's 303 here (with `Origin: null`); this lets that GET through.
pub async fn confirm_preflight() -> Response {
    let mut response = http::StatusCode::NO_CONTENT.into_response();
    let headers = response.headers_mut();
    headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
    headers.insert(header::ACCESS_CONTROL_ALLOW_METHODS, HeaderValue::from_static("GET"));
    headers.insert(header::ACCESS_CONTROL_ALLOW_HEADERS, HeaderValue::from_static("accept"));
    headers.insert(header::ACCESS_CONTROL_MAX_AGE, HeaderValue::from_static("3600"));
    response
}
