//! A large file in parts (S3 multipart), straight to the store: Courier
//! starts the upload and signs each part's PUT for its exact length and
//! SHA-256 (computed here, so the store refuses a part damaged on the way;
//! the browser's own `crypto.subtle` hashes it); parts go
//! several at once, each retried on its own; Courier completes the upload
//! from the store's own list of parts. A failed upload is kept: Retry asks
//! the store which parts it holds and sends only the others.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use leptos::prelude::*;
use sha2::{Digest as _, Sha256};
use wasm_bindgen::JsCast as _;
use web_sys::{File, XmlHttpRequest};

use super::id_map::IdMap;
use super::transfer::{Body, Ended, ProgressPace, Xhr, broken, unreachable_store};
use crate::error::CourierError;
use crate::model::{DownloadLink, LinkKind};
use crate::multipart::{MultipartUpload, PartToSign};
use crate::store_error::StoreError;
use crate::upload::queue::{FileState, Progress, Queue, QueuedFile};

thread_local! {
    /// The multipart upload of each file that has one, by queue id: kept
    /// after a failure so Retry continues it, aborted by Cancel.
    static UPLOADS: RefCell<IdMap<MultipartUpload>> = const { RefCell::new(IdMap::new()) };
    /// The part requests in flight, by queue id (Cancel aborts them).
    static IN_FLIGHT: RefCell<IdMap<Vec<XmlHttpRequest>>> = const { RefCell::new(IdMap::new()) };
}

/// Tries per part before the upload fails (the waits add up to about 30 s).
const TRIES: u32 = 5;
const FIRST_WAIT_MS: f64 = 1_000.0;

/// Uploads `file` in parts, as many at once as the queue says; its link
/// once complete.
pub async fn upload(queue: &Queue, item: QueuedFile, file: &File) -> Result<DownloadLink, CourierError> {
    let parallel = queue.parallel_parts;
    item.in_parts.set(true);
    let size = file.size() as u64;
    let (upload, stored) = match UPLOADS.with(|u| u.borrow().get(item.id).cloned()) {
        // A retry: the parts the store already holds are not sent again.
        Some(upload) => {
            let stored = super::calls::list_parts(&upload).await;
            match stored {
                Ok(parts) => {
                    let whole: Vec<u32> = parts
                        .iter()
                        .filter(|p| upload.part_len(p.number) == Some(p.size))
                        .map(|p| p.number)
                        .collect();
                    (upload, whole)
                }
                // Gone (swept, aborted, or its token expired): start over.
                Err(CourierError::NotFound(_) | CourierError::Forbidden(_)) => {
                    super::unfinished::forget(&upload.key);
                    (start(item, file, size).await?, Vec::new())
                }
                Err(other) => return Err(other),
            }
        }
        None => (start(item, file, size).await?, Vec::new()),
    };
    if !item.state.with_untracked(FileState::is_active) {
        return Err(cancelled());
    }
    item.state.set(FileState::Uploading);
    let count = upload.part_count();
    let waiting: Vec<u32> = (1..=count).filter(|n| !stored.contains(n)).rev().collect();
    let run = Rc::new(Run {
        item,
        file: file.clone(),
        upload: upload.clone(),
        max_bytes: queue.rules().max_bytes,
        checksums: queue.part_checksums,
        unsent: Cell::new(waiting.len()),
        waiting: RefCell::new(waiting),
        sent: RefCell::new(vec![0.0; count as usize + 1]),
        already: stored.iter().filter_map(|&n| upload.part_len(n)).sum(),
        started_ms: js_sys::Date::now(),
        pace: ProgressPace::new(),
        stopped: Cell::new(false),
    });
    run.show_progress();
    let workers = (0..parallel.clamp(1, count.max(1) as usize)).map(|_| Rc::clone(&run).work());
    let failures: Vec<CourierError> = futures::future::join_all(workers)
        .await
        .into_iter()
        .filter_map(Result::err)
        .collect();
    if let Some(error) = failures.into_iter().next() {
        return Err(error);
    }
    // Paused or cancelled between parts: the parts left wait for Resume
    // (counted, not judged by the state, which Resume may have set again).
    if run.unsent.get() > 0 {
        return Err(cancelled());
    }
    item.state.set(FileState::Confirming);
    let key = upload.key.clone();
    let link = super::calls::complete_multipart(&upload).await?;
    UPLOADS.with(|u| u.borrow_mut().remove(item.id));
    super::unfinished::forget(&key);
    Ok(link)
}

/// Starts the multipart upload and keeps it for Retry and Cancel.
async fn start(item: QueuedFile, file: &File, size: u64) -> Result<MultipartUpload, CourierError> {
    item.state.set(FileState::Signing);
    let link: LinkKind = item.link;
    let grant = super::calls::start_multipart(file.name(), file.type_(), size, link).await?;
    UPLOADS.with(|u| u.borrow_mut().insert(item.id, grant.upload.clone()));
    // Kept past a reload: the same file chosen again continues it.
    super::unfinished::remember(super::unfinished::Unfinished {
        upload: grant.upload.clone(),
        name: file.name(),
        last_modified: file.last_modified(),
        link,
    });
    // Where the browser gave one, the file's handle: Resume after a reload then reads it again.
    if let Some(handle) = super::live::handle_of(item.id) {
        super::file_handles::keep(grant.upload.key.clone(), handle);
    }
    Ok(grant.upload)
}

