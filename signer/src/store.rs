//! The bucket and the few calls the signer makes to it: HEAD, a conditional
//! server-side copy, DELETE, and the readiness check. Store failures are
//! logged here in full and reach the person as one sentence.

use std::time::Duration;

use aws_sdk_s3::config::retry::RetryConfig;
use aws_sdk_s3::config::timeout::TimeoutConfig;
use aws_sdk_s3::error::{DisplayErrorContext, SdkError};
use aws_sdk_s3::operation::head_object::HeadObjectOutput;
use aws_sdk_s3::types::{ChecksumAlgorithm, CompletedMultipartUpload, CompletedPart};
use wire::multipart::StoredPart;

use crate::Signer;
use crate::credentials::CredentialSource;
use crate::error::SignError;
use crate::object_key::{KEY_PATH, ObjectKey};

/// The user metadata (`x-amz-meta-courier-size`) a multipart upload is
/// created with: its declared size, so that the embedded store reserves
/// room for it from the start. AWS and Garage keep it on the object like
/// any other metadata (it is the object's size, so nothing reads it wrong).
pub const DECLARED_SIZE_METADATA: &str = "courier-size";

/// The bucket and how to reach it.
pub struct Store {
    pub client: aws_sdk_s3::Client,
    pub bucket: String,
    /// The bucket's URL as the browser POSTs to it.
    pub post_url: String,
    /// What the signer signs with (and the store's region).
    pub credentials: CredentialSource,
}

/// How long one call to the store may take (each attempt, then all its
/// retries together): a store that accepts connections and never answers
/// must end in a sentence, not in a request that hangs.
pub const CALL_ATTEMPT_TIMEOUT: Duration = Duration::from_secs(10);
pub const CALL_TIMEOUT: Duration = Duration::from_secs(20);
/// A server-side copy moves the whole file (up to 5 GiB on S3, which can
/// take minutes): it alone may take this long.
pub const COPY_TIMEOUT: Duration = Duration::from_secs(600);

/// How long a readiness check waits for the store: a probe that hangs is
/// worse than one that says no.
pub const READY_TIMEOUT: Duration = Duration::from_secs(3);

/// Why the store is not ready, as `/ready` says it. Anyone may read that
/// sentence, so it names no endpoint, key or credential: the log has the rest.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum StoreNotReady {
    #[error("The storage could not be reached: it did not answer within {} seconds.", READY_TIMEOUT.as_secs())]
    TimedOut,
    #[error("The storage could not be reached: the connection to it failed.")]
    NoConnection,
    #[error(
        "The storage could not be reached: Courier could not make its request (its credentials may be unavailable)."
    )]
    NotSent,
    #[error("The storage could not be reached: it refused Courier's credentials ({0}).")]
    CredentialsRefused(u16),
    #[error("The storage could not be reached: the bucket does not exist (404).")]
    NoBucket,
    #[error("The storage could not be reached: it answered {0}.")]
    Failed(u16),
}

impl Signer {
    /// Whether the bucket answers a HeadBucket within [`READY_TIMEOUT`]: one
    /// attempt, no retries (the probe itself is polled again).
    pub async fn ready(&self) -> Result<(), StoreNotReady> {
        let store = &self.0.store;
        let head = store
            .client
            .head_bucket()
            .bucket(&store.bucket)
            .customize()
            .config_override(aws_sdk_s3::Config::builder().retry_config(RetryConfig::disabled()))
            .send();
        let error = match tokio::time::timeout(READY_TIMEOUT, head).await {
            Ok(Ok(_)) => return Ok(()),
            Ok(Err(error)) => error,
            Err(_) => {
                tracing::warn!(bucket = %store.bucket, "the store did not answer the readiness check in time");
                return Err(StoreNotReady::TimedOut);
            }
        };
        tracing::warn!(bucket = %store.bucket, error = %DisplayErrorContext(&error), "the store is not ready");
        Err(match (&error, error.raw_response().map(|r| r.status().as_u16())) {
            (_, Some(status @ (401 | 403))) => StoreNotReady::CredentialsRefused(status),
            (_, Some(404)) => StoreNotReady::NoBucket,
            (_, Some(status)) => StoreNotReady::Failed(status),
            (SdkError::DispatchFailure(failure), None) if failure.is_io() || failure.is_timeout() => {
                StoreNotReady::NoConnection
            }
            (SdkError::TimeoutError(_), None) => StoreNotReady::NoConnection,
            // Credentials that could not be loaded, a request not built.
            (_, None) => StoreNotReady::NotSent,
        })
    }

