//! The server functions (`crate::api`) as the page calls them: each call
//! as the contract in `wire::endpoint` names and encodes it, POSTed, and
//! the JSON answer read with [`crate::json`]. Not through the server
//! functions' generated client, which brings its URL encoder
//! (`serde_qs`), a fetch wrapper and streams into the bundle for a dozen
//! small calls.

use wire::endpoint::{self, Call, FORM_CONTENT_TYPE};

use super::transfer::{Body, Ended, Xhr};
use crate::error::CourierError;
use crate::json::{ReadJson, from_str};
use crate::model::{DownloadLink, LinkKind, UploadGrant};
use crate::multipart::{MultipartGrant, MultipartUpload, PartToSign, PartUrl, StoredPart};
use crate::request::{RequestLink, RequestRef, RequestRules};
use crate::share::{RuleChange, ShareLink, ShareRef};
use wire::seal::{SEALED_NAME, SEALED_TYPE};

pub async fn sign_upload(
    filename: String,
    content_type: String,
    size: u64,
    link: LinkKind,
    request: Option<&str>,
) -> Result<UploadGrant, CourierError> {
    call(endpoint::sign_upload(&filename, &content_type, size, Some(link)).for_request(request)).await
}

/// A POST policy for an encrypted file: `size` is its object's.
pub async fn sign_sealed_upload(size: u64, link: LinkKind, seal: &str) -> Result<UploadGrant, CourierError> {
    call(endpoint::sign_upload(SEALED_NAME, SEALED_TYPE, size, Some(link)).sealed(seal)).await
}

pub async fn create_request(rules: &RequestRules) -> Result<RequestLink, CourierError> {
    call(endpoint::create_request(rules)).await
}

pub async fn request_status(requests: &[RequestRef]) -> Result<Vec<RequestLink>, CourierError> {
    call(endpoint::request_status(requests)).await
}

pub async fn close_request(request: &RequestRef) -> Result<RequestLink, CourierError> {
    call(endpoint::close_request(request)).await
}

pub async fn sign_download(key: String, token: String) -> Result<DownloadLink, CourierError> {
    call(endpoint::sign_download(&key, &token)).await
}

pub async fn delete_upload(key: String, token: String) -> Result<(), CourierError> {
    call(endpoint::delete_upload(&key, &token)).await
}

pub async fn start_multipart(
    filename: String,
    content_type: String,
    size: u64,
    link: LinkKind,
    request: Option<&str>,
) -> Result<MultipartGrant, CourierError> {
    call(endpoint::start_multipart(&filename, &content_type, size, Some(link)).for_request(request)).await
}

/// A multipart upload of an encrypted file: `size` is its object's.
pub async fn start_sealed_multipart(size: u64, link: LinkKind, seal: &str) -> Result<MultipartGrant, CourierError> {
    call(endpoint::start_multipart(SEALED_NAME, SEALED_TYPE, size, Some(link)).sealed(seal)).await
}

pub async fn sign_parts(upload: &MultipartUpload, parts: &[PartToSign]) -> Result<Vec<PartUrl>, CourierError> {
    call(endpoint::sign_parts(upload, parts)).await
}

pub async fn list_parts(upload: &MultipartUpload) -> Result<Vec<StoredPart>, CourierError> {
    call(endpoint::list_parts(upload)).await
}

pub async fn complete_multipart(upload: &MultipartUpload) -> Result<DownloadLink, CourierError> {
    call(endpoint::complete_multipart(upload)).await
}

pub async fn abort_multipart(upload: &MultipartUpload) -> Result<(), CourierError> {
    call(endpoint::abort_multipart(upload)).await
}

pub async fn update_share(share: &ShareRef, change: &RuleChange) -> Result<ShareLink, CourierError> {
    call(endpoint::update_share(share, change)).await
}

pub async fn revoke_share(share: &ShareRef) -> Result<ShareLink, CourierError> {
    call(endpoint::revoke_share(share)).await
}

pub async fn combine_shares(shares: &[ShareRef], rules: &RuleChange) -> Result<ShareLink, CourierError> {
    call(endpoint::combine_shares(shares, rules)).await
}

pub async fn share_status(shares: &[ShareRef]) -> Result<Vec<ShareLink>, CourierError> {
    call(endpoint::share_status(shares)).await
}

/// Sends `call` to its server function; its answer, or its refusal.
async fn call<T: ReadJson>(call: Call<T>) -> Result<T, CourierError> {
    let headers = [("Content-Type", FORM_CONTENT_TYPE), ("Accept", "application/json")];
    let xhr = Xhr::send(
        "POST",
        call.path(),
        &headers,
        Body::Text(&call.body()),
        |_, _| {},
        || {},
    )
    .map_err(|_| unreachable_courier())?;
    match xhr.ended().await {
        Ended::Answered {
            status: 200..=299,
            body,
        } => from_str(&body).map_err(|_| unreadable(200)),
        Ended::Answered { status: 0, .. } | Ended::NoAnswer | Ended::Aborted => Err(unreachable_courier()),
        Ended::Answered { status, body } => Err(from_str::<CourierError>(&body).unwrap_or_else(|_| unreadable(status))),
    }
}

fn unreachable_courier() -> CourierError {
    CourierError::Network("Courier could not be reached. Check your connection and try again.".to_owned())
}

/// An answer that is not Courier's JSON (a proxy's error page, say).
fn unreadable(status: u16) -> CourierError {
    CourierError::Internal(format!(
        "Something went wrong on our side (HTTP {status}). Try again in a moment."
    ))
}
