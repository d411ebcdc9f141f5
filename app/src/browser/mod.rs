//! What the page does in the browser, behind one API that components call
//! the same way on both sides: in the hydrated page it acts, on the server
//! (which only renders, and never runs event handlers) each call does
//! nothing. Components stay UI only; every `hydrate` switch is here.
//!
//! The browser gets this code in two WebAssembly modules (with the `split`
//! feature; in one without it, see [`uploader`]): the page's (the form:
//! choosing, dropping and pasting files, the link choice) and the uploader's
//! ([`uploader`]: the cards, the uploads, resume), which the browser fetches
//! when the first files come, or as the person reaches for the form. What
//! must happen within the person's gesture is in `gesture`.

#[cfg(feature = "hydrate")]
mod calls;
#[cfg(feature = "hydrate")]
mod file_handles;
#[cfg(feature = "hydrate")]
mod gesture;
// Plain Rust: its tests run on the host, where nothing else uses it.
#[cfg(any(feature = "hydrate", test))]
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
mod id_map;
#[cfg(feature = "hydrate")]
mod live;
#[cfg(feature = "hydrate")]
mod parts;
#[cfg(feature = "hydrate")]
mod recent;
#[cfg(feature = "hydrate")]
mod transfer;
#[cfg(feature = "hydrate")]
mod unfinished;

#[cfg(feature = "hydrate")]
pub use gesture::element;
use leptos::ev::{ClipboardEvent, DragEvent, MouseEvent};
#[cfg(feature = "hydrate")]
use leptos::prelude::{Set as _, WithUntracked as _};
use leptos::web_sys::HtmlInputElement;

use crate::error::CourierError;
use crate::model::DownloadLink;
use crate::upload::queue::{Queue, QueuedFile};

