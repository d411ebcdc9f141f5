//! `s3s-fs` behind one more check, at the last place a key passes before it
//! becomes a path: every operation Courier's store offers names only the
//! `courier` bucket and keys that pass `check_store_key`, whatever the HTTP
//! layers in front parsed (a browser POST's key comes from its form, where
//! two multipart parsers could read different fields). Operations not listed
//! here (creating or deleting buckets, listing them, bucket settings) are
//! not offered at all.
//!
//! Two more things `s3s-fs` does not do by itself:
//! - every write under a key is whole or nothing, even when the disk fills
//!   up or the process is killed midway ([`unfinished_writes`]);
//! - a full disk is answered as MinIO answers it, `507 Insufficient Storage`
//!   with the code `XMinioStorageFull`, not as a bare `500 InternalError`:
//!   the page can tell the person what happened, and that sending the file
//!   again later is safe.

mod assemble;
mod part_digest;
mod unfinished_writes;
mod upload_list;

use std::path::Path;

use http::StatusCode;
use s3s::dto::*;
use s3s::{S3, S3Error, S3ErrorCode, S3Request, S3Response, S3Result};
use signer::object_key::check_store_key;

/// Where `s3s-fs` keeps an object and its metadata files; the sweep of
/// expired uploads removes them together.
pub(super) use self::unfinished_writes::StoreFiles;
use self::unfinished_writes::UnfinishedWrite;
use super::RunningStore;

/// The error code MinIO answers a full disk with (HTTP 507). AWS has none;
/// Ceph's RGW maps no errno to one (a bare `500 UnknownError`); a code S3
/// clients already know beats one made up here.
pub const STORAGE_FULL: &str = "XMinioStorageFull";

pub struct GuardedFs {
    fs: s3s_fs::FileSystem,
    /// The same root's files, for writes that must be whole or nothing.
    files: StoreFiles,
}

impl GuardedFs {
    /// Serves `fs`, whose root is `root`, after undoing the writes a
    /// stopped process left unfinished there.
    pub fn new(fs: s3s_fs::FileSystem, root: &Path) -> Self {
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
        Self { fs, files }
    }

    /// S3's `NoSuchUpload` (404) for an upload id that is not in progress:
    /// `s3s-fs` answers `AccessDenied`, or lists no parts, or none at all.
    fn in_progress(&self, upload_id: &str) -> S3Result<()> {
        if self.files.upload_in_progress(upload_id) {
            Ok(())
        } else {
            Err(S3Error::with_message(
                S3ErrorCode::NoSuchUpload,
                "The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.",
            ))
        }
    }

