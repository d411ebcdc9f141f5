//! `s3s-fs` behind one more check, at the last place a key passes before it
//! becomes a path: every operation Courier's store offers names only the
//! `courier` bucket and keys that pass `check_store_key`, whatever the HTTP
//! layers in front parsed (a browser POST's key comes from its form, where
//! two multipart parsers could read different fields). Operations not listed
//! here (creating or deleting buckets, listing them, bucket settings) are
//! not offered at all.

use s3s::dto::*;
use s3s::{S3, S3Error, S3ErrorCode, S3Request, S3Response, S3Result};
use signer::object_key::check_store_key;

use super::RunningStore;

pub struct GuardedFs(pub s3s_fs::FileSystem);

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
        self.0.head_bucket(req).await
    }

    async fn get_bucket_location(
        &self,
        req: S3Request<GetBucketLocationInput>,
    ) -> S3Result<S3Response<GetBucketLocationOutput>> {
        bucket(&req.input.bucket)?;
        self.0.get_bucket_location(req).await
    }

    async fn list_objects(&self, req: S3Request<ListObjectsInput>) -> S3Result<S3Response<ListObjectsOutput>> {
        bucket(&req.input.bucket)?;
        self.0.list_objects(req).await
    }

    async fn list_objects_v2(&self, req: S3Request<ListObjectsV2Input>) -> S3Result<S3Response<ListObjectsV2Output>> {
        bucket(&req.input.bucket)?;
        self.0.list_objects_v2(req).await
    }

    async fn head_object(&self, req: S3Request<HeadObjectInput>) -> S3Result<S3Response<HeadObjectOutput>> {
        object(&req.input.bucket, &req.input.key)?;
        self.0.head_object(req).await
    }

    async fn get_object(&self, req: S3Request<GetObjectInput>) -> S3Result<S3Response<GetObjectOutput>> {
        object(&req.input.bucket, &req.input.key)?;
        self.0.get_object(req).await
    }

    /// Also what a browser POST becomes (`S3::post_object`'s default).
    async fn put_object(&self, req: S3Request<PutObjectInput>) -> S3Result<S3Response<PutObjectOutput>> {
        object(&req.input.bucket, &req.input.key)?;
        self.0.put_object(req).await
    }

    async fn copy_object(&self, req: S3Request<CopyObjectInput>) -> S3Result<S3Response<CopyObjectOutput>> {
        object(&req.input.bucket, &req.input.key)?;
        source(&req.input.copy_source)?;
        self.0.copy_object(req).await
    }

    async fn delete_object(&self, req: S3Request<DeleteObjectInput>) -> S3Result<S3Response<DeleteObjectOutput>> {
        object(&req.input.bucket, &req.input.key)?;
        self.0.delete_object(req).await
    }

    async fn delete_objects(&self, req: S3Request<DeleteObjectsInput>) -> S3Result<S3Response<DeleteObjectsOutput>> {
        bucket(&req.input.bucket)?;
        for id in &req.input.delete.objects {
            object(&req.input.bucket, &id.key)?;
        }
        self.0.delete_objects(req).await
    }

    async fn create_multipart_upload(
        &self,
        req: S3Request<CreateMultipartUploadInput>,
    ) -> S3Result<S3Response<CreateMultipartUploadOutput>> {
        object(&req.input.bucket, &req.input.key)?;
        self.0.create_multipart_upload(req).await
    }

    async fn upload_part(&self, req: S3Request<UploadPartInput>) -> S3Result<S3Response<UploadPartOutput>> {
        object(&req.input.bucket, &req.input.key)?;
        self.0.upload_part(req).await
    }

    async fn upload_part_copy(
        &self,
        req: S3Request<UploadPartCopyInput>,
    ) -> S3Result<S3Response<UploadPartCopyOutput>> {
        object(&req.input.bucket, &req.input.key)?;
        source(&req.input.copy_source)?;
        self.0.upload_part_copy(req).await
    }

    async fn list_parts(&self, req: S3Request<ListPartsInput>) -> S3Result<S3Response<ListPartsOutput>> {
        object(&req.input.bucket, &req.input.key)?;
        self.0.list_parts(req).await
    }

    async fn complete_multipart_upload(
        &self,
        req: S3Request<CompleteMultipartUploadInput>,
    ) -> S3Result<S3Response<CompleteMultipartUploadOutput>> {
        object(&req.input.bucket, &req.input.key)?;
        self.0.complete_multipart_upload(req).await
    }

    async fn abort_multipart_upload(
        &self,
        req: S3Request<AbortMultipartUploadInput>,
    ) -> S3Result<S3Response<AbortMultipartUploadOutput>> {
        object(&req.input.bucket, &req.input.key)?;
        self.0.abort_multipart_upload(req).await
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
        let fs = GuardedFs(s3s_fs::FileSystem::new(dir.path()).expect("fs"));
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
