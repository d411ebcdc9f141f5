//! File requests as the app serves them: whoever may upload makes one and
//! hands out its link (`/r/<id>`); anyone holding the link uploads through
//! it, within its rules, and what arrives joins the maker's share; the
//! maker's token reads how far it is and closes it. The room each upload
//! holds is kept by `courier-shares`; the tokens and links come from
//! `signer`. Server only.

use courier_shares::{FileRequest, NewRequest, RequestRefusal, ShareDb};
use signer::Signer;
use time::OffsetDateTime;

use super::sharing::{refused, share_link, unavailable};
use crate::error::CourierError;
use crate::request::{ReceivedFile, RequestLink, RequestPage, RequestRef, RequestRules, RequestState};

/// The most files one request may ask for.
pub const MAX_REQUEST_FILES: u32 = 1000;
/// The longest a request may take files: 30 days.
pub const MAX_REQUEST_HOURS: u32 = 30 * 24;
/// The most requests one `request_status` call reads.
pub const MAX_STATUS_REQUESTS: usize = 50;
/// How long past its grant an upload still holds its room: a transfer begun
/// at the grant's last moment, and its confirmation. Short, because a grant
/// never used keeps the room from others until then (a file that arrives
/// later still joins the share; it just was not counted meanwhile).
pub const ARRIVAL_MARGIN: std::time::Duration = std::time::Duration::from_secs(600);

/// A new request with `rules`, checked against the operator's file rules.
pub async fn create(
    db: &ShareDb,
    signer: &Signer,
    rules: &RequestRules,
    now: OffsetDateTime,
) -> Result<RequestLink, CourierError> {
    if signer.page_settings().encryption == wire::seal::Encryption::Always {
        return Err(encrypted_only());
    }
    if !(1..=MAX_REQUEST_FILES).contains(&rules.max_files) {
        return Err(CourierError::BadRequest(format!(
            "A request asks for 1 to {MAX_REQUEST_FILES} files."
        )));
    }
    // Each file is at most what the operator allows one file to be.
    let largest = signer
        .page_settings()
        .rules
        .max_bytes
        .saturating_mul(u64::from(rules.max_files));
    if rules.max_bytes == 0 || rules.max_bytes > largest {
        return Err(CourierError::BadRequest(format!(
            "A request for {} files can take at most {} in all here.",
            rules.max_files,
            crate::size::human_size(largest)
        )));
    }
    if !(1..=MAX_REQUEST_HOURS).contains(&rules.expires_in_hours) {
        return Err(CourierError::BadRequest(
            "A request takes files for 1 hour to 30 days: choose a time in between.".to_owned(),
        ));
    }
    let id = db
        .create_request(NewRequest {
            max_files: rules.max_files,
            max_bytes: rules.max_bytes,
            expires_at: now + time::Duration::hours(i64::from(rules.expires_in_hours)),
            created_at: now,
        })
        .await
        .map_err(unavailable)?;
    tracing::info!(request = %id, files = rules.max_files, bytes = rules.max_bytes, "a file request was made");
    let request = db.file_request(id.as_str(), now).await.map_err(unavailable)?;
    let request = request.ok_or_else(|| refused_request(RequestRefusal::NotFound))?;
    request_link(db, signer, request, now).await
}

/// Where each request stands, for the holder of its token; requests whose
/// token does not check, and requests that no longer exist, are left out.
pub async fn statuses(
    db: &ShareDb,
    signer: &Signer,
    requests: &[RequestRef],
    now: OffsetDateTime,
) -> Result<Vec<RequestLink>, CourierError> {
    if requests.len() > MAX_STATUS_REQUESTS {
        return Err(CourierError::BadRequest(format!(
            "At most {MAX_STATUS_REQUESTS} requests can be looked up at once."
        )));
    }
    let mut links = Vec::new();
    for reference in requests {
        if signer
            .check_request_token(&reference.id, &reference.token, now)
            .is_err()
        {
            continue;
        }
        if let Some(request) = db.file_request(&reference.id, now).await.map_err(unavailable)? {
            links.push(request_link(db, signer, request, now).await?);
        }
    }
    Ok(links)
}

