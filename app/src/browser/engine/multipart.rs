//! The multipart strategy: a large file in parts, straight to the store.
//! Courier starts the upload and signs each part's PUT for its exact length
//! and SHA-256 (see [`super::part`], the pipeline a part goes through);
//! parts go several at once, each retried on its own; Courier completes the
//! upload from the store's own list of parts. An upload that fails or is
//! paused is kept in the record (and, past a reload, in the stored list of
//! unfinished uploads): the next attempt asks the store which parts it
//! holds and sends only the others.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use web_sys::File;

use super::super::transfer::{Body, Ended, ProgressPace, Xhr, broken, unreachable_store};
use super::super::{calls, file_handles, unfinished};
use super::outcome::{Halt, Phase, Settings, Watcher};
use super::part::{Part, PartSource};
use super::record::{Attempt, Stop, UploadRecord};
use super::sealing::{self, Sealing};
use super::wait::sleep;
use crate::error::CourierError;
use crate::model::DownloadLink;
use crate::multipart::{MultipartUpload, PartToSign};
use crate::store_error::StoreError;

/// Tries per part before the upload fails (the waits add up to about 30 s).
const TRIES: u32 = 5;
const FIRST_WAIT_MS: f64 = 1_000.0;

/// Sends `file` in parts, as many at once as `settings` say; its link once complete.
pub async fn send(
    record: &UploadRecord,
    attempt: &Rc<Attempt>,
    settings: &Settings,
    watcher: impl Watcher,
    file: &File,
    sealing: Option<&Sealing>,
) -> Result<DownloadLink, Halt> {
    // What goes to the store: the file, or its records.
    let size = match sealing {
        Some(_) => sealing::object_size(file.size() as u64),
        None => file.size() as u64,
    };
    let (upload, stored) = match record.multipart() {
        // Started before: the parts the store already holds are not sent again.
        Some(upload) => match whole_parts(&upload).await {
            Ok(stored) => (upload, stored),
            // Gone (swept, aborted, or its token expired): start over.
            Err(CourierError::NotFound(_) | CourierError::Forbidden(_)) => {
                unfinished::forget(&upload.key);
                (start(record, file, size, sealing, watcher).await?, Vec::new())
            }
            Err(other) => return Err(other.into()),
        },
        None => (start(record, file, size, sealing, watcher).await?, Vec::new()),
    };
    attempt.check()?;
    watcher.phase(Phase::Uploading);
    let count = upload.part_count();
    let waiting: Vec<u32> = (1..=count).filter(|n| !stored.contains(n)).rev().collect();
    let sending = Rc::new(Sending {
        watcher,
        attempt: Rc::clone(attempt),
        source: PartSource {
            file: file.clone(),
            upload: upload.clone(),
            checksums: settings.part_checksums,
            sealing: sealing.cloned(),
        },
        max_bytes: settings.max_bytes,
        unsent: Cell::new(waiting.len()),
        waiting: RefCell::new(waiting),
        sent: RefCell::new(vec![0.0; count as usize + 1]),
        already: stored.iter().filter_map(|&n| upload.part_len(n)).sum(),
        started_ms: js_sys::Date::now(),
        pace: ProgressPace::new(),
        failed: Cell::new(false),
    });
    sending.show_progress();
    let workers = (0..settings.parallel_parts.clamp(1, count.max(1) as usize)).map(|_| Rc::clone(&sending).work());
    let failure = futures::future::join_all(workers)
        .await
        .into_iter()
        .find_map(Result::err);
    // Paused or cancelled: the parts left wait for the next attempt.
    attempt.check()?;
    if let Some(error) = failure {
        return Err(error.into());
    }
    if sending.unsent.get() > 0 {
        return Err(unreachable_store().into());
    }
    watcher.phase(Phase::Confirming);
    let link = calls::complete_multipart(&upload).await?;
    record.set_multipart(None);
    unfinished::forget(&upload.key);
    Ok(link)
}

