//! `GET /s/<id>/<n>`: one download of a share's n-th file (from 1). The
//! rules are checked and the download counted in one statement
//! (`ShareDb::take_download`), then the answer is a 302 to a GET that works
//! for a minute and saves the file under its own name: the bytes go
//! straight from the store. A download counted whose URL could not be
//! signed is given back.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use time::OffsetDateTime;

use app::share_page;

use courier_shares::ShareRefusal;

use super::page::{has_unlock_cookie, is_locked, page, refused};
use super::service::Shares;

pub async fn download(
    State(shares): State<Shares>,
    Path((id, file)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    let now = OffsetDateTime::now_utc();
    // A file number that is not one still asks the database, as an unknown
    // share does: the answer's time tells nothing.
    let index = file
        .parse::<usize>()
        .ok()
        .and_then(|n| n.checked_sub(1))
        .unwrap_or(usize::MAX >> 1);
    // Without an unlock cookie (a share without a password: the common
    // case), one statement checks the rules and counts; with one, the
    // share's password is read first to check the cookie against it.
    let taken = if has_unlock_cookie(&headers) {
        let share = match shares.db.share(&id, now).await {
            Ok(share) => share,
            Err(refusal) => return refused(&shares, refusal),
        };
        if is_locked(&shares, &share, &headers, now) {
            return locked(&shares, &id, share.files.len());
        }
        shares.db.take_download(&id, index, now).await
    } else {
        shares.db.take_open_download(&id, index, now).await
    };
    let taken = match taken {
        Ok(taken) => taken,
        // Rare: read the share once more for its form.
        Err(ShareRefusal::PasswordNeeded) => {
            return match shares.db.share(&id, now).await {
                Ok(share) => locked(&shares, &id, share.files.len()),
                Err(refusal) => refused(&shares, refusal),
            };
        }
        Err(refusal) => return refused(&shares, refusal),
    };
    match shares.signer.share_download(&taken.key, &taken.filename, now).await {
        Ok(url) => {
            tracing::info!(share = %id, file = index + 1, downloads = taken.downloads, "a share download");
            let mut response = StatusCode::FOUND.into_response();
            match HeaderValue::from_str(&url) {
                Ok(location) => {
                    response.headers_mut().insert(header::LOCATION, location);
                    response
                }
                Err(_) => not_signed(&shares, &id, index, "the URL is not a header value").await,
            }
        }
        Err(error) => not_signed(&shares, &id, index, &error.to_string()).await,
    }
}

/// The password form, for a download that came without the password.
fn locked(shares: &Shares, id: &str, file_count: usize) -> Response {
    page(
        shares,
        StatusCode::UNAUTHORIZED,
        share_page::render_locked(id, file_count, Some("This link needs its password first.")),
    )
}

/// `HEAD /s/<id>/<n>`: a link preview's probe must not use a download up.
pub async fn refuse_head() -> Response {
    let mut response = StatusCode::METHOD_NOT_ALLOWED.into_response();
    response
        .headers_mut()
        .insert(header::ALLOW, HeaderValue::from_static("GET"));
    response
}

/// The download is given back, and the downloader told to try again.
async fn not_signed(shares: &Shares, id: &str, index: usize, why: &str) -> Response {
    tracing::error!(share = %id, file = index + 1, why, "a share download could not be signed");
    let Some(id) = courier_shares::ShareId::parse(id) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    if let Err(error) = shares.db.give_back_download(&id, index).await {
        tracing::error!(share = %id, %error, "a download counted without its URL could not be given back");
    }
    let error = app::error::CourierError::Unavailable(
        "The download could not be prepared. It was not counted: try again in a moment.".to_owned(),
    );
    let mut response = page(
        shares,
        StatusCode::SERVICE_UNAVAILABLE,
        app::confirm_page::render_refusal(&error),
    );
    response
        .extensions_mut()
        .insert(crate::respond::RefusalCode::of(&error));
    response
}
