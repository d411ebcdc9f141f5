//! Multipart parts, written here rather than by `s3s-fs`, which stores a
//! part without looking at its `Content-MD5` or `x-amz-checksum-*` and
//! lists parts with neither ETag nor checksum. As S3 does:
//! - a part whose bytes do not match a digest it came with (in a header, or
//!   in the trailer of an `aws-chunked` body, as boto3 sends it) is refused
//!   (`BadDigest`), which is how a part damaged on the way is caught and sent
//!   again. Each digest is computed once, as the part streams in (the MD5 is
//!   also its ETag). The part goes into a temporary file first and is moved
//!   into place only when the bytes match: a mismatch or a body cut off keeps
//!   nothing, and leaves an earlier copy of the part as it was;
//! - each stored part's ETag and checksums are kept beside it
//!   (`.upload_id-<id>.digest-<n>`), so `ListParts` gives them and
//!   `CompleteMultipartUpload` can refuse a part that is not the one named.
//!   The name starts as the upload's parts do, so aborting the upload, and
//!   the sweep of abandoned uploads, take it with them.

use std::path::{Path, PathBuf};

use base64::Engine as _;
use futures::StreamExt as _;
use md5::{Digest as _, Md5};
use s3s::checksum::ChecksumHasher;
use s3s::dto::{Checksum, ChecksumAlgorithm, ETag, Part, StreamingBlob, UploadPartInput, UploadPartOutput};
use s3s::{S3Error, S3ErrorCode, S3Result};
use serde::{Deserialize, Serialize};
use tokio::io::AsyncWriteExt as _;

use crate::layout::{self, StoreLayout};

/// The digests a part must have, as its request names them.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Expected {
    /// `Content-MD5`
    pub md5: Option<[u8; 16]>,
    /// `x-amz-checksum-*` headers, base64 as sent.
    pub checksums: Checksum,
    /// `x-amz-sdk-checksum-algorithm`: a checksum to compute, whose value
    /// may come in the body's trailer (or not at all: then it is kept).
    pub algorithm: Option<ChecksumAlgorithm>,
    /// The checksum headers `x-amz-trailer` announces.
    pub trailing: Vec<&'static str>,
}

/// The S3 checksums: name, header, digest length.
const ALGORITHMS: [(&str, &str, usize); 5] = [
    ("CRC32", "x-amz-checksum-crc32", 4),
    ("CRC32C", "x-amz-checksum-crc32c", 4),
    ("SHA1", "x-amz-checksum-sha1", 20),
    ("SHA256", "x-amz-checksum-sha256", 32),
    ("CRC64NVME", "x-amz-checksum-crc64nvme", 8),
];

/// `checksum`'s value for the algorithm at `index` in [`ALGORITHMS`].
fn value(checksum: &Checksum, index: usize) -> Option<&String> {
    match index {
        0 => checksum.checksum_crc32.as_ref(),
        1 => checksum.checksum_crc32c.as_ref(),
        2 => checksum.checksum_sha1.as_ref(),
        3 => checksum.checksum_sha256.as_ref(),
        _ => checksum.checksum_crc64nvme.as_ref(),
    }
}

/// `checksum`'s field for the algorithm at `index`, to fill in.
fn field(checksum: &mut Checksum, index: usize) -> &mut Option<String> {
    match index {
        0 => &mut checksum.checksum_crc32,
        1 => &mut checksum.checksum_crc32c,
        2 => &mut checksum.checksum_sha1,
        3 => &mut checksum.checksum_sha256,
        _ => &mut checksum.checksum_crc64nvme,
    }
}

