//! The browser side itself (hydrate only): the queue's uploads (sign, POST
//! straight to the store with progress, follow its 303 to `/confirm-upload`),
//! drop and paste, and the clipboard. No page navigation happens.

use std::cell::RefCell;

use leptos::prelude::*;
use wasm_bindgen::JsValue;
use web_sys::{File, XmlHttpRequest};

use super::file_handles::{self, Chosen, Unreadable};
use super::id_map::IdMap;
use super::recent;
use super::transfer::{ProgressPace, Transfer};
use crate::error::CourierError;
use crate::model::{DownloadLink, UploadGrant};
use crate::upload::queue::{FileState, Progress, Queue, QueuedFile};

thread_local! {
    /// The chosen files and the requests in flight, by queue id (browser
    /// objects cannot live in signals shared with the server).
    static FILES: RefCell<IdMap<File>> = const { RefCell::new(IdMap::new()) };
    static REQUESTS: RefCell<IdMap<XmlHttpRequest>> = const { RefCell::new(IdMap::new()) };
    /// The grant of an upload that failed while its file may have reached
    /// the store (the store or Courier could not be reached): Retry asks
    /// Courier for that file first, and sends it again only if it is not there.
    static SENT: RefCell<IdMap<UploadGrant>> = const { RefCell::new(IdMap::new()) };
    /// Paused cards (a large file's upload a previous page left), and what
    /// each waits for.
    static PAUSED: RefCell<IdMap<super::unfinished::Unfinished>> = const { RefCell::new(IdMap::new()) };
    /// The handle each file was read from, where the browser gave one.
    static HANDLES: RefCell<IdMap<JsValue>> = const { RefCell::new(IdMap::new()) };
}

/// Puts files in the queue; those that break the rules fail at once, with the reason.
/// A file a paused card waits for (the same name, size and date) continues there.
pub fn enqueue(queue: Queue, files: impl IntoIterator<Item = impl Into<Chosen>>) {
    for Chosen { file, handle } in files.into_iter().map(Into::into) {
        if resume_with(queue, &file, handle.as_ref()) {
            continue;
        }
        let size = file.size() as u64;
        let item = queue.push(file.name(), size, queue.link.get_untracked());
        match queue.rules().check(size, &file.type_()) {
            Ok(essence) => {
                if essence.starts_with("image/") {
                    item.preview.set(web_sys::Url::create_object_url_with_blob(&file).ok());
                }
                FILES.with(|f| f.borrow_mut().insert(item.id, file));
                if let Some(handle) = handle {
                    HANDLES.with(|h| h.borrow_mut().insert(item.id, handle));
                }
            }
            Err(error) => {
                item.state.set(FileState::Failed(error.to_string()));
                queue.announce(&item);
            }
        }
    }
    pump(queue);
}

/// Starts waiting uploads while fewer than the limit run.
pub fn pump(queue: Queue) {
    let items = queue.items.get_untracked();
    let running = items
        .iter()
        .filter(|i| i.state.with_untracked(FileState::is_active))
        .count();
    let waiting = items
        .iter()
        .filter(|i| i.state.with_untracked(|s| *s == FileState::Waiting));
    for item in waiting.take(queue.parallel.saturating_sub(running)) {
        item.state.set(FileState::Signing);
        let item = *item;
        leptos::task::spawn_local(async move {
            let outcome = upload(queue, item).await;
            // A cancelled upload stays cancelled, whatever the request said
            // last; a paused one too, unless it finished meanwhile.
            let paused = item.state.with_untracked(|s| *s == FileState::Paused);
            if item.state.with_untracked(FileState::is_active) || (paused && outcome.is_ok()) {
                item.state.set(match outcome {
                    Ok(link) => {
                        item.progress.update(|p| p.sent = p.total);
                        // The thumbnail's URL lives as long as its card: the
                        // browser may decode the image again at any time (a
                        // revoked URL then shows a broken image), and the
                        // file stays held for Retry anyway.
                        recent::remember(&link);
                        FileState::Done(link)
                    }
                    Err(error) => FileState::Failed(error.sentence().to_owned()),
                });
                queue.announce(&item);
            }
            pump(queue);
        });
    }
}

