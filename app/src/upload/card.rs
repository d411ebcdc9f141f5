use leptos::either::{Either, EitherOf9};
use leptos::prelude::*;

use super::link_card::LinkLines;
use super::queue::{FileState, Queue, QueuedFile, ShareNote};
use super::share_card::{DirectLine, ShareHead, ShareQr, ShareSettings, is_over};
use crate::browser::uploads;
use crate::model::{DownloadLink, LinkKind};
use crate::share::ShareLink;
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
    leptos::mount::mount_to(
        actions,
        move || view! { <CombineShares queue /> <ClearFinished queue /> },
    )
    .forget();
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

/// Once two or more finished cards have links no one used yet: a button
/// that makes one link of them, with the rules for new links. The cards
/// then all show it; a refusal is said next to the button.
#[component]
fn CombineShares(queue: Queue) -> impl IntoView {
    let combining = RwSignal::new(false);
    let problem = RwSignal::new(None::<String>);
    let combinable = Memo::new(move |_| uploads::combinable(queue));
    let combine = move |_| {
        let shares = combinable.get_untracked();
        if shares.len() < 2 {
            return;
        }
        combining.set(true);
        problem.set(None);
        leptos::task::spawn_local(async move {
            match uploads::combine(queue, shares).await {
                Ok(combined) => queue
                    .announcement
                    .set(combined.files.len().to_string() + " files now share one link"),
                Err(error) => problem.set(Some(error.to_string())),
            }
            combining.set(false);
        });
    };
    view! {
        <Show when=move || combinable.with(|shares| shares.len() >= 2)>
            <button type="button" class="secondary combine" data-testid="combine-shares" on:click=combine disabled=move || combining.get()>
                "One link for all"
            </button>
        </Show>
        // Outside the button's `Show`: the refusal may leave fewer than two
        // links to make one of (the cards then show why), and it still says why.
        {move || problem.get().map(|problem| view! { <p class="error" role="alert" data-testid="combine-problem">{problem}</p> })}
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
                FileState::Done(link) => EitherOf9::E(view! { <ProgressBar item /> <FinishedLink item link=*link queue /> }),
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

/// What Delete asks: the file's link goes with it, unless the link holds
/// other files, which keep working under it.
fn delete_question(share: RwSignal<Option<ShareLink>>) -> String {
    let others = share.with(|share| share.as_ref().map_or(0, |share| share.files.len().saturating_sub(1)));
    match others {
        0 => "Delete this file from storage? Its link stops working for everyone.".to_owned(),
        1 => "Delete this file from storage? Its link keeps working for the 1 other file it holds.".to_owned(),
        others => {
            String::from("Delete this file from storage? Its link keeps working for the ")
                + &others.to_string()
                + " other files it holds."
        }
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
/// delete the file. With a share, the share's link comes first, with its
/// rules, its QR code, its settings and "Take back"; the file's own link
/// below it. Only the holder of a token sees what it controls.
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
    // The share's link is the one to hand out; its settings and "Take back"
    // need the sender's token. Once the share is over (expired, taken back,
    // used up) its files are gone: the card says why, and offers Remove.
    let share = item.share;
    let shared = share.with_untracked(|share| share.as_ref().map(|share| share.owner_token().is_some()));
    let over = move || is_over(share);
    // Read at each click: the share may change under the card (made one
    // with others' by "One link for all").
    let direct_url = link.download_url.clone();
    let copy = move |_| {
        let url = share
            .with_untracked(|share| share.as_ref().map(|share| share.url.clone()))
            .unwrap_or_else(|| direct_url.clone());
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
                match uploads::delete(queue, key, token, share.get_untracked()).await {
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
    let kept = link.clone();
    let renew = move |_| {
        let (key, token, kept) = (key.clone(), token.clone(), kept.clone());
        renewing.set(true);
        leptos::task::spawn_local(async move {
            // A renewed link never loses the share the card shows.
            match uploads::renew(key, token, share.get_untracked(), &kept).await {
                Ok(fresh) => {
                    share.set(fresh.share.clone());
                    item.state.set(FileState::Done(Box::new(fresh)));
                }
                Err(error) => problem.set(Some(error.to_string())),
            }
            renewing.set(false);
        });
    };
    let copy_button = view! {
        <button type="button" class="copy" on:click=copy>{move || if copied.get() { "Copied ✓" } else { "Copy link" }}</button>
    };
    let owner_buttons = view! {
        {renewable.then(|| view! {
            <button type="button" class="secondary" on:click=renew disabled=move || renewing.get() hidden=over>"New link"</button>
        })}
        {owned.then(|| view! {
            <button type="button" class="secondary danger" on:click=move |_| confirming_delete.set(true) disabled=move || confirming_delete.get() hidden=over>"Delete"</button>
        })}
    };
    let confirm_delete = view! {
        <Show when=move || confirming_delete.get() && !over()>
            <div class="confirm-delete" role="group" aria-label="Delete the file">
                <p>{move || delete_question(share)}</p>
                <button type="button" class="danger" on:click=delete.clone() disabled=move || deleting.get()>"Delete for good"</button>
                <button type="button" class="secondary" on:click=move |_| confirming_delete.set(false)>"Keep it"</button>
            </div>
        </Show>
    };
    let problem_line = move || problem.get().map(|p| view! { <p class="error" role="alert">{p}</p> });
    let Some(sender) = shared else {
        return Either::Left(view! {
            <LinkLines link />
            <div class="actions">
                {copy_button}
                {owner_buttons}
                <ActionButton action=QueueAction::Remove item queue />
            </div>
            {confirm_delete}
            {problem_line}
        });
    };

    let qr_open = RwSignal::new(false);
    let settings_open = RwSignal::new(false);
    let confirming_revoke = RwSignal::new(false);
    let revoking = RwSignal::new(false);
    let revoke = move |_| {
        let Some(current) = share.get_untracked() else {
            return;
        };
        revoking.set(true);
        leptos::task::spawn_local(async move {
            match uploads::take_back(queue, current).await {
                Ok(fresh) => {
                    let what = if fresh.files.len() > 1 {
                        ": its link was taken back, and its files deleted"
                    } else {
                        ": its link was taken back, and the file deleted"
                    };
                    share.set(Some(fresh));
                    queue.announcement.set(item.name.get_value() + what);
                }
                Err(error) => problem.set(Some(error.to_string())),
            }
            revoking.set(false);
            confirming_revoke.set(false);
        });
    };
    let expanded = |open: RwSignal<bool>| move || if open.get() { "true" } else { "false" };
    let note = move || {
        item.share_note.get().map(|note| match note {
            ShareNote::Applying => {
                Either::Left(view! { <p class="status">"Giving the link the rules chosen for new links…"</p> })
            }
            ShareNote::Failed(sentence) => Either::Right(view! { <p class="error" role="alert">{sentence}</p> }),
        })
    };
    // An encrypted file's key is only in this browser: Courier draws no QR
    // code of it, and its direct link would give ciphertext.
    let encrypted = link.seal.is_some();
    Either::Right(view! {
        <ShareHead share />
        {note}
        {encrypted.then(|| view! {
            <p class="hint" data-testid="share-encrypted">"Encrypted in this browser: the link carries the key after its #. Courier cannot open the file."</p>
        })}
        <div class="actions" hidden=over>
            {copy_button}
            <button type="button" class="secondary" data-testid="share-qr-toggle" hidden=encrypted aria-expanded=expanded(qr_open) on:click=move |_| qr_open.update(|open| *open = !*open)>
                "QR code"
            </button>
            {sender.then(|| view! {
                <button type="button" class="secondary" data-testid="share-settings-toggle" aria-expanded=expanded(settings_open) on:click=move |_| settings_open.update(|open| *open = !*open)>
                    "Link settings"
                </button>
            })}
        </div>
        <Show when=move || qr_open.get() && !over()>
            <ShareQr share />
        </Show>
        <Show when=move || sender && settings_open.get() && !over()>
            <ShareSettings share queue />
        </Show>
        <div hidden=move || over() || encrypted>
            <DirectLine download_url=link.download_url.clone() expires_at=link.expires_at.clone() />
        </div>
        <div class="actions">
            {owner_buttons}
            {sender.then(|| view! {
                <button type="button" class="secondary danger" data-testid="share-revoke" on:click=move |_| confirming_revoke.set(true) disabled=move || confirming_revoke.get() hidden=over>
                    "Take back"
                </button>
            })}
            <ActionButton action=QueueAction::Remove item queue />
        </div>
        {confirm_delete}
        <Show when=move || confirming_revoke.get() && !over()>
            <div class="confirm-delete" role="group" aria-label="Take the link back">
                <p>"Take this link back? It stops working for everyone at once, and its files are deleted from storage."</p>
                <button type="button" class="danger" data-testid="share-revoke-confirm" on:click=revoke disabled=move || revoking.get()>"Take it back"</button>
                <button type="button" class="secondary" on:click=move |_| confirming_revoke.set(false)>"Keep the link"</button>
            </div>
        </Show>
        {problem_line}
    })
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