impl Expected {
    /// What `input` names (and `trailer`, its `x-amz-trailer` header), or
    /// S3's `InvalidDigest` / `InvalidRequest` for a value that is not a
    /// digest of its kind.
    pub fn of(input: &UploadPartInput, trailer: Option<&str>) -> S3Result<Self> {
        let md5 = input
            .content_md5
            .as_deref()
            .map(|header| {
                decode(header, 16)
                    .and_then(|digest| <[u8; 16]>::try_from(digest).ok())
                    .ok_or_else(|| {
                        S3Error::with_message(
                            S3ErrorCode::InvalidDigest,
                            "The Content-MD5 you specified is not valid.",
                        )
                    })
            })
            .transpose()?;
        let checksums = Checksum {
            checksum_crc32: input.checksum_crc32.clone(),
            checksum_crc32c: input.checksum_crc32c.clone(),
            checksum_sha1: input.checksum_sha1.clone(),
            checksum_sha256: input.checksum_sha256.clone(),
            checksum_crc64nvme: input.checksum_crc64nvme.clone(),
            ..Default::default()
        };
        for (index, (_, header, len)) in ALGORITHMS.iter().enumerate() {
            if let Some(sent) = value(&checksums, index)
                && decode(sent, *len).is_none()
            {
                return Err(S3Error::with_message(
                    S3ErrorCode::InvalidRequest,
                    format!("Value for {header} header is invalid."),
                ));
            }
        }
        let trailing = trailer
            .unwrap_or_default()
            .split(',')
            .filter_map(|name| {
                let name = name.trim();
                ALGORITHMS
                    .iter()
                    .map(|(_, header, _)| *header)
                    .find(|header| header.eq_ignore_ascii_case(name))
            })
            .collect();
        Ok(Self {
            md5,
            checksums,
            algorithm: input.checksum_algorithm.clone(),
            trailing,
        })
    }

    /// A hasher for every checksum named, by value or by algorithm.
    fn hasher(&self) -> S3Result<ChecksumHasher> {
        let mut hasher = ChecksumHasher::default();
        let algorithm = self.algorithm.as_ref().map(|a| a.as_str().to_ascii_uppercase());
        for (index, (name, header, _)) in ALGORITHMS.iter().enumerate() {
            if value(&self.checksums, index).is_none()
                && algorithm.as_deref() != Some(*name)
                && !self.trailing.contains(header)
            {
                continue;
            }
            match index {
                0 => hasher.crc32 = Some(Default::default()),
                1 => hasher.crc32c = Some(Default::default()),
                2 => hasher.sha1 = Some(Default::default()),
                3 => hasher.sha256 = Some(Default::default()),
                _ => hasher.crc64nvme = Some(Default::default()),
            }
        }
        if let Some(algorithm) = algorithm
            && !ALGORITHMS.iter().any(|(name, _, _)| *name == algorithm)
        {
            return Err(S3Error::with_message(
                S3ErrorCode::InvalidRequest,
                "Value for x-amz-sdk-checksum-algorithm header is invalid.",
            ));
        }
        Ok(hasher)
    }
}

/// `header` as base64 of `len` bytes.
fn decode(header: &str, len: usize) -> Option<Vec<u8>> {
    base64::engine::general_purpose::STANDARD
        .decode(header.trim())
        .ok()
        .filter(|digest| digest.len() == len)
}

/// S3's answer to bytes that do not match the digest they came with.
fn mismatch(what: &str) -> S3Error {
    S3Error::with_message(
        S3ErrorCode::BadDigest,
        format!("The {what} you specified did not match the calculated checksum."),
    )
}

/// What is kept beside a stored part.
#[derive(Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
struct PartDigest {
    /// The part's length: a digest file names only a part of this length.
    size: u64,
    /// Hex MD5, as its ETag.
    etag: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    crc32: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    crc32c: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    sha1: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    sha256: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    crc64nvme: Option<String>,
}

