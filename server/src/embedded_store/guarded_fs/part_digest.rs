//! `s3s-fs` stores a multipart part without looking at its `Content-MD5`
//! or `x-amz-checksum-sha256`; S3 refuses a part whose bytes do not match
//! either (`BadDigest`), which is how a part damaged on the way is caught
//! and sent again. A part that comes with a digest is therefore written here
//! rather than by `s3s-fs`, hashed once as it streams (the MD5 is also the
//! part's ETag; letting `s3s-fs` write it meant hashing every part twice, a
//! quarter of the store's CPU for a large upload): into a temporary file
//! first, moved into place only when the bytes match. A mismatch or a body
//! cut off keeps nothing, and leaves an earlier copy of the part as it was.

use std::path::Path;

use base64::Engine as _;
use futures::StreamExt as _;
use md5::{Digest as _, Md5};
use s3s::dto::{ETag, StreamingBlob, UploadPartOutput};
use s3s::{S3Error, S3ErrorCode, S3Result};
use sha2::Sha256;
use tokio::io::AsyncWriteExt as _;

/// The digests a part must have, as its headers name them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Expected {
    /// `Content-MD5`
    pub md5: Option<[u8; 16]>,
    /// `x-amz-checksum-sha256`
    pub sha256: Option<[u8; 32]>,
}

impl Expected {
    /// The digests `content_md5` and `checksum_sha256` (base64) name, or
    /// S3's `InvalidDigest` / `InvalidRequest` for one that is not a digest.
    pub fn from_headers(content_md5: Option<&str>, checksum_sha256: Option<&str>) -> S3Result<Self> {
        let md5 = content_md5
            .map(|header| {
                decode(header).ok_or_else(|| {
                    S3Error::with_message(
                        S3ErrorCode::InvalidDigest,
                        "The Content-MD5 you specified is not valid.",
                    )
                })
            })
            .transpose()?;
        let sha256 = checksum_sha256
            .map(|header| {
                decode(header).ok_or_else(|| {
                    S3Error::with_message(
                        S3ErrorCode::InvalidRequest,
                        "Value for x-amz-checksum-sha256 header is invalid.",
                    )
                })
            })
            .transpose()?;
        Ok(Self { md5, sha256 })
    }

    pub fn is_empty(&self) -> bool {
        self.md5.is_none() && self.sha256.is_none()
    }
}

fn decode<const N: usize>(header: &str) -> Option<[u8; N]> {
    base64::engine::general_purpose::STANDARD
        .decode(header.trim())
        .ok()
        .and_then(|digest| <[u8; N]>::try_from(digest).ok())
}

/// What was written: the digests of its bytes.
struct Written {
    md5: [u8; 16],
    sha256: Option<[u8; 32]>,
}

/// S3's answer to bytes that do not match the digest they came with.
fn mismatch(what: &str) -> S3Error {
    S3Error::with_message(
        S3ErrorCode::BadDigest,
        format!("The {what} you specified did not match what we received."),
    )
}

/// Writes `body` as part `number` of the upload `upload_id` (a canonical id
/// of an upload in progress), in `root` where `s3s-fs` keeps parts, if its
/// digests are `expected`.
pub async fn write_part(
    root: &Path,
    upload_id: &str,
    number: i32,
    body: StreamingBlob,
    expected: Expected,
) -> S3Result<UploadPartOutput> {
    if !(1..=10_000).contains(&number) {
        return Err(S3Error::with_message(
            S3ErrorCode::InvalidArgument,
            "Part number must be an integer between 1 and 10000, inclusive",
        ));
    }
    let part = root.join(format!(".upload_id-{upload_id}.part-{number}"));
    // Unique, and a name the expiry sweep leaves alone (as `s3s-fs`'s own).
    let path = root.join(format!(".tmp.courier-{}.internal.part", uuid::Uuid::new_v4().simple()));
    let mut temporary = Temporary(Some(path.clone()));
    let written = write_hashed(&path, body, expected.sha256.is_some()).await?;
    if expected.md5.is_some_and(|md5| md5 != written.md5) {
        return Err(mismatch("Content-MD5"));
    }
    if expected.sha256.is_some() && expected.sha256 != written.sha256 {
        return Err(mismatch("SHA256"));
    }
    tokio::fs::rename(&path, &part).await.map_err(internal)?;
    temporary.0 = None;
    Ok(UploadPartOutput {
        e_tag: Some(ETag::Strong(hex::encode(written.md5))),
        checksum_sha256: expected
            .sha256
            .map(|digest| base64::engine::general_purpose::STANDARD.encode(digest)),
        ..Default::default()
    })
}

/// A file removed when dropped: on every way out but the one that moves it
/// into place, the client's connection closing mid-part included.
struct Temporary(Option<std::path::PathBuf>);

impl Drop for Temporary {
    fn drop(&mut self) {
        if let Some(path) = self.0.take() {
            let _ = std::fs::remove_file(path);
        }
    }
}

/// Streams `body` into a new file at `path`; the MD5 of what was written,
/// and its SHA-256 if `sha256`.
async fn write_hashed(path: &Path, mut body: StreamingBlob, sha256: bool) -> S3Result<Written> {
    let file = tokio::fs::File::create(path).await.map_err(internal)?;
    let mut writer = tokio::io::BufWriter::with_capacity(1 << 20, file);
    let mut md5 = Md5::new();
    let mut sha = sha256.then(Sha256::new);
    while let Some(bytes) = body.next().await {
        let bytes = bytes.map_err(|error| S3Error::with_source(S3ErrorCode::InternalError, error))?;
        md5.update(&bytes);
        if let Some(sha) = sha.as_mut() {
            sha.update(&bytes);
        }
        writer.write_all(&bytes).await.map_err(internal)?;
    }
    writer.flush().await.map_err(internal)?;
    Ok(Written {
        md5: md5.finalize().into(),
        sha256: sha.map(|sha| sha.finalize().into()),
    })
}