/// Starts the multipart upload and keeps it in the record, and past a
/// reload in the stored list of unfinished uploads.
async fn start(
    record: &UploadRecord,
    file: &File,
    size: u64,
    sealing: Option<&Sealing>,
    watcher: impl Watcher,
) -> Result<MultipartUpload, CourierError> {
    watcher.phase(Phase::Signing);
    let grant = match sealing {
        Some(sealing) => calls::start_sealed_multipart(size, record.link, &sealing.seal).await?,
        None => calls::start_multipart(file.name(), file.type_(), size, record.link, record.request.as_deref()).await?,
    };
    record.set_multipart(Some(grant.upload.clone()));
    // Kept past a reload: the same file chosen again continues it.
    unfinished::remember(unfinished::Unfinished {
        upload: grant.upload.clone(),
        name: file.name(),
        last_modified: file.last_modified(),
        link: record.link,
        sealing: sealing.cloned(),
    });
    // Where the browser gave one, the file's handle: Resume after a reload then reads it again.
    if let Some(handle) = record.handle() {
        file_handles::keep(grant.upload.key.clone(), handle);
    }
    Ok(grant.upload)
}

/// The numbers of the parts the store holds whole.
async fn whole_parts(upload: &MultipartUpload) -> Result<Vec<u32>, CourierError> {
    let parts = calls::list_parts(upload).await?;
    Ok(parts
        .iter()
        .filter(|p| upload.part_len(p.number) == Some(p.size))
        .map(|p| p.number)
        .collect())
}

/// What the store holds of an upload a previous page started.
pub enum Held {
    /// Bytes in whole parts.
    Bytes(u64),
    /// Nothing: the store no longer has the upload, which is forgotten here too.
    Gone,
    /// Courier or the store could not be reached.
    Unknown,
}

/// How much the store holds of `upload`.
pub async fn held(upload: &MultipartUpload) -> Held {
    match whole_parts(upload).await {
        Ok(parts) => Held::Bytes(parts.iter().filter_map(|&n| upload.part_len(n)).sum()),
        Err(CourierError::NotFound(_) | CourierError::Forbidden(_)) => {
            unfinished::forget(&upload.key);
            Held::Gone
        }
        Err(_) => Held::Unknown,
    }
}

/// Lets go of a record's multipart upload, if it has one: its attempt stops,
/// and the store drops every part.
pub fn abandon(record: &UploadRecord) {
    record.stop(Stop::Cancelled);
    if let Some(upload) = record.take_multipart() {
        unfinished::forget(&upload.key);
        leptos::task::spawn_local(async move {
            // Best effort: what is left expires with the store's lifecycle rule.
            let _ = calls::abort_multipart(&upload).await;
        });
    }
}

/// One attempt's parts on their way.
struct Sending<W> {
    watcher: W,
    attempt: Rc<Attempt>,
    source: PartSource,
    max_bytes: u64,
    /// Part numbers still to send, the next one last.
    waiting: RefCell<Vec<u32>>,
    /// How many of this attempt's parts the store has not acknowledged yet.
    unsent: Cell<usize>,
    /// Bytes of each part sent so far (by part number).
    sent: RefCell<Vec<f64>>,
    /// Bytes the store held before this attempt.
    already: u64,
    started_ms: f64,
    /// When the card's progress is drawn again as bytes go (a part's end,
    /// or its failure, draw it at once).
    pace: ProgressPace,
    /// A part failed for good: take no more.
    failed: Cell<bool>,
}

impl<W: Watcher> Sending<W> {
    /// Sends parts one after another until none is left; a failure stops
    /// the other workers too.
    async fn work(self: Rc<Self>) -> Result<(), CourierError> {
        let worked = self.send_in_turn().await;
        if worked.is_err() {
            self.failed.set(true);
        }
        worked
    }

    /// Each part is made ready (read, checksummed) while the part before it
    /// goes, so hashing hides behind the transfer wherever the link, not the
    /// CPU, sets the pace.
    async fn send_in_turn(self: &Rc<Self>) -> Result<(), CourierError> {
        let mut ready = match self.take_next() {
            Some(number) => Some(self.source.prepare(number).await?),
            None => None,
        };
        while let Some(part) = ready {
            // Stopped while this part was being read.
            if !self.going() {
                return Ok(());
            }
            let following = self.take_next();
            let preparing = async {
                match following {
                    Some(number) => self.source.prepare(number).await.map(Some),
                    None => Ok(None),
                }
            };
            let (sent, prepared) = futures::future::join(self.send_part(part), preparing).await;
            ready = sent.and(prepared)?;
        }
        Ok(())
    }

