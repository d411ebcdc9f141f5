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
    view! {
        <p>
            <a class="download-link" href=link.download_url.clone() rel="noreferrer">"Download link"</a>
        </p>
        <input class="link-text" type="text" readonly value=link.download_url aria-label="Download link" />
        {reach(link.expires_at)}
    }
}

/// When a link stops working, or who can use it (a public link).
pub fn reach(expires_at: Option<String>) -> impl IntoView {
    match expires_at {
        Some(at) => {
            let (absolute, relative) = (readable_time(&at), relative_time(&at));
            Either::Left(
                view! { <p class="expiry">"The link works until " <time datetime=at>{absolute}</time> {relative} "."</p> },
            )
        }
        None => Either::Right(
            view! { <p class="expiry public">"Anyone with this link can download it, until it is deleted."</p> },
        ),
    }
}

/// " (in 1 hour)", from the browser's clock; nothing on the server, whose
/// pages are not hydrated and would show it frozen.
fn relative_time(rfc3339: &str) -> String {
    crate::browser::clock::seconds_until(rfc3339)
        .map(|seconds| format!(" (in {})", in_words(seconds)))
        .unwrap_or_default()
}

/// A time ahead, rounded the way people say it: a fresh one-hour link
/// works "1 hour", not "59 min 59 s".
fn in_words(seconds: u64) -> String {
    let round = |unit: u64| (seconds + unit / 2) / unit;
    let plural = |n: u64, unit: &str| format!("{n} {unit}{}", if n == 1 { "" } else { "s" });
    match seconds {
        0..45 => "a few seconds".to_owned(),
        45..90 => "1 minute".to_owned(),
        90..2_700 => plural(round(60), "minute"),
        2_700..5_400 => "1 hour".to_owned(),
        5_400..79_200 => plural(round(3_600), "hour"),
        79_200..129_600 => "1 day".to_owned(),
        _ => plural(round(86_400), "day"),
    }
}

/// `2026-11-28T13:05:00Z` → `2026-11-28 13:05 UTC`, the same on server and browser.
pub fn readable_time(rfc3339: &str) -> String {
    match rfc3339.get(..16) {
        Some(head) => format!("{} UTC", head.replace('T', " ")),
        None => rfc3339.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::in_words;

    #[test]
    fn times_ahead_read_as_people_say_them() {
        for (seconds, words) in [
            (10, "a few seconds"),
            (60, "1 minute"),
            (150, "3 minutes"),
            (1_800, "30 minutes"),
            (3_599, "1 hour"),
            (3_600, "1 hour"),
            (7_000, "2 hours"),
            (86_399, "1 day"),
            (604_799, "7 days"),
        ] {
            assert_eq!(in_words(seconds), words, "{seconds} s");
        }
    }
}
