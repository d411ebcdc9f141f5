//! Completed multipart uploads, remembered for a day. S3 answers a
//! completion made again (a client retrying one whose answer it lost,
//! Courier's own `complete_multipart` included) with the same 200 and the
//! same result; `s3s-fs` forgets the upload once it is complete and answers
//! `NoSuchUpload`. So each completion leaves a small record at the store's
//! root (`.completed-<id>.json`: the key, the ETag, the checksum and the
//! parts), written whole or not at all before the upload ends, and the
//! expiry sweep removes it once it is a day old.

use std::io;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use s3s::dto::{ChecksumType, CompleteMultipartUploadOutput, CompletedPart, ETag};
use s3s::{S3Error, S3ErrorCode, S3Result};
use serde::{Deserialize, Serialize};

use super::part_digest::write_whole;
use crate::layout::{self, StoreLayout};

/// How long a completion is remembered (as long as an upload in progress is
/// kept: a client retrying later than that has given up).
pub const KEPT_FOR: Duration = Duration::from_secs(24 * 60 * 60);

/// What a completion answered, and the parts it joined.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Completion {
    pub bucket: String,
    pub key: String,
    /// The object's ETag, unquoted (`<hex>-<parts>`).
    pub e_tag: String,
    /// The whole-object SHA-256 the completion carried (composite: `<base64>-<parts>`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checksum_sha256: Option<String>,
    /// The parts joined, in order.
    pub parts: Vec<JoinedPart>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct JoinedPart {
    pub number: i32,
    /// Hex MD5, unquoted.
    pub e_tag: String,
    pub size: u64,
}

impl Completion {
    /// The answer S3 gives this completion.
    pub fn output(&self) -> CompleteMultipartUploadOutput {
        CompleteMultipartUploadOutput {
            bucket: Some(self.bucket.clone()),
            key: Some(self.key.clone()),
            e_tag: Some(ETag::Strong(self.e_tag.clone())),
            checksum_sha256: self.checksum_sha256.clone(),
            checksum_type: self
                .checksum_sha256
                .as_ref()
                .map(|_| ChecksumType::from_static(ChecksumType::COMPOSITE)),
            ..Default::default()
        }
    }

    /// The answer to the same completion made again: the same result for
    /// the same key and the same parts (S3 answers a retry with 200); a
    /// completion of another key names an upload that is not there
    /// (`NoSuchUpload`), and one naming other parts names parts that are not
    /// there any more (`InvalidPart`).
    pub fn again(&self, bucket: &str, key: &str, named: &[CompletedPart]) -> S3Result<CompleteMultipartUploadOutput> {
        if bucket != self.bucket || key != self.key {
            return Err(no_such_upload());
        }
        let same_parts = named.len() == self.parts.len()
            && named.iter().zip(&self.parts).all(|(named, joined)| {
                let same_etag = named.e_tag.as_ref().is_none_or(|etag| {
                    let value = match etag {
                        ETag::Strong(value) | ETag::Weak(value) => value,
                    };
                    value.is_empty() || value.trim_matches('"') == joined.e_tag
                });
                named.part_number == Some(joined.number) && same_etag
            });
        if !same_parts {
            return Err(S3Error::with_message(
                S3ErrorCode::InvalidPart,
                "One or more of the specified parts could not be found. The part may not have been uploaded, or the specified entity tag may not match the part's entity tag.",
            ));
        }
        Ok(self.output())
    }
}

/// S3's `NoSuchUpload` (404).
pub fn no_such_upload() -> S3Error {
    S3Error::with_message(
        S3ErrorCode::NoSuchUpload,
        "The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.",
    )
}

/// Where the completion of `upload_id` (a canonical uuid) is recorded.
fn path(root: &Path, upload_id: &str) -> PathBuf {
    StoreLayout::at(root).completion(upload_id)
}

/// Records the completion of `upload_id`, whole or not at all.
pub async fn remember(root: &Path, upload_id: &str, completion: &Completion) -> S3Result<()> {
    let json = serde_json::to_vec(completion)
        .map_err(|error| S3Error::with_source(S3ErrorCode::InternalError, Box::new(error)))?;
    write_whole(&path(root, upload_id), &json).await
}

/// The completion of `upload_id` recorded within the last day, if any.
pub async fn recall(root: &Path, upload_id: &str) -> Option<Completion> {
    // Only a canonical uuid names a file: nothing else reaches the disk.
    if !layout::is_canonical_upload_id(upload_id) {
        return None;
    }
    let path = path(root, upload_id);
    let metadata = tokio::fs::metadata(&path).await.ok()?;
    // Past its day, as if swept already.
    let age = metadata.modified().ok()?.elapsed().unwrap_or_default();
    if age >= KEPT_FOR {
        return None;
    }
    let json = tokio::fs::read(&path).await.ok()?;
    serde_json::from_slice(&json).ok()
}