/// Queues the files chosen in the picker, and clears it for the next choice.
pub fn take_chosen(queue: Queue, input: &HtmlInputElement) {
    #[cfg(feature = "hydrate")]
    {
        hand_over(queue, Task::Files(gesture::files_of(input.files())));
        input.set_value("");
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = (queue, input);
}

/// Where the browser's own picker gives handles to the files it picks (so a
/// large file resumes after a reload in one click), opens it in place of
/// the plain one behind a click on `input`, and queues what is picked.
pub fn pick_instead(queue: Queue, event: &MouseEvent, input: &HtmlInputElement) {
    #[cfg(feature = "hydrate")]
    if let Some(picking) = gesture::start_picking(event, &queue.rules().allowed_types) {
        hand_over(queue, Task::Picked(picking, input.clone()));
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = (queue, event, input);
}

/// Queues the files dropped on the page.
pub fn take_dropped(queue: Queue, event: &DragEvent) {
    #[cfg(feature = "hydrate")]
    hand_over(
        queue,
        Task::Dropped(gesture::dropped_files(event), gesture::dropped_handles(event)),
    );
    #[cfg(not(feature = "hydrate"))]
    let _ = (queue, event);
}

/// Queues the files pasted on the page; whether there were any (then the
/// paste is ours, not the focused field's).
pub fn take_pasted(queue: Queue, event: &ClipboardEvent) -> bool {
    #[cfg(feature = "hydrate")]
    {
        let files = gesture::pasted_files(event);
        let any = !files.is_empty();
        if any {
            hand_over(queue, Task::Files(files));
        }
        any
    }
    #[cfg(not(feature = "hydrate"))]
    {
        let _ = (queue, event);
        false
    }
}

/// Opens the file picker behind `input`.
pub fn open_picker(input: &HtmlInputElement) {
    #[cfg(feature = "hydrate")]
    gesture::open_picker(input);
    #[cfg(not(feature = "hydrate"))]
    let _ = input;
}

/// Shows the uploads remembered from earlier visits, if there are any.
pub fn restore(queue: Queue) {
    #[cfg(feature = "hydrate")]
    if [recent::STORAGE_KEY, unfinished::STORAGE_KEY]
        .into_iter()
        .any(remembered)
    {
        hand_over(queue, Task::Restore);
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = queue;
}

/// Forgets every finished upload, on the page and in the browser's storage.
/// (The button is the uploader's own.)
pub fn clear_finished(queue: Queue) {
    #[cfg(feature = "hydrate")]
    live::clear_finished(queue);
    #[cfg(not(feature = "hydrate"))]
    let _ = queue;
}

/// Loads the uploader ahead of need, when the person reaches for the form
/// (a pointer over it, the keyboard's focus in it, a file dragged onto the
/// page): the first file then starts without waiting for it.
pub fn prepare() {
    #[cfg(feature = "hydrate")]
    leptos::task::spawn_local(async {
        // A failure here is told when the uploader is needed.
        let _ = preload_uploader().await;
    });
}

/// Stops an upload: a waiting one never starts, a running one is aborted.
pub fn cancel(queue: Queue, item: QueuedFile) {
    #[cfg(feature = "hydrate")]
    live::cancel(queue, item);
    #[cfg(not(feature = "hydrate"))]
    let _ = (queue, item);
}

/// Pauses a file going up in parts: the parts in flight stop, the stored
/// ones stay.
pub fn pause(queue: Queue, item: QueuedFile) {
    #[cfg(feature = "hydrate")]
    live::pause(queue, item, None);
    #[cfg(not(feature = "hydrate"))]
    let _ = (queue, item);
}

/// Goes on with a paused file: only the parts the store does not hold.
pub fn resume(queue: Queue, item: QueuedFile) {
    #[cfg(feature = "hydrate")]
    live::resume(queue, item);
    #[cfg(not(feature = "hydrate"))]
    let _ = (queue, item);
}

/// The network went away: files going up in parts pause, and say why.
pub fn went_offline(queue: Queue) {
    #[cfg(feature = "hydrate")]
    if queue.items.with_untracked(|items| !items.is_empty()) {
        hand_over(queue, Task::WentOffline);
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = queue;
}

/// The network is back: what going offline paused goes on by itself.
pub fn came_online(queue: Queue) {
    #[cfg(feature = "hydrate")]
    if queue.items.with_untracked(|items| !items.is_empty()) {
        hand_over(queue, Task::CameOnline);
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = queue;
}

/// Signs again and uploads again, while the file is at hand.
pub fn retry(queue: Queue, item: QueuedFile) {
    #[cfg(feature = "hydrate")]
    live::retry(queue, item);
    #[cfg(not(feature = "hydrate"))]
    let _ = (queue, item);
}

/// Takes a finished, failed or cancelled card off the list.
pub fn remove(queue: Queue, item: QueuedFile) {
    #[cfg(feature = "hydrate")]
    live::remove(queue, item);
    #[cfg(not(feature = "hydrate"))]
    let _ = (queue, item);
}

/// Whether the file behind a card can be sent again (never on the server).
pub fn can_retry(item: &QueuedFile) -> bool {
    #[cfg(feature = "hydrate")]
    return live::can_retry(item);
    #[cfg(not(feature = "hydrate"))]
    {
        let _ = item;
        false
    }
}

/// Copies `text` to the clipboard; whether that worked.
pub async fn copy(text: String) -> bool {
    #[cfg(feature = "hydrate")]
    return live::copy(text).await;
    #[cfg(not(feature = "hydrate"))]
    {
        let _ = text;
        false
    }
}

/// Keeps a fresh link in the recent uploads, in place of the old one.
pub fn remember(link: &DownloadLink) {
    #[cfg(feature = "hydrate")]
    recent::remember(link);
    #[cfg(not(feature = "hydrate"))]
    let _ = link;
}

/// Moves the keyboard focus to the link option `kind` (`data-link`).
pub fn focus_link_option(kind: &str) {
    #[cfg(feature = "hydrate")]
    gesture::focus(&format!(".link-option[data-link='{kind}']"));
    #[cfg(not(feature = "hydrate"))]
    let _ = kind;
}

/// Forgets a file in the recent uploads (it was deleted).
pub fn forget(key: &str) {
    #[cfg(feature = "hydrate")]
    recent::forget(key);
    #[cfg(not(feature = "hydrate"))]
    let _ = key;
}

/// Whole seconds from now until `rfc3339`, by the browser's clock; `None`
/// on the server (a rendered page would show it frozen) or when it is past.
pub fn seconds_until(rfc3339: &str) -> Option<u64> {
    #[cfg(feature = "hydrate")]
    {
        let seconds = ((js_sys::Date::parse(rfc3339) - js_sys::Date::now()) / 1000.0).round();
        (seconds.is_finite() && seconds > 0.0).then_some(seconds as u64)
    }
    #[cfg(not(feature = "hydrate"))]
    {
        let _ = rfc3339;
        None
    }
}

/// A fresh link for a file uploaded earlier (its token's holder only).
pub async fn sign_download(key: String, token: String) -> Result<DownloadLink, CourierError> {
    #[cfg(feature = "hydrate")]
    return calls::sign_download(key, token).await;
    #[cfg(not(feature = "hydrate"))]
    {
        let _ = (key, token);
        Err(CourierError::Internal("only the page asks for links".to_owned()))
    }
}

/// Deletes a file uploaded earlier (its token's holder only).
pub async fn delete_upload(key: String, token: String) -> Result<(), CourierError> {
    #[cfg(feature = "hydrate")]
    return calls::delete_upload(key, token).await;
    #[cfg(not(feature = "hydrate"))]
    {
        let _ = (key, token);
        Err(CourierError::Internal("only the page deletes files".to_owned()))
    }
}

/// What the form hands the uploader: the code that uploads and shows the
/// cards, which the browser loads apart from the page's own (see
/// [`uploader`]).
#[cfg(feature = "hydrate")]
enum Task {
    Files(Vec<web_sys::File>),
    /// Dropped files, and the promises of their handles.
    Dropped(Vec<web_sys::File>, Vec<wasm_bindgen::JsValue>),
    /// The browser's own picker's promise, and the input whose plain
    /// picker opens if it fails.
    Picked(Result<wasm_bindgen::JsValue, wasm_bindgen::JsValue>, HtmlInputElement),
    Restore,
    WentOffline,
    CameOnline,
}

/// The uploader could not be loaded (the network, or a new version of the
/// page deployed meanwhile).
#[cfg(all(feature = "hydrate", feature = "split"))]
struct NotLoaded;

#[cfg(all(feature = "hydrate", feature = "split"))]
impl From<leptos::wasm_split::SplitLoaderError> for NotLoaded {
    fn from(_: leptos::wasm_split::SplitLoaderError) -> Self {
        Self
    }
}

/// Linked into the page's own module, the uploader is always there.
#[cfg(all(feature = "hydrate", not(feature = "split")))]
type NotLoaded = std::convert::Infallible;

/// The browser's localStorage, where it offers one.
#[cfg(feature = "hydrate")]
fn local_storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok().flatten()
}

/// Whether the browser's storage holds entries under `key` (without
/// reading them: that is the uploader's work).
#[cfg(feature = "hydrate")]
fn remembered(key: &str) -> bool {
    local_storage()
        .and_then(|s| s.get_item(key).ok().flatten())
        .is_some_and(|entries| entries != "[]")
}

#[cfg(feature = "hydrate")]
fn hand_over(queue: Queue, task: Task) {
    leptos::task::spawn_local(async move {
        if uploader(queue, task).await.is_err() {
            queue.problem.set(Some(
                "Courier could not load its uploader. Check your connection, then bring the files again; if it happens again, reload the page.".to_owned(),
            ));
        }
    });
}

/// The uploader: everything that runs once there are files (the queue's
/// cards, uploads in one POST or in parts, resume, the clipboard).
///
/// With the `split` feature, which `make dev`, `make build` and `make site`
/// turn on together with `cargo leptos … --split`, the splitter puts it, and
/// all only it uses, in a WebAssembly module of its own that the browser
/// fetches on its first call, so a first visit downloads only the form's
/// code. Without it (a plain `cargo leptos watch` or `build`, which do not
/// split) it is linked into the page's module and called directly: the same
/// code, one bundle. The feature without `--split` would leave the page
/// importing a module no build writes; `app`'s build script refuses that.
#[cfg(all(feature = "hydrate", feature = "split"))]
#[leptos::wasm_split::wasm_split(uploader, wasm_split_path = ::leptos::wasm_split, fallible, preload(preload_uploader))]
fn uploader(queue: Queue, task: Task) -> Result<(), NotLoaded> {
    start(queue, task);
    Ok(())
}

#[cfg(all(feature = "hydrate", not(feature = "split")))]
async fn uploader(queue: Queue, task: Task) -> Result<(), NotLoaded> {
    start(queue, task);
    Ok(())
}

/// Nothing to fetch: the uploader came with the page.
#[cfg(all(feature = "hydrate", not(feature = "split")))]
async fn preload_uploader() -> Result<(), NotLoaded> {
    Ok(())
}

/// What [`uploader`] does, split or not.
#[cfg(feature = "hydrate")]
fn start(queue: Queue, task: Task) {
    queue.problem.set(None);
    crate::upload::show_cards(queue);
    match task {
        Task::Files(files) => live::enqueue(queue, files),
        Task::Dropped(files, handles) => leptos::task::spawn_local(live::take_dropped(queue, files, handles)),
        Task::Picked(picking, input) => leptos::task::spawn_local(live::take_picked(queue, picking, input)),
        Task::Restore => live::restore(queue),
        Task::WentOffline => live::went_offline(queue),
        Task::CameOnline => live::came_online(queue),
    }
}
