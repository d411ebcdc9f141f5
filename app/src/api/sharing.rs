//! Shares as the app serves them to their sender: a confirmed upload gets
//! its share, and the sender's token changes its rules, takes it back, or
//! reads how far it was used. The rules are kept by `courier-shares`; the
//! tokens, password hashes and the store's deletions come from `signer`.
//! Server only.

use std::time::Duration;

use courier_shares::{NewFile, NewShare, PasswordChange, ShareDb, ShareRecord, ShareRefusal};
use signer::Signer;
use signer::password::PasswordError;
use time::OffsetDateTime;

use crate::error::CourierError;
use crate::model::{DownloadLink, LinkKind};
use crate::share::{RuleChange, ShareLink, ShareRef, ShareState, SharedFileStatus};

/// The most shares one `share_status` call reads (a page's recent uploads).
pub const MAX_STATUS_SHARES: usize = 100;

/// How long after a share is over its files are kept: a one-minute GET
/// handed out at its last moment still works to its end.
pub const SWEEP_GRACE: Duration = signer::SHARE_DOWNLOAD_TTL;

/// The most shares one sweep deletes before the next one.
const SWEEP_BATCH: usize = 100;

/// A new confirmed link gets its own share with the operator's default
/// rules; a confirmation retried finds the share it got. `upload_key` is
/// the key the file was uploaded to (a file request's upload is known by it). The sender's token
/// goes with the link's owner token, and only then. A public link gets none:
/// its plain URL is its link.
pub async fn share_confirmed(
    db: &ShareDb,
    signer: &Signer,
    link: &mut DownloadLink,
    upload_key: &str,
    now: OffsetDateTime,
) -> Result<(), CourierError> {
    if link.link != LinkKind::Expiring {
        return Ok(());
    }
    let lifetime = signer.share_limits().new_share_lifetime();
    // A file sent through a file request joins its maker's share: the
    // person who sent it gets its link only, and no control of the share
    // (whose link would give them every file sent to it).
    if link.seal.is_none() {
        let arrived = courier_shares::ArrivedFile {
            upload_key: upload_key.to_owned(),
            key: link.key.clone(),
            filename: link.filename.clone(),
            content_type: link.content_type.clone(),
            size: link.size,
        };
        let expires_at = lifetime.map(|lifetime| now + lifetime);
        if let Some(share) = db
            .receive_request_upload(&arrived, expires_at, now)
            .await
            .map_err(unavailable)?
        {
            tracing::info!(%share, key = %link.key, "a file arrived for a file request");
            link.token.clear();
            link.share = None;
            return Ok(());
        }
    }
    let new = NewShare {
        files: vec![NewFile {
            key: link.key.clone(),
            filename: link.filename.clone(),
            content_type: link.content_type.clone(),
            size: link.size,
            seal: link.seal.clone(),
        }],
        expires_at: lifetime.map(|lifetime| now + lifetime),
        max_downloads: None,
        created_at: now,
        password_hash: None,
    };
    let id = db.create_once(new).await.map_err(unavailable)?;
    let record = db.owner_view(id.as_str(), now).await.map_err(refused)?;
    link.share = Some(share_link(signer, &record, link.owner_token().is_some()));
    Ok(())
}

/// The share as its sender sees it; with the sender's token when `with_token`.
pub fn share_link(signer: &Signer, record: &ShareRecord, with_token: bool) -> ShareLink {
    let id = record.id.as_str();
    ShareLink {
        id: id.to_owned(),
        url: signer.share_url(id),
        state: state(record.state),
        expires_at: record.expires_at.map(signer::rfc3339),
        max_downloads: record.max_downloads,
        password: record.has_password,
        encrypted: !record.files.is_empty() && record.files.iter().all(|file| file.seal.is_some()),
        files: record
            .files
            .iter()
            .map(|file| SharedFileStatus {
                filename: file.filename.clone(),
                size: file.size,
                downloads: file.downloads,
            })
            .collect(),
        token: if with_token {
            signer.share_token(id)
        } else {
            String::new()
        },
    }
}

/// Changes a share's rules for the holder of its token.
pub async fn update(
    db: &ShareDb,
    signer: &Signer,
    share: &ShareRef,
    change: RuleChange,
    now: OffsetDateTime,
) -> Result<ShareLink, CourierError> {
    signer.check_share_token(&share.id, &share.token, now)?;
    if change.sets_password() {
        let record = db.owner_view(&share.id, now).await.map_err(refused)?;
        if record.files.iter().any(|file| file.seal.is_some()) {
            return Err(sealed_password());
        }
    }
    let rules = rules_asked(signer, change, now).await?;
    let record = db.set_rules(&share.id, rules, now).await.map_err(refused)?;
    tracing::info!(share = %share.id, "the sender changed a share's rules");
    Ok(share_link(signer, &record, true))
}

