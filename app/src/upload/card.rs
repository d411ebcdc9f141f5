use leptos::prelude::*;

use super::link_card::readable_time;
use super::queue::{FileState, Queue, QueuedFile};
use crate::model::DownloadLink;
use crate::size::human_size;

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
            </div>
            {move || match item.state.get() {
                FileState::Waiting => view! { <p class="status">"Waiting…"</p> <CancelButton item queue /> }.into_any(),
                FileState::Signing => view! { <p class="status">"Preparing…"</p> <CancelButton item queue /> }.into_any(),
                FileState::Uploading => view! { <ProgressBar item /> <CancelButton item queue /> }.into_any(),
                FileState::Confirming => view! { <ProgressBar item /> <p class="status">"Confirming…"</p> }.into_any(),
                FileState::Done(link) => view! { <ProgressBar item /> <FinishedLink item link queue /> }.into_any(),
                FileState::Failed(reason) => view! {
                    <p class="error" role="alert">{reason}</p>
                    <AfterEnd item queue />
                }
                .into_any(),
                FileState::Cancelled => view! { <p class="status">"Cancelled."</p> <AfterEnd item queue /> }.into_any(),
            }}
        </li>
    }
}

#[component]
fn ProgressBar(item: QueuedFile) -> impl IntoView {
    let percent = move || item.progress.with(|p| p.percent());
    let label = format!("Uploading {}", item.name.get_value());
    view! {
        <div class="progress" role="progressbar" aria-label=label aria-valuemin="0" aria-valuemax="100" aria-valuenow=percent>
            <div class="progress-fill" style:width=move || format!("{}%", percent())></div>
        </div>
        <p class="status progress-text">{move || item.progress.with(|p| p.describe())}</p>
    }
}

#[component]
fn CancelButton(item: QueuedFile, queue: Queue) -> impl IntoView {
    let cancel = move |_| {
        #[cfg(feature = "hydrate")]
        crate::browser::cancel(queue, item);
        #[cfg(not(feature = "hydrate"))]
        let _ = (queue, item);
    };
    view! { <button type="button" class="secondary" on:click=cancel>"Cancel"</button> }
}

/// Retry and remove, for a failed or cancelled upload.
#[component]
fn AfterEnd(item: QueuedFile, queue: Queue) -> impl IntoView {
    #[cfg(feature = "hydrate")]
    let retry_possible = crate::browser::can_retry(&item);
    #[cfg(not(feature = "hydrate"))]
    let retry_possible = false;
    let retry = move |_| {
        #[cfg(feature = "hydrate")]
        crate::browser::retry(queue, item);
    };
    view! {
        <div class="actions">
            <Show when=move || retry_possible>
                <button type="button" class="secondary" on:click=retry>"Retry"</button>
            </Show>
            <RemoveButton item queue />
        </div>
    }
}

#[component]
fn RemoveButton(item: QueuedFile, queue: Queue) -> impl IntoView {
    let remove = move |_| {
        #[cfg(feature = "hydrate")]
        crate::browser::remove(queue, item);
        #[cfg(not(feature = "hydrate"))]
        let _ = (queue, item);
    };
    view! { <button type="button" class="secondary" on:click=remove>"Remove"</button> }
}

/// The link: open it, copy it, see when it expires, get a new one.
#[component]
fn FinishedLink(item: QueuedFile, link: DownloadLink, queue: Queue) -> impl IntoView {
    let copied = RwSignal::new(false);
    let renewing = RwSignal::new(false);
    let problem = RwSignal::new(None::<String>);
    let url = link.download_url.clone();
    let copy = move |_| {
        let url = url.clone();
        leptos::task::spawn_local(async move {
            #[cfg(feature = "hydrate")]
            {
                let ok = crate::browser::copy(url).await;
                copied.set(ok);
                if !ok {
                    problem.set(Some(
                        "The link could not be copied: select it and copy it by hand.".to_owned(),
                    ));
                }
            }
            #[cfg(not(feature = "hydrate"))]
            let _ = url;
        });
    };
    let (key, token) = (link.key.clone(), link.token.clone());
    let renew = move |_| {
        let (key, token) = (key.clone(), token.clone());
        renewing.set(true);
        leptos::task::spawn_local(async move {
            match crate::api::sign_download(key, token).await {
                Ok(fresh) => {
                    #[cfg(feature = "hydrate")]
                    crate::browser::recent::remember(&fresh);
                    item.state.set(FileState::Done(fresh));
                }
                Err(error) => problem.set(Some(error.to_string())),
            }
            renewing.set(false);
        });
    };
    let absolute = readable_time(&link.expires_at);
    let relative = relative_time(&link.expires_at);
    view! {
        <p>
            <a class="download-link" href=link.download_url.clone() rel="noreferrer">"Download link"</a>
        </p>
        <input class="link-text" type="text" readonly value=link.download_url aria-label="Download link" />
        <p class="expiry">
            "The link works until " <time datetime=link.expires_at>{absolute}</time> {relative} "."
        </p>
        <div class="actions">
            <button type="button" class="copy" on:click=copy>{move || if copied.get() { "Copied ✓" } else { "Copy link" }}</button>
            <button type="button" class="secondary" on:click=renew disabled=move || renewing.get()>"New link"</button>
            <RemoveButton item queue />
        </div>
        {move || problem.get().map(|p| view! { <p class="error" role="alert">{p}</p> })}
    }
}

/// " (in 59 min)", from the browser's clock; nothing on the server.
fn relative_time(rfc3339: &str) -> String {
    #[cfg(feature = "hydrate")]
    {
        let at = js_sys::Date::parse(rfc3339);
        let seconds = ((at - js_sys::Date::now()) / 1000.0).round();
        if seconds.is_finite() && seconds > 0.0 {
            return format!(" (in {})", super::queue::duration(seconds as u64));
        }
    }
    let _ = rfc3339;
    String::new()
}
