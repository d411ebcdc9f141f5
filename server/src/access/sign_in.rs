//! `POST /sign-in` (the upload password, `COURIER_UPLOAD_ACCESS=password`)
//! and `POST /sign-out`. The right password earns the session cookie
//! (HttpOnly, SameSite=Strict, Secure on https) and goes back to the page;
//! a wrong one gets the form again with a sentence (401); more than ten
//! tries a minute from one client, a wait (429). Tries are counted before
//! the password is compared, so guessing gets 429s rather than answers.

use std::net::SocketAddr;

use axum::Form;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse as _, Response};
use signer::access::{SESSION_TTL, UploadAccess, same_password};
use time::OffsetDateTime;

use super::Access;
use crate::share_routes::attempts::Wait;

/// What the form posts.
#[derive(Debug, Default, serde::Deserialize)]
pub struct SignInForm {
    #[serde(default)]
    password: String,
}

/// The key the upload password's tries are counted under.
const TRIES_KEY: &str = "upload-password";

pub async fn sign_in(
    State(access): State<Access>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    form: Result<Form<SignInForm>, axum::extract::rejection::FormRejection>,
) -> Response {
    let (Some(sessions), Some(expected)) = (&access.sessions, &access.password) else {
        // Not `password` mode: there is nothing to sign in to.
        return to_the_page(None);
    };
    if super::cross_site(&headers) {
        return page(
            StatusCode::FORBIDDEN,
            "Sign in from Courier's own page, not from another site's.",
        );
    }
    let client = access.proxies.client_of(peer.ip(), &headers);
    if let Err(wait) = access.attempts.try_once(TRIES_KEY, client) {
        tracing::warn!(%client, "too many upload password tries");
        let wait = Wait::of(wait);
        return wait.tell(page(StatusCode::TOO_MANY_REQUESTS, &wait.sentence("tries")));
    }
    let given = form.map(|Form(form)| form.password).unwrap_or_default();
    if !same_password(&given, expected) {
        tracing::info!(%client, "a wrong upload password");
        return page(
            StatusCode::UNAUTHORIZED,
            "That is not this Courier's upload password. Check it with whoever runs it and try again.",
        );
    }
    let cookie = format!(
        "{}={}; Path=/; Max-Age={}; HttpOnly; SameSite=Strict{}",
        access.session_cookie(),
        sessions.issue(OffsetDateTime::now_utc()),
        SESSION_TTL.as_secs(),
        if access.secure { "; Secure" } else { "" }
    );
    tracing::info!(%client, "signed in with the upload password");
    to_the_page(Some(cookie))
}

/// Forgets this browser's session (the cookie is stateless: it is the
/// browser that forgets it; a new password ends every session).
pub async fn sign_out(State(access): State<Access>, headers: HeaderMap) -> Response {
    // Another site's page cannot sign a visitor out either.
    if access.mode != UploadAccess::Password || super::cross_site(&headers) {
        return to_the_page(None);
    }
    let cookie = format!(
        "{}=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict{}",
        access.session_cookie(),
        if access.secure { "; Secure" } else { "" }
    );
    to_the_page(Some(cookie))
}

/// 303 to the upload page, setting `cookie`.
fn to_the_page(cookie: Option<String>) -> Response {
    let mut response = StatusCode::SEE_OTHER.into_response();
    let headers = response.headers_mut();
    headers.insert(header::LOCATION, HeaderValue::from_static("/"));
    if let Some(value) = cookie.and_then(|cookie| HeaderValue::from_str(&cookie).ok()) {
        headers.insert(header::SET_COOKIE, value);
    }
    response
}

fn page(status: StatusCode, sentence: &str) -> Response {
    (status, Html(app::sign_in::render(sentence))).into_response()
}