/// An I/O failure, its cause kept (a full disk is told apart from it).
fn internal(error: std::io::Error) -> S3Error {
    S3Error::with_source(S3ErrorCode::InternalError, Box::new(error))
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;

    const UPLOAD: &str = "0b7a3f0e-8d52-4c52-9e0e-9a3c1c1b2d4e";

    fn blob(pieces: &[&'static [u8]]) -> StreamingBlob {
        let pieces: Vec<_> = pieces
            .iter()
            .map(|p| Ok::<_, std::io::Error>(Bytes::from_static(p)))
            .collect();
        StreamingBlob::wrap(futures::stream::iter(pieces))
    }

    fn names(root: &Path) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(root)
            .expect("root")
            .map(|entry| entry.expect("entry").file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    #[tokio::test]
    async fn matching_bytes_are_stored_once_and_others_keep_nothing() {
        let dir = tempfile::tempdir().expect("dir");
        let part = dir.path().join(format!(".upload_id-{UPLOAD}.part-2"));
        let md5: [u8; 16] = Md5::digest(b"hello world").into();
        let sha256: [u8; 32] = Sha256::digest(b"hello world").into();
        let both = Expected {
            md5: Some(md5),
            sha256: Some(sha256),
        };
        for expected in [md5_only(md5), sha256_only(sha256), both] {
            std::fs::remove_file(&part).ok();
            let stored = write_part(dir.path(), UPLOAD, 2, blob(&[b"hello ", b"world"]), expected)
                .await
                .expect("stored");
            assert_eq!(stored.e_tag, Some(ETag::Strong(hex::encode(md5))));
            let checksum = expected
                .sha256
                .map(|d| base64::engine::general_purpose::STANDARD.encode(d));
            assert_eq!(stored.checksum_sha256, checksum);
            assert_eq!(std::fs::read(&part).expect("the part"), b"hello world");

            // Damaged on the way: refused, and the part stored before stays as it was.
            let refused = write_part(dir.path(), UPLOAD, 2, blob(&[b"hello ", b"w0rld"]), expected).await;
            assert_eq!(
                refused.map(|_| ()).map_err(|e| e.code().clone()),
                Err(S3ErrorCode::BadDigest)
            );
            assert_eq!(std::fs::read(&part).expect("the part"), b"hello world");
            assert_eq!(names(dir.path()), [format!(".upload_id-{UPLOAD}.part-2")]);
        }
        // Either digest wrong is enough to refuse.
        let wrong_sha = Expected {
            md5: Some(md5),
            sha256: Some([0; 32]),
        };
        let refused = write_part(dir.path(), UPLOAD, 3, blob(&[b"hello world"]), wrong_sha).await;
        assert!(refused.is_err());
        assert_eq!(names(dir.path()), [format!(".upload_id-{UPLOAD}.part-2")]);
    }

    #[tokio::test]
    async fn a_body_cut_off_keeps_nothing_and_part_numbers_are_s3s() {
        let dir = tempfile::tempdir().expect("dir");
        let digest = md5_only(Md5::digest(b"hello world").into());
        let cut = futures::stream::iter(vec![
            Ok(Bytes::from_static(b"hello ")),
            Err(std::io::Error::other("connection reset")),
        ]);
        let failed = write_part(dir.path(), UPLOAD, 1, StreamingBlob::wrap(cut), digest).await;
        assert!(failed.is_err());
        assert_eq!(names(dir.path()), Vec::<String>::new());

        for number in [0, 10_001] {
            let refused = write_part(dir.path(), UPLOAD, number, blob(&[b"x"]), digest).await;
            assert_eq!(
                refused.map(|_| ()).map_err(|e| e.code().clone()),
                Err(S3ErrorCode::InvalidArgument)
            );
        }
    }

    fn md5_only(md5: [u8; 16]) -> Expected {
        Expected {
            md5: Some(md5),
            sha256: None,
        }
    }

    fn sha256_only(sha256: [u8; 32]) -> Expected {
        Expected {
            md5: None,
            sha256: Some(sha256),
        }
    }

    #[test]
    fn a_content_md5_is_16_bytes_and_a_sha256_32_in_base64() {
        let md5: [u8; 16] = Md5::digest(b"x").into();
        let sha256: [u8; 32] = Sha256::digest(b"x").into();
        let (md5_header, sha256_header) = (
            base64::engine::general_purpose::STANDARD.encode(md5),
            base64::engine::general_purpose::STANDARD.encode(sha256),
        );
        let both = Expected::from_headers(Some(&md5_header), Some(&sha256_header)).expect("both");
        assert_eq!((both.md5, both.sha256), (Some(md5), Some(sha256)));
        assert!(Expected::from_headers(None, None).expect("none").is_empty());
        for bad in ["", "not base64!", "AAAA", &hex::encode(md5), &sha256_header] {
            let refused = Expected::from_headers(Some(bad), None).map_err(|e| e.code().clone());
            assert_eq!(refused, Err(S3ErrorCode::InvalidDigest), "{bad}");
        }
        for bad in ["", "AAAA", &md5_header] {
            let refused = Expected::from_headers(None, Some(bad)).map_err(|e| e.code().clone());
            assert_eq!(refused, Err(S3ErrorCode::InvalidRequest), "{bad}");
        }
    }
}