    /// Marks a write under `key` (refused at once if even that finds the disk full).
    fn begin(&self, bucket_name: &str, key: &str) -> S3Result<UnfinishedWrite<'_>> {
        self.files
            .begin(bucket_name, key)
            .map_err(|error| answer(S3Error::internal_error(error)))
    }
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
    tracing::warn!(error = ?error.source(), "the store's disk is full: a write was refused");
    let mut full = S3Error::with_message(
        S3ErrorCode::Custom(STORAGE_FULL.into()),
        "The store's disk is full: nothing of this request was stored. Free some space, then try again.",
    );
    full.set_status_code(StatusCode::INSUFFICIENT_STORAGE);
    full
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
    if name == RunningStore::BUCKET {
        Ok(())
    } else {
        Err(S3Error::with_message(
            S3ErrorCode::AccessDenied,
            format!("This store serves only the bucket {}.", RunningStore::BUCKET),
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

    async fn head_object(&self, req: S3Request<HeadObjectInput>) -> S3Result<S3Response<HeadObjectOutput>> {
        object(&req.input.bucket, &req.input.key)?;
        self.fs.head_object(req).await
    }

    async fn get_object(&self, req: S3Request<GetObjectInput>) -> S3Result<S3Response<GetObjectOutput>> {
        object(&req.input.bucket, &req.input.key)?;
        self.fs.get_object(req).await
    }

    /// Also what a browser POST becomes (`S3::post_object`'s default).
    async fn put_object(&self, req: S3Request<PutObjectInput>) -> S3Result<S3Response<PutObjectOutput>> {
        object(&req.input.bucket, &req.input.key)?;
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
        self.fs.create_multipart_upload(req).await.map_err(answer)
    }

    async fn upload_part(&self, mut req: S3Request<UploadPartInput>) -> S3Result<S3Response<UploadPartOutput>> {
        object(&req.input.bucket, &req.input.key)?;
        self.in_progress(&req.input.upload_id)?;
        let trailer = req.headers.get("x-amz-trailer").and_then(|v| v.to_str().ok());
        let expected = part_digest::Expected::of(&req.input, trailer)?;
        let body = req
            .input
            .body
            .take()
            .ok_or_else(|| S3Error::new(S3ErrorCode::IncompleteBody))?;
        // (`s3s-fs` also checks the upload was started with the same access
        // key: the embedded store has one.)
        let input = &req.input;
        let trailers = req.trailing_headers.take();
        part_digest::write_part(
            self.files.root(),
            &input.upload_id,
            input.part_number,
            body,
            expected,
            move || trailers.and_then(|t| t.take()),
        )
        .await
        .map(S3Response::new)
        .map_err(answer)
    }

    async fn upload_part_copy(
        &self,
        req: S3Request<UploadPartCopyInput>,
    ) -> S3Result<S3Response<UploadPartCopyOutput>> {
        object(&req.input.bucket, &req.input.key)?;
        source(&req.input.copy_source)?;
        self.in_progress(&req.input.upload_id)?;
        // `s3s-fs` writes this part itself: the digests kept for an earlier copy no longer hold.
        part_digest::forget(self.files.root(), &req.input.upload_id, req.input.part_number).await?;
        self.fs.upload_part_copy(req).await.map_err(answer)
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
        self.in_progress(&req.input.upload_id)?;
        let named = req
            .input
            .multipart_upload
            .as_ref()
            .and_then(|u| u.parts.clone())
            .unwrap_or_default();
        let input = &req.input;
        // Conditional completions, which Courier does not make, are `s3s-fs`'s
        // (Courier's own checks each named part as it joins them).
        if input.if_match.is_some() || input.if_none_match.is_some() {
            part_digest::check_named(self.files.root(), &input.upload_id, &named).await?;
            let write = self.begin(&input.bucket, &input.key)?;
            let upload_id = input.upload_id.clone();
            let completed = end(write, self.fs.complete_multipart_upload(req).await)?;
            part_digest::forget_upload(self.files.root(), &upload_id).await;
            return Ok(completed);
        }
        let write = self.begin(&input.bucket, &input.key)?;
        let completed = assemble::complete(&self.files, &input.bucket, &input.key, &input.upload_id, &named).await;
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
        self.fs.abort_multipart_upload(req).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
        let fs = GuardedFs::new(s3s_fs::FileSystem::new(&root).expect("fs"), &root);
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
        let fs = GuardedFs::new(s3s_fs::FileSystem::new(&root).expect("fs"), &root);
        (dir, fs, StoreFiles::new(&root))
    }

    #[tokio::test]
    async fn a_put_whose_metadata_cannot_be_written_leaves_nothing_under_its_key() {
        let key = "uploads/6f1d1c52-3a55-4f4c-9a4e-1d7f25d1c0aa/a.txt";
        let (_dir, fs, files) = store();
        // s3s-fs renames each metadata file into place: a directory there
        // makes that fail after the object itself is in place.
        for in_the_way in [files.metadata("courier", key), files.internal_info("courier", key)] {
            std::fs::create_dir(&in_the_way).expect("mkdir");
            let an_hour_ago = std::time::SystemTime::now() - std::time::Duration::from_secs(3600);
            std::fs::File::open(&in_the_way)
                .and_then(|dir| dir.set_modified(an_hour_ago))
                .expect("mtime");
            let error = fs.put_object(put("courier", key)).await.expect_err("the put fails");
            assert_eq!(error.code(), &S3ErrorCode::InternalError, "not a full disk");
            assert!(!files.object("courier", key).exists(), "{}", in_the_way.display());
            let sidecars = [files.metadata("courier", key), files.internal_info("courier", key)];
            assert!(sidecars.iter().all(|path| !path.is_file()), "{}", in_the_way.display());
            // Its grant may try again.
            assert!(!files.object("courier", key).parent().expect("prefix").exists());
            std::fs::remove_dir(&in_the_way).expect("rmdir");
        }
        assert!(fs.put_object(put("courier", key)).await.is_ok());
        assert_eq!(std::fs::read(files.object("courier", key)).expect("stored"), b"evil");
    }

    #[tokio::test]
    async fn a_deleted_object_takes_its_metadata_files_along() {
        let key = "files/0123456789abcdef0123456789abcdef/a.txt";
        let (_dir, fs, files) = store();
        fs.put_object(put("courier", key)).await.expect("stored");
        assert!(files.metadata("courier", key).is_file() && files.internal_info("courier", key).is_file());
        let delete = DeleteObjectInput::builder()
            .bucket("courier".to_owned())
            .key(key.to_owned())
            .build()
            .expect("a delete");
        fs.delete_object(request(delete)).await.expect("deleted");
        assert_eq!(walk(files.root()), Vec::<std::path::PathBuf>::new());
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
