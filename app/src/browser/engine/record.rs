//! One record per queued file: everything the page holds for one upload, in
//! one place, and the one registry that keeps the records by queue id
//! (browser objects cannot live in signals shared with the server). A card
//! dropped from the list releases its record, and with it all of this.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use wasm_bindgen::JsValue;
use web_sys::{File, XmlHttpRequest};

use super::super::id_map::IdMap;
use super::super::unfinished::Unfinished;
use super::sealing::Sealing;
use crate::model::{LinkKind, UploadGrant};
use crate::multipart::MultipartUpload;

/// Why an upload was told to stop (neither is a failure).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stop {
    /// Its parts in flight stop; the stored ones, and the upload, stay.
    Paused,
    /// Everything goes: the requests, and the store's parts.
    Cancelled,
}

/// Everything the page holds for one file's upload.
pub struct UploadRecord {
    /// The link it gets.
    pub link: LinkKind,
    /// Whether it is encrypted in this browser (FORMAT.md).
    pub encrypt: bool,
    /// The file request it is sent through, on a request's page.
    pub request: Option<String>,
    /// The password mixed into its key, where it is encrypted with one.
    password: RefCell<Option<String>>,
    /// Its key, once made: kept for every attempt (and, for a multipart
    /// upload, past a reload), so what is sent again is the same bytes.
    sealing: RefCell<Option<Sealing>>,
    /// The file, while it is at hand (a card a previous page left waits for it).
    file: RefCell<Option<File>>,
    /// The handle the file was read from, where the browser gave one.
    handle: RefCell<Option<JsValue>>,
    /// The upload a previous page left, while this card waits for its file
    /// (the same name, size and date) to be chosen again.
    awaited: RefCell<Option<Unfinished>>,
    /// Its multipart upload once started: kept after a failure or a pause
    /// so Retry and Resume continue it, let go when it completes or is
    /// abandoned. Its key names it in the stored list of unfinished uploads.
    multipart: RefCell<Option<MultipartUpload>>,
    /// The grant of a POST that may have reached the store (the store or
    /// Courier could not be reached): Retry asks Courier for that file
    /// first, and sends it again only if it is not there.
    sent: RefCell<Option<UploadGrant>>,
    /// The attempt going now, or the last one.
    attempt: RefCell<Option<Rc<Attempt>>>,
    /// Paused because the network went away: goes on once it is back.
    offline_paused: Cell<bool>,
}

impl UploadRecord {
    /// A file just chosen, dropped or pasted.
    pub fn chosen(link: LinkKind, encrypt: bool, file: File, handle: Option<JsValue>, request: Option<String>) -> Self {
        let mut record = Self::new(link, encrypt, Some(file), handle);
        record.request = request;
        record
    }

    /// An upload a previous page left: it goes on once its file is chosen
    /// again (its upload was started, so no request is asked again).
    pub fn awaiting(unfinished: Unfinished) -> Self {
        let record = Self::new(unfinished.link, unfinished.sealing.is_some(), None, None);
        record.multipart.replace(Some(unfinished.upload.clone()));
        record.sealing.replace(unfinished.sealing.clone());
        record.awaited.replace(Some(unfinished));
        record
    }

    fn new(link: LinkKind, encrypt: bool, file: Option<File>, handle: Option<JsValue>) -> Self {
        Self {
            link,
            encrypt,
            request: None,
            password: RefCell::new(None),
            sealing: RefCell::new(None),
            file: RefCell::new(file),
            handle: RefCell::new(handle),
            awaited: RefCell::new(None),
            multipart: RefCell::new(None),
            sent: RefCell::new(None),
            attempt: RefCell::new(None),
            offline_paused: Cell::new(false),
        }
    }

    pub fn file(&self) -> Option<File> {
        self.file.borrow().clone()
    }

    /// Whether the file is at hand (so it can be sent again).
    pub fn has_file(&self) -> bool {
        self.file.borrow().is_some()
    }

    pub fn handle(&self) -> Option<JsValue> {
        self.handle.borrow().clone()
    }

    pub fn set_handle(&self, handle: JsValue) {
        self.handle.replace(Some(handle));
    }

    /// The upload this card waits for its file to continue, if it does.
    pub fn awaited(&self) -> Option<Unfinished> {
        self.awaited.borrow().clone()
    }

    /// The awaited file came: the card holds it, and waits no longer.
    pub fn found(&self, file: File) {
        self.awaited.replace(None);
        self.file.replace(Some(file));
    }

    pub fn multipart(&self) -> Option<MultipartUpload> {
        self.multipart.borrow().clone()
    }

