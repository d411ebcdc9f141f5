//! Confirmations: the store's redirect after an upload is checked, the new
//! object is moved where no grant can write (`files/<id>/<name>`), and a
//! download link is signed for it. Renewals sign a fresh link later.

use aws_sdk_s3::operation::head_object::HeadObjectOutput;
use time::OffsetDateTime;

use crate::error::SignError;
use crate::object_key::{KeyArea, ObjectKey};
use crate::store::bare_etag;
use crate::token::{self, TokenError, TokenScope, UploadToken, VerifiedToken};
use crate::{DownloadLink, Signer};

/// What the store's redirect brings to `/confirm-upload` (its query).
#[derive(Clone, Debug, Default, serde::Deserialize)]
pub struct ConfirmRequest {
    pub token: Option<String>,
    pub bucket: Option<String>,
    pub key: Option<String>,
    /// The ETag the store reported for the upload.
    pub etag: Option<String>,
}

impl Signer {
    /// Checks the store's redirect, moves the new object to its confirmed key
    /// and signs a download link for it.
    pub async fn confirm(&self, request: ConfirmRequest, now: OffsetDateTime) -> Result<DownloadLink, SignError> {
        let (Some(token), Some(bucket), Some(key)) = (request.token, request.bucket, request.key) else {
            return Err(SignError::IncompleteConfirmation);
        };
        if bucket != self.0.store.bucket {
            return Err(SignError::ForeignBucket);
        }
        // The plain page's "New link" comes back here with the renewal token.
        self.link_for(&key, token, request.etag.as_deref(), now).await
    }

    /// A fresh link for a file uploaded earlier, for the holder of its token:
    /// a renewal token signs a link to its confirmed file; an upload token
    /// confirms its upload first.
    pub async fn renew(&self, key: &str, token: &str, now: OffsetDateTime) -> Result<DownloadLink, SignError> {
        self.link_for(key, token.to_owned(), None, now).await
    }

    /// The link `token` gives to `key`, by its scope: a renewal token's
    /// confirmed file, or an upload token's upload confirmed (with the
    /// `etag` the store reported, where it did).
    async fn link_for(
        &self,
        key: &str,
        token: String,
        etag: Option<&str>,
        now: OffsetDateTime,
    ) -> Result<DownloadLink, SignError> {
        let (key, verified) = self.verify(key, &token, now)?;
        match verified.scope {
            TokenScope::Renewal => self.renewed_link(&key, token, now).await,
            TokenScope::Key | TokenScope::Prefix => self.confirm_upload(&key, etag, now).await,
            // `verify` opens no key with a multipart token, nor with the others.
            TokenScope::Multipart
            | TokenScope::Share
            | TokenScope::Unlock
            | TokenScope::Nonce
            | TokenScope::Session
            | TokenScope::Request
            | TokenScope::Download => Err(SignError::NotThisFile),
        }
    }

    /// A fresh link to a confirmed file, for the holder of its renewal token.
    async fn renewed_link(
        &self,
        key: &ObjectKey,
        token: String,
        now: OffsetDateTime,
    ) -> Result<DownloadLink, SignError> {
        let head = self.head(key).await?.ok_or(SignError::NoSuchFile)?;
        self.link(key, &head, token, now).await
    }