    /// The object's metadata, or `None` when there is no such object.
    pub(crate) async fn head(&self, key: &ObjectKey) -> Result<Option<HeadObjectOutput>, SignError> {
        let store = &self.0.store;
        match store
            .client
            .head_object()
            .bucket(&store.bucket)
            .key(key.as_str())
            .send()
            .await
        {
            Ok(head) => Ok(Some(head)),
            Err(error) if is_not_found(&error) => Ok(None),
            Err(error) => {
                tracing::error!(key = %key.as_str(), error = %DisplayErrorContext(&error), "HEAD failed");
                Err(SignError::StoreUnreachable)
            }
        }
    }

    /// A server-side copy, only of the bytes that carry `etag`.
    pub(crate) async fn copy(&self, from: &ObjectKey, to: &ObjectKey, etag: &str) -> Result<(), SignError> {
        let store = &self.0.store;
        let source = format!(
            "{}/{}",
            store.bucket,
            percent_encoding::utf8_percent_encode(from.as_str(), KEY_PATH)
        );
        match store
            .client
            .copy_object()
            .bucket(&store.bucket)
            .key(to.as_str())
            .copy_source(source)
            .copy_source_if_match(format!("\"{etag}\""))
            .customize()
            .config_override(moving_the_whole_file())
            .send()
            .await
        {
            Ok(_) => Ok(()),
            Err(error) if error.raw_response().is_some_and(|r| r.status().as_u16() == 412) => {
                Err(SignError::ChangedWhileConfirming)
            }
            // 507: the store's disk is full (MinIO's `XMinioStorageFull`, the embedded store's too).
            Err(error) if error.raw_response().is_some_and(|r| r.status().as_u16() == 507) => {
                tracing::warn!(from = %from.as_str(), to = %to.as_str(), "the store is full: a confirmation could not copy");
                Err(SignError::StorageFull)
            }
            Err(error) => {
                tracing::error!(from = %from.as_str(), to = %to.as_str(), error = %DisplayErrorContext(&error), "copy failed");
                Err(SignError::StoreUnreachable)
            }
        }
    }

    /// What the bucket holds: the sum of its objects' sizes (every page of
    /// a listing). For the storage budget.
    pub(crate) async fn stored_bytes(&self) -> Result<u64, SignError> {
        let store = &self.0.store;
        let mut pages = store
            .client
            .list_objects_v2()
            .bucket(&store.bucket)
            .into_paginator()
            .send();
        let mut bytes = 0u64;
        while let Some(page) = pages.next().await {
            let page = page.map_err(|error| {
                tracing::error!(error = %DisplayErrorContext(&error), "listing the bucket failed");
                SignError::StoreUnreachable
            })?;
            for object in page.contents() {
                bytes = bytes.saturating_add(object.size().and_then(|size| u64::try_from(size).ok()).unwrap_or(0));
            }
        }
        Ok(bytes)
    }

    /// Deletes `key`; deleting what is already gone succeeds (as S3 does).
    pub(crate) async fn delete_object(&self, key: &ObjectKey) -> Result<(), SignError> {
        let store = &self.0.store;
        match store
            .client
            .delete_object()
            .bucket(&store.bucket)
            .key(key.as_str())
            .send()
            .await
        {
            Ok(_) => Ok(()),
            Err(error) if is_not_found(&error) => Ok(()),
            Err(error) => {
                tracing::error!(key = %key.as_str(), error = %DisplayErrorContext(&error), "DELETE failed");
                Err(SignError::NotDeleted)
            }
        }
    }

