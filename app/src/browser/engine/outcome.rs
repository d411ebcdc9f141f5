//! What the engine tells the page: how an upload goes ([`Watcher`], which
//! the page implements for its card), and how it ends ([`Outcome`]).
//! Stopping (Pause, Cancel) is an end of its own, never an error.

use super::record::Stop;
use crate::error::CourierError;
use crate::model::DownloadLink;

/// How an upload ended.
#[derive(Debug)]
pub enum Outcome {
    /// In the store, confirmed: its link.
    Done(DownloadLink),
    /// Paused or cancelled, as asked.
    Stopped(Stop),
    /// Why it could not be sent.
    Failed(CourierError),
}

/// Why a strategy ended without a link (the `Err` side of its steps, so `?`
/// carries both ends).
#[derive(Debug)]
pub enum Halt {
    Stopped(Stop),
    Failed(CourierError),
}

impl From<CourierError> for Halt {
    fn from(error: CourierError) -> Self {
        Self::Failed(error)
    }
}

impl From<Result<DownloadLink, Halt>> for Outcome {
    fn from(ended: Result<DownloadLink, Halt>) -> Self {
        match ended {
            Ok(link) => Self::Done(link),
            Err(Halt::Stopped(why)) => Self::Stopped(why),
            Err(Halt::Failed(error)) => Self::Failed(error),
        }
    }
}

impl From<Stop> for Halt {
    fn from(why: Stop) -> Self {
        Self::Stopped(why)
    }
}

/// Where an upload is, for the person watching it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    /// Asking Courier to sign (or to start the multipart upload).
    Signing,
    /// Bytes on their way.
    Uploading,
    /// Every byte sent; the store and Courier are finishing up.
    Confirming,
}

/// What the engine needs from the page to show an upload: the page's card
/// implements it (the engine never sees the card).
pub trait Watcher: Copy + 'static {
    fn phase(&self, phase: Phase);
    /// `sent` of `total` bytes, at `bytes_per_sec` on average so far.
    fn progress(&self, sent: u64, total: u64, bytes_per_sec: f64);
    /// What the upload waits on, other than the bytes (`None`: nothing).
    fn note(&self, note: Option<String>);
}

/// The queue's settings an upload follows.
#[derive(Clone, Copy, Debug)]
pub struct Settings {
    /// Files at least this large go up in parts.
    pub multipart_threshold: u64,
    /// How many parts go at once.
    pub parallel_parts: usize,
    /// Whether each part goes with its SHA-256, for the store to check.
    pub part_checksums: bool,
    /// The largest file allowed (words the store's refusal of a larger one).
    pub max_bytes: u64,
}