    /// The next part to send, unless the attempt stopped or none is left.
    fn take_next(&self) -> Option<u32> {
        self.going().then(|| self.waiting.borrow_mut().pop()).flatten()
    }

    /// Whether parts still go: not paused, cancelled or failed.
    fn going(&self) -> bool {
        !self.failed.get() && self.attempt.going()
    }

    /// One part: a URL signed for it, the PUT; again on a failure that
    /// another try can mend. A part left unsent because the attempt
    /// stopped is no failure.
    async fn send_part(self: &Rc<Self>, part: Part) -> Result<(), CourierError> {
        let (number, size) = (part.number, part.size());
        let upload = &self.source.upload;
        let mut wait = FIRST_WAIT_MS;
        for tried in 1..=TRIES {
            let to_sign = PartToSign {
                number,
                sha256: part.sha256.clone(),
            };
            let signed = calls::sign_parts(upload, &[to_sign]).await;
            // Stopped while the URL was on its way: the part waits.
            if !self.going() {
                return Ok(());
            }
            let url = match signed {
                Ok(mut urls) if urls.len() == 1 => urls.remove(0).url,
                Ok(_) => return Err(broken("Courier signed another number of parts")),
                Err(CourierError::Network(_) | CourierError::StoreUnavailable(_)) if tried < TRIES => {
                    sleep(wait).await;
                    wait *= 2.0;
                    continue;
                }
                Err(error) => return Err(error),
            };
            let sending = Rc::clone(self);
            let on_progress = move |loaded: f64, _total: f64| {
                sending.sent.borrow_mut()[number as usize] = loaded.min(size as f64);
                if sending.pace.due() {
                    sending.show_progress();
                }
            };
            let headers: &[(&str, &str)] = match &part.sha256 {
                Some(sha256) => &[("x-amz-checksum-sha256", sha256.as_str())],
                None => &[],
            };
            let xhr = Xhr::send("PUT", &url, headers, Body::Blob(&part.body), on_progress, || {})?;
            let request = xhr.request();
            self.attempt.track(&request);
            let ended = xhr.ended().await;
            self.attempt.untrack(&request);
            let retry = match ended {
                Ended::Answered { status: 200..=299, .. } => {
                    self.unsent.set(self.unsent.get().saturating_sub(1));
                    self.sent.borrow_mut()[number as usize] = size as f64;
                    self.show_progress();
                    return Ok(());
                }
                Ended::Aborted if !self.attempt.going() => {
                    self.sent.borrow_mut()[number as usize] = 0.0;
                    return Ok(());
                }
                Ended::Aborted | Ended::NoAnswer | Ended::Answered { status: 0, .. } => unreachable_store(),
                Ended::Answered { status, body } => {
                    let error = StoreError::parse(&body);
                    let sentence = error.as_ref().map_or_else(
                        || format!("The storage refused part {number} (HTTP {status}). Try again."),
                        |e| e.sentence(self.max_bytes),
                    );
                    // Damaged on the way, cut off, expired, or the store busy: another try mends it.
                    // (Garage says `InvalidDigest` where S3 says `BadDigest`; Courier's own
                    // checksums are well-formed, so either means the bytes changed.)
                    let mendable = status >= 500
                        || error.as_ref().is_some_and(|e| {
                            matches!(e.code.as_str(), "BadDigest" | "InvalidDigest" | "RequestTimeout")
                                || e.is_expired_policy()
                        });
                    if !mendable {
                        return Err(CourierError::StoreRefused(sentence));
                    }
                    CourierError::StoreRefused(sentence)
                }
            };
            self.sent.borrow_mut()[number as usize] = 0.0;
            self.show_progress();
            if tried == TRIES {
                return Err(retry);
            }
            sleep(wait).await;
            wait *= 2.0;
        }
        Err(unreachable_store())
    }

    /// One progress bar for the whole file.
    fn show_progress(&self) {
        let sent_now: f64 = self.sent.borrow().iter().sum();
        let seconds = (js_sys::Date::now() - self.started_ms) / 1000.0;
        let bytes_per_sec = if seconds > 0.0 { sent_now / seconds } else { 0.0 };
        self.watcher
            .progress(self.already + sent_now as u64, self.source.upload.size, bytes_per_sec);
    }
}