/// Uploads one file: in one POST, or in parts from the queue's threshold on.
async fn upload(queue: Queue, item: QueuedFile) -> Result<DownloadLink, CourierError> {
    let Some(file) = FILES.with(|f| f.borrow().get(item.id).cloned()) else {
        return Err(CourierError::BadRequest(
            "The file is no longer available. Choose it again.".to_owned(),
        ));
    };
    // Words the store's refusal of a file too large.
    let max_bytes = queue.rules().max_bytes;
    let size = file.size() as u64;
    if size >= queue.multipart_threshold {
        return super::parts::upload(&queue, item, &file).await;
    }
    if let Some(grant) = SENT.with(|s| s.borrow_mut().remove(item.id)) {
        item.state.set(FileState::Confirming);
        match link_for_sent(&grant).await {
            Some(Ok(link)) => return Ok(link),
            Some(Err(error @ (CourierError::Network(_) | CourierError::StoreUnavailable(_)))) => {
                SENT.with(|s| s.borrow_mut().insert(item.id, grant));
                return Err(error);
            }
            // Not there (or its token has expired): send the file again.
            Some(Err(_)) | None => {}
        }
    }
    // A policy can expire between signing and the store reading it (a laptop
    // asleep mid-way): sign again, once, by ourselves.
    let mut signed_again = false;
    loop {
        item.state.set(FileState::Signing);
        let grant = super::calls::sign_upload(file.name(), file.type_(), size, item.link).await?;
        if !item.state.with_untracked(FileState::is_active) {
            return Err(CourierError::BadRequest("Cancelled.".to_owned()));
        }
        item.state.set(FileState::Uploading);
        let started = js_sys::Date::now();
        item.progress.set(Progress {
            sent: 0,
            total: size,
            bytes_per_sec: 0.0,
        });
        // The browser counts the whole form (fields too); people count their file.
        let pace = ProgressPace::new();
        let on_progress = move |loaded: f64, total: f64| {
            if loaded < total && !pace.due() {
                return;
            }
            let sent = loaded / total.max(1.0) * size as f64;
            let seconds = (js_sys::Date::now() - started) / 1000.0;
            let bytes_per_sec = if seconds > 0.0 { sent / seconds } else { 0.0 };
            item.progress.set(Progress {
                sent: sent as u64,
                total: size,
                bytes_per_sec,
            });
        };
        let on_sent = move || {
            if item.state.get_untracked() == FileState::Uploading {
                item.state.set(FileState::Confirming);
            }
        };
        let transfer = Transfer::start(&grant, &file, on_progress, on_sent)?;
        REQUESTS.with(|r| r.borrow_mut().insert(item.id, transfer.request()));
        let outcome = transfer.finish(max_bytes).await;
        REQUESTS.with(|r| r.borrow_mut().remove(item.id));
        match outcome {
            Err(CourierError::PolicyExpired(_)) if !signed_again => signed_again = true,
            // No answer: the store may well have stored the file and
            // redirected to a Courier that was not there (restarting, say).
            // Chromium reports the upload as sent only once an answer comes,
            // so this cannot wait for that. Sending the file again would
            // waste the bytes: ask Courier, which says if the store has it.
            Err(error @ CourierError::Network(_)) => return confirm_when_back(item, grant, error).await,
            // The store took the file, but Courier could not reach it to check.
            Err(error @ CourierError::StoreUnavailable(_)) => {
                SENT.with(|s| s.borrow_mut().insert(item.id, grant));
                return Err(error);
            }
            outcome => return outcome,
        }
    }
}

/// First wait between confirmation attempts, and the longest.
const FIRST_WAIT_MS: f64 = 1_000.0;
const LONGEST_WAIT_MS: f64 = 15_000.0;