/// Takes over an upload a previous page started: the card `item` continues
/// it once its file is chosen again. Shows how much the store holds; an
/// upload the store no longer has is forgotten, and its card goes.
pub fn adopt(queue: crate::upload::queue::Queue, item: QueuedFile, upload: MultipartUpload) {
    item.in_parts.set(true);
    UPLOADS.with(|u| u.borrow_mut().insert(item.id, upload.clone()));
    leptos::task::spawn_local(async move {
        match super::calls::list_parts(&upload).await {
            Ok(parts) => {
                let stored: u64 = parts
                    .iter()
                    .filter(|p| upload.part_len(p.number) == Some(p.size))
                    .map(|p| p.size)
                    .sum();
                item.progress.set(Progress {
                    sent: stored,
                    total: upload.size,
                    bytes_per_sec: 0.0,
                });
            }
            Err(CourierError::NotFound(_) | CourierError::Forbidden(_)) => {
                UPLOADS.with(|u| u.borrow_mut().remove(item.id));
                super::unfinished::forget(&upload.key);
                queue.remove(item.id);
            }
            // Courier or the store unreachable: the card waits as it is.
            Err(_) => {}
        }
    });
}

/// Stops the parts in flight; the stored ones, and the upload, stay.
pub fn stop(item: &QueuedFile) {
    for request in IN_FLIGHT.with(|r| r.borrow_mut().remove(item.id)).unwrap_or_default() {
        let _ = request.abort();
    }
}

/// Cancels a file's parts: the requests stop, and the store drops every part.
pub fn cancel(item: &QueuedFile) {
    stop(item);
    if let Some(upload) = UPLOADS.with(|u| u.borrow_mut().remove(item.id)) {
        super::unfinished::forget(&upload.key);
        leptos::task::spawn_local(async move {
            // Best effort: what is left expires with the store's lifecycle rule.
            let _ = super::calls::abort_multipart(&upload).await;
        });
    }
}

/// A part ready to go.
struct Prepared {
    number: u32,
    size: u64,
    blob: web_sys::Blob,
    sha256: Option<String>,
}

/// One file's parts on their way.
struct Run {
    item: QueuedFile,
    file: File,
    upload: MultipartUpload,
    max_bytes: u64,
    /// Whether each part goes with its SHA-256.
    checksums: bool,
    /// Part numbers still to send, the next one last.
    waiting: RefCell<Vec<u32>>,
    /// How many of this run's parts the store has not acknowledged yet.
    unsent: Cell<usize>,
    /// Bytes of each part sent so far (by part number).
    sent: RefCell<Vec<f64>>,
    /// Bytes the store held before this run.
    already: u64,
    started_ms: f64,
    /// When the card's progress is drawn again as bytes go (a part's end,
    /// or its failure, draw it at once).
    pace: ProgressPace,
    /// A part failed for good, or the file was cancelled: take no more.
    stopped: Cell<bool>,
}

impl Run {
    /// Sends parts one after another until none is left; a failure stops
    /// the other workers too.
    async fn work(self: Rc<Self>) -> Result<(), CourierError> {
        let worked = self.send_in_turn().await;
        if worked.is_err() {
            self.stopped.set(true);
        }
        worked
    }

    /// Each part's checksum is computed while the part before it goes, so
    /// hashing hides behind the transfer wherever the link, not the CPU, sets
    /// the pace.
    async fn send_in_turn(self: &Rc<Self>) -> Result<(), CourierError> {
        let mut ready = match self.take_next() {
            Some(number) => Some(self.prepare(number).await?),
            None => None,
        };
        while let Some(part) = ready {
            // Paused or cancelled while this part was being read.
            if !self.going() {
                return Ok(());
            }
            let following = self.take_next();
            let preparing = async {
                match following {
                    Some(number) => self.prepare(number).await.map(Some),
                    None => Ok(None),
                }
            };
            let (sent, prepared) = futures::future::join(self.send_part(part), preparing).await;
            ready = sent.and(prepared)?;
        }
        Ok(())
    }

    /// The next part to send, unless the file stopped or none is left.
    fn take_next(&self) -> Option<u32> {
        self.going().then(|| self.waiting.borrow_mut().pop()).flatten()
    }

    /// Whether the file is still to be sent: not paused, cancelled or failed.
    fn going(&self) -> bool {
        !self.stopped.get() && self.item.state.with_untracked(FileState::is_active)
    }

    /// A part's bytes, and their SHA-256 where parts go with one.
    async fn prepare(&self, number: u32) -> Result<Prepared, CourierError> {
        let size = self
            .upload
            .part_len(number)
            .ok_or_else(|| broken("a part out of range"))?;
        let start = u64::from(number - 1) * self.upload.part_size;
        let blob = self
            .file
            .slice_with_f64_and_f64(start as f64, (start + size) as f64)
            .map_err(|_| broken("the file could not be read"))?;
        let sha256 = if self.checksums {
            Some(sha256_of(&blob).await?)
        } else {
            None
        };
        Ok(Prepared {
            number,
            size,
            blob,
            sha256,
        })
    }

