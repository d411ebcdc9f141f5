use leptos::either::EitherOf9;
use leptos::prelude::*;

use super::link_card::LinkLines;
use super::queue::{FileState, Queue, QueuedFile};
use crate::browser::uploads;
use crate::model::{DownloadLink, LinkKind};
use crate::size::human_size;

/// Shows the queue's cards in the form's list (`ul.queue`), the button that
/// clears the finished ones, and what the queue announces, once. The
/// uploader does it when the browser first loads it, so the cards' code is
/// not in the page's first load (the server never renders a card: a page
/// starts with none).
pub fn show_cards(queue: Queue) {
    thread_local! {
        static SHOWN: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
    }
    if SHOWN.with(std::cell::Cell::get) {
        return;
    }
    let (Some(status), Some(actions), Some(list)) = (
        uploads::element("div[role=status]"),
        uploads::element("div.queue-actions"),
        uploads::element("ul.queue"),
    ) else {
        return;
    };
    SHOWN.with(|shown| shown.set(true));
    // All three live as long as the page.
    leptos::mount::mount_to(status, move || move || queue.announcement.get()).forget();
    leptos::mount::mount_to(actions, move || view! { <ClearFinished queue /> }).forget();
    leptos::mount::mount_to(list, move || {
        view! {
            <For each=move || queue.items.get() key=|item| item.id let:item>
                <FileCard item queue />
            </For>
        }
    })
    .forget();
}

/// Once some uploads are done: a button that takes their cards away.
#[component]
fn ClearFinished(queue: Queue) -> impl IntoView {
    let any_finished = move || {
        queue
            .items
            .with(|items| items.iter().any(|i| i.state.with(|s| matches!(s, FileState::Done(_)))))
    };
    view! {
        <Show when=any_finished>
            <button type="button" class="secondary clear" on:click=move |_| uploads::clear_finished(queue)>
                "Clear recent uploads"
            </button>
        </Show>
    }
}

/// One file of the queue: its name and size, then its progress, its link or
/// why it has none, and what can be done next.
#[component]
pub fn FileCard(item: QueuedFile, queue: Queue) -> impl IntoView {
    let name = item.name.get_value();
    let state_name = move || item.state.with(FileState::name);
    let done = move || item.state.with(|s| matches!(s, FileState::Done(_)));
    view! {
        <li class="card" data-state=state_name data-testid=move || if done() { "result" } else { "upload" }>
            <div class="card-head">
                {move || item.preview.get().map(|src| view! { <img class="preview" src=src alt="" /> })}
                <h2 class="file-name">{name.clone()}</h2>
                <span class="file-size">{human_size(item.size)}</span>
                {(item.link == LinkKind::Public).then(|| view! { <span class="link-kind">"Public link"</span> })}
            </div>
            // One branch type per state, not `into_any()`: a type-erased view
            // brings every rendering path into the bundle, the unused async
            // hydration included.
            {move || match item.state.get() {
                FileState::Waiting => EitherOf9::A(view! { <p class="status">"Waiting…"</p> <ActionButton action=QueueAction::Cancel item queue /> }),
                FileState::Signing => EitherOf9::B(view! { <p class="status">"Preparing…"</p> <ActionButton action=QueueAction::Cancel item queue /> }),
                FileState::Uploading => EitherOf9::C(view! {
                    <ProgressBar item />
                    <div class="actions">
                        <Show when=move || item.in_parts.get()>
                            <ActionButton action=QueueAction::Pause item queue />
                        </Show>
                        <ActionButton action=QueueAction::Cancel item queue />
                    </div>
                }),
                FileState::Confirming => EitherOf9::D(view! {
                    <ProgressBar item />
                    <p class="status">{move || item.note.get().unwrap_or_else(|| "Confirming…".to_owned())}</p>
                }),
                FileState::Done(link) => EitherOf9::E(view! { <ProgressBar item /> <FinishedLink item link queue /> }),
                FileState::Failed(reason) => EitherOf9::F(view! {
                    <p class="error" role="alert">{reason}</p>
                    <AfterEnd item queue />
                }),
                FileState::Cancelled => EitherOf9::G(view! { <p class="status">"Cancelled."</p> <AfterEnd item queue /> }),
                FileState::Deleted => EitherOf9::H(view! {
                    <p class="status">"Deleted. Its link no longer works."</p>
                    <div class="actions"><ActionButton action=QueueAction::Remove item queue /></div>
                }),
                FileState::Paused => EitherOf9::I({
                    // After a reload the file must be chosen again, unless
                    // the browser kept a handle to it.
                    let at_hand = uploads::can_retry(&item);
                    let resumable = move || at_hand || item.reopenable.get();
                    let otherwise = move || {
                        if at_hand {
                            "Paused."
                        } else if item.reopenable.get() {
                            "Paused: Resume reads the file again from this computer and sends the rest."
                        } else {
                            "Paused: choose or drop this file again to send the rest."
                        }
                    };
                    view! {
                        <ProgressBar item />
                        <p class="status">{move || item.note.get().unwrap_or_else(|| otherwise().to_owned())}</p>
                        <div class="actions">
                            <Show when=resumable>
                                <ActionButton action=QueueAction::Resume item queue />
                            </Show>
                            <ActionButton action=QueueAction::Remove item queue />
                        </div>
                    }
                }),
            }}
        </li>
    }
}

/// `42` → "scaleX(0.42)", in integers: formatting an `f64` would bring
/// float printing into the uploader's module (about 9 KB brotli).
fn scale_x(percent: u32) -> String {
    let percent = percent.min(100);
    format!("scaleX({}.{:02})", percent / 100, percent % 100)
}

