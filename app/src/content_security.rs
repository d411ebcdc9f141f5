//! The upload page's Content-Security-Policy: scripts only from the app (the
//! inline hydration script by its per-response nonce), WebAssembly allowed,
//! fetches and form posts only to the app and the store, no framing.

use leptos::prelude::*;

/// The policy for a page rendered with `nonce`, whose uploads go to `store_origin`.
pub fn page_policy(nonce: &str, store_origin: &str, live_reload: bool) -> String {
    // `cargo leptos watch` reloads the page over a websocket.
    let reload = if live_reload { " ws: wss:" } else { "" };
    format!(
        "default-src 'self'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; style-src 'self'; \
         img-src 'self' data: blob:; connect-src 'self' {store_origin}{reload}; form-action 'self' {store_origin}; \
         frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
    )
}

/// `cargo leptos watch` sets LEPTOS_WATCH for the server it runs; read once.
static LIVE_RELOAD: std::sync::LazyLock<bool> = std::sync::LazyLock::new(|| std::env::var_os("LEPTOS_WATCH").is_some());

/// Sets the page's policy on the response being rendered (server only).
pub fn apply() {
    let (Some(nonce), Some(response), Some(signer)) = (
        leptos::nonce::use_nonce(),
        use_context::<leptos_axum::ResponseOptions>(),
        use_context::<signer::Signer>(),
    ) else {
        return;
    };
    let policy = page_policy(&nonce, signer.store_origin(), *LIVE_RELOAD);
    if let Ok(value) = http::HeaderValue::from_str(&policy) {
        response.insert_header(http::header::CONTENT_SECURITY_POLICY, value);
    }
}

#[cfg(test)]
mod tests {
    use super::page_policy;

    #[test]
    fn scripts_and_connections_are_pinned() {
        let policy = page_policy("abc", "http://127.0.0.1:9000", false);
        assert!(policy.contains("script-src 'self' 'nonce-abc' 'wasm-unsafe-eval';"));
        assert!(policy.contains("connect-src 'self' http://127.0.0.1:9000;"));
        assert!(policy.contains("form-action 'self' http://127.0.0.1:9000;"));
        assert!(policy.contains("frame-ancestors 'none'"));
        assert!(!policy.contains("unsafe-inline") && !policy.contains("ws:"));
    }
}
