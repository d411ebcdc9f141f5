//! A request body that fails when the client stops sending for too long, or
//! sends slower than a floor ([`BodyRate`]), so a stalled or trickled
//! request gives back what it holds (the store's request and upload slots, a
//! connection) instead of holding it for hours: one byte every ten seconds
//! never leaves a body idle, and a part URL signs an 8 MiB length. Unlike
//! `tower_http`'s `TimeoutBody`, it keeps the inner body's length hint,
//! which `s3s` reads.
//!
//! Whatever read the body then fails in its own way (the app's extractors
//! with a 400, `s3s` with `400 InvalidRequest` "failed to read file
//! stream"), so the body also raises a [`Stall`] flag, and the server's own
//! layer replaces that answer with one that says what happened, in its own
//! words (`CutBody`); the connection then closes.

use std::future::Future as _;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::Body;
use bytes::Bytes;
use http_body::{Frame, SizeHint};
use tokio::time::{Instant, Sleep};

use crate::limits::BodyRate;

#[derive(Debug, thiserror::Error)]
pub enum BodyStalled {
    #[error("the client sent nothing for {0:?}")]
    Idle(Duration),
    #[error("the client sent {sent} bytes in {window:?}, under the floor of {floor} bytes a second")]
    TooSlow { sent: u64, window: Duration, floor: u64 },
}

/// Why a body was cut, raised by an [`IdleTimeoutBody`] and read by the
/// serve loop once the request is answered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StallKind {
    /// Nothing came for `Limits::body_idle`.
    Idle,
    /// Less than `Limits::min_body_rate` came in a window.
    TooSlow,
    /// The body broke off: the client closed the connection before its
    /// `Content-Length`, or sent a chunked body that does not parse. What
    /// read it then answers 500 (`s3s`: `InternalError`), though the fault
    /// is the client's: S3 answers `400 IncompleteBody`.
    Broken,
}

#[derive(Clone, Debug, Default)]
pub struct Stall(Arc<AtomicU8>);

/// Set once the cut was answered, so it is answered once.
const ANSWERED: u8 = u8::MAX;

impl Stall {
    #[cfg(test)]
    pub fn happened(&self) -> Option<StallKind> {
        Self::kind(self.0.load(Ordering::Relaxed))
    }

    /// Why the body was cut, the first time this is asked: the answer to a
    /// cut is written once, by whichever layer asks first.
    pub fn to_answer(&self) -> Option<StallKind> {
        let kind = Self::kind(self.0.load(Ordering::Relaxed))?;
        self.0.store(ANSWERED, Ordering::Relaxed);
        Some(kind)
    }

    fn kind(code: u8) -> Option<StallKind> {
        match code {
            1 => Some(StallKind::Idle),
            2 => Some(StallKind::TooSlow),
            3 => Some(StallKind::Broken),
            _ => None,
        }
    }

    pub(crate) fn raise(&self, kind: StallKind) {
        let code = match kind {
            StallKind::Idle => 1,
            StallKind::TooSlow => 2,
            StallKind::Broken => 3,
        };
        self.0.store(code, Ordering::Relaxed);
    }
}

pub struct IdleTimeoutBody {
    inner: Body,
    idle: Duration,
    /// Armed while the body waits for data; cleared whenever a frame comes,
    /// so a request whose body is never read costs no timer.
    deadline: Option<Pin<Box<Sleep>>>,
    rate: Option<RateWindow>,
    stall: Stall,
}

/// What counts towards [`BodyRate`]: only the time spent waiting for the
/// client, so a server that stops reading for a while (a busy disk) never
/// blames the client for it.
struct RateWindow {
    rate: BodyRate,
    /// Time waited for the client in this window, not counting the wait in progress.
    waited: Duration,
    /// Since when the body has been waiting for the client, if it is.
    waiting_since: Option<Instant>,
    /// Bytes that came in this window.
    sent: u64,
    /// When the wait in progress fills the window.
    ends: Option<Pin<Box<Sleep>>>,
}

impl RateWindow {
    fn new(rate: BodyRate) -> Self {
        Self {
            rate,
            waited: Duration::ZERO,
            waiting_since: None,
            sent: 0,
            ends: None,
        }
    }

