use leptos::either::Either;
use leptos::prelude::*;

use crate::model::DownloadLink;
use crate::size::human_size;

/// A finished upload: name, size, the link and when it expires.
#[component]
pub fn LinkDetails(link: DownloadLink) -> impl IntoView {
    view! {
        <h2 class="file-name">{link.filename.clone()}</h2>
        <p class="file-size">{human_size(link.size)}</p>
        <LinkLines link />
    }
}

/// The link to open, its text to copy by hand, and when it stops working
/// (or who can use it, for a public link).
#[component]
pub fn LinkLines(link: DownloadLink) -> impl IntoView {
    let reach = match link.expires_at {
        Some(at) => {
            let (absolute, relative) = (readable_time(&at), relative_time(&at));
            Either::Left(
                view! { <p class="expiry">"The link works until " <time datetime=at>{absolute}</time> {relative} "."</p> },
            )
        }
        None => Either::Right(
            view! { <p class="expiry public">"Anyone with this link can download it, until it is deleted."</p> },
        ),
    };
    view! {
        <p>
            <a class="download-link" href=link.download_url.clone() rel="noreferrer">"Download link"</a>
        </p>
        <input class="link-text" type="text" readonly value=link.download_url aria-label="Download link" />
        {reach}
    }
}

/// " (in 59 min)", from the browser's clock; nothing on the server, whose
/// pages are not hydrated and would show it frozen.
fn relative_time(rfc3339: &str) -> String {
    crate::browser::seconds_until(rfc3339)
        .map(|seconds| format!(" (in {})", super::queue::duration(seconds)))
        .unwrap_or_default()
}

/// `2026-11-28T13:05:00Z` → `2026-11-28 13:05 UTC`, the same on server and browser.
pub fn readable_time(rfc3339: &str) -> String {
    match rfc3339.get(..16) {
        Some(head) => format!("{} UTC", head.replace('T', " ")),
        None => rfc3339.to_owned(),
    }
}