    /// Best effort: a leftover upload is never linked, and expires with its
    /// prefix (`delete_object` logs a failure).
    pub(crate) async fn remove_upload(&self, key: &ObjectKey) {
        let _ = self.delete_object(key).await;
    }
}

/// A call that moves a whole file inside the store (a copy, assembling
/// parts) gets [`COPY_TIMEOUT`] instead of the usual bound.
fn moving_the_whole_file() -> aws_sdk_s3::config::Builder {
    aws_sdk_s3::Config::builder().timeout_config(
        TimeoutConfig::builder()
            .operation_attempt_timeout(COPY_TIMEOUT)
            .operation_timeout(COPY_TIMEOUT)
            .build(),
    )
}

/// What a multipart upload is created with.
pub(crate) struct NewMultipart<'a> {
    pub key: &'a ObjectKey,
    pub content_type: &'a str,
    /// The original file name, percent-encoded.
    pub filename: &'a str,
    /// An encrypted file's seal.
    pub seal: Option<&'a str>,
    /// The declared size, sent as [`DECLARED_SIZE_METADATA`] too.
    pub size: u64,
    pub content_disposition: Option<&'a str>,
    /// Whether each part comes with its SHA-256 (`x-amz-checksum-sha256`):
    /// S3 takes part checksums only for an upload created with the algorithm.
    pub checksums: bool,
}

impl Signer {
    /// Creates a multipart upload; its upload id.
    pub(crate) async fn create_multipart(&self, new: NewMultipart<'_>) -> Result<String, SignError> {
        let store = &self.0.store;
        let request = store
            .client
            .create_multipart_upload()
            .bucket(&store.bucket)
            .key(new.key.as_str())
            .content_type(new.content_type)
            .metadata(crate::FILENAME_METADATA, new.filename)
            .metadata(DECLARED_SIZE_METADATA, new.size.to_string())
            .set_content_disposition(new.content_disposition.map(str::to_owned))
            .set_checksum_algorithm(new.checksums.then_some(ChecksumAlgorithm::Sha256));
        let request = match new.seal {
            Some(seal) => request.metadata(crate::seal::SEAL_METADATA, seal),
            None => request,
        };
        let created = request.send().await;
        match created.map(|out| out.upload_id) {
            Ok(Some(upload_id)) => Ok(upload_id),
            Ok(None) => {
                tracing::error!(key = %new.key.as_str(), "the store started a multipart upload without an id");
                Err(SignError::StoreUnreachable)
            }
            // 507: no room for the declared size (the embedded store reserves
            // it from the start), or a full disk. Nothing was started.
            Err(error) if error.raw_response().is_some_and(|r| r.status().as_u16() == 507) => {
                tracing::warn!(key = %new.key.as_str(), size = new.size, error = %DisplayErrorContext(&error), "the store has no room for a multipart upload");
                Err(SignError::NoRoomForUpload(new.size))
            }
            Err(error) => {
                tracing::error!(key = %new.key.as_str(), error = %DisplayErrorContext(&error), "CreateMultipartUpload failed");
                Err(SignError::StoreUnreachable)
            }
        }
    }

