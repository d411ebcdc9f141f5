//! `GET /confirm-upload`: where the store's 303 lands after an upload. It
//! checks the token against the key, HEADs the object, makes the file's
//! share and answers a signed download link with the share's link: JSON to a fetch (`Accept: application/json`), a page to a
//! plain browser. `POST /new-link`: that page's "New link" button.

use std::time::Duration;

use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, Method, header};
use axum::response::{Html, IntoResponse, Response};
use axum::{Form, Json};
use tower_http::cors::{Any, CorsLayer};

use app::error::CourierError;
use courier_shares::ShareDb;
use signer::{ConfirmRequest, DownloadLink, Signer};

use crate::respond::{refusal, wants_json};

pub async fn confirm_upload(
    State(signer): State<Signer>,
    State(shares): State<ShareDb>,
    headers: HeaderMap,
    query: Result<Query<ConfirmRequest>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let now = time::OffsetDateTime::now_utc();
    let outcome = match query {
        Ok(Query(request)) => match signer.confirm(request.clone(), now).await {
            // The new file's share: the link to hand out.
            Ok(mut link) => app::api::sharing::share_confirmed(
                &shares,
                &signer,
                &mut link,
                request.key.as_deref().unwrap_or_default(),
                now,
            )
            .await
            .map(|()| link),
            Err(error) => Err(CourierError::from(error)),
        },
        Err(_) => Err(CourierError::BadRequest(
            "This confirmation link could not be read. Upload the file again.".to_owned(),
        )),
    };
    if let Err(error) = &outcome {
        tracing::info!(status = error.status_code(), %error, "confirmation refused");
    }
    answer(&headers, outcome)
}

/// What the confirm page's "New link" button posts: the file's key and its
/// owner token, in the body rather than in a URL.
#[derive(Debug, Default, serde::Deserialize)]
pub struct NewLinkForm {
    #[serde(default)]
    key: String,
    #[serde(default)]
    token: String,
}

/// `POST /new-link`: the confirm page's "New link" (the no-JavaScript path),
/// answered with the page again, or JSON to a fetch.
pub async fn new_link(
    State(signer): State<Signer>,
    State(shares): State<ShareDb>,
    headers: HeaderMap,
    form: Result<Form<NewLinkForm>, axum::extract::rejection::FormRejection>,
) -> Response {
    let now = time::OffsetDateTime::now_utc();
    let outcome = match form {
        Ok(Form(form)) => match signer.renew(&form.key, &form.token, now).await {
            Ok(mut link) => app::api::sharing::share_confirmed(&shares, &signer, &mut link, &form.key, now)
                .await
                .map(|()| link),
            Err(error) => Err(CourierError::from(error)),
        },
        Err(_) => Err(CourierError::BadRequest(
            "This request for a new link could not be read. Use the New link button again.".to_owned(),
        )),
    };
    if let Err(error) = &outcome {
        tracing::info!(status = error.status_code(), %error, "new link refused");
    }
    answer(&headers, outcome)
}

/// A link as JSON to a fetch or as the confirm page, else the refusal.
fn answer(headers: &HeaderMap, outcome: Result<DownloadLink, CourierError>) -> Response {
    let mut response = match outcome {
        Ok(link) if wants_json(headers) => Json(link).into_response(),
        Ok(link) => Html(app::confirm_page::render(link)).into_response(),
        Err(error) => refusal(headers, &error),
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

/// CORS for `/confirm-upload`. An upload sent with progress events is
/// preflighted, and so is the GET the browser makes when it follows the
/// store's 303 here (with `Origin: null`); a fetch may read the answer only
/// with `Access-Control-Allow-Origin`. Any origin: the token in the URL is
/// the capability, and no cookies are involved.
pub fn confirm_cors() -> CorsLayer {
    CorsLayer::new()
        .allow_origin(Any)
        .allow_methods([Method::GET])
        .allow_headers([header::ACCEPT])
        .max_age(Duration::from_secs(3600))
}