/// Writes `body` as part `number` of the upload `upload_id` (a canonical id
/// of an upload in progress), in `root` where `s3s-fs` keeps parts, if its
/// digests are `expected` (and those `trailers` gives once the body is read).
pub async fn write_part(
    root: &Path,
    upload_id: &str,
    number: i32,
    body: StreamingBlob,
    expected: Expected,
    trailers: impl FnOnce() -> Option<http::HeaderMap>,
) -> S3Result<UploadPartOutput> {
    if !(1..=10_000).contains(&number) {
        return Err(S3Error::with_message(
            S3ErrorCode::InvalidArgument,
            "Part number must be an integer between 1 and 10000, inclusive",
        ));
    }
    let mut checksums = expected.hasher()?;
    let layout = StoreLayout::at(root);
    let path = layout.temporary();
    let mut temporary = Temporary(Some(path.clone()));
    let (md5, size) = write_hashed(&path, body, &mut checksums).await?;
    let computed = checksums.finalize();

    let mut wanted = expected.checksums;
    if let Some(trailers) = trailers() {
        for (index, (_, header, _)) in ALGORITHMS.iter().enumerate() {
            if let Some(sent) = trailers.get(*header).and_then(|v| v.to_str().ok()) {
                field(&mut wanted, index).get_or_insert_with(|| sent.trim().to_owned());
            }
        }
    }
    if expected.md5.is_some_and(|expected| expected != md5) {
        return Err(mismatch("Content-MD5"));
    }
    for (index, (name, _, _)) in ALGORITHMS.iter().enumerate() {
        if let Some(wanted) = value(&wanted, index)
            && value(&computed, index) != Some(wanted)
        {
            return Err(mismatch(name));
        }
    }

    let etag = hex::encode(md5);
    let digest = PartDigest {
        size,
        etag: etag.clone(),
        crc32: computed.checksum_crc32.clone(),
        crc32c: computed.checksum_crc32c.clone(),
        sha1: computed.checksum_sha1.clone(),
        sha256: computed.checksum_sha256.clone(),
        crc64nvme: computed.checksum_crc64nvme.clone(),
    };
    let digest_file = layout.part_digest(upload_id, number);
    // An earlier copy's digests go first: a part is never listed with another's.
    remove_if_there(&digest_file).await?;
    tokio::fs::rename(&path, layout.part(upload_id, number))
        .await
        .map_err(internal)?;
    temporary.0 = None;
    keep_digest(&digest_file, &digest).await?;
    Ok(UploadPartOutput {
        e_tag: Some(ETag::Strong(etag)),
        checksum_crc32: computed.checksum_crc32,
        checksum_crc32c: computed.checksum_crc32c,
        checksum_sha1: computed.checksum_sha1,
        checksum_sha256: computed.checksum_sha256,
        checksum_crc64nvme: computed.checksum_crc64nvme,
        ..Default::default()
    })
}

/// Writes `digest` to `path`, whole or not at all.
async fn keep_digest(path: &Path, digest: &PartDigest) -> S3Result<()> {
    let json = serde_json::to_vec(digest)
        .map_err(|error| S3Error::with_source(S3ErrorCode::InternalError, Box::new(error)))?;
    write_whole(path, &json).await
}

/// Writes `bytes` to `path` (at the store's root), whole or not at all.
pub(super) async fn write_whole(path: &Path, bytes: &[u8]) -> S3Result<()> {
    let root = path.parent().unwrap_or(Path::new("."));
    let temporary_path = StoreLayout::at(root).temporary();
    let mut temporary = Temporary(Some(temporary_path.clone()));
    tokio::fs::write(&temporary_path, bytes).await.map_err(internal)?;
    tokio::fs::rename(&temporary_path, path).await.map_err(internal)?;
    temporary.0 = None;
    Ok(())
}

async fn remove_if_there(path: &Path) -> S3Result<()> {
    match tokio::fs::remove_file(path).await {
        Err(error) if error.kind() != std::io::ErrorKind::NotFound => Err(internal(error)),
        _ => Ok(()),
    }
}

/// Forgets the digests of part `number` (before something else writes it).
pub async fn forget(root: &Path, upload_id: &str, number: i32) -> S3Result<()> {
    remove_if_there(&StoreLayout::at(root).part_digest(upload_id, number)).await
}

/// The digests kept for part `number`, if any.
async fn kept(root: &Path, upload_id: &str, number: i32) -> Option<PartDigest> {
    let json = tokio::fs::read(StoreLayout::at(root).part_digest(upload_id, number))
        .await
        .ok()?;
    serde_json::from_slice(&json).ok()
}