    /// Every part the store holds for an upload, in order (all pages).
    pub(crate) async fn list_parts(&self, key: &ObjectKey, upload_id: &str) -> Result<Vec<StoredPart>, SignError> {
        let store = &self.0.store;
        let mut parts = Vec::new();
        let mut marker: Option<String> = None;
        loop {
            let page = store
                .client
                .list_parts()
                .bucket(&store.bucket)
                .key(key.as_str())
                .upload_id(upload_id)
                .set_part_number_marker(marker.take())
                .send()
                .await
                .map_err(|error| multipart_error(key, "ListParts", &error))?;
            for part in page.parts() {
                let (Some(number), Some(size)) = (part.part_number(), part.size()) else {
                    continue;
                };
                parts.push(StoredPart {
                    number: u32::try_from(number).unwrap_or(0),
                    size: u64::try_from(size).unwrap_or(0),
                    etag: bare_etag(part.e_tag()),
                    sha256: part.checksum_sha256().map(str::to_owned),
                });
            }
            match (page.is_truncated(), page.next_part_number_marker()) {
                (Some(true), Some(next)) if !page.parts().is_empty() => marker = Some(next.to_owned()),
                _ => break,
            }
        }
        parts.sort_by_key(|p| p.number);
        Ok(parts)
    }

    /// Completes an upload from `parts` (number, ETag and checksum, as the store listed them).
    pub(crate) async fn complete_upload(
        &self,
        key: &ObjectKey,
        upload_id: &str,
        parts: &[StoredPart],
    ) -> Result<(), SignError> {
        let store = &self.0.store;
        let completed = CompletedMultipartUpload::builder()
            .set_parts(Some(
                parts
                    .iter()
                    .map(|p| {
                        CompletedPart::builder()
                            .part_number(i32::try_from(p.number).unwrap_or(i32::MAX))
                            .e_tag(format!("\"{}\"", p.etag))
                            // S3 completes an upload created with a checksum algorithm only with each part's.
                            .set_checksum_sha256(p.sha256.clone())
                            .build()
                    })
                    .collect(),
            ))
            .build();
        store
            .client
            .complete_multipart_upload()
            .bucket(&store.bucket)
            .key(key.as_str())
            .upload_id(upload_id)
            .multipart_upload(completed)
            // Assembling a large file takes the store a while.
            .customize()
            .config_override(moving_the_whole_file())
            .send()
            .await
            .map(|_| ())
            .map_err(|error| multipart_error(key, "CompleteMultipartUpload", &error))
    }

    /// Aborts an upload; one already gone (completed, aborted, swept) is
    /// fine. Whether it was still in progress.
    pub(crate) async fn abort_upload(&self, key: &ObjectKey, upload_id: &str) -> Result<bool, SignError> {
        let store = &self.0.store;
        match store
            .client
            .abort_multipart_upload()
            .bucket(&store.bucket)
            .key(key.as_str())
            .upload_id(upload_id)
            .send()
            .await
        {
            Ok(_) => Ok(true),
            Err(error) => match multipart_error(key, "AbortMultipartUpload", &error) {
                SignError::NoSuchUpload => Ok(false),
                other => Err(other),
            },
        }
    }
}

/// A multipart call's failure as the person reads it: the upload is gone
/// (`NoSuchUpload`, 404), the disk is full (507), or the store failed.
fn multipart_error<E>(
    key: &ObjectKey,
    call: &str,
    error: &SdkError<E, aws_sdk_s3::config::http::HttpResponse>,
) -> SignError
where
    E: std::error::Error + aws_sdk_s3::error::ProvideErrorMetadata + 'static,
{
    match error.raw_response().map(|r| r.status().as_u16()) {
        Some(404) => SignError::NoSuchUpload,
        Some(507) => SignError::StorageFull,
        _ if error.as_service_error().and_then(|e| e.code()) == Some("NoSuchUpload") => SignError::NoSuchUpload,
        _ => {
            tracing::error!(key = %key.as_str(), call, error = %DisplayErrorContext(error), "a multipart call failed");
            SignError::StoreUnreachable
        }
    }
}

fn is_not_found<E>(error: &SdkError<E, aws_sdk_s3::config::http::HttpResponse>) -> bool {
    matches!(error, SdkError::ServiceError(e) if e.raw().status().as_u16() == 404)
}

/// An ETag without its quotes (Garage and AWS quote it, s3s does not).
pub(crate) fn bare_etag(etag: Option<&str>) -> String {
    etag.unwrap_or_default().trim_matches('"').to_owned()
}
