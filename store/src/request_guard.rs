//! What every request to the embedded store may name: our one bucket, and
//! keys that stay keys. `s3s-fs` maps a key to a path on disk and resolves
//! `..` there, so `uploads/<mine>/../<yours>/x` would overwrite another
//! upload; the same holds for a copy's source (`x-amz-copy-source`), which
//! would read any file under the data directory.

use http::{Request, StatusCode};
use s3s::S3ErrorCode;
use signer::object_key::check_store_key;

use crate::refusal::Refusal;

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum GuardRefusal {
    #[error("This store serves only the bucket {0}.")]
    OtherBucket(String),
    #[error(
        "The key {0:?} is not allowed: keys have no empty, \".\" or \"..\" segments, backslashes or control characters."
    )]
    Key(String),
    #[error("The request path is not valid UTF-8 once decoded.")]
    Path,
    /// What AWS answers a presigned URL that would live longer than SigV4
    /// allows (`s3s` signed for any length).
    #[error("X-Amz-Expires must be less than a week (in seconds) that is; 604800")]
    ExpiresTooLong,
}

impl From<GuardRefusal> for Refusal {
    fn from(refused: GuardRefusal) -> Self {
        let (status, code) = match refused {
            GuardRefusal::OtherBucket(_) => (StatusCode::FORBIDDEN, S3ErrorCode::AccessDenied),
            GuardRefusal::Key(_) | GuardRefusal::Path => (StatusCode::BAD_REQUEST, S3ErrorCode::InvalidArgument),
            GuardRefusal::ExpiresTooLong => (StatusCode::BAD_REQUEST, S3ErrorCode::AuthorizationQueryParametersError),
        };
        Refusal::new(status, code, refused.to_string())
    }
}

/// What a request addresses.
#[derive(Debug, PartialEq, Eq)]
pub enum Target {
    /// The bucket itself (list, POST form upload, bucket settings).
    Bucket,
    /// One object.
    Object(String),
}

/// The longest a presigned URL may live: SigV4's seven days.
const LONGEST_PRESIGNED_SECS: u64 = 7 * 24 * 3600;

/// Checks the path and any copy source against `bucket` and the key rules,
/// and a presigned URL's lifetime against SigV4's.
pub fn check<B>(request: &Request<B>, bucket: &str) -> Result<Target, GuardRefusal> {
    let target = bucket_and_key(request.uri().path(), bucket)?;
    let expires = request
        .uri()
        .query()
        .into_iter()
        .flat_map(|query| query.split('&'))
        .find_map(|pair| pair.strip_prefix("X-Amz-Expires="));
    if let Some(expires) = expires
        && expires.parse::<u64>().is_ok_and(|secs| secs > LONGEST_PRESIGNED_SECS)
    {
        return Err(GuardRefusal::ExpiresTooLong);
    }
    if let Some(source) = request.headers().get("x-amz-copy-source") {
        let source = source.to_str().map_err(|_| GuardRefusal::Path)?;
        // `bucket/key`, percent-encoded, maybe with a leading `/` and a `?versionId=`.
        let source = source.split('?').next().unwrap_or_default();
        let source = format!("/{}", source.trim_start_matches('/'));
        if bucket_and_key(&source, bucket)? == Target::Bucket {
            return Err(GuardRefusal::Key(String::new()));
        }
    }
    Ok(target)
}

fn bucket_and_key(path: &str, bucket: &str) -> Result<Target, GuardRefusal> {
    let decoded = percent_encoding::percent_decode_str(path)
        .decode_utf8()
        .map_err(|_| GuardRefusal::Path)?;
    let rest = decoded.strip_prefix('/').unwrap_or(&decoded);
    let (named, key) = rest.split_once('/').unwrap_or((rest, ""));
    if named != bucket {
        return Err(GuardRefusal::OtherBucket(bucket.to_owned()));
    }
    if key.is_empty() {
        return Ok(Target::Bucket);
    }
    check_store_key(key).map_err(|_| GuardRefusal::Key(key.to_owned()))?;
    Ok(Target::Object(key.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(method: &str, uri: &str, copy_source: Option<&str>) -> Result<Target, GuardRefusal> {
        let mut request = Request::builder().method(method).uri(uri);
        if let Some(source) = copy_source {
            request = request.header("x-amz-copy-source", source);
        }
        check(&request.body(()).expect("request"), "courier")
    }

    #[test]
    fn our_bucket_and_plain_keys_pass() {
        assert_eq!(target("POST", "/courier", None), Ok(Target::Bucket));
        assert_eq!(target("GET", "/courier/?list-type=2", None), Ok(Target::Bucket));
        assert_eq!(
            target(
                "GET",
                "/courier/uploads/a/r%C3%A9sum%C3%A9%202026.pdf?X-Amz-Signature=x",
                None
            ),
            Ok(Target::Object("uploads/a/résumé 2026.pdf".to_owned()))
        );
        assert_eq!(
            target("PUT", "/courier/files/b/x", Some("courier/uploads/a/x?versionId=1")),
            Ok(Target::Object("files/b/x".to_owned()))
        );
        // Public files are keys like any other (signed writes, anonymous reads).
        assert_eq!(
            target("PUT", "/courier/public/files/c/x", Some("courier/public/uploads/a/x")),
            Ok(Target::Object("public/files/c/x".to_owned()))
        );
    }

    #[test]
    fn a_presigned_url_lives_a_week_at_most() {
        assert!(target("GET", "/courier/files/a/x?X-Amz-Expires=604800&X-Amz-Signature=s", None).is_ok());
        assert_eq!(
            target("GET", "/courier/files/a/x?X-Amz-Expires=604801&X-Amz-Signature=s", None),
            Err(GuardRefusal::ExpiresTooLong)
        );
    }

    #[test]
    fn other_buckets_and_the_root_are_refused() {
        for uri in ["/", "/other", "/other/x", "/courier-2/x", "/.bucket-x/y"] {
            assert!(
                matches!(target("GET", uri, None), Err(GuardRefusal::OtherBucket(_))),
                "{uri}"
            );
        }
        assert!(matches!(
            target("PUT", "/courier/x", Some("/other/x")),
            Err(GuardRefusal::OtherBucket(_))
        ));
    }

    #[test]
    fn keys_that_escape_are_refused_however_encoded() {
        for uri in [
            "/courier/uploads/a/../b/x",
            "/courier/uploads/a/%2e%2e/b/x",
            "/courier/public/files/%2E%2E/%2e%2e/uploads/b/x",
            "/courier/public%2Ffiles%2F..%2F..%2Fuploads%2Fb%2Fx",
            "/courier/uploads/a%2F..%2Fb%2Fx",
            "/courier/uploads/a/./x",
            "/courier/uploads//x",
            "/courier/uploads/a/x/",
            "/courier/uploads/a%5Cx",
            "/courier/uploads/a%00x",
            "/courier/..",
        ] {
            assert!(matches!(target("PUT", uri, None), Err(GuardRefusal::Key(_))), "{uri}");
        }
        for source in ["courier/../credentials.json", "/courier/uploads/a/%2E%2E/b", "courier/"] {
            assert!(
                matches!(
                    target("PUT", "/courier/files/b/x", Some(source)),
                    Err(GuardRefusal::Key(_))
                ),
                "{source}"
            );
        }
        assert_eq!(target("GET", "/courier/%FF", None), Err(GuardRefusal::Path));
    }
}