    /// A frame came: the wait is over.
    fn arrived(&mut self, bytes: u64) -> Result<(), BodyStalled> {
        if let Some(since) = self.waiting_since.take() {
            self.waited += since.elapsed();
        }
        self.ends = None;
        self.sent = self.sent.saturating_add(bytes);
        self.judge_if_full()
    }

    /// The body waits for the client; `Err` once a whole window was waited
    /// with too little in it.
    fn waiting(&mut self, cx: &mut Context<'_>) -> Result<(), BodyStalled> {
        let since = *self.waiting_since.get_or_insert_with(Instant::now);
        let left = self.rate.window.saturating_sub(self.waited);
        let ends = self
            .ends
            .get_or_insert_with(|| Box::pin(tokio::time::sleep_until(since + left)));
        if ends.as_mut().poll(cx).is_pending() {
            return Ok(());
        }
        self.waited += since.elapsed();
        self.waiting_since = Some(Instant::now());
        self.ends = None;
        self.judge_if_full()?;
        // A new window began: arm its timer so this task is woken.
        self.waiting(cx)
    }

    fn judge_if_full(&mut self) -> Result<(), BodyStalled> {
        if self.waited < self.rate.window {
            return Ok(());
        }
        if self.sent < self.rate.floor_for(self.waited) {
            return Err(BodyStalled::TooSlow {
                sent: self.sent,
                window: self.waited,
                floor: self.rate.bytes_per_sec,
            });
        }
        self.waited = Duration::ZERO;
        self.sent = 0;
        Ok(())
    }
}

impl IdleTimeoutBody {
    /// `inner`, failing after `idle` without data, or when it arrives slower
    /// than `rate`; `stall` is raised when it does.
    pub fn new(inner: Body, idle: Duration, rate: Option<BodyRate>, stall: Stall) -> Self {
        Self {
            inner,
            idle,
            deadline: None,
            // A window of no length judges nothing.
            rate: rate.filter(|rate| !rate.window.is_zero()).map(RateWindow::new),
            stall,
        }
    }

