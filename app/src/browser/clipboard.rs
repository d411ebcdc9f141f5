//! The clipboard: a link copied for the person (a card's, a request's).

/// Copies `text`; whether the browser took it.
pub async fn copy(text: String) -> bool {
    let Some(window) = web_sys::window() else { return false };
    let promise = window.navigator().clipboard().write_text(&text);
    wasm_bindgen_futures::JsFuture::from(promise).await.is_ok()
}