/// Removes, at the store's `root`, the records last written before
/// `before`; returns how many went. Nothing else is touched.
pub fn sweep(root: &Path, before: SystemTime) -> io::Result<usize> {
    let mut removed = 0;
    for entry in std::fs::read_dir(root)? {
        let entry = entry?;
        if entry.file_name().to_str().and_then(layout::parse_completion).is_none() {
            continue;
        }
        let modified = match entry.metadata() {
            Ok(metadata) if metadata.is_file() => metadata.modified()?,
            Ok(_) => continue,
            Err(error) if error.kind() == io::ErrorKind::NotFound => continue,
            Err(error) => return Err(error),
        };
        if modified < before {
            match std::fs::remove_file(entry.path()) {
                Ok(()) => removed += 1,
                Err(error) if error.kind() == io::ErrorKind::NotFound => {}
                Err(error) => return Err(error),
            }
        }
    }
    Ok(removed)
}

#[cfg(test)]
mod tests {
    use super::*;

    const UPLOAD: &str = "3f6c7a9e-2b1d-4c8e-9f0a-5b6c7d8e9f01";

    fn completion() -> Completion {
        Completion {
            bucket: "courier".into(),
            key: "files/x/a.bin".into(),
            e_tag: "0123-2".into(),
            checksum_sha256: None,
            parts: vec![
                JoinedPart {
                    number: 1,
                    e_tag: "aa".into(),
                    size: 5,
                },
                JoinedPart {
                    number: 3,
                    e_tag: "bb".into(),
                    size: 2,
                },
            ],
        }
    }

    fn named(parts: &[(i32, Option<&str>)]) -> Vec<CompletedPart> {
        parts
            .iter()
            .map(|(n, etag)| CompletedPart {
                part_number: Some(*n),
                e_tag: etag.map(|e| ETag::Strong(format!("\"{e}\""))),
                ..Default::default()
            })
            .collect()
    }

    #[test]
    fn a_completion_made_again_gets_the_same_answer_for_the_same_key_and_parts_only() {
        let done = completion();
        let again = done
            .again("courier", "files/x/a.bin", &named(&[(1, Some("aa")), (3, None)]))
            .expect("the same answer");
        assert_eq!(again.e_tag, Some(ETag::Strong("0123-2".into())));
        assert_eq!(again.key.as_deref(), Some("files/x/a.bin"));
        let code = |result: S3Result<CompleteMultipartUploadOutput>| result.map(|_| ()).map_err(|e| e.code().clone());
        assert_eq!(
            code(done.again("courier", "files/x/b.bin", &named(&[(1, None), (3, None)]))),
            Err(S3ErrorCode::NoSuchUpload)
        );
        assert_eq!(
            code(done.again("courier", "files/x/a.bin", &named(&[(1, None), (2, None)]))),
            Err(S3ErrorCode::InvalidPart)
        );
        assert_eq!(
            code(done.again("courier", "files/x/a.bin", &named(&[(1, Some("cc")), (3, None)]))),
            Err(S3ErrorCode::InvalidPart)
        );
        assert_eq!(
            code(done.again("courier", "files/x/a.bin", &named(&[(1, None)]))),
            Err(S3ErrorCode::InvalidPart)
        );
    }

    #[tokio::test]
    async fn a_record_is_kept_a_day_and_swept_after() {
        let dir = tempfile::tempdir().expect("dir");
        let root = dir.path();
        remember(root, UPLOAD, &completion()).await.expect("kept");
        assert_eq!(recall(root, UPLOAD).await, Some(completion()));
        // Not a canonical id: never a path.
        assert_eq!(recall(root, &UPLOAD.to_uppercase()).await, None);
        assert_eq!(recall(root, "../x").await, None);
        std::fs::write(root.join("other.json"), "{}").expect("other");

        assert_eq!(sweep(root, SystemTime::now() - KEPT_FOR).expect("swept"), 0);
        let two_days_ago = SystemTime::now() - 2 * KEPT_FOR;
        std::fs::File::options()
            .write(true)
            .open(path(root, UPLOAD))
            .and_then(|file| file.set_modified(two_days_ago))
            .expect("mtime");
        // Past its day it answers nothing, swept or not yet.
        assert_eq!(recall(root, UPLOAD).await, None);
        assert_eq!(sweep(root, SystemTime::now() - KEPT_FOR).expect("swept"), 1);
        assert!(!path(root, UPLOAD).exists());
        assert!(root.join("other.json").exists());
    }
}