/// One share for the files of `shares` (in their order), with `rules` (a
/// new upload's defaults where they say nothing); the shares given stop
/// existing. Every token must check; refused, with nothing changed, if any
/// share was used, taken back or deleted.
pub async fn combine(
    db: &ShareDb,
    signer: &Signer,
    shares: &[ShareRef],
    rules: RuleChange,
    now: OffsetDateTime,
) -> Result<ShareLink, CourierError> {
    if shares.len() < 2 {
        return Err(CourierError::BadRequest(
            "Name at least two links to make one of them.".to_owned(),
        ));
    }
    for share in shares {
        signer.check_share_token(&share.id, &share.token, now)?;
    }
    let ids = shares
        .iter()
        .map(|share| courier_shares::ShareId::parse(&share.id).ok_or_else(|| refused(ShareRefusal::NotFound)))
        .collect::<Result<Vec<_>, _>>()?;
    // One link holds encrypted files or plain ones: its key (after `#`)
    // holds a key for each file, or there is none.
    let records = db.owner_views(&ids, now).await.map_err(unavailable)?;
    let files = || records.iter().flat_map(|record| &record.files);
    let sealed = files().filter(|file| file.seal.is_some()).count();
    if sealed > 0 && sealed < files().count() {
        return Err(CourierError::BadRequest(
            "Encrypted files and plain ones cannot share one link: make one link for each kind.".to_owned(),
        ));
    }
    if sealed > 0 && rules.sets_password() {
        return Err(sealed_password());
    }
    let asked = rules_asked(signer, rules, now).await?;
    let new = courier_shares::NewRules {
        expires_at: asked.expires_at.unwrap_or_else(|| {
            signer
                .share_limits()
                .new_share_lifetime()
                .map(|lifetime| now + lifetime)
        }),
        max_downloads: asked.max_downloads.flatten(),
        password_hash: match asked.password {
            PasswordChange::Set(hash) => Some(hash),
            PasswordChange::Keep | PasswordChange::Remove => None,
        },
    };
    let id = db.combine(&ids, new, now).await.map_err(refused)?;
    tracing::info!(share = %id, from = ids.len(), "the sender made one share of several");
    let record = db.owner_view(id.as_str(), now).await.map_err(refused)?;
    Ok(share_link(signer, &record, true))
}

/// A password asked of an encrypted share after its files were sent.
fn sealed_password() -> CourierError {
    CourierError::BadRequest(
        "An encrypted link's password is part of its key: set it in \"For new links\" before the files are sent."
            .to_owned(),
    )
}

/// The rules a sender asked for, checked against the operator's limits,
/// with a new password hashed.
async fn rules_asked(
    signer: &Signer,
    change: RuleChange,
    now: OffsetDateTime,
) -> Result<courier_shares::RuleChange, CourierError> {
    let limits = signer.share_limits();
    let expires_at = match change.expires_in_hours {
        None => None,
        Some(0) if limits.allows(None) => Some(None),
        Some(0) => return Err(too_long(limits.max_lifetime)),
        Some(hours) => {
            let lifetime = Duration::from_secs(u64::from(hours) * 3600);
            if !limits.allows(Some(lifetime)) {
                return Err(too_long(limits.max_lifetime));
            }
            Some(Some(now + lifetime))
        }
    };
    let password = match change.password.filter(|password| !password.is_empty()) {
        Some(password) => PasswordChange::Set(
            signer::password::hash_off_thread(password)
                .await
                .map_err(password_refused)?,
        ),
        None if change.remove_password => PasswordChange::Remove,
        None => PasswordChange::Keep,
    };
    Ok(courier_shares::RuleChange {
        expires_at,
        max_downloads: change.max_downloads.map(|max| (max > 0).then_some(max)),
        password,
    })
}

/// Takes a share back now, for the holder of its token, and deletes its files.
pub async fn revoke(
    db: &ShareDb,
    signer: &Signer,
    share: &ShareRef,
    now: OffsetDateTime,
) -> Result<ShareLink, CourierError> {
    signer.check_share_token(&share.id, &share.token, now)?;
    db.revoke(&share.id, now).await.map_err(refused)?;
    tracing::info!(share = %share.id, "the sender took a share back");
    // Its files go now, not at the next sweep; a failure is retried then.
    if let Err(error) = sweep(db, signer, now).await {
        tracing::warn!(%error, "a revoked share's files wait for the next sweep");
    }
    let record = db.owner_view(&share.id, now).await.map_err(refused)?;
    Ok(share_link(signer, &record, true))
}

