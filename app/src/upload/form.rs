use leptos::prelude::*;

use super::link_card::LinkCard;
use crate::model::{DownloadLink, UploadGrant};
use crate::size::human_size;

/// Where one upload is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Phase {
    Idle,
    Signing { name: String },
    Uploading { name: String, size: u64 },
    Done(DownloadLink),
    Failed(String),
}

impl Phase {
    pub fn is_busy(&self) -> bool {
        matches!(self, Self::Signing { .. } | Self::Uploading { .. })
    }
}

/// The form. Without JavaScript the browser submits it to the store as it is;
/// once hydrated, submitting signs a policy for the chosen file and uploads it
/// in place.
#[component]
pub fn UploadForm(grant: UploadGrant) -> impl IntoView {
    let phase = RwSignal::new(Phase::Idle);
    let file_input = NodeRef::<leptos::html::Input>::new();
    let rules = grant.file_rules();
    let (summary, accept) = (rules.summary(), rules.accept());

    let on_submit = move |event: leptos::ev::SubmitEvent| {
        #[cfg(feature = "hydrate")]
        {
            event.prevent_default();
            if !phase.get_untracked().is_busy() {
                crate::browser::start_upload(file_input, phase, rules.clone());
            }
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = (event, file_input, &rules);
    };
    // Effects run only in the browser: this marks the form as taken over.
    let hydrated = RwSignal::new(false);
    Effect::new(move |_| hydrated.set(true));
    let busy = move || phase.with(Phase::is_busy);
    let hidden_fields = grant
        .fields
        .into_iter()
        .map(|(name, value)| view! { <input type="hidden" name=name value=value /> })
        .collect_view();

    view! {
        <form class="upload" method="post" enctype="multipart/form-data" action=grant.url
            data-hydrated=move || if hydrated.get() { "true" } else { "false" }
            on:submit=on_submit
        >
            {hidden_fields}
            <label class="picker" for="file">
                <span class="picker-title">"Choose a file"</span>
                <span class="hint">{summary}</span>
            </label>
            <input id="file" type="file" name="file" accept=accept required node_ref=file_input />
            <button type="submit" disabled=busy>{move || if busy() { "Uploading…" } else { "Upload" }}</button>
        </form>
        <div class="outcome" aria-live="polite">
            {move || match phase.get() {
                Phase::Idle => ().into_any(),
                Phase::Signing { name } => view! { <p class="status">"Preparing " <strong>{name}</strong> "…"</p> }.into_any(),
                Phase::Uploading { name, size } => view! {
                    <p class="status">"Uploading " <strong>{name}</strong> " (" {human_size(size)} ")…"</p>
                    <progress class="busy"></progress>
                }.into_any(),
                Phase::Done(link) => view! { <LinkCard link phase /> }.into_any(),
                Phase::Failed(sentence) => view! { <p class="error" role="alert">{sentence}</p> }.into_any(),
            }}
        </div>
    }
}
