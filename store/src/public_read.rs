//! Public links (issue 12): a public file's link is its plain, unsigned
//! URL, so the embedded store answers anyone who GETs or HEADs a confirmed
//! public file (`public/files/<id>/<name>`) in its bucket, as an S3 bucket
//! policy granting `s3:GetObject` on `courier/public/files/*` would. An
//! upload under `public/uploads/` stays private until it is confirmed, as
//! on other stores: a grant alone never makes a file anyone can fetch.
//! Nothing else changes for anonymous requests: no writes, no listing (the
//! ids are the secret), no subresources (`?acl`, `?tagging`, `?uploadId`…),
//! no other bucket.
//!
//! `s3s` asks this hook about every request once it has checked the
//! signature and resolved the operation, so the decision is made on what
//! `s3s` itself will run, not on the URL as text. Signed requests pass
//! through untouched: their signature already decided.

use http::Method;
use s3s::access::{S3Access, S3AccessContext};
use s3s::dto::{GetObjectInput, HeadObjectInput};
use s3s::path::S3Path;
use s3s::{S3Error, S3ErrorCode, S3Request, S3Result};
use signer::LinkKind;
use signer::object_key::{KeyArea, ObjectKey};

use crate::layout::BUCKET;

/// The store's access control: signed requests, plus anonymous reads of
/// public files.
#[derive(Debug, Default)]
pub struct PublicRead;

/// Whether `key` in `bucket` is a confirmed public file, which anyone may
/// read. The signer's key grammar decides (it also refuses `..`, empty
/// segments and the like, whatever the guards in front already did).
pub fn is_public(bucket: &str, key: &str) -> bool {
    bucket == BUCKET
        && ObjectKey::parse(key).is_ok_and(|key| key.link() == LinkKind::Public && key.area() == KeyArea::Confirmed)
}

/// Whether an unsigned request may run `operation` on `path` at all: only a
/// GetObject (by GET) or HeadObject (by HEAD) of a public file.
fn anonymous_may(method: &Method, operation: &str, path: &S3Path) -> bool {
    let reads = matches!(
        (method, operation),
        (&Method::GET, "GetObject") | (&Method::HEAD, "HeadObject")
    );
    reads && matches!(path, S3Path::Object { bucket, key } if is_public(bucket, key))
}

/// What `s3s` answers an unsigned request by default.
fn signature_required() -> S3Error {
    S3Error::with_message(S3ErrorCode::AccessDenied, "Signature is required")
}

/// The parts of a GetObject or HeadObject that reach past a plain read.
struct ReadOptions {
    /// Any `response-*` override of the answer's headers.
    overrides_headers: bool,
    /// `partNumber` or `versionId`.
    selects_part_or_version: bool,
}

impl ReadOptions {
    /// A plain read serves the file as it was stored. S3 refuses header
    /// overrides on anonymous requests (they would let any page make the
    /// store serve a public file as, say, `text/html` inline), and so do we.
    fn check_anonymous(&self) -> S3Result<()> {
        if self.overrides_headers {
            return Err(S3Error::with_message(
                S3ErrorCode::InvalidRequest,
                "Request specific response headers cannot be used for anonymous GET requests.",
            ));
        }
        if self.selects_part_or_version {
            return Err(S3Error::with_message(
                S3ErrorCode::AccessDenied,
                "A public link reads the whole file: no part number or version.",
            ));
        }
        Ok(())
    }
}

/// GetObject and HeadObject take the same read options.
macro_rules! read_options_of {
    ($input:ty) => {
        impl From<&$input> for ReadOptions {
            fn from(input: &$input) -> Self {
                Self {
                    overrides_headers: input.response_cache_control.is_some()
                        || input.response_content_disposition.is_some()
                        || input.response_content_encoding.is_some()
                        || input.response_content_language.is_some()
                        || input.response_content_type.is_some()
                        || input.response_expires.is_some(),
                    selects_part_or_version: input.part_number.is_some() || input.version_id.is_some(),
                }
            }
        }
    };
}
read_options_of!(GetObjectInput);
read_options_of!(HeadObjectInput);

#[async_trait::async_trait]
impl S3Access for PublicRead {
    async fn check(&self, cx: &mut S3AccessContext<'_>) -> S3Result<()> {
        if cx.credentials().is_some() || anonymous_may(cx.method(), cx.s3_op().name(), cx.s3_path()) {
            Ok(())
        } else {
            Err(signature_required())
        }
    }

    // `check` let an anonymous request this far only for a public file; its
    // parsed input decides whether it is a plain read.
    async fn get_object(&self, req: &mut S3Request<GetObjectInput>) -> S3Result<()> {
        match req.credentials {
            Some(_) => Ok(()),
            None => ReadOptions::from(&req.input).check_anonymous(),
        }
    }

