//! Every refusal the store answers itself, in front of `s3s` or around it
//! (a path outside the bucket, an unsigned form, a busy store, a body that
//! stalled), as one type built on `s3s::S3Error`: `s3s` writes its error
//! document, the same document it writes for its own refusals (S3's code, a
//! message and the request id, escaped as XML must be). The codes are S3's,
//! since S3 clients and Courier's page read them.

use std::borrow::Cow;

use axum::body::Body;
use axum::response::Response;
use http::StatusCode;
use s3s::{S3Error, S3ErrorCode};

/// The error code MinIO answers a full disk with (HTTP 507). AWS has none;
/// Ceph's RGW maps no errno to one (a bare `500 UnknownError`); a code S3
/// clients already know beats one made up here.
pub const STORAGE_FULL: &str = "XMinioStorageFull";

/// What AWS S3 says with `RequestTimeout`.
pub const S3_REQUEST_TIMEOUT: &str =
    "Your socket connection to the server was not read from or written to within the timeout period.";

/// What AWS S3 says with `IncompleteBody`.
pub const S3_INCOMPLETE_BODY: &str =
    "You did not provide the number of bytes specified by the Content-Length HTTP header.";

/// A refusal: S3's status, code and message.
#[derive(Debug)]
pub struct Refusal(S3Error);

impl Refusal {
    pub fn new(status: StatusCode, code: S3ErrorCode, message: impl Into<Cow<'static, str>>) -> Self {
        let mut error = S3Error::with_message(code, message);
        error.set_status_code(status);
        Self(error)
    }

    /// A code `s3s` does not know (MinIO's, or one of S3's it leaves out).
    pub fn custom(status: StatusCode, code: &'static str, message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(status, S3ErrorCode::Custom(code.into()), message)
    }

    /// `507 XMinioStorageFull`: the disk is full, or at the storage floor.
    pub fn storage_full(message: impl Into<Cow<'static, str>>) -> Self {
        Self::custom(StatusCode::INSUFFICIENT_STORAGE, STORAGE_FULL, message)
    }

    /// `400 RequestTimeout` (a body that stalled or trickled) or `400
    /// IncompleteBody` (one that broke off), worded as S3 words them.
    pub fn cut_body(why: courier_serve::StallKind) -> Self {
        match why {
            courier_serve::StallKind::Broken => {
                Self::new(StatusCode::BAD_REQUEST, S3ErrorCode::IncompleteBody, S3_INCOMPLETE_BODY)
            }
            _ => Self::new(StatusCode::BAD_REQUEST, S3ErrorCode::RequestTimeout, S3_REQUEST_TIMEOUT),
        }
    }

    pub fn status(&self) -> StatusCode {
        self.0.status_code().unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    pub fn code(&self) -> &str {
        self.0.code().as_str()
    }

    pub fn message(&self) -> &str {
        self.0.message().unwrap_or_default()
    }

    /// The answer, S3's error document with `request_id` in it: the one
    /// place the store writes a refusal.
    pub fn into_response(self, request_id: &str) -> Response {
        let status = self.status();
        let mut error = self.0;
        error.set_request_id(request_id);
        match error.to_http_response() {
            Ok(response) => response.map(Body::new),
            Err(error) => {
                // Only a failing XML writer gets here: the status still says it.
                tracing::error!(?error, "could not write an error document");
                let mut response = Response::new(Body::empty());
                *response.status_mut() = status;
                response
            }
        }
    }
}

impl From<Refusal> for S3Error {
    fn from(refusal: Refusal) -> Self {
        refusal.0
    }
}

#[cfg(test)]
mod tests {
    use http::header;
    use http_body_util::BodyExt as _;

    use super::*;

    #[tokio::test]
    async fn a_refusal_is_s3s_error_document_with_its_request_id() {
        let refusal = Refusal::new(
            StatusCode::BAD_REQUEST,
            S3ErrorCode::InvalidArgument,
            "The key \"a<b&c\" is not allowed.",
        );
        assert_eq!(
            (refusal.status(), refusal.code()),
            (StatusCode::BAD_REQUEST, "InvalidArgument")
        );
        let response = refusal.into_response("0A1B");
        assert_eq!(response.status(), StatusCode::BAD_REQUEST);
        assert_eq!(response.headers()[header::CONTENT_TYPE], "application/xml");
        let body = response.into_body().collect().await.expect("body").to_bytes();
        let body = String::from_utf8(body.to_vec()).expect("UTF-8");
        assert!(body.starts_with("<?xml"), "{body}");
        assert!(
            body.contains(
                "<Error><Code>InvalidArgument</Code><Message>The key &quot;a&lt;b&amp;c&quot; is not allowed.</Message><RequestId>0A1B</RequestId></Error>"
            ),
            "{body}"
        );
    }

    #[test]
    fn custom_codes_keep_their_status() {
        let full = Refusal::storage_full("full");
        assert_eq!(
            (full.status(), full.code()),
            (StatusCode::INSUFFICIENT_STORAGE, STORAGE_FULL)
        );
        let error = S3Error::from(Refusal::cut_body(courier_serve::StallKind::Idle));
        assert_eq!(error.code().as_str(), "RequestTimeout");
    }
}
