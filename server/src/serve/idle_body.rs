//! A request body that fails when the client stops sending for too long, so
//! a stalled request gives back what it holds (the store's request and
//! upload slots) instead of holding it until the connection drops. Unlike
//! `tower_http`'s `TimeoutBody`, it keeps the inner body's length hint,
//! which `s3s` reads.

use std::future::Future as _;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::Body;
use bytes::Bytes;
use http_body::{Frame, SizeHint};
use tokio::time::Sleep;

#[derive(Debug, thiserror::Error)]
#[error("the client sent nothing for {0:?}")]
pub struct BodyStalled(Duration);

pub struct IdleTimeoutBody {
    inner: Body,
    idle: Duration,
    /// Armed while the body waits for data; cleared whenever a frame comes,
    /// so a request whose body is never read costs no timer.
    deadline: Option<Pin<Box<Sleep>>>,
}

impl IdleTimeoutBody {
    pub fn new(inner: Body, idle: Duration) -> Self {
        Self {
            inner,
            idle,
            deadline: None,
        }
    }
}

impl http_body::Body for IdleTimeoutBody {
    type Data = Bytes;
    type Error = axum::BoxError;

    fn poll_frame(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let this = &mut *self;
        match Pin::new(&mut this.inner).poll_frame(cx) {
            Poll::Ready(frame) => {
                this.deadline = None;
                Poll::Ready(frame.map(|f| f.map_err(Into::into)))
            }
            Poll::Pending => {
                let idle = this.idle;
                let deadline = this.deadline.get_or_insert_with(|| Box::pin(tokio::time::sleep(idle)));
                match deadline.as_mut().poll(cx) {
                    Poll::Ready(()) => Poll::Ready(Some(Err(BodyStalled(idle).into()))),
                    Poll::Pending => Poll::Pending,
                }
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use futures::{StreamExt as _, stream};
    use http_body_util::BodyExt as _;

    use super::*;

    #[tokio::test]
    async fn a_body_that_stalls_fails_and_one_that_flows_does_not() {
        let stalls = Body::from_stream(
            stream::iter([Ok::<_, std::io::Error>(Bytes::from_static(b"some"))]).chain(stream::pending()),
        );
        let collected = IdleTimeoutBody::new(stalls, Duration::from_millis(100)).collect().await;
        assert!(collected.is_err_and(|e| e.to_string().contains("sent nothing")));

        // Slow but steady: each chunk within the idle time, the whole longer than it.
        let steady = Body::from_stream(stream::iter(0..5).then(|_| async {
            tokio::time::sleep(Duration::from_millis(40)).await;
            Ok::<_, std::io::Error>(Bytes::from_static(b"x"))
        }));
        let collected = IdleTimeoutBody::new(steady, Duration::from_millis(100)).collect().await;
        assert_eq!(collected.expect("whole").to_bytes().as_ref(), b"xxxxx");
    }

    #[tokio::test]
    async fn keeps_the_length_hint() {
        let body = IdleTimeoutBody::new(Body::from("12345"), Duration::from_secs(1));
        assert_eq!(http_body::Body::size_hint(&body).exact(), Some(5));
    }
}