/// Confirms an upload whose store redirect found no Courier: with the
/// upload's own token (in the grant's redirect URL), again and again with a
/// growing wait while Courier cannot be reached, for as long as the token
/// lives. `failed` is what the upload itself ended with. When Courier
/// answers that the store cannot be reached, that is the upload's end: Retry
/// asks again before it sends anything.
async fn confirm_when_back(
    item: QueuedFile,
    grant: UploadGrant,
    failed: CourierError,
) -> Result<DownloadLink, CourierError> {
    let Some((_, expires_ms)) = upload_token(&grant) else {
        return Err(failed);
    };
    let mut wait = FIRST_WAIT_MS;
    loop {
        match link_for_sent(&grant).await {
            Some(Ok(link)) => {
                item.note.set(None);
                return Ok(link);
            }
            Some(Err(CourierError::Network(_) | CourierError::Internal(_)))
                if js_sys::Date::now() + wait < expires_ms =>
            {
                item.state.set(FileState::Confirming);
                item.note.set(Some(
                    "Courier is not answering. Asking again whether the file arrived…".to_owned(),
                ));
                sleep(wait).await;
                wait = (wait * 2.0).min(LONGEST_WAIT_MS);
                if !item.state.with_untracked(FileState::is_active) {
                    return Err(CourierError::BadRequest("Cancelled.".to_owned()));
                }
            }
            Some(Err(error @ CourierError::StoreUnavailable(_))) => {
                item.note.set(None);
                SENT.with(|s| s.borrow_mut().insert(item.id, grant));
                return Err(error);
            }
            // Courier answers, and the store holds no such file: the upload
            // itself is what failed.
            Some(Err(CourierError::NotFound(_))) | None => return Err(failed),
            Some(Err(other)) => return Err(other),
        }
    }
}

/// The link to a file sent with `grant`, asked with the upload's own token
/// (`None`: the grant has no token that still lives).
async fn link_for_sent(grant: &UploadGrant) -> Option<Result<DownloadLink, CourierError>> {
    let (token, expires_ms) = upload_token(grant)?;
    if js_sys::Date::now() >= expires_ms {
        return None;
    }
    Some(super::calls::sign_download(grant.key.clone(), token).await)
}

/// The upload token in a grant's redirect URL, and when it expires (ms).
fn upload_token(grant: &UploadGrant) -> Option<(String, f64)> {
    let token = grant
        .fields
        .get("success_action_redirect")
        .and_then(|url| url.split_once("token=").map(|(_, token)| token.to_owned()))?;
    // `<scope>.<expiry unix seconds>.<mac>`; whole seconds (a float parser
    // would add 4 KB to the bundle for this one number).
    let seconds = token.split('.').nth(1)?.parse::<u64>().ok()?;
    Some((token, seconds as f64 * 1000.0))
}

/// Resolves after `ms` milliseconds.
pub(super) async fn sleep(ms: f64) {
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        if let Some(window) = web_sys::window() {
            let _ = window.set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms as i32);
        }
    });
    let _ = wasm_bindgen_futures::JsFuture::from(promise).await;
}

/// Stops an upload: a waiting one never starts, a running one is aborted.
pub fn cancel(queue: Queue, item: QueuedFile) {
    if !item.state.with_untracked(|s| s.is_active() || *s == FileState::Waiting) {
        return;
    }
    item.state.set(FileState::Cancelled);
    if let Some(request) = REQUESTS.with(|r| r.borrow_mut().remove(item.id)) {
        let _ = request.abort();
    }
    super::parts::cancel(&item);
    queue.announce(&item);
    pump(queue);
}

/// Pauses a file going up in parts; `why`, if the person did not.
pub fn pause(queue: Queue, item: QueuedFile, why: Option<String>) {
    if !item.in_parts.get_untracked() || !item.state.with_untracked(FileState::is_active) {
        return;
    }
    item.state.set(FileState::Paused);
    item.note.set(why);
    super::parts::stop(&item);
    queue.announce(&item);
    pump(queue);
}

