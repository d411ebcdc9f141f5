use leptos::prelude::*;

use super::queue::Queue;
use super::rules::{NewLinkRules, RuleFields};
use crate::browser;
use crate::model::{LinkKind, PageSettings, UploadGrant};
use wire::seal::Encryption;

/// The uploader. Without JavaScript it is a plain form the browser submits to
/// the store. Once hydrated it takes files from the picker, a drop or a paste,
/// and uploads each in place, a few at a time, each with its own card.
/// `link` is the link the form's own policy uploads for.
#[component]
pub fn UploadForm(grant: UploadGrant, settings: PageSettings, link: LinkKind) -> impl IntoView {
    let (summary, accept) = (settings.rules.summary(), settings.rules.accept());
    let public_links = settings.public_links;
    // Larger files go up in parts, which the plain form cannot send.
    let largest_post = crate::multipart::largest_post(settings.rules.max_bytes, settings.multipart_threshold);
    let plain_limit = (largest_post < settings.rules.max_bytes)
        .then(|| format!("Without JavaScript: up to {}", crate::size::human_size(largest_post)));
    let encryption = settings.encryption;
    // The plain form has no grant where every file must be encrypted, nor
    // where a storage budget is kept (it declares no size to check).
    let plain_form_off = grant.url.is_empty();
    let request = settings.request.clone();
    let for_request = request.is_some();
    let budget_needs_script = plain_form_off && encryption != Encryption::Always && !for_request;
    let queue = Queue::new(settings, link);
    let file_input = NodeRef::<leptos::html::Input>::new();
    let dragging = RwSignal::new(false);

    // Effects run only in the browser: this marks the form as taken over.
    let hydrated = RwSignal::new(false);
    Effect::new(move |_| {
        hydrated.set(true);
        browser::restore(queue);
    });
    let paste = window_event_listener(leptos::ev::paste, move |event| {
        if browser::take_pasted(queue, &event) {
            event.prevent_default();
        }
    });
    on_cleanup(move || paste.remove());
    let offline = window_event_listener(leptos::ev::offline, move |_| browser::went_offline(queue));
    let online = window_event_listener(leptos::ev::online, move |_| browser::came_online(queue));
    on_cleanup(move || {
        offline.remove();
        online.remove();
    });

    // Handlers run only in the hydrated page; without it the form posts itself.
    let on_submit = move |event: leptos::ev::SubmitEvent| {
        event.prevent_default();
        if let Some(input) = file_input.get_untracked() {
            browser::take_chosen(queue, &input);
        }
    };
    let on_change = move |_| {
        if let Some(input) = file_input.get_untracked() {
            browser::take_chosen(queue, &input);
        }
    };
    let on_input_click = move |event: leptos::ev::MouseEvent| {
        if let Some(input) = file_input.get_untracked() {
            browser::pick_instead(queue, &event, &input);
        }
    };
    let on_drop = move |event: leptos::ev::DragEvent| {
        event.prevent_default();
        dragging.set(false);
        browser::take_dropped(queue, &event);
    };
    let on_keydown = move |event: leptos::ev::KeyboardEvent| {
        if matches!(event.key().as_str(), "Enter" | " ") {
            event.prevent_default();
            if let Some(input) = file_input.get_untracked() {
                browser::open_picker(&input);
            }
        }
    };
    let hidden_fields = grant
        .fields
        .into_iter()
        .map(|(name, value)| view! { <input type="hidden" name=name value=value /> })
        .collect_view();

    view! {
        {request.map(|request| view! { <super::requests::RequestRoom request /> })}
        <Show when=move || public_links>
            <LinkChoice chosen=queue.link hydrated />
        </Show>
        <form
            class="upload"
            on:pointerenter=move |_| browser::prepare()
            on:focusin=move |_| browser::prepare()
            method="post"
            enctype="multipart/form-data"
            action=grant.url
            data-hydrated=move || if hydrated.get() { "true" } else { "false" }
            on:submit=on_submit
        >
            {hidden_fields}
            <label
                class="dropzone"
                class:dragging=move || dragging.get()
                for="file"
                tabindex="0"
                on:dragover=move |event: leptos::ev::DragEvent| {
                    event.prevent_default();
                    if !dragging.get_untracked() {
                        browser::prepare();
                    }
                    dragging.set(true);
                }
                on:dragleave=move |_| dragging.set(false)
                on:drop=on_drop
                on:keydown=on_keydown
            >
                // Which of the two shows follows the form's `data-hydrated`
                // (the stylesheet's), so this stays plain HTML.
                <span class="picker-title">
                    <span class="plain-only">"Choose a file"</span>
                    <span class="hydrated-only">"Drop files here, paste them, or choose"</span>
                </span>
                <span class="hint">{summary}</span>
                {plain_limit.map(|text| view! { <span class="hint plain-only">{text}</span> })}
                {match encryption {
                    Encryption::Always => Some(view! {
                        <span class="hint plain-only">"Every file is encrypted in the browser here, which needs JavaScript: turn it on to send files."</span>
                    }),
                    Encryption::Optional => Some(view! {
                        <span class="hint plain-only">"Without JavaScript, files are sent unencrypted: turn it on to encrypt them in this browser."</span>
                    }),
                    Encryption::Off => None,
                }}
                {for_request.then(|| view! {
                    <span class="hint plain-only">"Each file is checked against what this request still takes before it is sent, which needs JavaScript: turn it on to send files."</span>
                })}
                {budget_needs_script.then(|| view! {
                    <span class="hint plain-only">"Each file is checked against this Courier's storage budget before it is sent, which needs JavaScript: turn it on to send files."</span>
                })}
            </label>
            // One file per plain-form POST; several once the page is hydrated.
            // Once hydrated, chosen files go at once, as dropped and pasted ones
            // do: the Upload button (and `required`) are the plain form's.
            <input
                id="file"
                type="file"
                name="file"
                accept=accept
                multiple=move || hydrated.get()
                required=move || !hydrated.get()
                node_ref=file_input
                on:change=on_change
                on:click=on_input_click
            />
            <button type="submit" class="plain-only" disabled=plain_form_off>"Upload"</button>
        </form>
        // The hydrated page's alone: the plain form cannot encrypt.
        <Show when=move || hydrated.get() && queue.link.get() == LinkKind::Expiring && encryption != Encryption::Off>
            <EncryptChoice encrypt=queue.encrypt always=encryption == Encryption::Always />
        </Show>
        // The hydrated page's alone: the plain form's links get the defaults.
        <Show when=move || hydrated.get() && queue.link.get() == LinkKind::Expiring && !for_request>
            <NewLinkPanel rules=queue.new_links />
        </Show>
        // The hydrated page's alone, and not on a request's page.
        <Show when=move || hydrated.get() && !for_request>
            <super::requests::RequestFiles />
        </Show>
        // Empty until the uploader speaks (see `card::show_cards`); a live
        // region must be on the page before what it announces.
        <div class="sr-only" role="status" aria-live="polite"></div>
        {move || queue.problem.get().map(|problem| view! { <p class="error" role="alert">{problem}</p> })}
        // The uploader fills these two as well.
        <div class="queue-actions"></div>
        <ul class="queue" aria-label="Uploads"></ul>
    }
}

