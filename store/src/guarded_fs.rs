//! `s3s-fs` behind one more check, at the last place a key passes before it
//! becomes a path: every operation Courier's store offers names only the
//! `courier` bucket and keys that pass `check_store_key`, whatever the HTTP
//! layers in front parsed (a browser POST's key comes from its form, where
//! two multipart parsers could read different fields). Operations not listed
//! here (creating or deleting buckets, listing them, bucket settings) are
//! not offered at all.
//!
//! More that `s3s-fs` does not do by itself:
//! - every write under a key is whole or nothing, even when the disk fills
//!   up or the process is killed midway ([`unfinished_writes`]);
//! - a full disk is answered as MinIO answers it, `507 Insufficient Storage`
//!   with the code `XMinioStorageFull`, not as a bare `500 InternalError`:
//!   the page can tell the person what happened, and that sending the file
//!   again later is safe;
//! - new writes stop short of a full disk, at a floor of free space, and a
//!   multipart upload's declared size counts from its start
//!   ([`storage_floor`]);
//! - a range `s3s-fs` cannot serve (a suffix longer than the object, which
//!   S3 reads as the whole object; past 2^63 it made `s3s-fs` panic) is
//!   made one it can;
//! - reads answer as S3 does where `s3s-fs` ignores what they ask:
//!   conditions ([`conditions`]) and `?partNumber=` (from the part sizes a
//!   completion keeps in the object's internal metadata);
//! - a read is sent in 256 KiB pieces, not `s3s-fs`' 4 KiB ones, to a
//!   reader that keeps pace, within 32 MiB for all and 8 MiB for one client
//!   ([`object_body`]): a tenth of the CPU;
//! - a completion made again gets the same answer for a day ([`completed`]),
//!   and a completion's whole-object SHA-256 is checked and kept;
//! - `DeleteObjects` takes at most S3's 1,000 keys.

mod assemble;
pub(super) mod completed;
mod conditions;
mod object_body;
mod part_digest;
mod storage_floor;
mod unfinished_writes;
mod upload_list;

use std::net::IpAddr;
use std::path::Path;
use std::time::SystemTime;

use http::StatusCode;
use s3s::dto::*;
use s3s::{S3, S3Error, S3ErrorCode, S3Request, S3Response, S3Result};
use signer::multipart::DECLARED_SIZE_METADATA;
use signer::object_key::check_store_key;

use self::object_body::{ObjectFile, PieceBudget, served_range};
use self::storage_floor::{StorageFloor, Write};
/// Where `s3s-fs` keeps an object and its metadata files; the sweep of
/// expired uploads removes them together.
pub(super) use self::unfinished_writes::StoreFiles;
use self::unfinished_writes::UnfinishedWrite;
use crate::layout::BUCKET;
use crate::refusal::Refusal;

/// The most keys one `DeleteObjects` names, in S3.
const MAX_DELETE_KEYS: usize = 1000;

/// The client a request came from, as `request_slots` counts clients: the
/// store's router puts it in each request's extensions; reads share large
/// pieces by it.
#[derive(Clone, Copy, Debug)]
pub struct ClientAddr(pub IpAddr);

pub struct GuardedFs {
    fs: s3s_fs::FileSystem,
    /// The same root's files, for writes that must be whole or nothing.
    files: StoreFiles,
    /// The free space new writes leave (`COURIER_MIN_FREE_BYTES`).
    floor: StorageFloor,
    /// The memory reads may hold in large pieces.
    pieces: PieceBudget,
}

impl GuardedFs {
    /// Serves `fs`, whose root is `root`, after undoing the writes a
    /// stopped process left unfinished there; new writes leave
    /// `min_free_bytes` of its disk free (`None`: the default for its size).
    pub fn new(fs: s3s_fs::FileSystem, root: &Path, min_free_bytes: Option<u64>) -> Self {
        let floor = StorageFloor::new(root, min_free_bytes);
        tracing::info!(
            min_free_bytes = floor.min_free(),
            "the embedded store keeps this much of its disk free: new uploads stop there"
        );
        let files = StoreFiles::new(root);
        match files.undo_interrupted_writes(|bucket_name, key| object(bucket_name, key).is_ok()) {
            Ok(undone) if undone.is_empty() => {}
            Ok(undone) => {
                tracing::warn!(
                    ?undone,
                    "writes the last run did not finish were undone: nothing of them stays"
                );
            }
            Err(error) => {
                tracing::error!(%error, root = %root.display(), "could not undo the writes the last run left unfinished");
            }
        }
        Self {
            fs,
            files,
            floor,
            pieces: PieceBudget::new(PieceBudget::STORE),
        }
    }

