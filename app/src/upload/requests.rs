//! File requests on the upload page: "Ask for files" makes a link that lets
//! someone without upload access send files into a link of yours, within a
//! file count, a size and a time; each request this browser made shows the
//! files as they arrive. And, on a request's own page, what it still takes.

use leptos::prelude::*;

use crate::browser;
use crate::request::{RequestLink, RequestPage, RequestRules};
use crate::size::human_size;
use crate::upload::readable_time;

/// The form's unit of size: a GiB, as the sizes on the page are written.
const BYTES_PER_GIB: f64 = 1_073_741_824.0;

/// "Ask for files" and the requests this browser made.
#[component]
pub fn RequestFiles() -> impl IntoView {
    let open = RwSignal::new(false);
    let files = RwSignal::new("10".to_owned());
    let gigabytes = RwSignal::new("1".to_owned());
    let days = RwSignal::new("7".to_owned());
    let requests = RwSignal::new(Vec::<RequestLink>::new());
    let problem = RwSignal::new(None::<String>);
    let making = RwSignal::new(false);
    // Effects run only in the browser: the remembered requests, then how
    // they stand every few seconds while one takes files.
    Effect::new(move |_| browser::watch_requests(requests, problem));
    let make = move |event: leptos::ev::SubmitEvent| {
        event.prevent_default();
        match rules_asked(
            &files.get_untracked(),
            &gigabytes.get_untracked(),
            &days.get_untracked(),
        ) {
            Ok(rules) => browser::make_request(rules, requests, problem, making),
            Err(sentence) => problem.set(Some(sentence)),
        }
    };
    let field = |label: &'static str, value: RwSignal<String>, testid: &'static str, step: &'static str| {
        view! {
            <label class="field">
                <span class="field-label">{label}</span>
                <input
                    type="number"
                    min="0"
                    step=step
                    data-testid=testid
                    prop:value=move || value.get()
                    on:input=move |event| value.set(event_target_value(&event))
                />
            </label>
        }
    };
    view! {
        <section class="new-links requests">
            <button
                type="button"
                class="disclosure"
                data-testid="request-toggle"
                aria-expanded=move || if open.get() { "true" } else { "false" }
                on:click=move |_| open.update(|open| *open = !*open)
            >
                "Ask for files"
            </button>
            <Show when=move || open.get()>
                <form class="rule-fields" aria-label="A file request" on:submit=make>
                    {field("Files", files, "request-files", "1")}
                    {field("Size in all (GiB)", gigabytes, "request-size", "any")}
                    {field("Takes files for (days)", days, "request-days", "1")}
                    <p class="hint">"Whoever has the request's link can send you files, within these limits, without signing in. They arrive in one link of yours, below."</p>
                    <div class="actions">
                        <button type="submit" data-testid="request-make" disabled=move || making.get()>"Make a request link"</button>
                    </div>
                </form>
            </Show>
            {move || problem.get().map(|p| view! { <p class="error" role="alert">{p}</p> })}
            <ul class="queue request-list" aria-label="File requests">
                {move || requests.get().into_iter().map(|request| view! { <RequestCard request requests problem /> }).collect_view()}
            </ul>
        </section>
    }
    .into_any()
}