thread_local! {
    /// Files that going offline paused, to go on once it is back.
    static OFFLINE_PAUSED: RefCell<Vec<u64>> = const { RefCell::new(Vec::new()) };
}

pub fn went_offline(queue: Queue) {
    for item in queue.items.get_untracked() {
        if item.in_parts.get_untracked() && item.state.with_untracked(FileState::is_active) {
            pause(
                queue,
                item,
                Some("Offline: the upload goes on by itself when the connection is back.".to_owned()),
            );
            OFFLINE_PAUSED.with(|p| p.borrow_mut().push(item.id));
        }
    }
}

pub fn came_online(queue: Queue) {
    let paused = OFFLINE_PAUSED.with(|p| std::mem::take(&mut *p.borrow_mut()));
    for item in queue.items.get_untracked() {
        if paused.contains(&item.id) && item.state.with_untracked(|s| *s == FileState::Paused) {
            retry(queue, item);
        }
    }
}

/// Signs again and uploads again (a paused file: only its missing parts).
pub fn retry(queue: Queue, item: QueuedFile) {
    if FILES.with(|f| f.borrow().contains(item.id)) {
        // Parts already stored show at once; the rest starts from zero.
        if !item.in_parts.get_untracked() {
            item.progress.set(Progress::default());
        }
        item.note.set(None);
        item.state.set(FileState::Waiting);
        pump(queue);
    }
}

/// Goes on with a paused file: the file at hand, or read again through the
/// handle the browser kept (this click is the leave it may ask for).
pub fn resume(queue: Queue, item: QueuedFile) {
    if can_retry(&item) {
        return retry(queue, item);
    }
    let Some(handle) = handle_of(item.id) else { return };
    leptos::task::spawn_local(async move {
        let note = match file_handles::read(&handle).await {
            Ok(file) if resume_with(queue, &file, Some(&handle)) => return,
            Ok(_) => {
                "The file changed since its upload started (its size or date differ), so it cannot continue: remove this card and upload the file again."
            }
            Err(Unreadable::NotAllowed) => {
                "Courier was not allowed to read the file: choose or drop it again to send the rest."
            }
            Err(Unreadable::Gone) => {
                item.reopenable.set(false);
                "The file is no longer where it was: choose or drop it again to send the rest."
            }
        };
        item.note.set(Some(note.to_owned()));
    });
}

/// The handle the file of card `id` was read from, if the browser gave one.
pub fn handle_of(id: u64) -> Option<JsValue> {
    HANDLES.with(|h| h.borrow().get(id).cloned())
}

/// Queues what the browser's own picker gave (`picking`, its promise); the
/// plain picker behind `input` where it could not be used.
pub async fn take_picked(queue: Queue, picking: Result<JsValue, JsValue>, input: web_sys::HtmlInputElement) {
    match file_handles::picked(picking).await {
        Ok(chosen) => enqueue(queue, chosen),
        Err(()) => super::gesture::open_plain_picker(&input),
    }
}

/// Queues dropped files, with their handles where the browser gave them
/// (see [`super::gesture::dropped_handles`]).
pub async fn take_dropped(queue: Queue, files: Vec<File>, handles: Vec<JsValue>) {
    if handles.iter().all(JsValue::is_null) {
        return enqueue(queue, files);
    }
    enqueue(queue, file_handles::with_handles(files, handles).await);
}

/// Takes a finished, failed or cancelled card off the list.
pub fn remove(queue: Queue, item: QueuedFile) {
    if item.state.with_untracked(FileState::is_active) {
        return;
    }
    if let FileState::Done(link) = item.state.get_untracked() {
        recent::forget(&link.key);
    }
    // A large file's parts kept for Retry go with its card.
    super::parts::cancel(&item);
    drop_card(queue, &item);
}

