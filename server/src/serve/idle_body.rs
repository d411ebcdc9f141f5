//! A request body that fails when the client stops sending for too long, so
//! a stalled request gives back what it holds (the store's request and
//! upload slots) instead of holding it until the connection drops. Unlike
//! `tower_http`'s `TimeoutBody`, it keeps the inner body's length hint,
//! which `s3s` reads.
//!
//! Whatever read the body then fails in its own way (the app's extractors
//! with a 400, `s3s` with `400 InvalidRequest` "failed to read file
//! stream"), so the body also raises a [`Stall`] flag, and the serve loop
//! replaces that answer with one that says what happened
//! ([`StalledBodyAnswer`]) and closes the connection.

use std::future::Future as _;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::Body;
use axum::response::{IntoResponse as _, Response};
use bytes::Bytes;
use http::{HeaderMap, HeaderValue, StatusCode, header};
use http_body::{Frame, SizeHint};
use tokio::time::Sleep;

use app::error::CourierError;

#[derive(Debug, thiserror::Error)]
#[error("the client sent nothing for {0:?}")]
pub struct BodyStalled(Duration);

/// Raised by an [`IdleTimeoutBody`] when its client stopped sending; read by
/// the serve loop once the request is answered.
#[derive(Clone, Debug, Default)]
pub struct Stall(Arc<AtomicBool>);

impl Stall {
    pub fn happened(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }

    fn raise(&self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

pub struct IdleTimeoutBody {
    inner: Body,
    idle: Duration,
    /// Armed while the body waits for data; cleared whenever a frame comes,
    /// so a request whose body is never read costs no timer.
    deadline: Option<Pin<Box<Sleep>>>,
    stall: Stall,
}

impl IdleTimeoutBody {
    /// `inner`, failing after `idle` without data; `stall` is raised when it does.
    pub fn new(inner: Body, idle: Duration, stall: Stall) -> Self {
        Self {
            inner,
            idle,
            deadline: None,
            stall,
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
                    Poll::Ready(()) => {
                        this.stall.raise();
                        Poll::Ready(Some(Err(BodyStalled(idle).into())))
                    }
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

/// How a server tells a client that its request body stopped arriving.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StalledBodyAnswer {
    /// The app: `408 Request Timeout` with a sentence, as JSON or as a page
    /// (whichever the client's other refusals come as).
    Sentence,
    /// The embedded store: what S3 answers, `400` with the code `RequestTimeout`.
    S3,
}

/// What AWS S3 says with `RequestTimeout`.
pub const S3_REQUEST_TIMEOUT: &str =
    "Your socket connection to the server was not read from or written to within the timeout period.";

impl StalledBodyAnswer {
    /// Whether [`Self::answer`] needs the request's headers (to pick JSON or a page).
    pub fn reads_request_headers(self) -> bool {
        self == Self::Sentence
    }

    /// Replaces `answered`, given to a request whose body sent nothing for
    /// `idle`, with the answer that says so. The headers the server's layers
    /// added (CORS, security headers, the request id) stay; the connection
    /// closes, since the rest of the body may still come.
    pub fn answer(self, answered: Response, idle: Duration, request_headers: &HeaderMap) -> Response {
        let mut answer = match self {
            Self::Sentence => {
                let error = CourierError::BadRequest(stalled_sentence(idle));
                let mut answer = crate::respond::refusal(request_headers, &error);
                *answer.status_mut() = StatusCode::REQUEST_TIMEOUT;
                answer
            }
            Self::S3 => {
                let body = format!(
                    "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>RequestTimeout</Code><Message>{S3_REQUEST_TIMEOUT}</Message></Error>"
                );
                (
                    StatusCode::BAD_REQUEST,
                    [(header::CONTENT_TYPE, "application/xml")],
                    body,
                )
                    .into_response()
            }
        };
        let kept = answered.headers();
        for name in kept.keys() {
            if describes_the_body(name) || answer.headers().contains_key(name) {
                continue;
            }
            for value in kept.get_all(name) {
                answer.headers_mut().append(name.clone(), value.clone());
            }
        }
        answer
            .headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
        answer
    }
}

/// What the person is told: what happened, and what to do.
fn stalled_sentence(idle: Duration) -> String {
    let seconds = idle.as_secs_f64().ceil() as u64;
    let unit = if seconds == 1 { "second" } else { "seconds" };
    format!("The request stopped arriving: nothing came for {seconds} {unit}. Check your connection and send it again.")
}

/// Headers that belong to the answer being replaced, not to the server.
fn describes_the_body(name: &header::HeaderName) -> bool {
    [
        header::CONTENT_TYPE,
        header::CONTENT_LENGTH,
        header::CONTENT_ENCODING,
        header::CONTENT_DISPOSITION,
        header::CONTENT_RANGE,
        header::TRANSFER_ENCODING,
        header::ETAG,
        header::LAST_MODIFIED,
        header::LOCATION,
    ]
    .contains(name)
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
        let stall = Stall::default();
        let collected = IdleTimeoutBody::new(stalls, Duration::from_millis(100), stall.clone())
            .collect()
            .await;
        assert!(collected.is_err_and(|e| e.to_string().contains("sent nothing")));
        assert!(stall.happened(), "the stall is raised");

        // Slow but steady: each chunk within the idle time, the whole longer than it.
        let steady = Body::from_stream(stream::iter(0..5).then(|_| async {
            tokio::time::sleep(Duration::from_millis(40)).await;
            Ok::<_, std::io::Error>(Bytes::from_static(b"x"))
        }));
        let stall = Stall::default();
        let collected = IdleTimeoutBody::new(steady, Duration::from_millis(100), stall.clone())
            .collect()
            .await;
        assert_eq!(collected.expect("whole").to_bytes().as_ref(), b"xxxxx");
        assert!(!stall.happened());
    }

    #[tokio::test]
    async fn keeps_the_length_hint() {
        let body = IdleTimeoutBody::new(Body::from("12345"), Duration::from_secs(1), Stall::default());
        assert_eq!(http_body::Body::size_hint(&body).exact(), Some(5));
    }

    /// What an extractor answered to a body that failed, with the headers
    /// the server's layers added.
    fn answered() -> Response {
        (
            StatusCode::BAD_REQUEST,
            [
                (header::CONTENT_TYPE, "text/plain"),
                (header::ACCESS_CONTROL_ALLOW_ORIGIN, "http://127.0.0.1:3000"),
                (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
                (header::HeaderName::from_static("x-request-id"), "0f3a"),
            ],
            "Failed to buffer the request body",
        )
            .into_response()
    }

    async fn text(response: Response) -> String {
        let bytes = response.into_body().collect().await.expect("a body").to_bytes();
        String::from_utf8(bytes.to_vec()).expect("UTF-8")
    }

    #[tokio::test]
    async fn the_app_answers_408_with_a_sentence_and_closes() {
        let mut form_post = HeaderMap::new();
        form_post.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/x-www-form-urlencoded"),
        );
        let answer = StalledBodyAnswer::Sentence.answer(answered(), Duration::from_secs(30), &form_post);
        assert_eq!(answer.status(), StatusCode::REQUEST_TIMEOUT);
        let header = |name: &str| {
            answer
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        assert_eq!(header("connection").as_deref(), Some("close"));
        assert_eq!(header("content-type").as_deref(), Some("application/json"));
        assert_eq!(header("x-content-type-options").as_deref(), Some("nosniff"));
        assert_eq!(header("x-request-id").as_deref(), Some("0f3a"));
        let body: serde_json::Value = serde_json::from_str(&text(answer).await).expect("JSON");
        assert_eq!(
            body["error"],
            "The request stopped arriving: nothing came for 30 seconds. Check your connection and send it again."
        );

        // A browser's page gets a page; one second is a second.
        let answer = StalledBodyAnswer::Sentence.answer(answered(), Duration::from_millis(800), &HeaderMap::new());
        assert_eq!(answer.status(), StatusCode::REQUEST_TIMEOUT);
        assert!(text(answer).await.contains("nothing came for 1 second."));
    }

    #[tokio::test]
    async fn the_store_answers_as_s3_does_and_keeps_its_cors_headers() {
        let answer = StalledBodyAnswer::S3.answer(answered(), Duration::from_secs(30), &HeaderMap::new());
        assert_eq!(answer.status(), StatusCode::BAD_REQUEST);
        let headers = answer.headers().clone();
        assert_eq!(headers[header::CONNECTION], "close");
        assert_eq!(headers[header::CONTENT_TYPE], "application/xml");
        assert_eq!(headers[header::ACCESS_CONTROL_ALLOW_ORIGIN], "http://127.0.0.1:3000");
        let body = text(answer).await;
        assert!(
            body.contains(&format!(
                "<Code>RequestTimeout</Code><Message>{S3_REQUEST_TIMEOUT}</Message>"
            )),
            "{body}"
        );
    }
}
