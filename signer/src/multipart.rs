//! Large files as S3 multipart uploads, straight from the browser: Courier
//! starts the upload, signs each part's PUT (its exact length and SHA-256), lists
//! what the store holds (for resuming), completes it from the store's own
//! list of parts, or aborts it. The bytes never pass through Courier.
//!
//! A multipart upload is created at its final key, `[public/]files/<id>/<name>`
//! with a random id: only part URLs for its upload id can write there, and
//! only until it is completed or aborted, so no confirmation copy is needed
//! (S3 would need a multipart copy past 5 GiB anyway).

use std::time::Duration;

use base64::Engine as _;
use time::OffsetDateTime;
use wire::multipart::{MultipartGrant, MultipartUpload, PartToSign, PartUrl, StoredPart, part_size_for};
use wire::seal::sealed_part_size;

use crate::error::SignError;
use crate::grant::UploadRequest;
use crate::object_key::{KeyArea, ObjectKey};
use crate::presign::{UploadPart, presign_upload_part};
use crate::seal::Seal;
use crate::store::NewMultipart;
use crate::token::{TokenScope, UploadToken, multipart_subject};
use crate::{LinkKind, Signer, content_disposition, rfc3339};

/// How long a multipart upload can be resumed: as long as the store keeps
/// an incomplete upload (the lifecycle rule and the embedded store's sweep
/// abort them after a day).
pub const MULTIPART_TTL: Duration = Duration::from_secs(24 * 60 * 60);

/// The most parts one call signs: enough for several seconds of parallel
/// parts on a fast link, small enough to answer at once.
pub const MAX_PARTS_PER_CALL: usize = 100;

pub use crate::store::DECLARED_SIZE_METADATA;

impl Signer {
    /// Starts a multipart upload for one file: the same checks and key rules
    /// as a POST grant, and a token bound to the key, the upload id and the sizes.
    pub async fn start_multipart(
        &self,
        request: UploadRequest,
        now: OffsetDateTime,
    ) -> Result<MultipartGrant, SignError> {
        let (name, content_type) = self.stored_as(&request)?;
        let key =
            ObjectKey::for_multipart(&name, request.link).map_err(|e| SignError::InvalidConfirmedKey(e.to_string()))?;
        let original_name =
            percent_encoding::utf8_percent_encode(name.as_str(), percent_encoding::NON_ALPHANUMERIC).to_string();
        // A public file carries its own Content-Disposition, as its POST grant pins it.
        let disposition = match request.link {
            LinkKind::Public => Some(content_disposition::attachment(name.as_str())),
            LinkKind::Expiring => None,
        };
        let upload_id = self
            .create_multipart(NewMultipart {
                key: &key,
                content_type: &content_type,
                filename: &original_name,
                seal: request.seal.as_ref().map(Seal::as_str),
                size: request.size,
                content_disposition: disposition.as_deref(),
                checksums: self.0.limits.multipart.part_checksums,
            })
            .await?;
        // An encrypted file's parts hold whole records (FORMAT.md).
        let part_size = match request.seal {
            Some(_) => sealed_part_size(request.size),
            None => part_size_for(request.size),
        };
        let expires_at = now + MULTIPART_TTL;
        let token = UploadToken::issue(
            &self.0.secret,
            TokenScope::Multipart,
            &multipart_subject(key.as_str(), &upload_id, request.size, part_size),
            expires_at,
        );
        tracing::info!(key = %key.as_str(), upload_id = %upload_id, size = request.size, "started a multipart upload");
        Ok(MultipartGrant {
            upload: MultipartUpload {
                key: key.as_str().to_owned(),
                upload_id,
                size: request.size,
                part_size,
                token,
            },
            expires_at: rfc3339(expires_at),
        })
    }

    /// Presigned PUTs for `parts` of `upload`, each for its part's exact
    /// length and the SHA-256 the browser computed.
    pub async fn sign_parts(
        &self,
        upload: &MultipartUpload,
        parts: &[PartToSign],
        now: OffsetDateTime,
    ) -> Result<Vec<PartUrl>, SignError> {
        let key = self.verify_multipart(upload, now)?;
        if parts.len() > MAX_PARTS_PER_CALL {
            return Err(SignError::TooManyParts(MAX_PARTS_PER_CALL));
        }
        let identity = self.signing_identity().await?;
        let expires_in = self.0.limits.upload_ttl;
        parts
            .iter()
            .map(|part| {
                let size = upload.part_len(part.number).ok_or(SignError::NoSuchPart {
                    number: part.number,
                    count: upload.part_count(),
                })?;
                // Re-encoded from its 32 bytes: the URL signs exactly what the store compares.
                let sha256 = match &part.sha256 {
                    Some(sha256) => Some(
                        base64::engine::general_purpose::STANDARD
                            .decode(sha256)
                            .ok()
                            .filter(|digest| digest.len() == 32)
                            .map(|digest| base64::engine::general_purpose::STANDARD.encode(digest))
                            .ok_or(SignError::BadPartDigest(part.number))?,
                    ),
                    None if self.0.limits.multipart.part_checksums => {
                        return Err(SignError::BadPartDigest(part.number));
                    }
                    None => None,
                };
                let url = presign_upload_part(
                    &identity,
                    &self.0.bucket_url,
                    UploadPart {
                        key: key.as_str(),
                        upload_id: &upload.upload_id,
                        number: part.number,
                        size,
                        sha256: sha256.as_deref(),
                        expires_in,
                    },
                    now,
                );
                Ok(PartUrl {
                    number: part.number,
                    size,
                    url,
                    expires_at: rfc3339(now + expires_in),
                })
            })
            .collect()
    }