/// Closes a request for the holder of its token: its link takes no more files.
pub async fn close(
    db: &ShareDb,
    signer: &Signer,
    reference: &RequestRef,
    now: OffsetDateTime,
) -> Result<RequestLink, CourierError> {
    signer.check_request_token(&reference.id, &reference.token, now)?;
    let request = db.close_request(&reference.id, now).await.map_err(unavailable)?;
    let request = request.ok_or_else(|| refused_request(RequestRefusal::NotFound))?;
    tracing::info!(request = %reference.id, "a file request was closed");
    request_link(db, signer, request, now).await
}

/// What the page of request `id` offers: the room left, or why there is none.
pub async fn page(db: &ShareDb, signer: &Signer, id: &str, now: OffsetDateTime) -> Result<RequestPage, CourierError> {
    if signer.page_settings().encryption == wire::seal::Encryption::Always {
        return Err(encrypted_only());
    }
    let request = db.file_request(id, now).await.map_err(unavailable)?;
    let request = request.ok_or_else(|| refused_request(RequestRefusal::NotFound))?;
    let refusal = match request.state {
        courier_shares::RequestState::Open if request.bytes_left() == 0 => Some(RequestRefusal::NoRoomLeft),
        courier_shares::RequestState::Open => None,
        courier_shares::RequestState::Closed => Some(RequestRefusal::Closed),
        courier_shares::RequestState::Expired => Some(RequestRefusal::Expired),
        courier_shares::RequestState::Full => Some(RequestRefusal::NoFilesLeft {
            max_files: request.max_files,
        }),
    };
    if let Some(refusal) = refusal {
        return Err(refused_request(refusal));
    }
    Ok(RequestPage {
        id: request.id.as_str().to_owned(),
        files_left: request.files_left(),
        bytes_left: request.bytes_left(),
        expires_at: signer::rfc3339(request.expires_at),
    })
}

/// Holds a file and `size` bytes of request `id`'s room for the upload of
/// `key` until `until`; refused with the request's sentence.
pub async fn hold(
    db: &ShareDb,
    id: &str,
    key: &str,
    size: u64,
    until: OffsetDateTime,
    now: OffsetDateTime,
) -> Result<(), CourierError> {
    db.hold_request_upload(id, key, size, until, now)
        .await
        .map_err(refused_request)
}

/// The request as its maker sees it, with its share and the share's token.
async fn request_link(
    db: &ShareDb,
    signer: &Signer,
    request: FileRequest,
    now: OffsetDateTime,
) -> Result<RequestLink, CourierError> {
    let share = match &request.share {
        Some(id) => match db.owner_view(id.as_str(), now).await {
            Ok(record) => Some(share_link(signer, &record, true)),
            Err(courier_shares::ShareRefusal::NotFound) => None,
            Err(refusal) => return Err(refused(refusal)),
        },
        None => None,
    };
    let id = request.id.as_str();
    Ok(RequestLink {
        id: id.to_owned(),
        url: signer.request_url(id),
        state: match request.state {
            courier_shares::RequestState::Open => RequestState::Open,
            courier_shares::RequestState::Closed => RequestState::Closed,
            courier_shares::RequestState::Expired => RequestState::Expired,
            courier_shares::RequestState::Full => RequestState::Full,
        },
        expires_at: signer::rfc3339(request.expires_at),
        max_files: request.max_files,
        max_bytes: request.max_bytes,
        files_received: request.files_received,
        bytes_received: request.bytes_received,
        files_arriving: request.files_arriving,
        received: request
            .received
            .iter()
            .map(|file| ReceivedFile {
                filename: file.filename.clone(),
                size: file.size,
                received_at: signer::rfc3339(file.received_at),
            })
            .collect(),
        share,
        token: signer.request_token(id),
    })
}

/// Where every file must be encrypted: a request's files are not (their
/// key would stay with the person who sent them).
fn encrypted_only() -> CourierError {
    CourierError::Forbidden(
        "This Courier takes only files encrypted in the browser, so it takes no file requests: the key would stay with whoever sent the files.".to_owned(),
    )
}

/// Why a request cannot take a file, as the person sending reads it.
pub fn refused_request(refusal: RequestRefusal) -> CourierError {
    let sentence = refusal.to_string();
    match refusal {
        RequestRefusal::NotFound => CourierError::NotFound(sentence),
        RequestRefusal::Closed
        | RequestRefusal::Expired
        | RequestRefusal::NoFilesLeft { .. }
        | RequestRefusal::NoRoomLeft => CourierError::Gone(sentence),
        RequestRefusal::TooLarge { .. } => CourierError::TooLarge(sentence),
        RequestRefusal::Unavailable(error) => unavailable(error),
    }
}