    /// Copies an upload to `files/<id>/<name>` (once), removes it from where
    /// its grant could write again, and signs a link to the copy. `etag` is
    /// what the store's redirect reported: it finds the copy when the upload
    /// was already moved (a confirmation retried).
    ///
    /// The owner token (new links, delete) goes only with the confirmation
    /// that made the copy and with those within the owner-token window after
    /// it (the page's retries of a lost answer): the upload token travels in
    /// the store's redirect URL, which a browser's history keeps, and must
    /// not yield the right to delete. Judged from the copy's own date, so
    /// every instance agrees without sharing state.
    async fn confirm_upload(
        &self,
        key: &ObjectKey,
        etag: Option<&str>,
        now: OffsetDateTime,
    ) -> Result<DownloadLink, SignError> {
        if key.area() != KeyArea::Upload {
            return Err(SignError::NotThisFile);
        }
        let _one_at_a_time = self.0.confirming.lock(key.as_str()).await;
        // The redirect names the bytes it confirms by their ETag; without one
        // (an upload token replayed), whatever the upload holds now.
        let current = self.head(key).await?.map(|upload| bare_etag(upload.e_tag()));
        let wanted = etag
            .map(|e| bare_etag(Some(e)))
            .or_else(|| current.clone())
            .ok_or(SignError::NoSuchFile)?;
        let still_uploaded = current.as_deref() == Some(wanted.as_str());
        // The copy carries the upload's metadata, size and ETag.
        let (confirmed, head, copied_now) = match self.find_copy(key, &wanted).await? {
            Some((confirmed, head)) => (confirmed, head, false),
            None if still_uploaded => {
                let confirmed = self.confirmed_key(key, &wanted)?;
                self.copy(key, &confirmed, &wanted).await?;
                let head = self.head(&confirmed).await?.ok_or(SignError::NoSuchFile)?;
                (confirmed, head, true)
            }
            // Neither copied nor still there: never uploaded, or the grant
            // wrote other bytes since, which this redirect does not confirm.
            None => return Err(SignError::NoSuchFile),
        };
        if still_uploaded {
            self.remove_upload(key).await;
        }
        let owner = copied_now || self.just_confirmed(&head, now);
        let token = if owner {
            self.owner_token(&confirmed, &head, now)
        } else {
            String::new()
        };
        tracing::info!(
            upload = %key.as_str(),
            confirmed = %confirmed.as_str(),
            owner_token = owner,
            "confirmed an upload"
        );
        self.link(&confirmed, &head, token, now).await
    }

    /// The confirmed copy of `key`'s bytes `etag`, if one was made: under the
    /// id the current secret gives, or one a previous secret gave (a file
    /// confirmed before a rotation).
    async fn find_copy(&self, key: &ObjectKey, etag: &str) -> Result<Option<(ObjectKey, HeadObjectOutput)>, SignError> {
        for id in token::confirmed_ids(&self.0.secret, key, etag) {
            let confirmed = key
                .confirmed(&id)
                .map_err(|e| SignError::InvalidConfirmedKey(e.to_string()))?;
            if let Some(head) = self.head(&confirmed).await? {
                return Ok(Some((confirmed, head)));
            }
        }
        Ok(None)
    }

    /// Whether a confirmed copy was made within the owner-token window before
    /// `now` (by the store's clock; a copy dated ahead of `now` counts as new).
    fn just_confirmed(&self, head: &HeadObjectOutput, now: OffsetDateTime) -> bool {
        head.last_modified()
            .and_then(|t| OffsetDateTime::from_unix_timestamp(t.secs()).ok())
            .is_some_and(|written| now - written <= self.0.limits.owner_token_window)
    }

    fn confirmed_key(&self, key: &ObjectKey, etag: &str) -> Result<ObjectKey, SignError> {
        key.confirmed(&token::confirmed_id(&self.0.secret, key, etag))
            .map_err(|e| SignError::InvalidConfirmedKey(e.to_string()))
    }

    pub(crate) fn verify(
        &self,
        key: &str,
        token: &str,
        now: OffsetDateTime,
    ) -> Result<(ObjectKey, VerifiedToken), SignError> {
        if token.is_empty() {
            return Err(SignError::NoToken);
        }
        let key = ObjectKey::parse(key).map_err(|_| SignError::NotCourierKey)?;
        let verified = UploadToken::verify(&self.0.secret, token, &key, now).map_err(|e| match e {
            TokenError::Expired => SignError::PermissionExpired,
            _ => SignError::NotThisFile,
        })?;
        Ok((key, verified))
    }
}