/// Where each share stands, for the holder of its token; shares whose
/// token does not check, and shares that no longer exist, are left out.
pub async fn statuses(
    db: &ShareDb,
    signer: &Signer,
    shares: Vec<ShareRef>,
    now: OffsetDateTime,
) -> Result<Vec<ShareLink>, CourierError> {
    if shares.len() > MAX_STATUS_SHARES {
        return Err(CourierError::BadRequest(format!(
            "At most {MAX_STATUS_SHARES} shares can be looked up at once."
        )));
    }
    let ids: Vec<_> = shares
        .iter()
        .filter(|share| signer.check_share_token(&share.id, &share.token, now).is_ok())
        .filter_map(|share| courier_shares::ShareId::parse(&share.id))
        .collect();
    let records = db.owner_views(&ids, now).await.map_err(unavailable)?;
    Ok(records.iter().map(|record| share_link(signer, record, true)).collect())
}

/// Deletes the files of shares that are over (revoked at once; expired or
/// used up after [`SWEEP_GRACE`]); a share whose files could not all be
/// deleted is given back to the next sweep. Safe on several instances: each
/// share is claimed by one. Returns how many shares were swept.
pub async fn sweep(db: &ShareDb, signer: &Signer, now: OffsetDateTime) -> Result<usize, courier_shares::DbError> {
    let claimed = db.claim_sweep(now, SWEEP_GRACE, SWEEP_BATCH).await?;
    let mut swept = 0;
    for share in claimed {
        let mut deleted = true;
        for key in &share.keys {
            if let Err(error) = signer.delete_shared(key).await {
                tracing::warn!(share = %share.id, %key, %error, "a share's file could not be deleted");
                deleted = false;
            }
        }
        if deleted {
            tracing::info!(share = %share.id, files = share.keys.len(), "deleted the files of a share that is over");
            swept += 1;
        } else {
            db.release_sweep(&share.id).await?;
        }
    }
    Ok(swept)
}

/// The file `key` was deleted by its owner: it leaves its share, whose
/// other files keep working; a share left with none is taken back.
pub async fn file_deleted(db: &ShareDb, key: &str, now: OffsetDateTime) -> Result<(), CourierError> {
    db.remove_file(key, now).await.map_err(unavailable)
}

fn state(state: courier_shares::ShareState) -> ShareState {
    match state {
        courier_shares::ShareState::Live => ShareState::Live,
        courier_shares::ShareState::Expired => ShareState::Expired,
        courier_shares::ShareState::Revoked => ShareState::Revoked,
        courier_shares::ShareState::LimitReached => ShareState::LimitReached,
    }
}

/// Why a share cannot be used, as the sender or a downloader reads it.
pub fn refused(refusal: ShareRefusal) -> CourierError {
    match refusal {
        ShareRefusal::NotFound => {
            CourierError::NotFound("There is no share at this link. Check that it was copied whole.".to_owned())
        }
        ShareRefusal::Expired => CourierError::Gone(ShareState::Expired.sentence().to_owned()),
        ShareRefusal::Revoked => CourierError::Gone(ShareState::Revoked.sentence().to_owned()),
        ShareRefusal::LimitReached => CourierError::Gone(ShareState::LimitReached.sentence().to_owned()),
        ShareRefusal::Deleted => CourierError::Gone(refusal.to_string()),
        ShareRefusal::PasswordNeeded => CourierError::Unauthorized(refusal.to_string()),
        ShareRefusal::Unavailable(error) => unavailable(error),
        ShareRefusal::Invalid(_) | ShareRefusal::Downloaded => CourierError::BadRequest(refusal.to_string()),
        ShareRefusal::Sealed => CourierError::Forbidden(refusal.to_string()),
    }
}

/// The share database did not answer (unreachable, locked, full).
pub fn unavailable(error: courier_shares::DbError) -> CourierError {
    tracing::error!(%error, "the share database did not answer");
    CourierError::Unavailable(
        "Courier's share database did not answer. Nothing was lost: try again in a moment (retrying is safe)."
            .to_owned(),
    )
}

fn password_refused(error: PasswordError) -> CourierError {
    match error {
        PasswordError::NotHashed => CourierError::Internal(error.to_string()),
        PasswordError::Empty | PasswordError::TooLong => CourierError::BadRequest(error.to_string()),
    }
}

fn too_long(max: Option<Duration>) -> CourierError {
    let days = max.map_or(0, |max| max.as_secs() / 86_400);
    CourierError::BadRequest(format!(
        "A link can work for at most {days} days here: choose a shorter time."
    ))
}
