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
pub mod sealing;
mod single;
pub(super) mod wait;

use std::rc::Rc;

pub use multipart::{Held, abandon, held};
pub use outcome::{Outcome, Phase, Settings, Watcher};
pub use record::{Attempt, Stop, UploadRecord};
pub use sealing::Sealing;

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
    /// For an encrypted file's object of `size` bytes: in parts from
    /// [`sealing::LARGEST_SEALED_POST`] on too, as one POST seals it whole in memory.
    pub fn for_sealed_size(size: u64, settings: &Settings) -> Self {
        if size >= sealing::LARGEST_SEALED_POST {
            Self::Multipart
        } else {
            Self::for_size(size, settings)
        }
    }

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
    let sealing = match sealing_of(record, &file).await {
        Ok(sealing) => sealing,
        Err(error) => return Outcome::Failed(error),
    };
    let sent = sealing
        .as_ref()
        .map_or(file.size() as u64, |_| sealing::object_size(file.size() as u64));
    let ended = match Strategy::for_size(sent, settings) {
        Strategy::SinglePost => single::send(record, attempt, settings, watcher, &file, sealing.as_ref()).await,
        Strategy::Multipart => multipart::send(record, attempt, settings, watcher, &file, sealing.as_ref()).await,
    };
    ended.map(|link| opened(link, &file, sealing.as_ref())).into()
}

/// The file's key where it is encrypted: the one it has, or a new one.
async fn sealing_of(record: &UploadRecord, file: &web_sys::File) -> Result<Option<Sealing>, CourierError> {
    if !record.encrypt {
        return Ok(None);
    }
    if let Some(sealing) = record.sealing() {
        return Ok(Some(sealing));
    }
    let password = record.password();
    let sealing = sealing::begin(&file.name(), &file.type_(), file.size() as u64, password.as_deref()).await?;
    record.set_sealing(sealing.clone());
    Ok(Some(sealing))
}

/// The link as the sender sees it: an encrypted file under its own name,
/// type and size (which Courier does not have), and its share's link with
/// the key after `#` (which never goes to Courier).
fn opened(
    mut link: crate::model::DownloadLink,
    file: &web_sys::File,
    sealing: Option<&Sealing>,
) -> crate::model::DownloadLink {
    if let Some(sealing) = sealing {
        link.filename = file.name();
        link.content_type = file.type_();
        link.size = file.size() as u64;
        if let Some(share) = link.share.as_mut() {
            share.url = format!("{}#{}", share.url, sealing.secret);
        }
    }
    link
}
