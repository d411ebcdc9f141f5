//! `s3s-fs` stores a multipart part without looking at its `Content-MD5`;
//! S3 refuses a part whose bytes do not match it (`BadDigest`), which is
//! how a part damaged on the way is caught and sent again. A part that
//! comes with a `Content-MD5` is therefore written here rather than by
//! `s3s-fs`, hashed once as it streams (that hash is both the check and the
//! part's ETag; letting `s3s-fs` write it meant hashing every part twice,
//! a quarter of the store's CPU for a large upload): into a temporary file
//! first, moved into place only when the bytes match. A mismatch or a body
//! cut off keeps nothing, and leaves an earlier copy of the part as it was.

use std::path::Path;

use base64::Engine as _;
use futures::StreamExt as _;
use md5::{Digest as _, Md5};
use s3s::dto::{ETag, StreamingBlob, UploadPartOutput};
use s3s::{S3Error, S3ErrorCode, S3Result};
use tokio::io::AsyncWriteExt as _;

/// The 16 bytes a `Content-MD5` header names, or S3's `InvalidDigest`.
pub fn expected(content_md5: &str) -> S3Result<[u8; 16]> {
    base64::engine::general_purpose::STANDARD
        .decode(content_md5.trim())
        .ok()
        .and_then(|digest| <[u8; 16]>::try_from(digest).ok())
        .ok_or_else(|| {
            S3Error::with_message(
                S3ErrorCode::InvalidDigest,
                "The Content-MD5 you specified is not valid.",
            )
        })
}

/// S3's answer to bytes that do not match their `Content-MD5`.
pub fn mismatch() -> S3Error {
    S3Error::with_message(
        S3ErrorCode::BadDigest,
        "The Content-MD5 you specified did not match what we received.",
    )
}

/// Writes `body` as part `number` of the upload `upload_id` (a canonical id
/// of an upload in progress), in `root` where `s3s-fs` keeps parts, if its
/// MD5 is `expected`.
pub async fn write_part(
    root: &Path,
    upload_id: &str,
    number: i32,
    body: StreamingBlob,
    expected: [u8; 16],
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
    let digest = write_hashed(&path, body).await?;
    if digest != expected {
        return Err(mismatch());
    }
    tokio::fs::rename(&path, &part).await.map_err(internal)?;
    temporary.0 = None;
    Ok(UploadPartOutput {
        e_tag: Some(ETag::Strong(hex::encode(digest))),
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

/// Streams `body` into a new file at `path`; the MD5 of what was written.
async fn write_hashed(path: &Path, mut body: StreamingBlob) -> S3Result<[u8; 16]> {
    let file = tokio::fs::File::create(path).await.map_err(internal)?;
    let mut writer = tokio::io::BufWriter::with_capacity(1 << 20, file);
    let mut hash = Md5::new();
    while let Some(bytes) = body.next().await {
        let bytes = bytes.map_err(|error| S3Error::with_source(S3ErrorCode::InternalError, error))?;
        hash.update(&bytes);
        writer.write_all(&bytes).await.map_err(internal)?;
    }
    writer.flush().await.map_err(internal)?;
    Ok(hash.finalize().into())
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
        let digest: [u8; 16] = Md5::digest(b"hello world").into();

        let stored = write_part(dir.path(), UPLOAD, 2, blob(&[b"hello ", b"world"]), digest)
            .await
            .expect("stored");
        assert_eq!(stored.e_tag, Some(ETag::Strong(hex::encode(digest))));
        assert_eq!(std::fs::read(&part).expect("the part"), b"hello world");

        // Damaged on the way: refused, and the part stored before stays as it was.
        let refused = write_part(dir.path(), UPLOAD, 2, blob(&[b"hello ", b"w0rld"]), digest).await;
        assert_eq!(
            refused.map(|_| ()).map_err(|e| e.code().clone()),
            Err(S3ErrorCode::BadDigest)
        );
        assert_eq!(std::fs::read(&part).expect("the part"), b"hello world");
        assert_eq!(names(dir.path()), [format!(".upload_id-{UPLOAD}.part-2")]);
    }

    #[tokio::test]
    async fn a_body_cut_off_keeps_nothing_and_part_numbers_are_s3s() {
        let dir = tempfile::tempdir().expect("dir");
        let digest: [u8; 16] = Md5::digest(b"hello world").into();
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

    #[test]
    fn a_content_md5_is_16_bytes_in_base64() {
        let digest: [u8; 16] = Md5::digest(b"x").into();
        let header = base64::engine::general_purpose::STANDARD.encode(digest);
        assert_eq!(expected(&header).ok(), Some(digest));
        for bad in ["", "not base64!", "AAAA", &hex::encode(digest)] {
            assert!(expected(bad).is_err(), "{bad}");
        }
    }
}