    /// One part: a URL signed for it, the PUT; again on a failure that
    /// another try can mend.
    async fn send_part(self: &Rc<Self>, part: Prepared) -> Result<(), CourierError> {
        let Prepared {
            number,
            size,
            blob,
            sha256,
        } = part;
        let mut wait = FIRST_WAIT_MS;
        for attempt in 1..=TRIES {
            let part = PartToSign {
                number,
                sha256: sha256.clone(),
            };
            let url = match super::calls::sign_parts(&self.upload, &[part]).await {
                Ok(mut urls) if urls.len() == 1 => urls.remove(0).url,
                Ok(_) => return Err(broken("Courier signed another number of parts")),
                Err(CourierError::Network(_) | CourierError::StoreUnavailable(_)) if attempt < TRIES => {
                    super::live::sleep(wait).await;
                    wait *= 2.0;
                    continue;
                }
                Err(error) => return Err(error),
            };
            // Paused or cancelled while the URL was on its way: the part waits.
            if !self.going() {
                return Err(cancelled());
            }
            let run = Rc::clone(self);
            let on_progress = move |loaded: f64, _total: f64| {
                run.sent.borrow_mut()[number as usize] = loaded.min(size as f64);
                if run.pace.due() {
                    run.show_progress();
                }
            };
            let headers: &[(&str, &str)] = match &sha256 {
                Some(sha256) => &[("x-amz-checksum-sha256", sha256.as_str())],
                None => &[],
            };
            let xhr = Xhr::send("PUT", &url, headers, Body::Blob(&blob), on_progress, || {})?;
            let request = xhr.request();
            IN_FLIGHT.with(|r| r.borrow_mut().get_or_default(self.item.id).push(request.clone()));
            let ended = xhr.ended().await;
            IN_FLIGHT.with(|r| {
                if let Some(requests) = r.borrow_mut().get_mut(self.item.id) {
                    requests.retain(|other| other != &request);
                }
            });
            let retry = match ended {
                Ended::Answered { status: 200..=299, .. } => {
                    self.unsent.set(self.unsent.get().saturating_sub(1));
                    self.sent.borrow_mut()[number as usize] = size as f64;
                    self.show_progress();
                    return Ok(());
                }
                Ended::Aborted => return Err(cancelled()),
                Ended::NoAnswer | Ended::Answered { status: 0, .. } => unreachable_store(),
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
            if attempt == TRIES {
                return Err(retry);
            }
            super::live::sleep(wait).await;
            wait *= 2.0;
        }
        Err(unreachable_store())
    }

    /// One progress bar for the whole file.
    fn show_progress(&self) {
        let sent_now: f64 = self.sent.borrow().iter().sum();
        let seconds = (js_sys::Date::now() - self.started_ms) / 1000.0;
        let bytes_per_sec = if seconds > 0.0 { sent_now / seconds } else { 0.0 };
        self.item.progress.set(Progress {
            sent: self.already + sent_now as u64,
            total: self.upload.size,
            bytes_per_sec,
        });
    }
}

/// The base64 SHA-256 of a blob's bytes, as `x-amz-checksum-sha256` carries
/// it: by `crypto.subtle` (native; Chromium hashes on the page's thread, at
/// about 0.7 GB/s on this machine), or here where
/// the page is not a secure context (plain HTTP to another host) and the
/// browser offers none.
async fn sha256_of(blob: &web_sys::Blob) -> Result<String, CourierError> {
    let unreadable = || broken("the file could not be read");
    let window = web_sys::window().ok_or_else(unreadable)?;
    let buffer = wasm_bindgen_futures::JsFuture::from(blob.array_buffer())
        .await
        .map_err(|_| unreadable())?;
    let subtle = window
        .crypto()
        .ok()
        .map(|crypto| crypto.subtle())
        .filter(|s| !s.is_undefined());
    let digest: Vec<u8> = match subtle {
        Some(subtle) => {
            let hashing = subtle
                .digest_with_str_and_buffer_source("SHA-256", buffer.unchecked_ref())
                .map_err(|_| broken("the checksum could not be computed"))?;
            let digest = wasm_bindgen_futures::JsFuture::from(hashing)
                .await
                .map_err(|_| broken("the checksum could not be computed"))?;
            js_sys::Uint8Array::new(&digest).to_vec()
        }
        None => Sha256::digest(js_sys::Uint8Array::new(&buffer).to_vec()).to_vec(),
    };
    // `btoa` takes one character per byte.
    let binary: String = digest.iter().map(|&b| char::from(b)).collect();
    window
        .btoa(&binary)
        .map_err(|_| broken("the checksum could not be written"))
}

fn cancelled() -> CourierError {
    CourierError::BadRequest("Cancelled.".to_owned())
}
