//! A finished card's share (the browser's alone, as the cards are): the
//! link to hand out and its rules, its QR code, the sender's "Link
//! settings", and the file's direct link below them. The card
//! (`card::FinishedLink`) lays them out with its buttons.

use leptos::prelude::*;

use super::link_card::{reach, readable_time};
use super::queue::Queue;
use super::rules::{RuleFields, qr_path, rules_line, settings_change};
use crate::browser::uploads;
use crate::share::{ShareLink, ShareState};

/// Whether the share shown is over (expired, taken back, used up).
pub fn is_over(share: RwSignal<Option<ShareLink>>) -> bool {
    share.with(|share| share.as_ref().is_some_and(|share| share.state != ShareState::Live))
}

/// The share's link (or, once it is over, why it no longer works) and its
/// rules in one line.
#[component]
pub fn ShareHead(share: RwSignal<Option<ShareLink>>) -> impl IntoView {
    let url = move || share.with(|share| share.as_ref().map(|share| share.url.clone()).unwrap_or_default());
    let state = move || share.with(|share| share.as_ref().map_or(ShareState::Live, |share| share.state));
    let over = move || {
        view! { <p class="share-state" data-testid="share-state">{move || state().sentence()}</p> }
    };
    view! {
        <div class="share" data-share-state=move || state().as_str()>
            <Show when=move || state() == ShareState::Live fallback=over>
                <p class="share-heading">
                    <a class="share-link" data-testid="share-link" href=url rel="noreferrer">"Link to share"</a>
                </p>
                <input class="link-text" type="text" readonly prop:value=url aria-label="Link to share, to copy" />
            </Show>
            <p class="share-rules" data-testid="share-rules">
                {move || share.with(|share| share.as_ref().map(rules_line).unwrap_or_default())}
            </p>
        </div>
    }
}

/// The link as a QR code, served by Courier itself (`/s/<id>/qr.svg`).
#[component]
pub fn ShareQr(share: RwSignal<Option<ShareLink>>) -> impl IntoView {
    let src = move || share.with(|share| share.as_ref().map(|share| qr_path(&share.id)).unwrap_or_default());
    view! {
        <img class="share-qr" data-testid="share-qr" src=src alt="QR code of the link" width="200" height="200" />
    }
}

/// The file's own link, secondary: it skips the share's rules, and works
/// for a short while.
#[component]
pub fn DirectLine(download_url: String, expires_at: Option<String>) -> impl IntoView {
    view! {
        <div class="direct">
            <p class="direct-link">
                <a class="download-link" href=download_url rel="noreferrer">"Direct link"</a>
                " to the file itself, for you: it skips the rules above."
            </p>
            {reach(expires_at)}
        </div>
    }
}

/// The sender's "Link settings": how long the link works, the downloads
/// per file, the password. Save sends only what it says (the expiry as it
/// is unless another is chosen); the card then shows the answer's rules,
/// as does every other card of the same share.
#[component]
pub fn ShareSettings(share: RwSignal<Option<ShareLink>>, queue: Queue) -> impl IntoView {
    let max_now = share.with_untracked(|share| share.as_ref().and_then(|share| share.max_downloads));
    // Empty: the expiry as it is (the list's first option).
    let expiry = RwSignal::new(String::new());
    let limit = RwSignal::new(max_now.map(|max| max.to_string()).unwrap_or_default());
    let password = RwSignal::new(String::new());
    let remove_password = RwSignal::new(false);
    let saving = RwSignal::new(false);
    let outcome = RwSignal::new(None::<Result<(), String>>);
    let has_password = move || share.with(|share| share.as_ref().is_some_and(|share| share.password));
    let keep = Signal::derive(move || {
        share.with(
            |share| match share.as_ref().and_then(|share| share.expires_at.as_deref()) {
                Some(at) => String::from("As now (until ") + &readable_time(at) + ")",
                None => "As now (never expires)".to_owned(),
            },
        )
    });
    let password_label = Signal::derive(move || {
        if has_password() {
            "New password (blank: keep it)"
        } else {
            "Password (optional)"
        }
    });
    let save = move |event: leptos::ev::SubmitEvent| {
        event.prevent_default();
        let Some(current) = share.get_untracked() else {
            return;
        };
        let change = settings_change(
            &expiry.get_untracked(),
            &limit.get_untracked(),
            &password.get_untracked(),
            remove_password.get_untracked() && current.password,
        );
        let change = match change {
            Ok(change) => change,
            Err(sentence) => return outcome.set(Some(Err(sentence.to_owned()))),
        };
        saving.set(true);
        outcome.set(None);
        leptos::task::spawn_local(async move {
            match uploads::change_share(queue, current, change).await {
                Ok(fresh) => {
                    share.set(Some(fresh));
                    // The password goes from the page once it is sent.
                    password.set(String::new());
                    remove_password.set(false);
                    expiry.set(String::new());
                    outcome.set(Some(Ok(())));
                }
                Err(error) => outcome.set(Some(Err(error.to_string()))),
            }
            saving.set(false);
        });
    };
    view! {
        // Checked here, with a sentence, not by the browser's own bubbles.
        <form class="share-settings" novalidate on:submit=save>
            <fieldset>
                <legend>"Link settings"</legend>
                <RuleFields
                    expiry
                    limit
                    password
                    testid="share"
                    keep
                    password_label
                    password_disabled=Signal::derive(move || remove_password.get())
                />
                <Show when=has_password>
                    <label class="check">
                        <input
                            type="checkbox"
                            data-testid="share-remove-password"
                            prop:checked=move || remove_password.get()
                            on:change=move |event| remove_password.set(event_target_checked(&event))
                        />
                        "Remove the password"
                    </label>
                </Show>
                <div class="actions">
                    <button type="submit" data-testid="share-save" disabled=move || saving.get()>"Save"</button>
                </div>
                {move || {
                    outcome
                        .get()
                        .map(|outcome| match outcome {
                            Ok(()) => leptos::either::Either::Left(view! { <p class="status">"Saved."</p> }),
                            Err(sentence) => {
                                leptos::either::Either::Right(view! { <p class="error" role="alert">{sentence}</p> })
                            }
                        })
                }}
            </fieldset>
        </form>
    }
}