    async fn head_object(&self, req: &mut S3Request<HeadObjectInput>) -> S3Result<()> {
        match req.credentials {
            Some(_) => Ok(()),
            None => ReadOptions::from(&req.input).check_anonymous(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use s3s::auth::Credentials;

    const PUBLIC_KEY: &str = "public/files/0123456789abcdef0123456789abcdef/photo.jpg";

    fn object(bucket: &str, key: &str) -> S3Path {
        S3Path::Object {
            bucket: bucket.into(),
            key: key.into(),
        }
    }

    #[test]
    fn only_plain_reads_of_public_keys_in_our_bucket_go_unsigned() {
        let public = object("courier", PUBLIC_KEY);
        assert!(anonymous_may(&Method::GET, "GetObject", &public));
        assert!(anonymous_may(&Method::HEAD, "HeadObject", &public));
        for (method, operation) in [
            (Method::PUT, "PutObject"),
            (Method::PUT, "CopyObject"),
            (Method::DELETE, "DeleteObject"),
            (Method::GET, "GetObjectAcl"),
            (Method::GET, "GetObjectTagging"),
            (Method::GET, "GetObjectAttributes"),
            (Method::GET, "ListParts"),
            (Method::POST, "CreateMultipartUpload"),
            (Method::POST, "GetObject"),
        ] {
            assert!(!anonymous_may(&method, operation, &public), "{method} {operation}");
        }
        for path in [
            object("courier", "uploads/6f1d1c52-3a55-4f4c-9a4e-1d7f25d1c0aa/x"),
            object("courier", "files/0123456789abcdef0123456789abcdef/x"),
            // Not confirmed yet: private until then.
            object("courier", "public/uploads/6f1d1c52-3a55-4f4c-9a4e-1d7f25d1c0aa/x"),
            object("courier", "public/files/0123456789abcdef0123456789abcdef/"),
            object("courier", "public/files/0123456789ABCDEF0123456789ABCDEF/x"),
            object("courier", "public/0123456789abcdef0123456789abcdef/x"),
            object("courier", "public/x"),
            object("courier", "public/"),
            object("courier", "Public/files/0123456789abcdef0123456789abcdef/x"),
            object(
                "courier",
                "public/files/../../uploads/6f1d1c52-3a55-4f4c-9a4e-1d7f25d1c0aa/x",
            ),
            object("courier", "public/files/0123456789abcdef0123456789abcdef/../x"),
            object("courier", "public/files/0123456789abcdef0123456789abcdef//x"),
            object("other", PUBLIC_KEY),
            S3Path::Bucket {
                bucket: "courier".into(),
            },
            S3Path::Root,
        ] {
            assert!(!anonymous_may(&Method::GET, "GetObject", &path), "{path:?}");
        }
        // Listing public/ would hand out every public file's id.
        let bucket = S3Path::Bucket {
            bucket: "courier".into(),
        };
        assert!(!anonymous_may(&Method::GET, "ListObjectsV2", &bucket));
        assert!(!anonymous_may(&Method::GET, "ListObjects", &bucket));
    }

    fn get(input: GetObjectInput, signed: bool) -> S3Request<GetObjectInput> {
        S3Request {
            input,
            method: Method::GET,
            uri: http::Uri::from_static("/"),
            headers: http::HeaderMap::new(),
            extensions: http::Extensions::new(),
            credentials: signed.then(|| Credentials {
                access_key: "courier".to_owned(),
                secret_key: "secret".to_owned().into(),
            }),
            region: None,
            service: None,
            trailing_headers: None,
        }
    }

    fn plain() -> GetObjectInput {
        GetObjectInput::builder()
            .bucket("courier".to_owned())
            .key(PUBLIC_KEY.to_owned())
            .build()
            .expect("an input")
    }

    #[tokio::test]
    async fn an_anonymous_read_cannot_override_headers_or_pick_parts() {
        let access = PublicRead;
        assert!(access.get_object(&mut get(plain(), false)).await.is_ok());
        let mut disposition = plain();
        disposition.response_content_disposition = Some("inline".to_owned());
        let mut content_type = plain();
        content_type.response_content_type = Some("text/html".to_owned());
        for input in [disposition.clone(), content_type.clone()] {
            let error = access.get_object(&mut get(input, false)).await.err();
            assert_eq!(error.map(|e| e.code().clone()), Some(S3ErrorCode::InvalidRequest));
        }
        let mut part = plain();
        part.part_number = Some(1);
        let error = access.get_object(&mut get(part, false)).await.err();
        assert_eq!(error.map(|e| e.code().clone()), Some(S3ErrorCode::AccessDenied));
        // Signed links set the download name this way: they keep working.
        for input in [disposition, content_type] {
            assert!(access.get_object(&mut get(input, true)).await.is_ok());
        }
    }
}