/// Fills in each listed part's ETag and checksums from what was kept when
/// it was written (none for a part written otherwise, or since changed).
pub async fn describe(root: &Path, upload_id: &str, parts: &mut [Part]) {
    for part in parts {
        let Some(number) = part.part_number else { continue };
        let Some(digest) = kept(root, upload_id, number).await else {
            continue;
        };
        if part.size.and_then(|s| u64::try_from(s).ok()) != Some(digest.size) {
            continue;
        }
        part.e_tag = Some(ETag::Strong(digest.etag));
        part.checksum_crc32 = digest.crc32;
        part.checksum_crc32c = digest.crc32c;
        part.checksum_sha1 = digest.sha1;
        part.checksum_sha256 = digest.sha256;
        part.checksum_crc64nvme = digest.crc64nvme;
    }
}

/// The digests kept for the parts a completion names, by part number.
#[derive(Debug, Default)]
pub struct Named(std::collections::HashMap<i32, PartDigest>);

impl Named {
    /// The MD5 kept for part `number`, if it describes a part of `size` bytes
    /// (the part's size as it is there now).
    pub fn md5(&self, number: i32, size: u64) -> Option<[u8; 16]> {
        let digest = self.0.get(&number)?;
        (size == digest.size).then_some(())?;
        let md5 = hex::decode(&digest.etag).ok()?;
        <[u8; 16]>::try_from(md5).ok()
    }

    /// The SHA-256 kept for part `number`, if one was and it describes a
    /// part of `size` bytes.
    pub fn sha256(&self, number: i32, size: u64) -> Option<[u8; 32]> {
        let digest = self.0.get(&number)?;
        (size == digest.size).then_some(())?;
        let sha256 = base64::engine::general_purpose::STANDARD
            .decode(digest.sha256.as_deref()?)
            .ok()?;
        <[u8; 32]>::try_from(sha256).ok()
    }
}

/// S3's `InvalidPart` for a completion naming a part by an ETag or a
/// checksum other than the stored part's (where its digests were kept).
pub async fn check_named(root: &Path, upload_id: &str, parts: &[s3s::dto::CompletedPart]) -> S3Result<Named> {
    let mut named = Named::default();
    for part in parts {
        let Some(number) = part.part_number else { continue };
        let Some(stored) = kept(root, upload_id, number).await else {
            continue;
        };
        let etag_differs = part.e_tag.as_ref().is_some_and(|etag| {
            let value = match etag {
                ETag::Strong(value) | ETag::Weak(value) => value,
            };
            !value.is_empty() && value.trim_matches('"') != stored.etag
        });
        let differs = |named: &Option<String>, kept: &Option<String>| {
            named.as_ref().is_some_and(|named| kept.as_ref() != Some(named))
        };
        if etag_differs
            || differs(&part.checksum_crc32, &stored.crc32)
            || differs(&part.checksum_crc32c, &stored.crc32c)
            || differs(&part.checksum_sha1, &stored.sha1)
            || differs(&part.checksum_sha256, &stored.sha256)
            || differs(&part.checksum_crc64nvme, &stored.crc64nvme)
        {
            return Err(S3Error::with_message(
                S3ErrorCode::InvalidPart,
                "One or more of the specified parts could not be found. The part may not have been uploaded, or the specified entity tag may not match the part's entity tag.",
            ));
        }
        named.0.insert(number, stored);
    }
    Ok(named)
}

/// Removes what is left of a completed upload: its digests, and the parts
/// its completion did not name (S3 discards them).
pub async fn forget_upload(root: &Path, upload_id: &str) {
    let Ok(mut entries) = tokio::fs::read_dir(root).await else {
        return;
    };
    while let Ok(Some(entry)) = entries.next_entry().await {
        if entry
            .file_name()
            .to_str()
            .is_some_and(|name| layout::is_part_of(name, upload_id))
        {
            let _ = tokio::fs::remove_file(entry.path()).await;
        }
    }
}

