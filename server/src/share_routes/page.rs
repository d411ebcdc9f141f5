//! `/s/<id>`: the share page, the password form and its answer, and the
//! link's QR code. Rendered by `app::share_page`; the rules are read from
//! the share database on every visit (nothing cached: a revoked link stops
//! at once).

use std::net::SocketAddr;

use axum::Form;
use axum::extract::{ConnectInfo, Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use courier_shares::{Share, ShareRefusal};
use time::OffsetDateTime;

use app::share_page::{self, PageFile, SharePage};

use super::service::Shares;

/// The cookie a right password earns, scoped to its share's path.
pub(super) const UNLOCK_COOKIE: &str = "courier-unlock";

/// What the password form posts.
#[derive(Debug, Default, serde::Deserialize)]
pub struct PasswordForm {
    #[serde(default)]
    password: String,
}

/// `GET /s/<id>`: the files, the password form, or why there is nothing.
pub async fn show(State(shares): State<Shares>, Path(id): Path<String>, headers: HeaderMap) -> Response {
    let now = OffsetDateTime::now_utc();
    match shares.db.share(&id, now).await {
        Ok(share) if share.files.iter().any(|file| file.seal.is_some()) => page(
            &shares,
            StatusCode::OK,
            share_page::render_sealed(
                &id,
                share.files.len(),
                share.files.iter().map(|file| file.index + 1).max().unwrap_or(0),
                share.expires_at.map(signer::rfc3339),
            ),
        ),
        Ok(share) if is_locked(&shares, &share, &headers, now) => page(
            &shares,
            StatusCode::OK,
            share_page::render_locked(&id, share.files.len(), None),
        ),
        Ok(share) => page(&shares, StatusCode::OK, share_page::render(&view(&share))),
        Err(refusal) => refused(&shares, refusal),
    }
}

/// `POST /s/<id>`: a password. The right one earns the unlock cookie and
/// goes back to the page (303); a wrong one gets the form again with a
/// sentence (401); more than ten tries a minute, a wait (429).
pub async fn unlock(
    State(shares): State<Shares>,
    Path(id): Path<String>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    form: Result<Form<PasswordForm>, axum::extract::rejection::FormRejection>,
) -> Response {
    let now = OffsetDateTime::now_utc();
    let client = shares.proxies.client_of(peer.ip(), &headers);
    let share = match shares.db.share(&id, now).await {
        Ok(share) => share,
        Err(refusal) => return refused(&shares, refusal),
    };
    let Some(stored) = share.password_hash.clone() else {
        return back_to(&id);
    };
    if let Err(wait) = shares.attempts.try_once(&id, client) {
        tracing::warn!(share = %id, %client, "too many password tries");
        let wait = super::attempts::Wait::of(wait);
        return wait.tell(page(
            &shares,
            StatusCode::TOO_MANY_REQUESTS,
            share_page::render_locked(&id, share.files.len(), Some(&wait.sentence("tries for this link"))),
        ));
    }
    let password = form.map(|Form(form)| form.password).unwrap_or_default();
    if !signer::password::verify_off_thread(stored.clone(), password).await {
        tracing::info!(share = %id, "a wrong password");
        return page(
            &shares,
            StatusCode::UNAUTHORIZED,
            share_page::render_locked(
                &id,
                share.files.len(),
                Some("That password is not right. Check it with the sender and try again."),
            ),
        );
    }
    let token = shares.signer.unlock_token(&id, &stored, now);
    let mut response = back_to(&id);
    let cookie = format!(
        "{UNLOCK_COOKIE}={token}; Path=/s/{id}; Max-Age={}; HttpOnly; SameSite=Lax{}",
        signer::UNLOCK_TTL.as_secs(),
        if shares.secure { "; Secure" } else { "" }
    );
    if let Ok(value) = HeaderValue::from_str(&cookie) {
        response.headers_mut().insert(header::SET_COOKIE, value);
    }
    response
}

/// `GET /s/<id>/qr.svg`: the share's link as a QR code. It shows nothing
/// the link does not, so it reads no database.
pub async fn qr_code(State(shares): State<Shares>, Path(id): Path<String>) -> Response {
    let Some(id) = courier_shares::ShareId::parse(&id) else {
        return refused(&shares, ShareRefusal::NotFound);
    };
    match share_page::qr_svg(&shares.signer.share_url(id.as_str())) {
        Some(svg) => ([(header::CONTENT_TYPE, "image/svg+xml")], svg).into_response(),
        None => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

/// Whether `share` asks for a password this browser has not given.
pub(super) fn is_locked(shares: &Shares, share: &Share, headers: &HeaderMap, now: OffsetDateTime) -> bool {
    let Some(stored) = &share.password_hash else {
        return false;
    };
    !unlock_cookie(headers).is_some_and(|token| shares.signer.is_unlocked(share.id.as_str(), stored, token, now))
}

/// Whether the browser sent an unlock cookie (checked only against a share).
pub(super) fn has_unlock_cookie(headers: &HeaderMap) -> bool {
    unlock_cookie(headers).is_some()
}

/// The unlock cookie's value, if the browser sent one.
fn unlock_cookie(headers: &HeaderMap) -> Option<&str> {
    crate::cookies::cookie(headers, UNLOCK_COOKIE)
}

/// The page's view of a share.
fn view(share: &Share) -> SharePage {
    SharePage {
        id: share.id.as_str().to_owned(),
        expires_at: share.expires_at.map(signer::rfc3339),
        files: share
            .files
            .iter()
            .map(|file| PageFile {
                number: file.index + 1,
                name: file.filename.clone(),
                size: file.size,
                content_type: file.content_type.clone(),
                downloads_left: share.downloads_left(file.index),
            })
            .collect(),
    }
}

/// Why a share cannot be used, as a page with its status.
pub(super) fn refused(shares: &Shares, refusal: ShareRefusal) -> Response {
    let error = app::api::sharing::refused(refusal);
    let html = match &error {
        app::error::CourierError::NotFound(_) => share_page::render_missing(),
        app::error::CourierError::Gone(sentence) => share_page::render_gone(sentence),
        other => app::confirm_page::render_refusal(other),
    };
    let status = StatusCode::from_u16(error.status_code()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut response = page(shares, status, html);
    response
        .extensions_mut()
        .insert(crate::respond::RefusalCode::of(&error));
    response
}

/// A share page: never indexed, its own CSP (its one script is the site's;
/// "Download all" frames the store's answers).
pub(super) fn page(shares: &Shares, status: StatusCode, html: String) -> Response {
    let mut response = (status, Html(html)).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_SECURITY_POLICY, shares.policy.clone());
    headers.insert("x-robots-tag", HeaderValue::from_static("noindex"));
    response
}

/// 303 to the share's page.
fn back_to(id: &str) -> Response {
    let mut response = StatusCode::SEE_OTHER.into_response();
    if let Ok(location) = HeaderValue::from_str(&format!("/s/{id}")) {
        response.headers_mut().insert(header::LOCATION, location);
    }
    response
}
