//! The upload page: a plain HTML form that posts straight to the store (works
//! with JavaScript off), taken over by the hydrated client to upload in place.

// The cards are the browser's alone (see `card::show_cards`).
#[cfg(feature = "hydrate")]
pub mod card;
mod form;
pub mod island;
mod link_card;
pub mod queue;
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
    let form = Resource::new(|| (), move |_| sign_upload_form(link));
    view! {
        <main class="page">
            <header class="masthead">
                <h1>"Courier"</h1>
                <p class="tagline">"Send a file straight to storage and get a link that expires."</p>
            </header>
            <Suspense fallback=|| view! { <p class="status">"Preparing the upload form…"</p> }>
                {move || Suspend::new(async move {
                    match form.await {
                        Ok(form) => island::upload_island(form).into_any(),
                        Err(error) => view! { <p class="error" role="alert">{error.to_string()}</p> }.into_any(),
                    }
                })}
            </Suspense>
        </main>
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
