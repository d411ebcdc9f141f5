//! What every scenario uses: a fixed time, shares to create, and the calls
//! that must succeed, which fail the test with the reason when they do not.

use std::sync::atomic::{AtomicUsize, Ordering};

use courier_shares::{NewFile, NewShare, Share, ShareDb, ShareId, ShareRecord, ShareRefusal, SharedFile};
use time::{Duration, OffsetDateTime};

/// A fixed "now": time is passed in, never read.
pub fn t0() -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(1_767_225_600).expect("2026-01-01")
}

/// An Argon2id PHC string, as the server would make one (this crate never hashes).
pub const HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA";

/// Numbers each new share's files apart: a stored object is in one share at most.
static NEXT_SHARE: AtomicUsize = AtomicUsize::new(0);

/// File `n` of share `share`.
fn file(share: usize, n: usize) -> NewFile {
    NewFile {
        key: format!("files/{share:04}-{n:02}/report-{n}.pdf"),
        filename: format!("Report {n} (final) é.pdf"),
        content_type: "application/pdf".into(),
        size: 1_000 + n as u64,
        seal: None,
    }
}

pub fn new_share(files: usize, max_downloads: Option<u32>, expires_in: Option<Duration>) -> NewShare {
    NewShare {
        files: {
            let share = NEXT_SHARE.fetch_add(1, Ordering::Relaxed);
            (0..files).map(|n| file(share, n)).collect()
        },
        expires_at: expires_in.map(|after| t0() + after),
        max_downloads,
        password_hash: None,
        created_at: t0(),
    }
}

pub async fn created(db: &ShareDb, share: NewShare) -> ShareId {
    match db.create(share).await {
        Ok(id) => id,
        Err(error) => panic!("create: {error}"),
    }
}

pub async fn read(db: &ShareDb, id: &ShareId, now: OffsetDateTime) -> Share {
    match db.share(id.as_str(), now).await {
        Ok(share) => share,
        Err(refusal) => panic!("share: {refusal}"),
    }
}

pub async fn take(db: &ShareDb, id: &ShareId, file: usize, now: OffsetDateTime) -> SharedFile {
    match db.take_download(id.as_str(), file, now).await {
        Ok(file) => file,
        Err(refusal) => panic!("take_download({file}): {refusal}"),
    }
}

/// The share as its sender sees it.
pub async fn view(db: &ShareDb, id: &ShareId, now: OffsetDateTime) -> ShareRecord {
    match db.owner_view(id.as_str(), now).await {
        Ok(record) => record,
        Err(refusal) => panic!("owner_view: {refusal}"),
    }
}

/// Each file's downloads so far, read by the sender (in any state).
pub async fn downloads(db: &ShareDb, id: &ShareId) -> Vec<u32> {
    let record = view(db, id, t0()).await;
    record.files.iter().map(|file| file.downloads).collect()
}

/// The refusal's name, so a wrong one shows in the assertion.
pub fn refusal<T>(result: Result<T, ShareRefusal>) -> &'static str {
    match result {
        Ok(_) => "Ok",
        Err(ShareRefusal::NotFound) => "NotFound",
        Err(ShareRefusal::Expired) => "Expired",
        Err(ShareRefusal::Revoked) => "Revoked",
        Err(ShareRefusal::LimitReached) => "LimitReached",
        Err(ShareRefusal::Deleted) => "Deleted",
        Err(ShareRefusal::Invalid(_)) => "Invalid",
        Err(ShareRefusal::Sealed) => "Sealed",
        Err(ShareRefusal::Downloaded) => "Downloaded",
        Err(ShareRefusal::PasswordNeeded) => "PasswordNeeded",
        Err(ShareRefusal::Unavailable(_)) => "Unavailable",
    }
}
