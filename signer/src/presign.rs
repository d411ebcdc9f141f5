//! Presigned GET URLs (and multipart parts' PUT URLs), SigV4 query signing
//! written out: the AWS SDK's
//! presigner builds a whole request through its middleware stack for each
//! link (about 65 µs); this is a canonical request, one SHA-256 and one HMAC
//! under the cached day key. Proven against AWS's published example and
//! against botocore for random keys and names (`tests/presign_vectors.rs`).

use std::fmt::Write as _;
use std::time::Duration;

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use sha2::{Digest, Sha256};
use time::OffsetDateTime;
use url::Url;

use crate::credentials::SigningIdentity;
use crate::object_key::KEY_PATH;
use crate::post_policy::ALGORITHM;
use crate::sigv4::push_hex;
use crate::utc::amz_date;

/// SigV4's URI encoding: everything but the unreserved characters.
const QUERY_VALUE: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');

/// S3 refuses a presigned URL that lives longer than a week.
pub const MAX_EXPIRY: Duration = Duration::from_secs(7 * 24 * 60 * 60);

/// Where a bucket's objects are, split the way SigV4 needs it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BucketUrl {
    /// `scheme://host[:port]`
    origin: String,
    /// `host[:port]`, as the `Host` header carries it.
    host: String,
    /// The path up to the key: `/bucket` (path style) or empty (virtual-hosted).
    path: String,
}

#[derive(Debug, thiserror::Error)]
#[error("{0} is not a bucket URL (expected http(s)://host[:port][/bucket])")]
pub struct BucketUrlError(String);

impl BucketUrl {
    /// `scheme://host[:port]`
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// From the URL the browser POSTs to (path style `…/bucket`, or the
    /// bucket's own host).
    pub fn parse(raw: &str) -> Result<Self, BucketUrlError> {
        let url = Url::parse(raw).map_err(|_| BucketUrlError(raw.to_owned()))?;
        let host = url.host_str().ok_or_else(|| BucketUrlError(raw.to_owned()))?;
        // `port()` is None for the scheme's default port, as `Host` wants.
        let host = match url.port() {
            Some(port) => format!("{host}:{port}"),
            None => host.to_owned(),
        };
        Ok(Self {
            origin: format!("{}://{host}", url.scheme()),
            host,
            path: url.path().trim_end_matches('/').to_owned(),
        })
    }
}

/// One GET to presign.
#[derive(Clone, Copy, Debug)]
pub struct GetObject<'a> {
    pub key: &'a str,
    /// `response-cache-control`: what the store answers as `Cache-Control`.
    pub cache_control: Option<&'a str>,
    /// `response-content-disposition`: how the browser saves the download.
    pub content_disposition: Option<&'a str>,
    /// Capped at [`MAX_EXPIRY`].
    pub expires_in: Duration,
}

/// The presigned URL for `get`, valid from `now`.
pub fn presign_get(identity: &SigningIdentity, bucket: &BucketUrl, get: GetObject<'_>, now: OffsetDateTime) -> String {
    // Sorted by name, as `Presigned::query` must be.
    let overrides = [
        ("response-cache-control", get.cache_control),
        ("response-content-disposition", get.content_disposition),
    ];
    let mut query = [("", ""); 2];
    let mut count = 0;
    for (name, value) in overrides {
        if let Some(value) = value {
            query[count] = (name, value);
            count += 1;
        }
    }
    presign(
        Presigned {
            method: "GET",
            key: get.key,
            expires_in: get.expires_in,
            query: &query[..count],
            headers: &[],
        },
        identity,
        bucket,
        now,
    )
}

/// One part of a multipart upload to presign: the store takes exactly
/// `size` bytes, and where `sha256` (base64) is given only bytes with that
/// SHA-256 (`x-amz-checksum-sha256`; the upload must have been created with
/// that checksum algorithm).
#[derive(Clone, Copy, Debug)]
pub struct UploadPart<'a> {
    pub key: &'a str,
    pub upload_id: &'a str,
    pub number: u32,
    pub size: u64,
    pub sha256: Option<&'a str>,
    pub expires_in: Duration,
}

/// The presigned `UploadPart` PUT for `part`, valid from `now`.
pub fn presign_upload_part(
    identity: &SigningIdentity,
    bucket: &BucketUrl,
    part: UploadPart<'_>,
    now: OffsetDateTime,
) -> String {
    let number = part.number.to_string();
    let size = part.size.to_string();
    let with_checksum;
    let headers: &[(&str, &str)] = match part.sha256 {
        Some(sha256) => {
            with_checksum = [("content-length", size.as_str()), ("x-amz-checksum-sha256", sha256)];
            &with_checksum
        }
        None => &[("content-length", &size)],
    };
    presign(
        Presigned {
            method: "PUT",
            key: part.key,
            expires_in: part.expires_in,
            query: &[("partNumber", &number), ("uploadId", part.upload_id)],
            headers,
        },
        identity,
        bucket,
        now,
    )
}

/// What one presigned request signs besides `host`.
struct Presigned<'a> {
    method: &'a str,
    key: &'a str,
    expires_in: Duration,
    /// Parameters after the `X-Amz-*` ones, sorted by name (byte order: all
    /// of Courier's are lower-case, so they sort after `X-Amz-*`).
    query: &'a [(&'a str, &'a str)],
    /// Headers the request must carry with these exact values, besides
    /// `host`, sorted by name.
    headers: &'a [(&'a str, &'a str)],
}

