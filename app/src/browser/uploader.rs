//! The uploader: everything that runs once there are files (the queue's
//! cards, the uploads, resume, the clipboard), which the form hands its
//! [`Task`]s to.
//!
//! With the `split` feature, which `make dev`, `make build` and `make site`
//! turn on together with `cargo leptos … --split`, the splitter puts it, and
//! all only it uses, in a WebAssembly module of its own that the browser
//! fetches on its first call, so a first visit downloads only the form's
//! code. Without it (a plain `cargo leptos watch` or `build`, which do not
//! split) it is linked into the page's module and called directly: the same
//! code, one bundle. The feature without `--split` would leave the page
//! importing a module no build writes; `app`'s build script refuses that.

use leptos::prelude::Set as _;
use web_sys::HtmlInputElement;

use super::uploads;
use crate::upload::queue::Queue;

/// What the form hands the uploader.
pub enum Task {
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
#[cfg(feature = "split")]
pub struct NotLoaded;

#[cfg(feature = "split")]
impl From<leptos::wasm_split::SplitLoaderError> for NotLoaded {
    fn from(_: leptos::wasm_split::SplitLoaderError) -> Self {
        Self
    }
}

/// Linked into the page's own module, the uploader is always there.
#[cfg(not(feature = "split"))]
pub type NotLoaded = std::convert::Infallible;

/// Gives the uploader `task`, loading it first if need be.
pub fn hand_over(queue: Queue, task: Task) {
    leptos::task::spawn_local(async move {
        if uploader(queue, task).await.is_err() {
            queue.problem.set(Some(
                "Courier could not load its uploader. Check your connection, then bring the files again; if it happens again, reload the page.".to_owned(),
            ));
        }
    });
}

#[cfg(feature = "split")]
#[leptos::wasm_split::wasm_split(uploader, wasm_split_path = ::leptos::wasm_split, fallible, preload(preload_uploader))]
pub fn uploader(queue: Queue, task: Task) -> Result<(), NotLoaded> {
    start(queue, task);
    Ok(())
}

#[cfg(not(feature = "split"))]
async fn uploader(queue: Queue, task: Task) -> Result<(), NotLoaded> {
    start(queue, task);
    Ok(())
}

/// Nothing to fetch: the uploader came with the page.
#[cfg(not(feature = "split"))]
pub async fn preload_uploader() -> Result<(), NotLoaded> {
    Ok(())
}

/// What [`uploader`] does, split or not.
fn start(queue: Queue, task: Task) {
    queue.problem.set(None);
    crate::upload::card::show_cards(queue);
    match task {
        Task::Files(files) => uploads::enqueue(queue, files),
        Task::Dropped(files, handles) => leptos::task::spawn_local(uploads::take_dropped(queue, files, handles)),
        Task::Picked(picking, input) => leptos::task::spawn_local(uploads::take_picked(queue, picking, input)),
        Task::Restore => uploads::restore(queue),
        Task::WentOffline => uploads::went_offline(queue),
        Task::CameOnline => uploads::came_online(queue),
    }
}