    pub fn set_multipart(&self, upload: Option<MultipartUpload>) {
        self.multipart.replace(upload);
    }

    pub fn take_multipart(&self) -> Option<MultipartUpload> {
        self.multipart.take()
    }

    /// A password for its key (only before the key is made).
    pub fn set_password(&self, password: String) {
        self.password.replace(Some(password));
    }

    pub fn password(&self) -> Option<String> {
        self.password.borrow().clone()
    }

    pub fn sealing(&self) -> Option<Sealing> {
        self.sealing.borrow().clone()
    }

    pub fn set_sealing(&self, sealing: Sealing) {
        self.sealing.replace(Some(sealing));
    }

    pub fn take_sent(&self) -> Option<UploadGrant> {
        self.sent.take()
    }

    pub fn set_sent(&self, grant: UploadGrant) {
        self.sent.replace(Some(grant));
    }

    /// Starts an attempt at sending the file, in place of the last one.
    pub fn begin(&self) -> Rc<Attempt> {
        let attempt = Rc::new(Attempt::default());
        if let Some(last) = self.attempt.replace(Some(Rc::clone(&attempt))) {
            // An attempt paused a moment ago may still be winding down: it
            // stays stopped, whatever this one does.
            last.stop(Stop::Paused);
        }
        attempt
    }

    /// Whether `attempt` is this record's latest (an older one's end is old news).
    pub fn is_current(&self, attempt: &Rc<Attempt>) -> bool {
        self.attempt.borrow().as_ref().is_some_and(|a| Rc::ptr_eq(a, attempt))
    }

    /// Stops the attempt going now, if there is one: its requests are aborted.
    pub fn stop(&self, why: Stop) {
        if let Some(attempt) = self.attempt.borrow().as_ref() {
            attempt.stop(why);
        }
    }

    pub fn mark_offline_paused(&self) {
        self.offline_paused.set(true);
    }

    /// Whether going offline paused it (asked once: the answer is let go).
    pub fn take_offline_paused(&self) -> bool {
        self.offline_paused.replace(false)
    }
}

/// One go at sending a file (a start, a Retry, a Resume): its requests in
/// flight, and whether it was told to stop.
#[derive(Default)]
pub struct Attempt {
    stopped: Cell<Option<Stop>>,
    requests: RefCell<Vec<XmlHttpRequest>>,
}

impl Attempt {
    /// Goes on only while the attempt was not told to stop.
    pub fn check(&self) -> Result<(), Stop> {
        self.stopped.get().map_or(Ok(()), Err)
    }

    pub fn going(&self) -> bool {
        self.stopped.get().is_none()
    }

    /// Keeps a request in flight, to abort it if the attempt stops.
    pub fn track(&self, request: &XmlHttpRequest) {
        if self.going() {
            self.requests.borrow_mut().push(request.clone());
        } else {
            let _ = request.abort();
        }
    }

    /// A request ended.
    pub fn untrack(&self, request: &XmlHttpRequest) {
        self.requests.borrow_mut().retain(|other| other != request);
    }

    /// Stops: the requests in flight are aborted. The first reason stays.
    fn stop(&self, why: Stop) {
        if self.stopped.get().is_none() {
            self.stopped.set(Some(why));
        }
        let requests = std::mem::take(&mut *self.requests.borrow_mut());
        for request in requests {
            let _ = request.abort();
        }
    }
}

thread_local! {
    /// Every queued file's record, by queue id: the one place the page
    /// keeps an upload's browser objects.
    static RECORDS: RefCell<IdMap<Rc<UploadRecord>>> = const { RefCell::new(IdMap::new()) };
}

/// Keeps the record of the card `id`.
pub fn keep(id: u64, record: UploadRecord) -> Rc<UploadRecord> {
    let record = Rc::new(record);
    RECORDS.with(|r| r.borrow_mut().insert(id, Rc::clone(&record)));
    record
}

/// The record of the card `id`, if it has one.
pub fn get(id: u64) -> Option<Rc<UploadRecord>> {
    RECORDS.with(|r| r.borrow().get(id).cloned())
}

/// Every record, with its card's id.
pub fn all() -> Vec<(u64, Rc<UploadRecord>)> {
    RECORDS.with(|r| r.borrow().iter().map(|(id, record)| (id, Rc::clone(record))).collect())
}

/// Lets go of the record of the card `id` (its card is gone): its attempt
/// stops, and everything it held goes with it.
pub fn release(id: u64) {
    if let Some(record) = RECORDS.with(|r| r.borrow_mut().remove(id)) {
        record.stop(Stop::Cancelled);
    }
}