/// A file removed when dropped: on every way out but the one that moves it
/// into place, the client's connection closing mid-part included.
pub(super) struct Temporary(pub(super) Option<PathBuf>);

impl Drop for Temporary {
    fn drop(&mut self) {
        if let Some(path) = self.0.take() {
            let _ = std::fs::remove_file(path);
        }
    }
}

/// Streams `body` into a new file at `path`, through `checksums`; the MD5
/// of what was written, and its length.
async fn write_hashed(
    path: &Path,
    mut body: StreamingBlob,
    checksums: &mut ChecksumHasher,
) -> S3Result<([u8; 16], u64)> {
    let file = tokio::fs::File::create(path).await.map_err(internal)?;
    let mut writer = tokio::io::BufWriter::with_capacity(1 << 20, file);
    let mut md5 = Md5::new();
    let mut size = 0u64;
    while let Some(bytes) = body.next().await {
        let bytes = bytes.map_err(|error| S3Error::with_source(S3ErrorCode::InternalError, error))?;
        md5.update(&bytes);
        checksums.update(&bytes);
        size += bytes.len() as u64;
        writer.write_all(&bytes).await.map_err(internal)?;
    }
    writer.flush().await.map_err(internal)?;
    Ok((md5.finalize().into(), size))
}

/// An I/O failure, its cause kept (a full disk is told apart from it).
pub(super) fn internal(error: std::io::Error) -> S3Error {
    S3Error::with_source(S3ErrorCode::InternalError, Box::new(error))
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;
    use sha2::Sha256;

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

    fn base64(bytes: &[u8]) -> String {
        base64::engine::general_purpose::STANDARD.encode(bytes)
    }

    fn input(md5: Option<&[u8]>, sha256: Option<&[u8]>) -> UploadPartInput {
        UploadPartInput {
            content_md5: md5.map(base64),
            checksum_sha256: sha256.map(base64),
            ..Default::default()
        }
    }

    async fn write(
        root: &Path,
        number: i32,
        pieces: &[&'static [u8]],
        expected: &Expected,
    ) -> S3Result<UploadPartOutput> {
        write_part(root, UPLOAD, number, blob(pieces), expected.clone(), || None).await
    }

    /// What `ListParts` says of part `number` (of `size` bytes).
    async fn listed(root: &Path, number: i32, size: i64) -> Part {
        let mut parts = [Part {
            part_number: Some(number),
            size: Some(size),
            ..Default::default()
        }];
        describe(root, UPLOAD, &mut parts).await;
        let [part] = parts;
        part
    }

    #[tokio::test]
    async fn matching_bytes_are_stored_once_and_others_keep_nothing() {
        let dir = tempfile::tempdir().expect("dir");
        let layout = StoreLayout::at(dir.path());
        let part = layout.part(UPLOAD, 2);
        let md5: [u8; 16] = Md5::digest(b"hello world").into();
        let sha256: [u8; 32] = Sha256::digest(b"hello world").into();
        let kept = [layout.part_digest(UPLOAD, 2), layout.part(UPLOAD, 2)]
            .map(|path| path.file_name().expect("name").to_string_lossy().into_owned());
        let cases = [
            input(Some(&md5), None),
            input(None, Some(&sha256)),
            input(Some(&md5), Some(&sha256)),
            input(None, None),
        ];
        for request in cases {
            let expected = Expected::of(&request, None).expect("digests");
            std::fs::remove_file(&part).ok();
            let stored = write(dir.path(), 2, &[b"hello ", b"world"], &expected)
                .await
                .expect("stored");
            assert_eq!(stored.e_tag, Some(ETag::Strong(hex::encode(md5))));
            assert_eq!(stored.checksum_sha256, request.checksum_sha256);
            assert_eq!(std::fs::read(&part).expect("the part"), b"hello world");
            let part_listed = listed(dir.path(), 2, 11).await;
            assert_eq!(part_listed.e_tag, Some(ETag::Strong(hex::encode(md5))));
            assert_eq!(part_listed.checksum_sha256, request.checksum_sha256);

            // Damaged on the way: refused, and the part stored before stays as it was.
            if expected.md5.is_some() || expected.checksums.checksum_sha256.is_some() {
                let refused = write(dir.path(), 2, &[b"hello ", b"w0rld"], &expected).await;
                assert_eq!(
                    refused.map(|_| ()).map_err(|e| e.code().clone()),
                    Err(S3ErrorCode::BadDigest)
                );
                assert_eq!(std::fs::read(&part).expect("the part"), b"hello world");
                assert_eq!(
                    listed(dir.path(), 2, 11).await.e_tag,
                    Some(ETag::Strong(hex::encode(md5)))
                );
            }
            assert_eq!(names(dir.path()), kept);
        }
        // Either digest wrong is enough to refuse.
        let mut wrong_sha = Expected::of(&input(Some(&md5), Some(&sha256)), None).expect("digests");
        wrong_sha.checksums.checksum_sha256 = Some(base64(&[0; 32]));
        let refused = write(dir.path(), 3, &[b"hello world"], &wrong_sha).await;
        assert!(refused.is_err());
        assert_eq!(names(dir.path()), kept);
        // A part whose digests were not kept, or whose length changed since, is listed without them.
        assert_eq!(listed(dir.path(), 3, 11).await.e_tag, None);
        assert_eq!(listed(dir.path(), 2, 12).await.e_tag, None);
    }

    #[tokio::test]
    async fn a_checksum_in_the_trailer_is_checked_and_one_only_named_is_computed() {
        let dir = tempfile::tempdir().expect("dir");
        let crc32 = |bytes: &[u8]| {
            let mut hasher = ChecksumHasher {
                crc32: Some(Default::default()),
                ..Default::default()
            };
            hasher.update(bytes);
            hasher.finalize().checksum_crc32.expect("crc32")
        };
        let named = Expected::of(
            &UploadPartInput {
                checksum_algorithm: Some(ChecksumAlgorithm::from_static(ChecksumAlgorithm::CRC32)),
                ..Default::default()
            },
            None,
        )
        .expect("an algorithm");
        // Announced by `x-amz-trailer` alone, without the SDK's algorithm header.
        let announced = Expected::of(&UploadPartInput::default(), Some("X-Amz-Checksum-Crc32")).expect("a trailer");
        assert_eq!(announced.trailing, ["x-amz-checksum-crc32"]);
        // Part `number` of "hello world", its trailer naming the CRC32 of `trailed`.
        let send = |number: i32, expected: &Expected, trailed: &'static [u8]| {
            let value = crc32(trailed);
            write_part(
                dir.path(),
                UPLOAD,
                number,
                blob(&[b"hello world"]),
                expected.clone(),
                move || {
                    let mut headers = http::HeaderMap::new();
                    headers.insert("x-amz-checksum-crc32", value.parse().expect("a header value"));
                    Some(headers)
                },
            )
        };

        for (number, expected) in [(1, &named), (4, &announced)] {
            let refused = send(number, expected, b"other").await;
            assert_eq!(
                refused.map(|_| ()).map_err(|e| e.code().clone()),
                Err(S3ErrorCode::BadDigest)
            );
            let stored = send(number, expected, b"hello world").await.expect("stored");
            assert_eq!(stored.checksum_crc32, Some(crc32(b"hello world")));
            assert_eq!(
                listed(dir.path(), number, 11).await.checksum_crc32,
                Some(crc32(b"hello world"))
            );
        }
        // Named without a value anywhere: computed, kept and listed.
        write_part(dir.path(), UPLOAD, 3, blob(&[b"abc"]), named, || None)
            .await
            .expect("stored");
        assert_eq!(listed(dir.path(), 3, 3).await.checksum_crc32, Some(crc32(b"abc")));
    }

    #[tokio::test]
    async fn a_completion_naming_another_part_is_refused_and_what_is_left_goes_with_the_upload() {
        let dir = tempfile::tempdir().expect("dir");
        let sha256 = base64(&Sha256::digest(b"hello world"));
        write(dir.path(), 1, &[b"hello world"], &Expected::default())
            .await
            .expect("stored");
        let etag = hex::encode(Md5::digest(b"hello world"));
        let named = |etag: &str, sha256: Option<String>| s3s::dto::CompletedPart {
            part_number: Some(1),
            e_tag: Some(ETag::Strong(etag.to_owned())),
            checksum_sha256: sha256,
            ..Default::default()
        };
        let kept = check_named(dir.path(), UPLOAD, &[named(&etag, None)])
            .await
            .expect("named as stored");
        assert!(
            check_named(dir.path(), UPLOAD, &[named(&format!("\"{etag}\""), None)])
                .await
                .is_ok()
        );
        for wrong in [named("0123", None), named(&etag, Some(sha256))] {
            let refused = check_named(dir.path(), UPLOAD, &[wrong]).await;
            assert_eq!(
                refused.map(|_| ()).map_err(|e| e.code().clone()),
                Err(S3ErrorCode::InvalidPart)
            );
        }
        assert_eq!(kept.md5(1, 11).map(hex::encode), Some(etag));
        assert_eq!(kept.md5(1, 12), None);
        assert_eq!(kept.md5(2, 11), None);
        forget_upload(dir.path(), UPLOAD).await;
        assert_eq!(names(dir.path()), Vec::<String>::new());
    }

    #[tokio::test]
    async fn a_body_cut_off_keeps_nothing_and_part_numbers_are_s3s() {
        let dir = tempfile::tempdir().expect("dir");
        let expected = Expected::of(&input(Some(&Md5::digest(b"hello world")), None), None).expect("digests");
        let cut = futures::stream::iter(vec![
            Ok(Bytes::from_static(b"hello ")),
            Err(std::io::Error::other("connection reset")),
        ]);
        let failed = write_part(
            dir.path(),
            UPLOAD,
            1,
            StreamingBlob::wrap(cut),
            expected.clone(),
            || None,
        )
        .await;
        assert!(failed.is_err());
        assert_eq!(names(dir.path()), Vec::<String>::new());

        for number in [0, 10_001] {
            let refused = write(dir.path(), number, &[b"x"], &expected).await;
            assert_eq!(
                refused.map(|_| ()).map_err(|e| e.code().clone()),
                Err(S3ErrorCode::InvalidArgument)
            );
        }
    }

    #[test]
    fn each_digest_must_be_base64_of_its_length() {
        let md5: [u8; 16] = Md5::digest(b"x").into();
        let sha256: [u8; 32] = Sha256::digest(b"x").into();
        let both = Expected::of(&input(Some(&md5), Some(&sha256)), None).expect("both");
        assert_eq!(both.md5, Some(md5));
        assert_eq!(both.checksums.checksum_sha256, Some(base64(&sha256)));
        for bad in [b"".as_slice(), b"AAAA", &sha256] {
            let refused = Expected::of(&input(Some(bad), None), None).map_err(|e| e.code().clone());
            assert_eq!(refused, Err(S3ErrorCode::InvalidDigest));
        }
        let not_base64 = UploadPartInput {
            content_md5: Some("not base64!".to_owned()),
            ..Default::default()
        };
        assert_eq!(
            Expected::of(&not_base64, None).map_err(|e| e.code().clone()),
            Err(S3ErrorCode::InvalidDigest)
        );
        for bad in [b"".as_slice(), b"AAAA", &md5] {
            let refused = Expected::of(&input(None, Some(bad)), None).map_err(|e| e.code().clone());
            assert_eq!(refused, Err(S3ErrorCode::InvalidRequest));
        }
        let crc32_of_8 = UploadPartInput {
            checksum_crc32: Some(base64(&[0; 8])),
            ..Default::default()
        };
        assert_eq!(
            Expected::of(&crc32_of_8, None).map_err(|e| e.code().clone()),
            Err(S3ErrorCode::InvalidRequest)
        );
        let unknown = Expected {
            algorithm: Some(ChecksumAlgorithm::from("MD4".to_owned())),
            ..Default::default()
        };
        assert!(unknown.hasher().is_err());
    }
}
