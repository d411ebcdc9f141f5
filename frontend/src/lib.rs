//! The browser entry point: hydrates the uploader, the page's one island.

use leptos::wasm_bindgen::prelude::wasm_bindgen;

/// Called first by the island script: sets up the reactive root.
#[wasm_bindgen]
pub fn hydrate() {
    // Readable panic messages in the console: debug builds only (the hook
    // costs the release bundle ~2 KB of wasm).
    #[cfg(debug_assertions)]
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_islands();
}

/// The island script calls the export named as the island's
/// `data-component`, `app::upload::island::NAME`.
#[wasm_bindgen(js_name = "courier_upload_form")]
pub fn upload_form(island: leptos::web_sys::HtmlElement) {
    app::upload::island::hydrate(island);
}
