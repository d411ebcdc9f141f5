//! The routes of an encrypted share (FORMAT.md, "Proving the key"), in JSON
//! for the page's script and `courier get`:
//!
//! - `GET /s/<id>/e2e`: each file's sealed metadata and password
//!   derivation (never its auth key), and a nonce to sign;
//! - `POST /s/<id>/<n>/e2e`: the nonce signed with the file's auth key. A
//!   right proof counts a download (as `/s/<id>/<n>` does for a plain file)
//!   and answers a GET on the store that works for a minute; a wrong one is
//!   401, and more than [`super::attempts::TRIES_PER_MINUTE`] wrong ones a
//!   minute from one client 429. With the URL comes a token that renews it
//!   while the download may run;
//! - `POST /s/<id>/<n>/e2e/renew`: that token, for a new URL of the same
//!   object (the page fetches it in ranges, and a URL lasts a minute).
//!   Counts nothing; refused once the share is revoked, expired or swept,
//!   or the token's window is over.
//!
//! Courier never holds a key that opens the files: the secret is in the
//! link's fragment, which browsers do not send.

use std::net::SocketAddr;

use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{ConnectInfo, Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use courier_shares::{Share, ShareRefusal, sealed_download_window};
use signer::seal::Seal;
use time::OffsetDateTime;
use wire::seal::{DownloadRenewal, E2eRefusal, KeyProof, SealedDownload, SealedShare};

use super::service::Shares;
use app::error::CourierError;

/// `GET /s/<id>/e2e`
pub async fn files(State(shares): State<Shares>, Path(id): Path<String>) -> Response {
    let now = OffsetDateTime::now_utc();
    let share = match shares.db.share(&id, now).await {
        Ok(share) => share,
        Err(refusal) => return refused(refusal),
    };
    let Some(seals) = seals_of(&share) else {
        return not_sealed();
    };
    let files = share
        .files
        .iter()
        .zip(&seals)
        .map(|(file, seal)| seal.view(number_of(file.index), file.size))
        .collect();
    answer(
        StatusCode::OK,
        &SealedShare {
            nonce: shares.signer.key_nonce(&id, now),
            files,
        },
    )
}

/// `POST /s/<id>/<n>/e2e`
pub async fn download(
    State(shares): State<Shares>,
    Path((id, file)): Path<(String, String)>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    proof: Result<Json<KeyProof>, JsonRejection>,
) -> Response {
    let now = OffsetDateTime::now_utc();
    let Ok(Json(proof)) = proof else {
        return refusal(
            StatusCode::BAD_REQUEST,
            "Send the proof as JSON: {\"nonce\": …, \"proof\": …}.",
        );
    };
    let Some(index) = file.parse::<usize>().ok().and_then(|n| n.checked_sub(1)) else {
        return refused(ShareRefusal::NotFound);
    };
    // A client out of wrong tries waits, whatever it sends now.
    let client = shares.proxies.client_of(peer.ip(), &headers);
    if let Some(wait) = shares.attempts.waiting(&id, client) {
        return too_many(super::attempts::Wait::of(wait));
    }
    if !shares.signer.check_key_nonce(&id, &proof.nonce, now) {
        return refusal(
            StatusCode::UNAUTHORIZED,
            "This page waited too long to download: reload it and try again.",
        );
    }
    let share = match shares.db.share(&id, now).await {
        Ok(share) => share,
        Err(refusal) => return refused(refusal),
    };
    let Some(seal) = share
        .files
        .iter()
        .find(|file| file.index == index)
        .and_then(|file| file.seal.as_deref())
        .and_then(|seal| Seal::parse(seal).ok())
    else {
        return refused(ShareRefusal::NotFound);
    };
    if !seal.proves(&proof.nonce, &proof.proof) {
        return match shares.attempts.wrong_once(&id, client) {
            Ok(()) => {
                tracing::info!(share = %id, file = index + 1, "a wrong key or password");
                refusal(
                    StatusCode::UNAUTHORIZED,
                    "The key or the password is wrong: check that the whole link was copied, and the password.",
                )
            }
            Err(wait) => {
                tracing::warn!(share = %id, %client, "too many wrong keys");
                too_many(super::attempts::Wait::of(wait))
            }
        };
    }
    let taken = match shares.db.take_sealed_download(&id, index, now).await {
        Ok(taken) => taken,
        Err(refusal) => return refused(refusal),
    };
    match shares
        .signer
        .sealed_share_download(&taken.key, &taken.filename, now)
        .await
    {
        Ok(url) => {
            tracing::info!(share = %id, file = index + 1, downloads = taken.downloads, "an encrypted share download");
            let renew = shares
                .signer
                .download_token(&id, index, now + sealed_download_window(taken.size));
            granted(url, renew, now)
        }
        Err(error) => {
            tracing::error!(share = %id, file = index + 1, %error, "an encrypted share download could not be signed");
            if let Some(id) = courier_shares::ShareId::parse(&id)
                && let Err(error) = shares.db.give_back_download(&id, index).await
            {
                tracing::error!(share = %id, %error, "a download counted without its URL could not be given back");
            }
            refusal(
                StatusCode::SERVICE_UNAVAILABLE,
                "The download could not be prepared. It was not counted: try again in a moment.",
            )
        }
    }
}

/// `POST /s/<id>/<n>/e2e/renew`
pub async fn renew(
    State(shares): State<Shares>,
    Path((id, file)): Path<(String, String)>,
    renewal: Result<Json<DownloadRenewal>, JsonRejection>,
) -> Response {
    let now = OffsetDateTime::now_utc();
    let Ok(Json(renewal)) = renewal else {
        return refusal(StatusCode::BAD_REQUEST, "Send the renewal as JSON: {\"renew\": …}.");
    };
    let Some(index) = file.parse::<usize>().ok().and_then(|n| n.checked_sub(1)) else {
        return refused(ShareRefusal::NotFound);
    };
    // The token first: a forged or stale one costs no lookup.
    if !shares.signer.check_download_token(&id, index, &renewal.renew, now) {
        return refusal(
            StatusCode::UNAUTHORIZED,
            "This download went on for longer than it may: start it again.",
        );
    }
    let shared = match shares.db.continue_sealed_download(&id, index, now).await {
        Ok(shared) => shared,
        Err(refusal) => return refused(refusal),
    };
    match shares
        .signer
        .sealed_share_download(&shared.key, &shared.filename, now)
        .await
    {
        Ok(url) => {
            tracing::info!(share = %id, file = index + 1, "an encrypted download renewed its URL");
            granted(url, renewal.renew, now)
        }
        Err(error) => {
            tracing::error!(share = %id, file = index + 1, %error, "an encrypted download's URL could not be renewed");
            refusal(
                StatusCode::SERVICE_UNAVAILABLE,
                "The download could not go on. Try again in a moment.",
            )
        }
    }
}

/// A GET of the object signed `now`, and the token that renews it.
fn granted(url: String, renew: String, now: OffsetDateTime) -> Response {
    answer(
        StatusCode::OK,
        &SealedDownload {
            url,
            expires_at: signer::rfc3339(now + signer::SHARE_DOWNLOAD_TTL),
            renew,
        },
    )
}

/// Each file's seal, in order; `None` unless every file has one.
fn seals_of(share: &Share) -> Option<Vec<Seal>> {
    if share.files.is_empty() {
        return None;
    }
    share
        .files
        .iter()
        .map(|file| file.seal.as_deref().and_then(|seal| Seal::parse(seal).ok()))
        .collect()
}

fn number_of(index: usize) -> u32 {
    u32::try_from(index + 1).unwrap_or(u32::MAX)
}

fn not_sealed() -> Response {
    refusal(
        StatusCode::NOT_FOUND,
        "This link's files are not encrypted: open the link without a key.",
    )
}

/// Why a share cannot be used, as JSON with its status.
fn refused(refusal: ShareRefusal) -> Response {
    let error = app::api::sharing::refused(refusal);
    let status = StatusCode::from_u16(error.status_code()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut response = self::refusal(status, error.sentence());
    response
        .extensions_mut()
        .insert(crate::respond::RefusalCode::of(&error));
    response
}

fn too_many(wait: super::attempts::Wait) -> Response {
    let sentence = wait.sentence("wrong keys for this link");
    let mut response = wait.tell(refusal(StatusCode::TOO_MANY_REQUESTS, &sentence));
    response
        .extensions_mut()
        .insert(crate::respond::RefusalCode::of(&CourierError::TooManyRequests(
            sentence,
        )));
    response
}

fn refusal(status: StatusCode, sentence: &str) -> Response {
    answer(
        status,
        &E2eRefusal {
            error: sentence.to_owned(),
        },
    )
}

/// JSON that no cache keeps: a nonce, or a URL that opens a file.
fn answer(status: StatusCode, body: &impl serde::Serialize) -> Response {
    let mut response = (status, Json(body)).into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, crate::cache_control::NO_STORE);
    response
}