fn presign(request: Presigned<'_>, identity: &SigningIdentity, bucket: &BucketUrl, now: OffsetDateTime) -> String {
    let amz_date = amz_date(now);
    let day = &amz_date[..8];
    let region = identity.day_key.region();
    let scope = format!("{day}/{region}/s3/aws4_request");
    let path = format!("{}/{}", bucket.path, utf8_percent_encode(request.key, KEY_PATH));
    let mut signed_headers = String::with_capacity(64);
    for (name, _) in with_host(request.headers, &bucket.host) {
        if !signed_headers.is_empty() {
            signed_headers.push(';');
        }
        signed_headers.push_str(name);
    }

    let mut query = String::with_capacity(512);
    let _ = write!(
        query,
        "X-Amz-Algorithm={ALGORITHM}&X-Amz-Credential={}%2F{}&X-Amz-Date={amz_date}&X-Amz-Expires={}",
        utf8_percent_encode(&identity.access_key_id, QUERY_VALUE),
        utf8_percent_encode(&scope, QUERY_VALUE),
        request.expires_in.min(MAX_EXPIRY).as_secs(),
    );
    if let Some(token) = &identity.session_token {
        let _ = write!(
            query,
            "&X-Amz-Security-Token={}",
            utf8_percent_encode(token, QUERY_VALUE)
        );
    }
    let _ = write!(
        query,
        "&X-Amz-SignedHeaders={}",
        utf8_percent_encode(&signed_headers, QUERY_VALUE)
    );
    for (name, value) in request.query {
        let _ = write!(query, "&{name}={}", utf8_percent_encode(value, QUERY_VALUE));
    }

    let mut canonical_request = String::with_capacity(1024);
    let _ = write!(canonical_request, "{}\n{path}\n{query}\n", request.method);
    for (name, value) in with_host(request.headers, &bucket.host) {
        let _ = writeln!(canonical_request, "{name}:{}", value.trim());
    }
    let _ = write!(canonical_request, "\n{signed_headers}\nUNSIGNED-PAYLOAD");
    let mut string_to_sign = format!("{ALGORITHM}\n{amz_date}\n{scope}\n");
    push_hex(&mut string_to_sign, &Sha256::digest(canonical_request.as_bytes()));
    let signature = identity.day_key.sign(now, string_to_sign.as_bytes());
    format!("{}{path}?{query}&X-Amz-Signature={signature}", bucket.origin)
}

/// `headers` (sorted by name) with `host` in its place among them, as
/// SigV4 lists signed headers.
fn with_host<'a>(headers: &'a [(&'a str, &'a str)], host: &'a str) -> impl Iterator<Item = (&'a str, &'a str)> {
    let before = headers.iter().copied().filter(|(name, _)| *name < "host");
    let after = headers.iter().copied().filter(|(name, _)| *name > "host");
    before.chain(std::iter::once(("host", host))).chain(after)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::post_policy::SigningCredentials;
    use time::macros::datetime;

    fn example_identity(session_token: Option<&str>) -> SigningIdentity {
        SigningIdentity::new(
            &SigningCredentials {
                access_key_id: "AKIAIOSFODNN7EXAMPLE".to_owned(),
                secret_access_key: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY".to_owned(),
                session_token: session_token.map(str::to_owned),
            },
            "us-east-1",
        )
    }

    #[test]
    fn signs_the_aws_published_presigned_get_exactly() {
        // "Authenticating Requests: Using Query Parameters (AWS Signature
        // Version 4)", S3 API reference: GET examplebucket/test.txt.
        let bucket = BucketUrl::parse("https://examplebucket.s3.amazonaws.com").expect("bucket URL");
        let get = GetObject {
            key: "test.txt",
            cache_control: None,
            content_disposition: None,
            expires_in: Duration::from_secs(86400),
        };
        let url = presign_get(&example_identity(None), &bucket, get, datetime!(2013-05-24 00:00 UTC));
        assert_eq!(
            url,
            "https://examplebucket.s3.amazonaws.com/test.txt\
             ?X-Amz-Algorithm=AWS4-HMAC-SHA256\
             &X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request\
             &X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host\
             &X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404"
        );
    }

    #[test]
    fn bucket_urls_keep_port_and_path_style_bucket() {
        let path_style = BucketUrl::parse("http://127.0.0.1:9000/courier/").expect("bucket URL");
        assert_eq!(path_style.origin, "http://127.0.0.1:9000");
        assert_eq!(path_style.host, "127.0.0.1:9000");
        assert_eq!(path_style.path, "/courier");
        let default_port = BucketUrl::parse("https://files.s3.eu-west-1.amazonaws.com:443").expect("bucket URL");
        assert_eq!(default_port.host, "files.s3.eu-west-1.amazonaws.com");
        assert_eq!(default_port.path, "");
        let v6 = BucketUrl::parse("http://[::1]:3900/b").expect("bucket URL");
        assert_eq!(v6.host, "[::1]:3900");
        assert!(BucketUrl::parse("not a url").is_err());
    }

    #[test]
    fn a_session_token_is_signed_and_the_expiry_capped() {
        let bucket = BucketUrl::parse("http://127.0.0.1:9000/courier").expect("bucket URL");
        let get = GetObject {
            key: "files/0123/a b+ü.txt",
            cache_control: Some("no-store"),
            content_disposition: Some("attachment; filename=\"a b.txt\""),
            expires_in: Duration::from_secs(30 * 24 * 3600),
        };
        let url = presign_get(
            &example_identity(Some("tok/en=")),
            &bucket,
            get,
            datetime!(2026-01-01 00:00 UTC),
        );
        assert!(url.starts_with("http://127.0.0.1:9000/courier/files/0123/a%20b%2B%C3%BC.txt?"));
        assert!(url.contains("&X-Amz-Expires=604800&"));
        assert!(url.contains("&X-Amz-Security-Token=tok%2Fen%3D&"));
        assert!(url.contains(
            "&response-cache-control=no-store&response-content-disposition=attachment%3B%20filename%3D%22a%20b.txt%22&"
        ));
    }
}