/// Takes a card off the list with everything the page held for it: its
/// file, its thumbnail's URL, what Retry would have used.
fn drop_card(queue: Queue, item: &QueuedFile) {
    if let Some(url) = item.preview.get_untracked() {
        let _ = web_sys::Url::revoke_object_url(&url);
    }
    FILES.with(|f| f.borrow_mut().remove(item.id));
    SENT.with(|s| s.borrow_mut().remove(item.id));
    PAUSED.with(|p| p.borrow_mut().remove(item.id));
    HANDLES.with(|h| h.borrow_mut().remove(item.id));
    queue.remove(item.id);
}

/// Shows the uploads remembered from earlier visits, and the large files
/// whose parts were on their way (paused until their file is chosen again).
pub fn restore(queue: Queue) {
    for link in recent::load().into_iter().rev() {
        let item = queue.push(link.filename.clone(), link.size, link.link);
        item.progress.update(|p| p.sent = p.total);
        item.state.set(FileState::Done(link));
    }
    let unfinished = super::unfinished::load();
    file_handles::keep_only(unfinished.iter().map(|u| u.upload.key.clone()).collect());
    for unfinished in unfinished {
        let item = queue.push(unfinished.name.clone(), unfinished.upload.size, unfinished.link);
        item.progress.update(|p| p.sent = 0);
        item.state.set(FileState::Paused);
        PAUSED.with(|p| p.borrow_mut().insert(item.id, unfinished.clone()));
        let key = unfinished.upload.key.clone();
        super::parts::adopt(queue, item, unfinished.upload);
        // Resume takes one click where the browser kept the file's handle.
        leptos::task::spawn_local(async move {
            if let Some(handle) = file_handles::kept(&key).await {
                HANDLES.with(|h| h.borrow_mut().insert(item.id, handle));
                item.reopenable.set(true);
            }
        });
    }
}

/// Continues a paused card with `file` if it is the file the card waits
/// for; says so on a paused card whose name it only shares.
fn resume_with(queue: Queue, file: &File, handle: Option<&JsValue>) -> bool {
    let paused = PAUSED.with(|p| p.borrow().clone());
    let items = queue.items.get_untracked();
    let waiting = |id: u64| {
        items
            .iter()
            .find(|i| i.id == id && i.state.with_untracked(|s| *s == FileState::Paused))
            .copied()
    };
    if let Some((item, unfinished)) = paused
        .iter()
        .filter(|(_, u)| u.is_for(file))
        .find_map(|(id, u)| Some((waiting(id)?, u)))
    {
        PAUSED.with(|p| p.borrow_mut().remove(item.id));
        FILES.with(|f| f.borrow_mut().insert(item.id, file.clone()));
        if let Some(handle) = handle {
            HANDLES.with(|h| h.borrow_mut().insert(item.id, handle.clone()));
            file_handles::keep(unfinished.upload.key.clone(), handle.clone());
        }
        item.note.set(None);
        item.state.set(FileState::Waiting);
        pump(queue);
        return true;
    }
    for item in paused
        .iter()
        .filter(|(_, u)| u.name == file.name())
        .filter_map(|(id, _)| waiting(id))
    {
        item.note.set(Some(format!(
            "The “{}” just chosen is not the file this upload was for (its size or date differ), so it goes up on its own. Choose the original to continue here.",
            file.name()
        )));
    }
    false
}

/// Forgets every finished upload, here and in storage.
pub fn clear_finished(queue: Queue) {
    recent::forget_all();
    for item in queue.items.get_untracked() {
        if item.state.with_untracked(|s| matches!(s, FileState::Done(_))) {
            drop_card(queue, &item);
        }
    }
}

/// Whether the file behind a card can be sent again.
pub fn can_retry(item: &QueuedFile) -> bool {
    FILES.with(|f| f.borrow().contains(item.id))
}

/// Copies `text` to the clipboard.
pub async fn copy(text: String) -> bool {
    let Some(window) = web_sys::window() else { return false };
    let promise = window.navigator().clipboard().write_text(&text);
    wasm_bindgen_futures::JsFuture::from(promise).await.is_ok()
}
