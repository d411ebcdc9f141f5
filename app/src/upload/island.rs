//! The uploader is the page's only interactive part, so the browser hydrates
//! it alone, as an island: the rest of the page (the masthead, the suspense
//! around the signed form) stays server-rendered HTML, and none of its code,
//! nor the async hydration machinery, is in the browser bundle.
//!
//! Written out by hand rather than with `#[island]`: the macro's export has a
//! hashed name in `app`, which the `frontend` cdylib does not keep, so
//! `frontend` exports [`hydrate`] under [`NAME`] itself.

use leptos::prelude::*;
use leptos::tachys::html::islands::Island;

use super::form::UploadForm;
use crate::model::FormGrant;

/// The island's name: the `data-component` the island script looks up among
/// the bundle's exports (`frontend` exports [`hydrate`] as this).
pub const NAME: &str = "courier_upload_form";

/// The uploader wrapped in its island element, which carries the form grant
/// (the same fields as the form's hidden inputs) for the browser to hydrate with.
pub fn upload_island(form: FormGrant) -> impl IntoView {
    let props = props_json(&form);
    Island::new(
        NAME,
        view! { <UploadForm grant=form.grant settings=form.settings link=form.link /> },
    )
    .with_props(props)
}

#[cfg(feature = "ssr")]
fn props_json(form: &FormGrant) -> String {
    // Plain strings and numbers: serialising cannot fail; an empty island
    // only means a page that stays a plain form.
    serde_json::to_string(form).unwrap_or_default()
}

#[cfg(not(feature = "ssr"))]
fn props_json(_: &FormGrant) -> String {
    String::new()
}

/// Hydrates the uploader inside its island element, from the grant it carries.
#[cfg(feature = "hydrate")]
pub fn hydrate(island: leptos::web_sys::HtmlElement) {
    use leptos::tachys::view::Position;

    let Some(form) = island
        .dataset()
        .get("props")
        .and_then(|json| crate::json::from_str::<FormGrant>(&json).ok())
    else {
        // Without its grant the page stays the plain form, which still works.
        return;
    };
    let view = Island::new(
        NAME,
        view! { <UploadForm grant=form.grant settings=form.settings link=form.link /> },
    );
    // The view lives as long as the page.
    std::mem::forget(view.hydrate_from_position::<true>(&island, Position::Current));
}
