//! A body checked against the SHA-256 its request declares
//! (`x-amz-content-sha256: <64 hex digits>`), as S3 checks it. `s3s`
//! answered a mismatch on a part URL with `500 InternalError`, and took one
//! on a header-signed PUT without a word; S3 answers
//! `400 XAmzContentSHA256Mismatch` and stores nothing. The body fails at its
//! end when the digest differs, so what was being written is undone (every
//! write is whole or nothing), and the request is answered as S3 answers it.

use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};

use axum::body::Body;
use bytes::Bytes;
use http::{HeaderMap, StatusCode};
use http_body::{Frame, SizeHint};
use sha2::{Digest as _, Sha256};

use crate::refusal::Refusal;

pub const MISMATCH: &str = "The provided 'x-amz-content-sha256' header does not match what was computed.";

/// What S3 answers a body that is not what its header declared.
pub fn mismatch() -> Refusal {
    Refusal::custom(StatusCode::BAD_REQUEST, "XAmzContentSHA256Mismatch", MISMATCH)
}

/// The digest a request declares for its body, if it declares one (not
/// `UNSIGNED-PAYLOAD` or a streaming mode).
pub fn declared(headers: &HeaderMap) -> Option<[u8; 32]> {
    let value = headers.get("x-amz-content-sha256")?.to_str().ok()?;
    let mut digest = [0u8; 32];
    hex::decode_to_slice(value.to_ascii_lowercase(), &mut digest).ok()?;
    Some(digest)
}

/// Raised when a body's digest differed from its declared one.
#[derive(Clone, Debug, Default)]
pub struct Mismatched(Arc<AtomicBool>);

impl Mismatched {
    pub fn happened(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }
}

#[derive(Debug, thiserror::Error)]
#[error("{MISMATCH}")]
struct DigestMismatch;

pub struct CheckedBody {
    inner: Body,
    declared: [u8; 32],
    hasher: Option<Sha256>,
    mismatched: Mismatched,
}

impl CheckedBody {
    pub fn new(inner: Body, declared: [u8; 32], mismatched: Mismatched) -> Self {
        Self {
            inner,
            declared,
            hasher: Some(Sha256::new()),
            mismatched,
        }
    }

    /// `Err` once the body is whole and its digest is not the declared one.
    fn finish(&mut self) -> Result<(), DigestMismatch> {
        let Some(hasher) = self.hasher.take() else {
            return Ok(());
        };
        if hasher.finalize().as_slice() == self.declared {
            return Ok(());
        }
        self.mismatched.0.store(true, Ordering::Relaxed);
        Err(DigestMismatch)
    }
}

impl http_body::Body for CheckedBody {
    type Data = Bytes;
    type Error = axum::BoxError;

    fn poll_frame(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let this = &mut *self;
        match Pin::new(&mut this.inner).poll_frame(cx) {
            Poll::Ready(Some(Ok(frame))) => {
                if let (Some(hasher), Some(data)) = (this.hasher.as_mut(), frame.data_ref()) {
                    hasher.update(data);
                }
                // The last bytes: judged before they are handed on, so the
                // reader never sees a whole body that is wrong.
                if this.inner.is_end_stream()
                    && let Err(mismatch) = this.finish()
                {
                    return Poll::Ready(Some(Err(mismatch.into())));
                }
                Poll::Ready(Some(Ok(frame)))
            }
            Poll::Ready(None) => match this.finish() {
                Ok(()) => Poll::Ready(None),
                Err(mismatch) => Poll::Ready(Some(Err(mismatch.into()))),
            },
            Poll::Ready(Some(Err(error))) => Poll::Ready(Some(Err(error.into()))),
            Poll::Pending => Poll::Pending,
        }
    }

    fn is_end_stream(&self) -> bool {
        // Not over until the digest was judged.
        self.hasher.is_none() && self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use http_body_util::BodyExt as _;

    use super::*;

    fn digest(bytes: &[u8]) -> [u8; 32] {
        Sha256::digest(bytes).into()
    }

    #[tokio::test]
    async fn a_body_that_is_what_it_declares_goes_through_and_another_fails() {
        let mismatched = Mismatched::default();
        let body = CheckedBody::new(Body::from("hello"), digest(b"hello"), mismatched.clone());
        assert_eq!(body.collect().await.expect("whole").to_bytes().as_ref(), b"hello");
        assert!(!mismatched.happened());

        let mismatched = Mismatched::default();
        let body = CheckedBody::new(Body::from("hello"), [0; 32], mismatched.clone());
        assert!(body.collect().await.is_err());
        assert!(mismatched.happened());
    }

    #[test]
    fn only_a_hex_digest_is_declared() {
        let mut headers = HeaderMap::new();
        headers.insert("x-amz-content-sha256", "UNSIGNED-PAYLOAD".parse().expect("value"));
        assert_eq!(declared(&headers), None);
        let hex = hex::encode(digest(b"x")).to_ascii_uppercase();
        headers.insert("x-amz-content-sha256", hex.parse().expect("value"));
        assert_eq!(declared(&headers), Some(digest(b"x")));
    }
}
