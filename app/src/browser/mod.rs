//! What the page does in the browser, behind one API that components call
//! the same way on both sides: in the hydrated page it acts, on the server
//! (which only renders, and never runs event handlers) each call does
//! nothing. Components stay UI only; every `hydrate` switch is here (and
//! in [`clock`]). The cards, which only the hydrated page shows, call
//! [`uploads`] instead.
//!
//! The browser gets this code in two WebAssembly modules (with the `split`
//! feature; in one without it, see `uploader`): the page's (the form:
//! choosing, dropping and pasting files, the link choice) and the uploader's
//! (`uploader`: the cards, the uploads, resume), which the browser fetches
//! when the first files come, or as the person reaches for the form. What
//! must happen within the person's gesture is in `gesture`.
//!
//! Inside the uploader, the layers call one way only:
//! - `uploader`: takes the form's tasks, shows the cards (`crate::upload`);
//! - [`uploads`] (which the cards call): the queue, and what the cards'
//!   buttons do; it shows each upload on its card;
//! - `engine`: one record per upload and the two strategies that send it
//!   (one POST, or parts through the part pipeline), ending in an outcome;
//!   it never sees the page's cards;
//! - beneath: `calls` (Courier's server functions), `transfer` (XHR),
//!   `unfinished`, `recent`, `file_handles`, `storage` (what the browser
//!   keeps past a reload).
//!
//! The page's own, beside the uploader: [`requests`] (the file requests
//! this browser made, which "Ask for files" shows) and [`clipboard`].

#[cfg(feature = "hydrate")]
mod calls;
#[cfg(feature = "hydrate")]
pub mod clipboard;
pub mod clock;
#[cfg(feature = "hydrate")]
mod engine;
#[cfg(feature = "hydrate")]
mod file_handles;
#[cfg(feature = "hydrate")]
mod gesture;
// Plain Rust: its tests run on the host, where nothing else uses it.
#[cfg(any(feature = "hydrate", test))]
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
mod id_map;
#[cfg(feature = "hydrate")]
mod recent;
#[cfg(feature = "hydrate")]
pub mod requests;
#[cfg(feature = "hydrate")]
mod storage;
#[cfg(feature = "hydrate")]
mod transfer;
#[cfg(feature = "hydrate")]
mod unfinished;
#[cfg(feature = "hydrate")]
mod uploader;
#[cfg(feature = "hydrate")]
pub mod uploads;

use leptos::ev::{ClipboardEvent, DragEvent, MouseEvent};
#[cfg(feature = "hydrate")]
use leptos::prelude::WithUntracked as _;
use leptos::web_sys::HtmlInputElement;

#[cfg(feature = "hydrate")]
use self::uploader::{Task, hand_over};
use crate::upload::queue::Queue;

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
        .any(storage::remembered)
    {
        hand_over(queue, Task::Restore);
    }
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
        let _ = uploader::preload_uploader().await;
    });
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

/// Moves the keyboard focus to the link option `kind` (`data-link`).
pub fn focus_link_option(kind: &str) {
    #[cfg(feature = "hydrate")]
    gesture::focus(&format!(".link-option[data-link='{kind}']"));
    #[cfg(not(feature = "hydrate"))]
    let _ = kind;
}

/// Shows the file requests this browser made, then keeps them current
/// (every 5 seconds while one takes files or has files on the way).
pub fn watch_requests(
    list: leptos::prelude::RwSignal<Vec<crate::request::RequestLink>>,
    problem: leptos::prelude::RwSignal<Option<String>>,
) {
    #[cfg(feature = "hydrate")]
    leptos::task::spawn_local(async move {
        use leptos::prelude::{Get as _, GetUntracked as _, Set as _};
        match requests::remembered().await {
            Ok(found) => list.set(found),
            Err(error) => problem.set(Some(error.to_string())),
        }
        loop {
            engine::wait::sleep(5000.0).await;
            let watched: Vec<_> = list
                .get_untracked()
                .iter()
                .filter(|request| request.state == crate::request::RequestState::Open || request.files_arriving > 0)
                .map(crate::request::RequestLink::reference)
                .collect();
            if watched.is_empty() {
                continue;
            }
            // A failure here is not worth a sentence: the next round tries again.
            if let Ok(fresh) = requests::status(&watched).await {
                list.set(merged(list.get(), fresh));
            }
        }
    });
    #[cfg(not(feature = "hydrate"))]
    let _ = (list, problem);
}

/// `fresh` in place of the requests of `list` with the same id.
#[cfg(feature = "hydrate")]
fn merged(
    list: Vec<crate::request::RequestLink>,
    fresh: Vec<crate::request::RequestLink>,
) -> Vec<crate::request::RequestLink> {
    list.into_iter()
        .map(|old| fresh.iter().find(|new| new.id == old.id).cloned().unwrap_or(old))
        .collect()
}

/// Makes a file request with `rules`, shown first in `list`.
pub fn make_request(
    rules: crate::request::RequestRules,
    list: leptos::prelude::RwSignal<Vec<crate::request::RequestLink>>,
    problem: leptos::prelude::RwSignal<Option<String>>,
    making: leptos::prelude::RwSignal<bool>,
) {
    #[cfg(feature = "hydrate")]
    leptos::task::spawn_local(async move {
        use leptos::prelude::{Set as _, Update as _};
        making.set(true);
        match requests::make(rules).await {
            Ok(request) => {
                problem.set(None);
                list.update(|list| list.insert(0, request));
            }
            Err(error) => problem.set(Some(error.to_string())),
        }
        making.set(false);
    });
    #[cfg(not(feature = "hydrate"))]
    let _ = (rules, list, problem, making);
}

/// Closes a file request: its link takes no more files.
pub fn close_request(
    reference: crate::request::RequestRef,
    list: leptos::prelude::RwSignal<Vec<crate::request::RequestLink>>,
    problem: leptos::prelude::RwSignal<Option<String>>,
) {
    #[cfg(feature = "hydrate")]
    leptos::task::spawn_local(async move {
        use leptos::prelude::{Get as _, Set as _};
        match requests::close(&reference).await {
            Ok(closed) => list.set(merged(list.get(), vec![closed])),
            Err(error) => problem.set(Some(error.to_string())),
        }
    });
    #[cfg(not(feature = "hydrate"))]
    let _ = (reference, list, problem);
}

/// Forgets a file request in this browser.
pub fn forget_request(id: String, list: leptos::prelude::RwSignal<Vec<crate::request::RequestLink>>) {
    #[cfg(feature = "hydrate")]
    {
        use leptos::prelude::Update as _;
        requests::forget(&id);
        list.update(|list| list.retain(|request| request.id != id));
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = (id, list);
}

/// Copies a request's link.
pub fn copy_request_link(
    url: String,
    copied: leptos::prelude::RwSignal<bool>,
    problem: leptos::prelude::RwSignal<Option<String>>,
) {
    #[cfg(feature = "hydrate")]
    leptos::task::spawn_local(async move {
        use leptos::prelude::Set as _;
        let ok = clipboard::copy(url).await;
        copied.set(ok);
        if !ok {
            problem.set(Some(
                "The link could not be copied: select it and copy it by hand.".to_owned(),
            ));
        }
    });
    #[cfg(not(feature = "hydrate"))]
    let _ = (url, copied, problem);
}