#[component]
fn ProgressBar(item: QueuedFile) -> impl IntoView {
    let percent = move || item.progress.with(|p| p.percent());
    let label = format!("Uploading {}", item.name.get_value());
    view! {
        <div class="progress" role="progressbar" aria-label=label aria-valuemin="0" aria-valuemax="100" aria-valuenow=percent>
            <div class="progress-fill" style:transform=move || scale_x(percent())></div>
        </div>
        <p class="status progress-text">{move || item.progress.with(|p| p.describe())}</p>
    }
}

/// What a card's buttons do to its file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum QueueAction {
    Cancel,
    Retry,
    Remove,
    Pause,
    Resume,
}

impl QueueAction {
    fn label(self) -> &'static str {
        match self {
            Self::Cancel => "Cancel",
            Self::Retry => "Retry",
            Self::Remove => "Remove",
            Self::Pause => "Pause",
            Self::Resume => "Resume",
        }
    }

    /// Runs in the browser; the server renders the button only.
    fn run(self, queue: Queue, item: QueuedFile) {
        match self {
            Self::Cancel => uploads::cancel(queue, item),
            Self::Retry => uploads::retry(queue, item),
            Self::Remove => uploads::remove(queue, item),
            Self::Pause => uploads::pause(queue, item, None),
            Self::Resume => uploads::resume(queue, item),
        }
    }
}

#[component]
fn ActionButton(action: QueueAction, item: QueuedFile, queue: Queue) -> impl IntoView {
    view! { <button type="button" class="secondary" on:click=move |_| action.run(queue, item)>{action.label()}</button> }
}

/// Retry (while the file is still at hand) and remove, for a failed or cancelled upload.
#[component]
fn AfterEnd(item: QueuedFile, queue: Queue) -> impl IntoView {
    let retry_possible = uploads::can_retry(&item);
    view! {
        <div class="actions">
            <Show when=move || retry_possible>
                <ActionButton action=QueueAction::Retry item queue />
            </Show>
            <ActionButton action=QueueAction::Remove item queue />
        </div>
    }
}

/// The link: open it, copy it, see when it expires, get a new one, or
/// delete the file.
#[component]
fn FinishedLink(item: QueuedFile, link: DownloadLink, queue: Queue) -> impl IntoView {
    let copied = RwSignal::new(false);
    let renewing = RwSignal::new(false);
    // Deleting asks first: "Delete" shows the question and its two answers.
    let confirming_delete = RwSignal::new(false);
    let deleting = RwSignal::new(false);
    // Without the owner token (a confirmation replayed late) the card shows
    // the link only: new links and delete are its owner's.
    let owned = link.owner_token().is_some();
    let renewable = owned && link.expires_at.is_some();
    let problem = RwSignal::new(None::<String>);
    let url = link.download_url.clone();
    let copy = move |_| {
        let url = url.clone();
        leptos::task::spawn_local(async move {
            let ok = uploads::copy(url).await;
            copied.set(ok);
            if !ok {
                problem.set(Some(
                    "The link could not be copied: select it and copy it by hand.".to_owned(),
                ));
            }
        });
    };
    let (key, token) = (link.key.clone(), link.token.clone());
    let delete = {
        let (key, token) = (key.clone(), token.clone());
        move |_| {
            let (key, token) = (key.clone(), token.clone());
            deleting.set(true);
            leptos::task::spawn_local(async move {
                match uploads::delete(key, token).await {
                    Ok(()) => {
                        item.state.set(FileState::Deleted);
                        queue.announce(&item);
                    }
                    Err(error) => problem.set(Some(error.to_string())),
                }
                deleting.set(false);
                confirming_delete.set(false);
            });
        }
    };
    let renew = move |_| {
        let (key, token) = (key.clone(), token.clone());
        renewing.set(true);
        leptos::task::spawn_local(async move {
            match uploads::renew(key, token).await {
                Ok(fresh) => {
                    item.state.set(FileState::Done(fresh));
                }
                Err(error) => problem.set(Some(error.to_string())),
            }
            renewing.set(false);
        });
    };
    view! {
        <LinkLines link />
        <div class="actions">
            <button type="button" class="copy" on:click=copy>{move || if copied.get() { "Copied ✓" } else { "Copy link" }}</button>
            {renewable.then(|| view! {
                <button type="button" class="secondary" on:click=renew disabled=move || renewing.get()>"New link"</button>
            })}
            {owned.then(|| view! {
                <button type="button" class="secondary danger" on:click=move |_| confirming_delete.set(true) disabled=move || confirming_delete.get()>"Delete"</button>
            })}
            <ActionButton action=QueueAction::Remove item queue />
        </div>
        <Show when=move || confirming_delete.get()>
            <div class="confirm-delete" role="group" aria-label="Delete the file">
                <p>"Delete this file from storage? Its link stops working for everyone."</p>
                <button type="button" class="danger" on:click=delete.clone() disabled=move || deleting.get()>"Delete for good"</button>
                <button type="button" class="secondary" on:click=move |_| confirming_delete.set(false)>"Keep it"</button>
            </div>
        </Show>
        {move || problem.get().map(|p| view! { <p class="error" role="alert">{p}</p> })}
    }
}

#[cfg(test)]
mod tests {
    use super::scale_x;

    #[test]
    fn the_bar_is_scaled_by_its_percent() {
        assert_eq!(scale_x(0), "scaleX(0.00)");
        assert_eq!(scale_x(7), "scaleX(0.07)");
        assert_eq!(scale_x(42), "scaleX(0.42)");
        assert_eq!(scale_x(100), "scaleX(1.00)");
        assert_eq!(scale_x(250), "scaleX(1.00)");
    }
}