/// "Encrypt in this browser": the next files are encrypted before they
/// leave, and their link carries the key after `#`, which Courier never
/// sees (FORMAT.md). Checked and fixed where the operator encrypts every file.
#[component]
fn EncryptChoice(encrypt: RwSignal<bool>, always: bool) -> impl IntoView {
    view! {
        <p class="encrypt-choice">
            <label>
                <input
                    type="checkbox"
                    data-testid="encrypt"
                    prop:checked=move || encrypt.get()
                    disabled=always
                    on:change=move |event| encrypt.set(event_target_checked(&event))
                />
                " Encrypt in this browser"
            </label>
            <span class="hint">
                " Courier and the storage keep only ciphertext; the key is in the link, after its #."
            </span>
        </p>
    }
}

/// Which link the next files get. Plain links, so that without JavaScript
/// each reloads the page with a form signed for its kind (every policy pins
/// its own prefix); the hydrated page switches in place, and, as a radio
/// group does, takes one Tab stop and moves with the arrow keys.
#[component]
fn LinkChoice(chosen: RwSignal<LinkKind>, hydrated: RwSignal<bool>) -> impl IntoView {
    let option = move |kind: LinkKind, label: &'static str, detail: &'static str| {
        let pick = move |event: leptos::ev::MouseEvent| {
            event.prevent_default();
            chosen.set(kind);
        };
        let on_keydown = move |event: leptos::ev::KeyboardEvent| {
            if matches!(
                event.key().as_str(),
                "ArrowLeft" | "ArrowRight" | "ArrowUp" | "ArrowDown"
            ) {
                event.prevent_default();
                let other = match kind {
                    LinkKind::Expiring => LinkKind::Public,
                    LinkKind::Public => LinkKind::Expiring,
                };
                chosen.set(other);
                browser::focus_link_option(other.as_str());
            }
        };
        view! {
            <a
                class="link-option"
                href=format!("/?link={}", kind.as_str())
                role="radio"
                aria-checked=move || if chosen.get() == kind { "true" } else { "false" }
                tabindex=move || if hydrated.get() && chosen.get() != kind { "-1" } else { "0" }
                data-link=kind.as_str()
                on:click=pick
                on:keydown=on_keydown
            >
                <strong>{label}</strong>
                <span class="option-detail">{detail}</span>
            </a>
        }
    };
    view! {
        <div class="link-choice" role="radiogroup" aria-label="Link">
            {option(LinkKind::Expiring, "Expiring link", "Private; the link stops working after a while.")}
            {option(LinkKind::Public, "Public link", "Anyone with the link can download the file, until it is deleted.")}
        </div>
    }
}

