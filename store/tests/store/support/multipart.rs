//! Multipart uploads as the app starts them and the page sends them: created
//! at their final key with their declared size (`x-amz-meta-courier-size`,
//! which the store reserves room for) and SHA-256 part checksums; each part
//! PUT to a URL presigned for its exact length and SHA-256.

use std::time::Duration;

use aws_sdk_s3::error::SdkError;
use aws_sdk_s3::operation::create_multipart_upload::CreateMultipartUploadError;
use aws_sdk_s3::types::{ChecksumAlgorithm, CompletedMultipartUpload, CompletedPart};
use base64::Engine as _;
use sha2::Digest as _;
use signer::file_name::FileName;
use signer::multipart::DECLARED_SIZE_METADATA;
use signer::object_key::ObjectKey;
use signer::presign::{BucketUrl, UploadPart, presign_upload_part};
use signer::{LinkKind, OffsetDateTime};

use super::TestStore;

impl TestStore {
    /// A fresh final key for a multipart upload of `name`, as `start_multipart` picks it.
    pub fn multipart_key(name: &str) -> String {
        let name = FileName::parse(name).expect("a usable file name");
        ObjectKey::for_multipart(&name, LinkKind::Expiring)
            .expect("a key")
            .as_str()
            .to_owned()
    }

    /// `CreateMultipartUpload` for a file of `size` bytes under `key`, as the
    /// app sends it: its upload id, or the store's refusal.
    pub async fn start_multipart(&self, key: &str, size: u64) -> Result<String, SdkError<CreateMultipartUploadError>> {
        let created = self
            .store_client()
            .create_multipart_upload()
            .bucket(&self.bucket)
            .key(key)
            .content_type("application/octet-stream")
            .metadata("filename", "file.bin")
            .metadata(DECLARED_SIZE_METADATA, size.to_string())
            .checksum_algorithm(ChecksumAlgorithm::Sha256)
            .send()
            .await?;
        Ok(created.upload_id().expect("an upload id").to_owned())
    }

    /// The presigned PUT of part `number` of `upload_id`: exactly `body`'s
    /// length, and its SHA-256.
    pub fn part_url(&self, key: &str, upload_id: &str, number: u32, body: &[u8]) -> String {
        let identity = self.signing_identity();
        let bucket = BucketUrl::parse(&format!("{}/{}", self.endpoint, self.bucket)).expect("the bucket's URL");
        let sha256 = part_sha256(body);
        presign_upload_part(
            &identity,
            &bucket,
            UploadPart {
                key,
                upload_id,
                number,
                size: body.len() as u64,
                sha256: Some(&sha256),
                expires_in: Duration::from_secs(600),
            },
            OffsetDateTime::now_utc(),
        )
    }

    /// PUTs `body` as part `number`, as the page does; the store must take it.
    pub async fn send_part(&self, key: &str, upload_id: &str, number: u32, body: &[u8]) {
        let stored = self
            .http
            .put(self.part_url(key, upload_id, number, body))
            .header("x-amz-checksum-sha256", part_sha256(body))
            .body(body.to_vec())
            .send()
            .await
            .expect("the store answers");
        let status = stored.status();
        assert_eq!(
            status,
            reqwest::StatusCode::OK,
            "part {number}: {}",
            stored.text().await.unwrap_or_default()
        );
    }

    /// How many parts the store lists for the upload.
    pub async fn listed_parts(&self, key: &str, upload_id: &str) -> usize {
        self.store_client()
            .list_parts()
            .bucket(&self.bucket)
            .key(key)
            .upload_id(upload_id)
            .send()
            .await
            .expect("the store lists the parts")
            .parts()
            .len()
    }

    /// Completes the upload from the store's own list of its parts, as the app does.
    pub async fn complete_multipart(&self, key: &str, upload_id: &str) {
        let s3 = self.store_client();
        let listed = s3
            .list_parts()
            .bucket(&self.bucket)
            .key(key)
            .upload_id(upload_id)
            .send()
            .await
            .expect("the store lists the parts");
        let parts = listed
            .parts()
            .iter()
            .map(|part| {
                CompletedPart::builder()
                    .set_part_number(part.part_number())
                    .set_e_tag(part.e_tag().map(str::to_owned))
                    .set_checksum_sha256(part.checksum_sha256().map(str::to_owned))
                    .build()
            })
            .collect();
        s3.complete_multipart_upload()
            .bucket(&self.bucket)
            .key(key)
            .upload_id(upload_id)
            .multipart_upload(CompletedMultipartUpload::builder().set_parts(Some(parts)).build())
            .send()
            .await
            .expect("completed");
    }

    /// Aborts the upload; the store must take it.
    pub async fn abort_multipart(&self, key: &str, upload_id: &str) {
        self.store_client()
            .abort_multipart_upload()
            .bucket(&self.bucket)
            .key(key)
            .upload_id(upload_id)
            .send()
            .await
            .expect("aborted");
    }

    /// The store's own list of the multipart uploads in progress: key and upload id.
    pub async fn uploads_in_progress(&self) -> Vec<(String, String)> {
        courier_test_support::uploads_in_progress(&self.store_client(), &self.bucket).await
    }
}

/// Base64 SHA-256 of `bytes`, as `x-amz-checksum-sha256` carries it.
pub fn part_sha256(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(bytes))
}
