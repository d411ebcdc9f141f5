//! What a share needs signed: its link, the sender's token, the token a
//! right password earns, a one-minute GET for each counted download, and the
//! deletion of a share's files when it is over. The rules themselves live in
//! the share database (`courier-shares`); this is only what needs the secret
//! or the store.

use std::time::Duration;

use time::OffsetDateTime;

use crate::Signer;
use crate::error::SignError;
use crate::object_key::{KeyArea, ObjectKey};
use crate::token::{self, TokenScope, UploadToken};

/// How long the GET a share's download route redirects to works: long
/// enough to start the download (and a browser's ranged resume of it), short
/// enough that the URL is no way around the share's rules.
pub const SHARE_DOWNLOAD_TTL: Duration = Duration::from_secs(60);

/// How long a right password keeps a share's downloads open in one browser.
pub const UNLOCK_TTL: Duration = Duration::from_secs(12 * 3600);

/// A share's sender token never expires by itself: it controls the share for
/// as long as the share exists (the latest time a token can carry).
const SHARE_TOKEN_EXPIRY: i64 = 253_402_300_799;

impl Signer {
    /// How long shares live, as the operator set it.
    pub fn share_limits(&self) -> crate::ShareLimits {
        self.0.limits.shares
    }

    /// The link to hand out for share `id`: Courier's `/s/<id>`.
    pub fn share_url(&self, id: &str) -> String {
        format!("{}{id}", self.0.share_base)
    }

    /// The sender's token for share `id`: an HMAC over the id, so every
    /// instance sharing the secret checks it without a lookup, and one made
    /// again (a confirmation retried) is the same.
    pub fn share_token(&self, id: &str) -> String {
        let forever = OffsetDateTime::from_unix_timestamp(SHARE_TOKEN_EXPIRY).unwrap_or(OffsetDateTime::UNIX_EPOCH);
        UploadToken::issue(&self.0.secret, TokenScope::Share, id, forever)
    }

    /// The link to hand out for file request `id`: Courier's `/r/<id>`.
    pub fn request_url(&self, id: &str) -> String {
        format!("{}{id}", self.0.request_base)
    }

    /// The maker's token for file request `id`, as [`Self::share_token`] is a share's.
    pub fn request_token(&self, id: &str) -> String {
        let forever = OffsetDateTime::from_unix_timestamp(SHARE_TOKEN_EXPIRY).unwrap_or(OffsetDateTime::UNIX_EPOCH);
        UploadToken::issue(&self.0.secret, TokenScope::Request, id, forever)
    }

    /// Whether `token` is the maker's token for file request `id`.
    pub fn check_request_token(&self, id: &str, token: &str, now: OffsetDateTime) -> Result<(), SignError> {
        if token.is_empty() {
            return Err(SignError::NoToken);
        }
        UploadToken::verify_scoped(&self.0.secret, TokenScope::Request, token, id, now)
            .map_err(|_| SignError::NotThisRequest)
    }

    /// Whether `token` is the sender's token for share `id` (compared in constant time).
    pub fn check_share_token(&self, id: &str, token: &str, now: OffsetDateTime) -> Result<(), SignError> {
        if token.is_empty() {
            return Err(SignError::NoToken);
        }
        UploadToken::verify_scoped(&self.0.secret, TokenScope::Share, token, id, now)
            .map_err(|_| SignError::NotThisShare)
    }

    /// What a browser gets for the right password of share `id` (kept in a
    /// cookie): its downloads for [`UNLOCK_TTL`], until the password changes.
    pub fn unlock_token(&self, id: &str, password_hash: &str, now: OffsetDateTime) -> String {
        let subject = token::unlock_subject(id, password_hash);
        UploadToken::issue(&self.0.secret, TokenScope::Unlock, &subject, now + UNLOCK_TTL)
    }

    /// Whether `token` was earned with the current password of share `id`.
    pub fn is_unlocked(&self, id: &str, password_hash: &str, token: &str, now: OffsetDateTime) -> bool {
        let subject = token::unlock_subject(id, password_hash);
        UploadToken::verify_scoped(&self.0.secret, TokenScope::Unlock, token, &subject, now).is_ok()
    }

    /// A GET of a shared file that works for [`SHARE_DOWNLOAD_TTL`] and
    /// saves it as `filename`. Only confirmed files are shared.
    pub async fn share_download(&self, key: &str, filename: &str, now: OffsetDateTime) -> Result<String, SignError> {
        let key = shared_key(key)?;
        self.presign_download(&key, filename, now, SHARE_DOWNLOAD_TTL, None)
            .await
    }

    /// The same GET for an encrypted file, which the share page reads and
    /// decrypts itself: answered `Cache-Control: no-store`, so that Chromium
    /// reads the body only as fast as the page does. (Otherwise it reads
    /// ahead of the page, as fast as the network gives it, into the tab's
    /// own memory: a 1 GiB file read at 120 MB/s over loopback took the tab
    /// 84-204 MiB up; Chromium's `FetchManager` leaves a `no-store` answer's
    /// body unbuffered.) No copy of the ciphertext is kept in a cache either.
    pub async fn sealed_share_download(
        &self,
        key: &str,
        filename: &str,
        now: OffsetDateTime,
    ) -> Result<String, SignError> {
        let key = shared_key(key)?;
        self.presign_download(&key, filename, now, SHARE_DOWNLOAD_TTL, Some("no-store"))
            .await
    }

    /// Deletes a file whose share is over; a file already gone is fine.
    pub async fn delete_shared(&self, key: &str) -> Result<(), SignError> {
        let key = shared_key(key)?;
        self.delete_object(&key).await
    }
}

/// A key a share may hold: a confirmed file, never an upload in progress.
fn shared_key(key: &str) -> Result<ObjectKey, SignError> {
    let key = ObjectKey::parse(key).map_err(|_| SignError::NotCourierKey)?;
    if key.area() == KeyArea::Confirmed {
        Ok(key)
    } else {
        Err(SignError::NotCourierKey)
    }
}
