//! `s3s-fs` stores a multipart part without looking at its `Content-MD5`;
//! S3 refuses a part whose bytes do not match it (`BadDigest`), which is
//! how a part damaged on the way is caught and sent again. The part's body
//! is hashed as it streams; a mismatch fails the stream at its end, before
//! `s3s-fs` moves the part into place, so nothing of it is kept.

use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};

use base64::Engine as _;
use bytes::Bytes;
use futures::Stream;
use md5::{Digest as _, Md5};
use s3s::dto::StreamingBlob;
use s3s::stream::{ByteStream, RemainingLength};
use s3s::{S3Error, S3ErrorCode, S3Result};

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

/// `body`, failing at its end unless its MD5 is `expected`; `failed` says
/// that this is why it failed.
pub fn checked(body: StreamingBlob, expected: [u8; 16], failed: Arc<AtomicBool>) -> StreamingBlob {
    StreamingBlob::new(Checked {
        body,
        hash: Some(Md5::new()),
        expected,
        failed,
    })
}

#[derive(Debug, thiserror::Error)]
#[error("the part's bytes do not match its Content-MD5")]
struct DigestMismatch;

struct Checked {
    body: StreamingBlob,
    /// Taken once the body has ended.
    hash: Option<Md5>,
    expected: [u8; 16],
    failed: Arc<AtomicBool>,
}

impl ByteStream for Checked {
    fn remaining_length(&self) -> RemainingLength {
        self.body.remaining_length()
    }
}

impl Stream for Checked {
    type Item = Result<Bytes, s3s::StdError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        match Pin::new(&mut self.body).poll_next(cx) {
            Poll::Ready(Some(Ok(bytes))) => {
                if let Some(hash) = self.hash.as_mut() {
                    hash.update(&bytes);
                }
                Poll::Ready(Some(Ok(bytes)))
            }
            Poll::Ready(Some(Err(error))) => Poll::Ready(Some(Err(error))),
            Poll::Ready(None) => {
                let matches = self
                    .hash
                    .take()
                    .is_none_or(|hash| hash.finalize().as_slice() == self.expected);
                if matches {
                    Poll::Ready(None)
                } else {
                    self.failed.store(true, Ordering::SeqCst);
                    Poll::Ready(Some(Err(Box::new(DigestMismatch))))
                }
            }
            Poll::Pending => Poll::Pending,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::StreamExt as _;

    fn blob(pieces: &[&'static [u8]]) -> StreamingBlob {
        let pieces: Vec<_> = pieces
            .iter()
            .map(|p| Ok::<_, std::io::Error>(Bytes::from_static(p)))
            .collect();
        StreamingBlob::wrap(futures::stream::iter(pieces))
    }

    async fn read(body: StreamingBlob) -> Result<Vec<u8>, String> {
        let mut body = body;
        let mut all = Vec::new();
        while let Some(piece) = body.next().await {
            all.extend_from_slice(&piece.map_err(|e| e.to_string())?);
        }
        Ok(all)
    }

    #[tokio::test]
    async fn matching_bytes_flow_and_others_fail_at_the_end() {
        let digest: [u8; 16] = Md5::digest(b"hello world").into();
        let failed = Arc::new(AtomicBool::new(false));
        let body = checked(blob(&[b"hello ", b"world"]), digest, failed.clone());
        assert_eq!(read(body).await, Ok(b"hello world".to_vec()));
        assert!(!failed.load(Ordering::SeqCst));

        let body = checked(blob(&[b"hello ", b"w0rld"]), digest, failed.clone());
        assert!(read(body).await.is_err());
        assert!(failed.load(Ordering::SeqCst));
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