    /// The parts the store holds for `upload`, as it lists them.
    pub async fn stored_parts(
        &self,
        upload: &MultipartUpload,
        now: OffsetDateTime,
    ) -> Result<Vec<StoredPart>, SignError> {
        let key = self.verify_multipart(upload, now)?;
        self.list_parts(&key, &upload.upload_id).await
    }

    /// Completes `upload` from the store's own list of its parts, once they
    /// are exactly the parts the declared size is cut into; otherwise aborts
    /// it and says why. Completing again answers the same link.
    pub async fn complete_multipart(
        &self,
        upload: &MultipartUpload,
        now: OffsetDateTime,
    ) -> Result<wire::DownloadLink, SignError> {
        let key = self.verify_multipart(upload, now)?;
        match self.list_parts(&key, &upload.upload_id).await {
            Ok(parts) => {
                if let Err(reason) = check_parts(upload, &parts) {
                    tracing::info!(key = %key.as_str(), reason = %reason, "aborting a multipart upload that does not add up");
                    let _was_in_progress = self.abort_upload(&key, &upload.upload_id).await?;
                    return Err(SignError::PartsDoNotAddUp(reason));
                }
                self.complete_upload(&key, &upload.upload_id, &parts).await?;
            }
            // Completed by an earlier call whose answer was lost: the object says.
            Err(SignError::NoSuchUpload) => {}
            Err(other) => return Err(other),
        }
        let head = self.head(&key).await?.ok_or(SignError::NoSuchUpload)?;
        let stored = head.content_length().and_then(|n| u64::try_from(n).ok());
        if stored != Some(upload.size) {
            // Only our own complete writes here, from parts checked above.
            tracing::error!(key = %key.as_str(), ?stored, declared = upload.size, "a completed upload has another size");
            return Err(SignError::PartsDoNotAddUp(format!(
                "the store holds {} bytes, not the {} declared",
                stored.unwrap_or(0),
                upload.size
            )));
        }
        let token = self.owner_token(&key, &head, now);
        tracing::info!(key = %key.as_str(), size = upload.size, "completed a multipart upload");
        self.link(&key, &head, token, now).await
    }

    /// Aborts `upload`: the store drops every part. Aborting twice is fine;
    /// whether this call found it still in progress (not completed, aborted
    /// or swept before).
    pub async fn abort_multipart(&self, upload: &MultipartUpload, now: OffsetDateTime) -> Result<bool, SignError> {
        let key = self.verify_multipart(upload, now)?;
        self.abort_upload(&key, &upload.upload_id).await
    }

    /// The upload's key, once its token checks out for every field.
    fn verify_multipart(&self, upload: &MultipartUpload, now: OffsetDateTime) -> Result<ObjectKey, SignError> {
        if upload.token.is_empty() {
            return Err(SignError::NoToken);
        }
        let subject = multipart_subject(&upload.key, &upload.upload_id, upload.size, upload.part_size);
        UploadToken::verify_multipart(&self.0.secret, &upload.token, &subject, now).map_err(|e| match e {
            crate::token::TokenError::Expired => SignError::PermissionExpired,
            _ => SignError::NotThisUpload,
        })?;
        let key = ObjectKey::parse(&upload.key).map_err(|_| SignError::NotCourierKey)?;
        if key.area() != KeyArea::Confirmed {
            return Err(SignError::NotThisFile);
        }
        Ok(key)
    }
}

/// Whether `parts` are exactly parts 1 to n of `upload`, each of its size.
fn check_parts(upload: &MultipartUpload, parts: &[StoredPart]) -> Result<(), String> {
    let count = upload.part_count();
    for (expected, part) in (1..).zip(parts) {
        if part.number != expected {
            return Err(if part.number > expected {
                format!("part {expected} of {count} is missing")
            } else {
                format!("part {} is listed twice", part.number)
            });
        }
        let size = upload.part_len(part.number).ok_or_else(|| {
            format!(
                "part {} is beyond the {count} parts of {} bytes",
                part.number, upload.size
            )
        })?;
        if part.size != size {
            return Err(format!("part {} holds {} bytes, not {size}", part.number, part.size));
        }
    }
    if parts.len() < count as usize {
        return Err(format!("part {} of {count} is missing", parts.len() + 1));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIB: u64 = 1024 * 1024;

    fn upload(size: u64) -> MultipartUpload {
        MultipartUpload {
            key: String::new(),
            upload_id: String::new(),
            size,
            part_size: 8 * MIB,
            token: String::new(),
        }
    }

    fn part(number: u32, size: u64) -> StoredPart {
        StoredPart {
            number,
            size,
            etag: format!("etag{number}"),
            sha256: None,
        }
    }

    #[test]
    fn only_the_parts_the_size_is_cut_into_add_up() {
        let upload = upload(20 * MIB);
        let whole = [part(1, 8 * MIB), part(2, 8 * MIB), part(3, 4 * MIB)];
        assert_eq!(check_parts(&upload, &whole), Ok(()));
        let cases: [(&[StoredPart], &str); 5] = [
            (&whole[..2], "part 3 of 3 is missing"),
            (&[part(1, 8 * MIB), part(3, 4 * MIB)], "part 2 of 3 is missing"),
            (
                &[part(1, 8 * MIB), part(2, 8 * MIB), part(3, 4 * MIB), part(4, 1)],
                "part 4 is beyond the 3 parts of 20971520 bytes",
            ),
            (
                &[part(1, 8 * MIB), part(2, 8 * MIB), part(3, 4 * MIB + 1)],
                "part 3 holds 4194305 bytes, not 4194304",
            ),
            (&[], "part 1 of 3 is missing"),
        ];
        for (parts, reason) in cases {
            assert_eq!(check_parts(&upload, parts), Err(reason.to_owned()));
        }
    }
}