    /// S3's `NoSuchUpload` (404) for an upload id that is not in progress:
    /// `s3s-fs` answers `AccessDenied`, or lists no parts, or none at all.
    fn in_progress(&self, upload_id: &str) -> S3Result<()> {
        if self.files.upload_in_progress(upload_id) {
            Ok(())
        } else {
            Err(completed::no_such_upload())
        }
    }

    /// Marks a write under `key` (refused at once if even that finds the disk full).
    fn begin(&self, bucket_name: &str, key: &str) -> S3Result<UnfinishedWrite<'_>> {
        self.files
            .begin(bucket_name, key)
            .map_err(|error| answer(S3Error::internal_error(error)))
    }
}

/// How many bytes a write brings: its length, as declared or as its body
/// knows it (a body of unknown length counts as none: only the full disk
/// stops it).
fn length(content_length: Option<i64>, body: Option<&StreamingBlob>) -> u64 {
    use s3s::stream::ByteStream as _;

    content_length
        .and_then(|length| u64::try_from(length).ok())
        .or_else(|| body.and_then(|body| body.remaining_length().exact()).map(|n| n as u64))
        .unwrap_or(0)
}

/// `range` as `s3s-fs` can serve it from an object of `stored` bytes (if
/// known), or S3's `416 InvalidRange`. `s3s-fs` seeks back from the end by
/// a suffix's whole length: one longer than the object failed (500), and
/// one past `i64::MAX` panicked. S3 serves a suffix longer than the object
/// as the whole object, so it is cut to the object's length here.
fn servable(range: Range, stored: Option<u64>) -> S3Result<Range> {
    const LARGEST: u64 = i64::MAX as u64;
    match range {
        Range::Suffix { length } => Ok(Range::Suffix {
            length: length.min(stored.unwrap_or(LARGEST)).min(LARGEST),
        }),
        // (Parsed from a header, it is never past `i64::MAX`.)
        Range::Int { first, .. } if first > LARGEST => Err(S3Error::new(S3ErrorCode::InvalidRange)),
        int @ Range::Int { .. } => Ok(int),
    }
}

/// An object as stored, for what `s3s-fs` does not look at: conditions,
/// and the parts it was completed from.
struct Stored {
    len: u64,
    modified: SystemTime,
    /// Unquoted; `None` where `s3s-fs` kept none (it would hash the file).
    e_tag: Option<String>,
    /// The sizes of the parts it was completed from, in order (`None`: it
    /// was not completed from parts here).
    part_sizes: Option<Vec<u64>>,
}

/// One part of an object, as `?partNumber=` asks for it.
struct StoredPart {
    /// Its bytes within the object (`None`: all of them).
    range: Option<Range>,
    len: u64,
    /// How many parts the object has (`None`: it was not made of parts).
    count: Option<i32>,
}

impl Stored {
    async fn read(files: &StoreFiles, bucket: &str, key: &str) -> Option<Self> {
        let metadata = tokio::fs::metadata(files.layout().object(bucket, key))
            .await
            .ok()
            .filter(std::fs::Metadata::is_file)?;
        let info: Option<serde_json::Value> = tokio::fs::read(files.layout().internal_info(bucket, key))
            .await
            .ok()
            .and_then(|json| serde_json::from_slice(&json).ok());
        let e_tag = info
            .as_ref()
            .and_then(|info| info.get("e_tag")?.as_str().map(str::to_owned));
        let part_sizes: Option<Vec<u64>> = info
            .as_ref()
            .and_then(|info| serde_json::from_value(info.get(assemble::PART_SIZES)?.clone()).ok())
            // Only if they still add up to the object (a later write rewrites both).
            .filter(|sizes: &Vec<u64>| !sizes.is_empty() && sizes.iter().sum::<u64>() == metadata.len());
        Some(Self {
            len: metadata.len(),
            modified: metadata.modified().ok()?,
            e_tag,
            part_sizes,
        })
    }

    fn current(&self) -> conditions::Current<'_> {
        conditions::Current {
            e_tag: self.e_tag.as_deref(),
            last_modified: self.modified,
        }
    }

    /// Part `number`, or S3's `416 InvalidPartNumber`: an object not made of
    /// parts has one, itself.
    fn part(&self, number: i32) -> S3Result<StoredPart> {
        let not_satisfiable = || {
            S3Error::from(Refusal::custom(
                StatusCode::RANGE_NOT_SATISFIABLE,
                "InvalidPartNumber",
                "The requested partnumber is not satisfiable",
            ))
        };
        let index = usize::try_from(number)
            .ok()
            .and_then(|n| n.checked_sub(1))
            .ok_or_else(not_satisfiable)?;
        let (first, len, count) = match &self.part_sizes {
            Some(sizes) => {
                let len = *sizes.get(index).ok_or_else(not_satisfiable)?;
                let first: u64 = sizes[..index].iter().sum();
                (first, len, i32::try_from(sizes.len()).ok())
            }
            None if index == 0 => (0, self.len, None),
            None => return Err(not_satisfiable()),
        };
        Ok(StoredPart {
            // (An empty part has no byte range: it is served as it is, empty.)
            range: (len > 0).then(|| Range::Int {
                first,
                last: Some(first + len - 1),
            }),
            len,
            count,
        })
    }
}