    fn too_slow(&mut self, error: BodyStalled) -> Poll<Option<Result<Frame<Bytes>, axum::BoxError>>> {
        self.stall.raise(StallKind::TooSlow);
        self.rate = None;
        Poll::Ready(Some(Err(error.into())))
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
                if matches!(frame, Some(Err(_))) {
                    this.stall.raise(StallKind::Broken);
                }
                if frame.is_none() || this.inner.is_end_stream() {
                    // Whole: nothing left to judge.
                    this.rate = None;
                } else if let Some(window) = this.rate.as_mut() {
                    let bytes = match &frame {
                        Some(Ok(frame)) => frame.data_ref().map_or(0, |data| data.len() as u64),
                        _ => 0,
                    };
                    if let Err(too_slow) = window.arrived(bytes) {
                        return this.too_slow(too_slow);
                    }
                }
                Poll::Ready(frame.map(|f| f.map_err(Into::into)))
            }
            Poll::Pending => {
                if let Some(window) = this.rate.as_mut()
                    && let Err(too_slow) = window.waiting(cx)
                {
                    return this.too_slow(too_slow);
                }
                let idle = this.idle;
                let deadline = this.deadline.get_or_insert_with(|| Box::pin(tokio::time::sleep(idle)));
                match deadline.as_mut().poll(cx) {
                    Poll::Ready(()) => {
                        this.stall.raise(StallKind::Idle);
                        Poll::Ready(Some(Err(BodyStalled::Idle(idle).into())))
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
        let collected = IdleTimeoutBody::new(stalls, Duration::from_millis(100), None, stall.clone())
            .collect()
            .await;
        assert!(collected.is_err_and(|e| e.to_string().contains("sent nothing")));
        assert_eq!(stall.happened(), Some(StallKind::Idle), "the stall is raised");

        // Slow but steady: each chunk within the idle time, the whole longer than it.
        let steady = Body::from_stream(stream::iter(0..5).then(|_| async {
            tokio::time::sleep(Duration::from_millis(40)).await;
            Ok::<_, std::io::Error>(Bytes::from_static(b"x"))
        }));
        let stall = Stall::default();
        let collected = IdleTimeoutBody::new(steady, Duration::from_millis(100), None, stall.clone())
            .collect()
            .await;
        assert_eq!(collected.expect("whole").to_bytes().as_ref(), b"xxxxx");
        assert_eq!(stall.happened(), None);
    }

    /// A byte now and then is never idle, but far under the floor: cut at
    /// the end of its first window. A body at the floor's pace, and one
    /// that ends within a window however slowly, go through.
    #[tokio::test]
    async fn a_trickle_is_cut_at_the_end_of_its_window_and_a_steady_body_is_not() {
        let rate = BodyRate {
            bytes_per_sec: 1000,
            window: Duration::from_millis(300),
        };
        let drip = |every: u64, bytes: usize, count: usize| {
            Body::from_stream(stream::iter(0..count).then(move |_| async move {
                tokio::time::sleep(Duration::from_millis(every)).await;
                Ok::<_, std::io::Error>(Bytes::from(vec![b'x'; bytes]))
            }))
        };
        let stall = Stall::default();
        let started = std::time::Instant::now();
        let trickle = IdleTimeoutBody::new(drip(50, 1, 1000), Duration::from_secs(5), Some(rate), stall.clone());
        let collected = trickle.collect().await;
        assert!(collected.is_err_and(|e| e.to_string().contains("under the floor")));
        assert_eq!(stall.happened(), Some(StallKind::TooSlow));
        assert!(started.elapsed() < Duration::from_secs(2), "{:?}", started.elapsed());

        // 100 bytes every 50 ms is 2000 bytes a second: over the floor.
        let stall = Stall::default();
        let steady = IdleTimeoutBody::new(drip(50, 100, 20), Duration::from_secs(5), Some(rate), stall.clone());
        assert_eq!(steady.collect().await.expect("whole").to_bytes().len(), 2000);
        assert_eq!(stall.happened(), None);

        // Slow, but whole before its window ends.
        let stall = Stall::default();
        let short = IdleTimeoutBody::new(drip(50, 1, 4), Duration::from_secs(5), Some(rate), stall.clone());
        assert_eq!(short.collect().await.expect("whole").to_bytes().len(), 4);
        assert_eq!(stall.happened(), None);
    }

    /// Time the server spends not reading (a busy disk) is not the client's.
    #[tokio::test]
    async fn time_the_reader_is_away_is_not_counted() {
        let rate = BodyRate {
            bytes_per_sec: 1000,
            window: Duration::from_millis(200),
        };
        // Everything is there at once; the reader takes a chunk every 100 ms.
        let ready = Body::from_stream(stream::iter(
            (0..10).map(|_| Ok::<_, std::io::Error>(Bytes::from_static(b"x"))),
        ));
        let stall = Stall::default();
        let mut body = IdleTimeoutBody::new(ready, Duration::from_secs(5), Some(rate), stall.clone());
        let mut got = 0;
        while let Some(frame) = body.frame().await {
            got += frame.expect("not cut").into_data().map_or(0, |d| d.len());
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert_eq!(got, 10);
        assert_eq!(stall.happened(), None);
    }

    /// A body that breaks off (the client left before its
    /// `Content-Length`) raises the flag, so the server's layer can say
    /// whose fault it was.
    #[tokio::test]
    async fn a_body_that_breaks_off_raises_the_flag() {
        let broken = Body::from_stream(stream::iter([
            Ok(Bytes::from_static(b"some")),
            Err(std::io::Error::from(std::io::ErrorKind::UnexpectedEof)),
        ]));
        let stall = Stall::default();
        let collected = IdleTimeoutBody::new(broken, Duration::from_secs(1), None, stall.clone())
            .collect()
            .await;
        assert!(collected.is_err());
        assert_eq!(stall.happened(), Some(StallKind::Broken));
    }

    #[tokio::test]
    async fn keeps_the_length_hint() {
        let body = IdleTimeoutBody::new(Body::from("12345"), Duration::from_secs(1), None, Stall::default());
        assert_eq!(http_body::Body::size_hint(&body).exact(), Some(5));
    }
}