/// "For new links": the rules each new upload's share gets as soon as it is
/// up (how long its link works, the downloads per file, a password).
/// Closed until asked for; the defaults (7 days, unlimited, no password)
/// change nothing.
#[component]
fn NewLinkPanel(rules: NewLinkRules) -> impl IntoView {
    let open = RwSignal::new(false);
    let problem = move || {
        rules
            .limit
            .with(|limit| super::rules::parse_limit(limit).err())
            .map(|sentence| {
                view! { <p class="error" role="alert">{sentence}</p> }
            })
    };
    let summary = move || {
        rules.expiry.with(|expiry| {
            rules.limit.with(|limit| {
                rules
                    .password
                    .with(|password| super::rules::new_link_summary(expiry, limit, password))
            })
        })
    };
    view! {
        <section class="new-links">
            <button
                type="button"
                class="disclosure"
                data-testid="new-share-toggle"
                aria-expanded=move || if open.get() { "true" } else { "false" }
                on:click=move |_| open.update(|open| *open = !*open)
            >
                "For new links"
            </button>
            {move || summary().map(|summary| view! { <span class="new-links-summary">{summary}</span> })}
            <Show when=move || open.get()>
                <div class="rule-fields" role="group" aria-label="Rules for new links">
                    <RuleFields expiry=rules.expiry limit=rules.limit password=rules.password testid="new-share" />
                    <label class="check">
                        <input
                            type="checkbox"
                            data-testid="new-share-together"
                            prop:checked=move || rules.together.get()
                            on:change=move |event| rules.together.set(event_target_checked(&event))
                        />
                        "One link for the files of each drop"
                    </label>
                    <p class="hint">"Each new upload's link gets these rules as soon as it is up; change any link's afterwards under its Link settings."</p>
                    {problem}
                </div>
            </Show>
        </section>
    }
    // Erased: the form's whole view type nested past the compiler's query depth.
    .into_any()
}
