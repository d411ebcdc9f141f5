//! The upload page: a plain HTML form that posts straight to the store (works
//! with JavaScript off), taken over by the hydrated client to upload in place.

// The cards are the browser's alone (see `card::show_cards`).
#[cfg(feature = "hydrate")]
pub mod card;
mod form;
pub mod island;
mod link_card;
pub mod queue;
mod requests;
pub mod rules;
#[cfg(feature = "hydrate")]
mod share_card;

pub use form::UploadForm;
pub use link_card::{LinkDetails, readable_time};

use leptos::prelude::*;

use crate::api::sign_upload_form;
use crate::model::LinkKind;

#[component]
pub fn UploadPage() -> impl IntoView {
    let link = requested_link();
    let request = request_id();
    // A file request's link is its own permission to upload.
    let access = if request.is_some() {
        PageAccess::Upload { signed_in: false }
    } else {
        page_access()
    };
    let signed_in = matches!(access, PageAccess::Upload { signed_in: true });
    let tagline = if request.is_some() {
        "Send files straight to the person who asked for them."
    } else {
        "Send a file straight to storage and get a link that expires."
    };
    view! {
        <main class="page">
            <header class="masthead">
                <h1>"Courier"</h1>
                <p class="tagline">{tagline}</p>
                {signed_in.then(sign_out)}
            </header>
            {match access {
                PageAccess::Upload { .. } => uploader(link, request).into_any(),
                other => no_upload_access(other).into_any(),
            }}
        </main>
    }
}

/// Where a file request's page is served: `/r/<id>`.
pub const REQUEST_PATH_PREFIX: &str = "/r/";

/// The file request this page is for (`/r/<id>`), if it is one's.
fn request_id() -> Option<String> {
    #[cfg(feature = "ssr")]
    {
        let parts = use_context::<http::request::Parts>()?;
        parts
            .uri
            .path()
            .strip_prefix(REQUEST_PATH_PREFIX)
            .filter(|id| !id.is_empty() && !id.contains('/'))
            .map(str::to_owned)
    }
    #[cfg(not(feature = "ssr"))]
    None
}

/// Whether this page may upload (`COURIER_UPLOAD_ACCESS`), as the server
/// admitted its request. (Only the server renders the page: the browser's
/// build never decides it.)
#[cfg_attr(not(feature = "ssr"), allow(dead_code))]
enum PageAccess {
    Upload {
        signed_in: bool,
    },
    /// The upload password is asked for.
    SignIn,
    /// Not allowed, for this reason.
    Refused(String),
}

fn page_access() -> PageAccess {
    #[cfg(feature = "ssr")]
    {
        use signer::access::{AccessRefusal, Admission, Uploader};
        let admission =
            use_context::<http::request::Parts>().and_then(|parts| parts.extensions.get::<Admission>().cloned());
        match admission {
            Some(Admission::Admitted(uploader)) => PageAccess::Upload {
                signed_in: matches!(uploader, Uploader::Session(_)),
            },
            Some(Admission::Refused(AccessRefusal::SignIn)) => PageAccess::SignIn,
            Some(Admission::Refused(refusal)) => PageAccess::Refused(refusal.to_string()),
            // No verdict: the form's own call refuses with a sentence.
            None => PageAccess::Upload { signed_in: false },
        }
    }
    #[cfg(not(feature = "ssr"))]
    PageAccess::Upload { signed_in: false }
}

fn sign_out() -> impl IntoView {
    #[cfg(feature = "ssr")]
    return view! { <crate::sign_in::SignOutForm /> };
    #[cfg(not(feature = "ssr"))]
    ()
}

/// The sign-in form, or why this browser may not upload.
#[cfg_attr(not(feature = "ssr"), allow(unused_variables))]
fn no_upload_access(access: PageAccess) -> impl IntoView {
    #[cfg(feature = "ssr")]
    return match access {
        PageAccess::Refused(sentence) => view! { <p class="error" role="alert">{sentence}</p> }.into_any(),
        _ => view! { <crate::sign_in::SignInForm refusal=None /> }.into_any(),
    };
    #[cfg(not(feature = "ssr"))]
    ()
}

/// The uploader: the signed form, as the island the browser hydrates.
fn uploader(link: Option<LinkKind>, request: Option<String>) -> impl IntoView {
    let form = Resource::new(|| (), move |_| sign_upload_form(link, request.clone()));
    view! {
            <Suspense fallback=|| view! { <p class="status">"Preparing the upload form…"</p> }>
                {move || Suspend::new(async move {
                    match form.await {
                        Ok(form) => island::upload_island(form).into_any(),
                        Err(error) => {
                            // A request that is over says so with its status (410, 404).
                            #[cfg(feature = "ssr")]
                            if let Some(response) = use_context::<leptos_axum::ResponseOptions>()
                                && let Ok(status) = http::StatusCode::from_u16(error.status_code())
                            {
                                response.set_status(status);
                            }
                            view! { <p class="error" role="alert">{error.to_string()}</p> }.into_any()
                        }
                    }
                })}
            </Suspense>
    }
}

/// The link the page was asked for (`/?link=public`): how the plain form,
/// without JavaScript, switches between the two policies.
fn requested_link() -> Option<LinkKind> {
    #[cfg(feature = "ssr")]
    {
        let parts = use_context::<http::request::Parts>()?;
        parts
            .uri
            .query()?
            .split('&')
            .find_map(|pair| pair.strip_prefix("link="))
            .and_then(LinkKind::parse)
    }
    #[cfg(not(feature = "ssr"))]
    None
}