/// One request as its maker sees it: its link, how far it is, what arrived.
#[component]
fn RequestCard(
    request: RequestLink,
    requests: RwSignal<Vec<RequestLink>>,
    problem: RwSignal<Option<String>>,
) -> impl IntoView {
    let copied = RwSignal::new(false);
    let url = request.url.clone();
    let copy = move |_| browser::copy_request_link(url.clone(), copied, problem);
    let reference = request.reference();
    let close = move |_| browser::close_request(reference.clone(), requests, problem);
    let id = request.id.clone();
    let forget = move |_| browser::forget_request(id.clone(), requests);
    // A full request can still be closed: an upload on its way that is
    // given up would make room again.
    let closable = matches!(
        request.state,
        crate::request::RequestState::Open | crate::request::RequestState::Full
    );
    let arriving = (request.files_arriving > 0).then(|| format!(", {} on the way", request.files_arriving));
    let standing = format!(
        "{} of {} files, {} of {}{}.",
        request.files_received,
        request.max_files,
        human_size(request.bytes_received),
        human_size(request.max_bytes),
        arriving.unwrap_or_default()
    );
    let received = request
        .received
        .iter()
        .map(|file| {
            view! { <li data-testid="request-file">{file.filename.clone()} " (" {human_size(file.size)} ")"</li> }
        })
        .collect_view();
    let share = request.share.clone().map(|share| {
        view! {
            <p class="direct-link">
                "The files sent: "
                <a class="download-link" href=share.url.clone() data-testid="request-share" target="_blank" rel="noopener">{share.url.clone()}</a>
            </p>
        }
    });
    view! {
        <li class="card request-card" data-testid="request-card" data-state=request.state.as_str()>
            <p class="name">"File request"</p>
            <p class="link-line">
                <a class="download-link" href=request.url.clone() data-testid="request-url" target="_blank" rel="noopener">{request.url.clone()}</a>
            </p>
            <p class="status" data-testid="request-standing">{request.state.sentence()} " " {standing}</p>
            <p class="expiry">"Takes files until " {readable_time(&request.expires_at)}</p>
            <ul class="received">{received}</ul>
            {share}
            <div class="actions">
                <button type="button" class="copy" on:click=copy>{move || if copied.get() { "Copied ✓" } else { "Copy link" }}</button>
                {closable.then(|| view! { <button type="button" class="secondary" data-testid="request-close" on:click=close>"Close"</button> })}
                <button type="button" class="secondary" on:click=forget>"Remove"</button>
            </div>
        </li>
    }
}

/// On a request's page: what it still takes.
#[component]
pub fn RequestRoom(request: RequestPage) -> impl IntoView {
    let files = if request.files_left == 1 {
        "1 file".to_owned()
    } else {
        format!("up to {} files", request.files_left)
    };
    view! {
        <p class="request-room" data-testid="request-room">
            "Someone asked you for files: send " {files} ", " {human_size(request.bytes_left)} " in all, until "
            {readable_time(&request.expires_at)} ". They go straight to that person; each file's link here lets you check it arrived."
        </p>
    }
}

/// The rules the form asks for, or why they cannot be.
fn rules_asked(files: &str, gigabytes: &str, days: &str) -> Result<RequestRules, String> {
    let max_files = files
        .trim()
        .parse::<u32>()
        .ok()
        .filter(|files| *files >= 1)
        .ok_or("Ask for at least 1 file.")?;
    let max_bytes = gigabytes
        .trim()
        .parse::<f64>()
        .ok()
        .filter(|gb| gb.is_finite() && *gb > 0.0)
        .map(|gib| (gib * BYTES_PER_GIB).round() as u64)
        .filter(|bytes| *bytes >= 1)
        .ok_or("Give the size in all in GiB, more than 0 (0.5 is 512 MiB).")?;
    let expires_in_hours = days
        .trim()
        .parse::<u32>()
        .ok()
        .filter(|days| (1..=30).contains(days))
        .map(|days| days * 24)
        .ok_or("A request takes files for 1 to 30 days.")?;
    Ok(RequestRules {
        max_files,
        max_bytes,
        expires_in_hours,
    })
}

#[cfg(test)]
mod tests {
    use super::rules_asked;

    #[test]
    fn the_form_reads_what_people_type() {
        let rules = rules_asked(" 3 ", "0.5", "7").expect("rules");
        assert_eq!(
            (rules.max_files, rules.max_bytes, rules.expires_in_hours),
            (3, 512 << 20, 168)
        );
        assert!(rules_asked("0", "1", "7").is_err());
        assert!(rules_asked("1", "-1", "7").is_err());
        assert!(rules_asked("1", "nan", "7").is_err());
        assert!(rules_asked("1", "1", "31").is_err());
    }
}
