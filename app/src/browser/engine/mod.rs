//! The upload engine: sends one file to the store and says how that ended.
//! It works on the file's [`record::UploadRecord`] (everything the page
//! holds for one upload) with one of two strategies, a single POST
//! ([`single`]) or a multipart upload ([`multipart`], whose parts go through
//! the [`part`] pipeline), and ends each attempt with an [`Outcome`]: done,
//! stopped (paused or cancelled, as asked) or failed.
//!
//! The engine never sees the page's cards: it reports through the
//! [`Watcher`] the page gives it, and the page stops an attempt through the
//! record ([`record::UploadRecord::stop`]).

mod multipart;
mod outcome;
mod part;
pub mod record;
mod single;
mod wait;

use std::rc::Rc;

pub use multipart::{Held, abandon, held};
pub use outcome::{Outcome, Phase, Settings, Watcher};
pub use record::{Attempt, Stop, UploadRecord};

use crate::error::CourierError;

/// How a file goes up.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Strategy {
    /// The whole file in one POST with its form.
    SinglePost,
    /// In parts, from the queue's threshold on (so it can be paused and resumed).
    Multipart,
}

impl Strategy {
    pub fn for_size(size: u64, settings: &Settings) -> Self {
        if size >= settings.multipart_threshold {
            Self::Multipart
        } else {
            Self::SinglePost
        }
    }
}

/// Sends the file of `record` in `attempt` (see [`UploadRecord::begin`]);
/// how that ended.
pub async fn send(record: &UploadRecord, attempt: &Rc<Attempt>, settings: &Settings, watcher: impl Watcher) -> Outcome {
    let Some(file) = record.file() else {
        return Outcome::Failed(CourierError::BadRequest(
            "The file is no longer available. Choose it again.".to_owned(),
        ));
    };
    let ended = match Strategy::for_size(file.size() as u64, settings) {
        Strategy::SinglePost => single::send(record, attempt, settings, watcher, &file).await,
        Strategy::Multipart => multipart::send(record, attempt, settings, watcher, &file).await,
    };
    ended.into()
}