fn range_and_part_number() -> S3Error {
    S3Error::with_message(
        S3ErrorCode::InvalidRequest,
        "Cannot specify both Range header and partNumber query parameter",
    )
}

/// Ends a write and says how it went, a full disk as `507 XMinioStorageFull`.
fn end<T>(write: UnfinishedWrite<'_>, result: S3Result<T>) -> S3Result<T> {
    write.finish(result.is_ok());
    result.map_err(answer)
}

/// `error`, or, when the disk (or the quota) was full, the store's 507.
fn answer(error: S3Error) -> S3Error {
    if !is_out_of_space(&error) {
        return error;
    }
    tracing::debug!(error = ?error.source(), "the store's disk is full: a write was refused");
    Refusal::storage_full(
        "The store's disk is full: nothing of this request was stored. Free some space, then try again.",
    )
    .into()
}

/// Whether `ENOSPC` (or `EDQUOT`) is among the error's causes.
fn is_out_of_space(error: &S3Error) -> bool {
    let mut cause: Option<&(dyn std::error::Error + 'static)> = error.source().map(|e| e as _);
    while let Some(error) = cause {
        if let Some(io) = error.downcast_ref::<std::io::Error>()
            && matches!(
                io.kind(),
                std::io::ErrorKind::StorageFull | std::io::ErrorKind::QuotaExceeded
            )
        {
            return true;
        }
        // An io::Error that reached here as text.
        let text = error.to_string();
        if text.contains("No space left on device") || text.contains("Disk quota exceeded") {
            return true;
        }
        cause = error.source();
    }
    false
}

fn bucket(name: &str) -> S3Result<()> {
    if name == BUCKET {
        Ok(())
    } else {
        Err(S3Error::with_message(
            S3ErrorCode::AccessDenied,
            format!("This store serves only the bucket {BUCKET}."),
        ))
    }
}

fn object(bucket_name: &str, key: &str) -> S3Result<()> {
    bucket(bucket_name)?;
    check_store_key(key).map_err(|_| {
        S3Error::with_message(
            S3ErrorCode::InvalidArgument,
            format!("The key {key:?} is not allowed: keys have no empty, \".\" or \"..\" segments, backslashes or control characters."),
        )
    })
}

fn source(copy_source: &CopySource) -> S3Result<()> {
    match copy_source {
        CopySource::Bucket { bucket, key, .. } => object(bucket, key),
        _ => Err(S3Error::new(S3ErrorCode::NotImplemented)),
    }
}

#[async_trait::async_trait]
impl S3 for GuardedFs {
    async fn head_bucket(&self, req: S3Request<HeadBucketInput>) -> S3Result<S3Response<HeadBucketOutput>> {
        bucket(&req.input.bucket)?;
        self.fs.head_bucket(req).await
    }

    async fn get_bucket_location(
        &self,
        req: S3Request<GetBucketLocationInput>,
    ) -> S3Result<S3Response<GetBucketLocationOutput>> {
        bucket(&req.input.bucket)?;
        self.fs.get_bucket_location(req).await
    }

    async fn list_objects(&self, req: S3Request<ListObjectsInput>) -> S3Result<S3Response<ListObjectsOutput>> {
        bucket(&req.input.bucket)?;
        self.fs.list_objects(req).await
    }

    async fn list_objects_v2(&self, req: S3Request<ListObjectsV2Input>) -> S3Result<S3Response<ListObjectsV2Output>> {
        bucket(&req.input.bucket)?;
        self.fs.list_objects_v2(req).await
    }

    async fn head_object(&self, mut req: S3Request<HeadObjectInput>) -> S3Result<S3Response<HeadObjectOutput>> {
        object(&req.input.bucket, &req.input.key)?;
        let input = &req.input;
        let preconditions = conditions::Preconditions {
            if_match: input.if_match.as_ref(),
            if_none_match: input.if_none_match.as_ref(),
            if_modified_since: input.if_modified_since.as_ref(),
            if_unmodified_since: input.if_unmodified_since.as_ref(),
        };
        let stored = match (
            preconditions.any() || input.part_number.is_some(),
            input.range.is_some(),
        ) {
            (false, _) => None,
            (true, true) if input.part_number.is_some() => return Err(range_and_part_number()),
            (true, _) => Stored::read(&self.files, &input.bucket, &input.key).await,
        };
        if let Some(stored) = &stored {
            preconditions.check(stored.current())?;
        }
        let part = match (req.input.part_number.take(), &stored) {
            (Some(number), Some(stored)) => Some(stored.part(number)?),
            _ => None,
        };
        let mut head = self.fs.head_object(req).await?;
        if let Some(part) = part {
            head.output.content_length = i64::try_from(part.len).ok();
            head.output.parts_count = part.count;
        }
        Ok(head)
    }

    async fn get_object(&self, mut req: S3Request<GetObjectInput>) -> S3Result<S3Response<GetObjectOutput>> {
        object(&req.input.bucket, &req.input.key)?;
        let input = &req.input;
        if input.range.is_some() && input.part_number.is_some() {
            return Err(range_and_part_number());
        }
        // (No object: `s3s-fs` answers `NoSuchKey`, whatever the conditions.)
        let stored = Stored::read(&self.files, &input.bucket, &input.key).await;
        if let Some(stored) = &stored {
            let preconditions = conditions::Preconditions {
                if_match: input.if_match.as_ref(),
                if_none_match: input.if_none_match.as_ref(),
                if_modified_since: input.if_modified_since.as_ref(),
                if_unmodified_since: input.if_unmodified_since.as_ref(),
            };
            preconditions.check(stored.current())?;
            // A resumed download of an object that changed gets it whole.
            let if_range = req.headers.get(http::header::IF_RANGE).and_then(|v| v.to_str().ok());
            if let Some(if_range) = if_range
                && req.input.range.is_some()
                && !conditions::range_holds(if_range, stored.current())
            {
                req.input.range = None;
            }
        }
        let mut parts_count = None;
        if let (Some(number), Some(stored)) = (req.input.part_number.take(), &stored) {
            let part = stored.part(number)?;
            req.input.range = part.range;
            parts_count = part.count;
        }
        if let Some(range) = req.input.range {
            req.input.range = Some(servable(range, stored.as_ref().map(|stored| stored.len))?);
        }
        let client = req
            .extensions
            .get::<ClientAddr>()
            .map_or(IpAddr::from([0, 0, 0, 0]), |client| client.0);
        // Opened before s3s-fs opens it: see `object_body`.
        let ours = ObjectFile::open(self.files.layout().object(&req.input.bucket, &req.input.key)).await;
        let mut got = self.fs.get_object(req).await?;
        got.output.parts_count = parts_count;
        if let Some(ours) = ours
            && let Some(len) = got.output.content_length.and_then(|len| u64::try_from(len).ok())
            && let Some((start, total)) = served_range(got.output.content_range.as_deref(), len)
            && ours.still_there(total).await
        {
            got.output.body = Some(StreamingBlob::wrap(ours.body(start, len, self.pieces.clone(), client)));
        }
        Ok(got)
    }

    /// Also what a browser POST becomes (`S3::post_object`'s default).
    /// Refused at the storage floor; a confirmation's copy (below) is not.
    async fn put_object(&self, req: S3Request<PutObjectInput>) -> S3Result<S3Response<PutObjectOutput>> {
        object(&req.input.bucket, &req.input.key)?;
        let bytes = length(req.input.content_length, req.input.body.as_ref());
        let _admitted = self.floor.admit(Write::New { bytes }).await?;
        let write = self.begin(&req.input.bucket, &req.input.key)?;
        end(write, self.fs.put_object(req).await)
    }

    async fn copy_object(&self, req: S3Request<CopyObjectInput>) -> S3Result<S3Response<CopyObjectOutput>> {
        object(&req.input.bucket, &req.input.key)?;
        source(&req.input.copy_source)?;
        // s3s-fs copies straight to the key: cut short, it leaves part of the file there.
        let write = self.begin(&req.input.bucket, &req.input.key)?;
        end(write, self.fs.copy_object(req).await)
    }

    async fn delete_object(&self, req: S3Request<DeleteObjectInput>) -> S3Result<S3Response<DeleteObjectOutput>> {
        object(&req.input.bucket, &req.input.key)?;
        let (bucket_name, key) = (req.input.bucket.clone(), req.input.key.clone());
        let deleted = self.fs.delete_object(req).await?;
        self.files.forget(&bucket_name, &key);
        Ok(deleted)
    }

    async fn delete_objects(&self, req: S3Request<DeleteObjectsInput>) -> S3Result<S3Response<DeleteObjectsOutput>> {
        bucket(&req.input.bucket)?;
        // S3's limit (`s3s-fs` has none): one request deletes at most 1,000 keys.
        if req.input.delete.objects.len() > MAX_DELETE_KEYS {
            return Err(S3Error::with_message(
                S3ErrorCode::MalformedXML,
                "The XML you provided was not well-formed or did not validate against our published schema.",
            ));
        }
        for id in &req.input.delete.objects {
            object(&req.input.bucket, &id.key)?;
        }
        let bucket_name = req.input.bucket.clone();
        let keys: Vec<String> = req.input.delete.objects.iter().map(|id| id.key.clone()).collect();
        let deleted = self.fs.delete_objects(req).await?;
        for key in &keys {
            self.files.forget(&bucket_name, key);
        }
        Ok(deleted)
    }

    async fn create_multipart_upload(
        &self,
        req: S3Request<CreateMultipartUploadInput>,
    ) -> S3Result<S3Response<CreateMultipartUploadOutput>> {
        object(&req.input.bucket, &req.input.key)?;
        let declared = req
            .input
            .metadata
            .as_ref()
            .and_then(|metadata| metadata.get(DECLARED_SIZE_METADATA))
            .map(|size| {
                size.trim().parse::<u64>().map_err(|_| {
                    S3Error::with_message(
                        S3ErrorCode::InvalidArgument,
                        format!("x-amz-meta-{DECLARED_SIZE_METADATA} must be the upload's size in bytes."),
                    )
                })
            })
            .transpose()?;
        // Held until the upload is on disk, where the next start sees its reservation.
        let _starting = self.floor.start(declared).await?;
        let algorithm = req.input.checksum_algorithm.clone();
        let checksum_type = req.input.checksum_type.clone();
        let created = self.fs.create_multipart_upload(req).await;
        match created.as_ref().map(|created| created.output.upload_id.as_deref()) {
            Ok(Some(upload_id)) => self.floor.started(upload_id, declared),
            // Perhaps half made (an upload without its metadata): the disk says.
            _ => self.floor.reread(),
        }
        let mut created = created.map_err(answer)?;
        // S3 echoes the checksum asked for (`x-amz-checksum-algorithm`); `s3s-fs` does not.
        created.output.checksum_algorithm = algorithm.clone();
        created.output.checksum_type = checksum_type.or_else(|| {
            // S3's default for each: CRC-64/NVME is only ever whole-object.
            algorithm.map(|algorithm| match algorithm.as_str() {
                ChecksumAlgorithm::CRC64NVME => ChecksumType::from_static(ChecksumType::FULL_OBJECT),
                _ => ChecksumType::from_static(ChecksumType::COMPOSITE),
            })
        });
        Ok(created)
    }

    async fn upload_part(&self, mut req: S3Request<UploadPartInput>) -> S3Result<S3Response<UploadPartOutput>> {
        object(&req.input.bucket, &req.input.key)?;
        self.in_progress(&req.input.upload_id)?;
        let trailer = req.headers.get("x-amz-trailer").and_then(|v| v.to_str().ok());
        let expected = part_digest::Expected::of(&req.input, trailer)?;
        let _admitted = self
            .floor
            .admit(Write::Part {
                upload_id: &req.input.upload_id,
                number: req.input.part_number,
                bytes: length(req.input.content_length, req.input.body.as_ref()),
            })
            .await?;
        let body = req
            .input
            .body
            .take()
            .ok_or_else(|| S3Error::new(S3ErrorCode::IncompleteBody))?;
        // (`s3s-fs` also checks the upload was started with the same access
        // key: the embedded store has one.)
        let input = &req.input;
        let trailers = req.trailing_headers.take();
        let stored = part_digest::write_part(
            self.files.root(),
            &input.upload_id,
            input.part_number,
            body,
            expected,
            move || trailers.and_then(|t| t.take()),
        )
        .await
        .map(S3Response::new)
        .map_err(answer)?;
        // What the part holds now counts against its upload's reservation.
        let part = self.files.layout().part(&input.upload_id, input.part_number);
        match tokio::fs::metadata(part).await {
            Ok(part) => self.floor.part_stored(&input.upload_id, input.part_number, part.len()),
            Err(_) => self.floor.reread(),
        }
        Ok(stored)
    }

    async fn upload_part_copy(
        &self,
        req: S3Request<UploadPartCopyInput>,
    ) -> S3Result<S3Response<UploadPartCopyOutput>> {
        object(&req.input.bucket, &req.input.key)?;
        source(&req.input.copy_source)?;
        self.in_progress(&req.input.upload_id)?;
        // At most the whole source; no reservation covers a copied part.
        let bytes = match &req.input.copy_source {
            CopySource::Bucket { bucket, key, .. } => tokio::fs::metadata(self.files.layout().object(bucket, key))
                .await
                .map_or(0, |metadata| metadata.len()),
            _ => 0,
        };
        let _admitted = self.floor.admit(Write::New { bytes }).await?;
        // `s3s-fs` writes this part itself: the digests kept for an earlier copy no longer hold.
        part_digest::forget(self.files.root(), &req.input.upload_id, req.input.part_number).await?;
        let copied = self.fs.upload_part_copy(req).await.map_err(answer);
        self.floor.reread();
        copied
    }

    async fn list_parts(&self, req: S3Request<ListPartsInput>) -> S3Result<S3Response<ListPartsOutput>> {
        object(&req.input.bucket, &req.input.key)?;
        self.in_progress(&req.input.upload_id)?;
        let upload_id = req.input.upload_id.clone();
        let mut listed = self.fs.list_parts(req).await?;
        // In part order, as S3 lists them (`s3s-fs` lists in directory order),
        // each with its ETag and checksums.
        if let Some(parts) = listed.output.parts.as_mut() {
            parts.sort_by_key(|part| part.part_number);
            part_digest::describe(self.files.root(), &upload_id, parts).await;
        }
        Ok(listed)
    }

    async fn complete_multipart_upload(
        &self,
        req: S3Request<CompleteMultipartUploadInput>,
    ) -> S3Result<S3Response<CompleteMultipartUploadOutput>> {
        object(&req.input.bucket, &req.input.key)?;
        let named = req
            .input
            .multipart_upload
            .as_ref()
            .and_then(|u| u.parts.clone())
            .unwrap_or_default();
        let input = &req.input;
        if !self.files.upload_in_progress(&input.upload_id) {
            // Completed already (a retried completion): S3 answers it again.
            return match completed::recall(self.files.root(), &input.upload_id).await {
                Some(done) => done.again(&input.bucket, &input.key, &named).map(S3Response::new),
                None => Err(completed::no_such_upload()),
            };
        }
        if input
            .checksum_type
            .as_ref()
            .is_some_and(|t| t.as_str() != ChecksumType::COMPOSITE)
            && input.checksum_sha256.is_some()
        {
            // As S3: a SHA-256 is only ever composite over parts.
            return Err(S3Error::with_message(
                S3ErrorCode::InvalidRequest,
                "The FULL_OBJECT checksum type is not supported for the SHA256 checksum algorithm.",
            ));
        }
        // Conditional completions, which Courier does not make, are `s3s-fs`'s
        // (Courier's own checks each named part as it joins them).
        if input.if_match.is_some() || input.if_none_match.is_some() {
            part_digest::check_named(self.files.root(), &input.upload_id, &named).await?;
            let write = self.begin(&input.bucket, &input.key)?;
            let upload_id = input.upload_id.clone();
            // `s3s-fs` ends the upload first, whatever follows.
            let completed = end(write, self.fs.complete_multipart_upload(req).await);
            self.floor.reread();
            let completed = completed?;
            part_digest::forget_upload(self.files.root(), &upload_id).await;
            return Ok(completed);
        }
        let write = self.begin(&input.bucket, &input.key)?;
        let completed = assemble::complete(
            &self.files,
            &input.bucket,
            &input.key,
            &input.upload_id,
            &named,
            input.checksum_sha256.as_deref(),
        )
        .await;
        // (One that failed left the upload whole: it still reserves its room.)
        if completed.is_ok() {
            self.floor.ended(&input.upload_id);
        }
        end(write, completed.map(S3Response::new))
    }

    async fn list_multipart_uploads(
        &self,
        req: S3Request<ListMultipartUploadsInput>,
    ) -> S3Result<S3Response<ListMultipartUploadsOutput>> {
        bucket(&req.input.bucket)?;
        upload_list::list(self.files.root().to_owned(), req.input)
            .await
            .map(S3Response::new)
    }

    async fn abort_multipart_upload(
        &self,
        req: S3Request<AbortMultipartUploadInput>,
    ) -> S3Result<S3Response<AbortMultipartUploadOutput>> {
        object(&req.input.bucket, &req.input.key)?;
        self.in_progress(&req.input.upload_id)?;
        let upload_id = req.input.upload_id.clone();
        let aborted = self.fs.abort_multipart_upload(req).await;
        match aborted {
            Ok(_) => self.floor.ended(&upload_id),
            Err(_) => self.floor.reread(),
        }
        aborted
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::refusal::STORAGE_FULL;

    fn request<T>(input: T) -> S3Request<T> {
        S3Request {
            input,
            method: http::Method::PUT,
            uri: http::Uri::from_static("/"),
            headers: http::HeaderMap::new(),
            extensions: http::Extensions::new(),
            credentials: None,
            region: None,
            service: None,
            trailing_headers: None,
        }
    }

    fn put(bucket: &str, key: &str) -> S3Request<PutObjectInput> {
        request(PutObjectInput {
            bucket: bucket.to_owned(),
            key: key.to_owned(),
            body: Some(StreamingBlob::from(s3s::Body::from("evil".to_owned()))),
            ..Default::default()
        })
    }

    #[tokio::test]
    async fn no_key_that_climbs_and_no_other_bucket_reaches_the_disk() {
        let dir = tempfile::tempdir().expect("dir");
        std::fs::create_dir_all(dir.path().join("courier")).expect("bucket");
        let root = dir.path().canonicalize().expect("root");
        let fs = GuardedFs::new(s3s_fs::FileSystem::new(&root).expect("fs"), &root, Some(0));
        for (bucket, key, code) in [
            ("courier", "uploads/a/../../b/x", S3ErrorCode::InvalidArgument),
            ("courier", "uploads/a/./x", S3ErrorCode::InvalidArgument),
            ("courier", "../credentials.json", S3ErrorCode::InvalidArgument),
            ("other", "x", S3ErrorCode::AccessDenied),
            ("..", "x", S3ErrorCode::AccessDenied),
        ] {
            match fs.put_object(put(bucket, key)).await {
                Err(error) => assert_eq!(error.code(), &code, "{bucket}/{key}"),
                Ok(_) => panic!("{bucket}/{key} was written"),
            }
        }
        let copy = CopyObjectInput::builder()
            .bucket("courier".to_owned())
            .key("files/x".to_owned())
            .copy_source(CopySource::Bucket {
                bucket: "courier".into(),
                key: "../credentials.json".into(),
                version_id: None,
            })
            .build()
            .expect("a copy");
        assert!(fs.copy_object(request(copy)).await.is_err());
        // Nothing was written anywhere under the root but the bucket itself.
        let written: Vec<_> = walk(dir.path());
        assert_eq!(written, Vec::<std::path::PathBuf>::new(), "{written:?}");
        // A plain key goes through.
        assert!(fs.put_object(put("courier", "uploads/a/x")).await.is_ok());
    }

    /// The store as `mod.rs` opens it: the bucket's directory under a root.
    fn store() -> (tempfile::TempDir, GuardedFs, StoreFiles) {
        let dir = tempfile::tempdir().expect("dir");
        std::fs::create_dir_all(dir.path().join("courier")).expect("bucket");
        let root = dir.path().canonicalize().expect("root");
        let fs = GuardedFs::new(s3s_fs::FileSystem::new(&root).expect("fs"), &root, Some(0));
        (dir, fs, StoreFiles::new(&root))
    }

    #[tokio::test]
    async fn a_put_whose_metadata_cannot_be_written_leaves_nothing_under_its_key() {
        let key = "uploads/6f1d1c52-3a55-4f4c-9a4e-1d7f25d1c0aa/a.txt";
        let (_dir, fs, files) = store();
        // s3s-fs renames each metadata file into place: a directory there
        // makes that fail after the object itself is in place.
        for in_the_way in [
            files.layout().metadata("courier", key),
            files.layout().internal_info("courier", key),
        ] {
            std::fs::create_dir(&in_the_way).expect("mkdir");
            let an_hour_ago = std::time::SystemTime::now() - std::time::Duration::from_secs(3600);
            std::fs::File::open(&in_the_way)
                .and_then(|dir| dir.set_modified(an_hour_ago))
                .expect("mtime");
            let error = fs.put_object(put("courier", key)).await.expect_err("the put fails");
            assert_eq!(error.code(), &S3ErrorCode::InternalError, "not a full disk");
            assert!(
                !files.layout().object("courier", key).exists(),
                "{}",
                in_the_way.display()
            );
            let sidecars = [
                files.layout().metadata("courier", key),
                files.layout().internal_info("courier", key),
            ];
            assert!(sidecars.iter().all(|path| !path.is_file()), "{}", in_the_way.display());
            // Its grant may try again.
            assert!(!files.layout().object("courier", key).parent().expect("prefix").exists());
            std::fs::remove_dir(&in_the_way).expect("rmdir");
        }
        assert!(fs.put_object(put("courier", key)).await.is_ok());
        assert_eq!(
            std::fs::read(files.layout().object("courier", key)).expect("stored"),
            b"evil"
        );
    }

    #[tokio::test]
    async fn a_deleted_object_takes_its_metadata_files_along() {
        let key = "files/0123456789abcdef0123456789abcdef/a.txt";
        let (_dir, fs, files) = store();
        fs.put_object(put("courier", key)).await.expect("stored");
        assert!(
            files.layout().metadata("courier", key).is_file() && files.layout().internal_info("courier", key).is_file()
        );
        let delete = DeleteObjectInput::builder()
            .bucket("courier".to_owned())
            .key(key.to_owned())
            .build()
            .expect("a delete");
        fs.delete_object(request(delete)).await.expect("deleted");
        assert_eq!(walk(files.root()), Vec::<std::path::PathBuf>::new());
    }

    /// Every range a header can carry reaches `s3s-fs` as one it serves
    /// (a suffix past 2^63 made it panic, one past the object's end made it
    /// fail), or is refused with S3's `416 InvalidRange`.
    #[tokio::test]
    async fn ranges_are_served_as_s3_serves_them_or_refused_with_416() {
        use futures::StreamExt as _;

        let key = "public/files/0123456789abcdef0123456789abcdef/a.txt";
        let (_dir, fs, _files) = store();
        fs.put_object(put("courier", key)).await.expect("stored");
        let whole = || Ok(("bytes 0-3/4", "evil"));
        let refused = || Err(S3ErrorCode::InvalidRange);
        for (range, expected) in [
            // `bytes=-9223372036854775808`, `bytes=-18446744073709551615`.
            (Range::Suffix { length: 1 << 63 }, whole()),
            (Range::Suffix { length: u64::MAX }, whole()),
            (
                Range::Suffix {
                    length: i64::MAX as u64,
                },
                whole(),
            ),
            (Range::Suffix { length: 5 }, whole()),
            (Range::Suffix { length: 4 }, whole()),
            (Range::Suffix { length: 2 }, Ok(("bytes 2-3/4", "il"))),
            (Range::Int { first: 0, last: None }, whole()),
            (
                Range::Int {
                    first: 1,
                    last: Some(u64::MAX),
                },
                Ok(("bytes 1-3/4", "vil")),
            ),
            (Range::Suffix { length: 0 }, refused()),
            (Range::Int { first: 4, last: None }, refused()),
            (
                Range::Int {
                    first: 9,
                    last: Some(20),
                },
                refused(),
            ),
            (
                Range::Int {
                    first: 1 << 63,
                    last: None,
                },
                refused(),
            ),
        ] {
            let get = GetObjectInput::builder()
                .bucket("courier".to_owned())
                .key(key.to_owned())
                .range(Some(range))
                .build()
                .expect("a get");
            let answer = match fs.get_object(request(get)).await {
                Ok(got) => {
                    let output = got.output;
                    let mut bytes = Vec::new();
                    let mut body = output.body.expect("a body");
                    while let Some(chunk) = body.next().await {
                        bytes.extend_from_slice(&chunk.expect("bytes"));
                    }
                    let content_range = output.content_range.expect("a Content-Range");
                    Ok((content_range, String::from_utf8(bytes).expect("text")))
                }
                Err(error) => {
                    if error.code() == &S3ErrorCode::InvalidRange {
                        assert_eq!(error.status_code(), Some(StatusCode::RANGE_NOT_SATISFIABLE));
                    }
                    Err(error.code().clone())
                }
            };
            let expected = expected.map(|(range, text)| (range.to_owned(), text.to_owned()));
            assert_eq!(answer, expected, "{range:?}");
        }
        // No object: no such key, whatever the range.
        let missing = GetObjectInput::builder()
            .bucket("courier".to_owned())
            .key("public/files/0123456789abcdef0123456789abcdef/b.txt".to_owned())
            .range(Some(Range::Suffix { length: u64::MAX }))
            .build()
            .expect("a get");
        let error = fs.get_object(request(missing)).await.expect_err("no object");
        assert_eq!(error.code(), &S3ErrorCode::NoSuchKey);
    }

    #[test]
    fn a_full_disk_is_answered_as_minio_answers_it() {
        for cause in [
            std::io::Error::from_raw_os_error(28),
            std::io::Error::from(std::io::ErrorKind::QuotaExceeded),
        ] {
            // As s3s-fs turns an io::Error into an S3Error.
            let error = answer(S3Error::from(s3s_fs::Error::from(cause)));
            assert_eq!(error.code().as_str(), STORAGE_FULL);
            assert_eq!(error.status_code(), Some(StatusCode::INSUFFICIENT_STORAGE));
            assert!(error.message().is_some_and(|m| m.contains("disk is full")));
        }
        let other = answer(S3Error::internal_error(std::io::Error::from(
            std::io::ErrorKind::PermissionDenied,
        )));
        assert_eq!(other.code(), &S3ErrorCode::InternalError);
    }

    fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
        let mut files = Vec::new();
        for entry in std::fs::read_dir(dir).expect("read_dir").flatten() {
            let path = entry.path();
            if path.is_dir() {
                files.extend(walk(&path));
            } else {
                files.push(path);
            }
        }
        files
    }
}
