//! Headers on every response of the app: no Referer (signed links must not
//! leak through it), no MIME sniffing, and, on everything a browser may show
//! as a document, no framing and a strict CSP wherever the page did not set
//! its own (the upload page sets one with its nonce).
//!
//! A script, stylesheet or WebAssembly module is never a document: browsers
//! ignore a CSP or `X-Frame-Options` sent with one (the page's own CSP governs
//! it), so those two are left off them. That is 180 bytes off each of the
//! four assets of a first visit. `nosniff` stays: it is what makes a browser
//! refuse a script or stylesheet sent with another type.

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderValue, Response, header};
use tower_http::set_header::SetResponseHeaderLayer;

/// For the confirm page, JSON and the 404 page: no scripts at all.
pub const DEFAULT_POLICY: &str =
    "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// `router` with the headers set on every response it gives.
pub fn add<S: Clone + Send + Sync + 'static>(router: Router<S>) -> Router<S> {
    let always = |name, value| SetResponseHeaderLayer::overriding(name, HeaderValue::from_static(value));
    let no_framing = |response: &Response<Body>| documentable(response).then(|| HeaderValue::from_static("DENY"));
    let policy = |response: &Response<Body>| documentable(response).then(|| HeaderValue::from_static(DEFAULT_POLICY));
    router
        .layer(always(header::REFERRER_POLICY, "no-referrer"))
        .layer(always(header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .layer(SetResponseHeaderLayer::overriding(header::X_FRAME_OPTIONS, no_framing))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CONTENT_SECURITY_POLICY,
            policy,
        ))
}

/// Whether a browser could show `response` as a page: anything but a
/// script, a stylesheet or a WebAssembly module (which, with `nosniff`, a
/// browser only ever runs or applies as what its type says).
fn documentable<B>(response: &Response<B>) -> bool {
    let Some(Ok(kind)) = response.headers().get(header::CONTENT_TYPE).map(|v| v.to_str()) else {
        return true;
    };
    let essence = kind.split(';').next().unwrap_or_default().trim();
    !SUBRESOURCE_TYPES
        .iter()
        .any(|subresource| essence.eq_ignore_ascii_case(subresource))
}

/// The types the site's assets are sent with.
const SUBRESOURCE_TYPES: [&str; 4] = [
    "text/javascript",
    "application/javascript",
    "text/css",
    "application/wasm",
];

#[cfg(test)]
mod tests {
    use super::*;

    fn with_type(kind: Option<&str>) -> Response<()> {
        let mut response = Response::new(());
        if let Some(kind) = kind {
            response.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_str(kind).expect("a header value"),
            );
        }
        response
    }

    #[test]
    fn only_what_a_browser_could_show_as_a_page_gets_the_document_headers() {
        for page in [
            None,
            Some("text/html; charset=utf-8"),
            Some("application/json"),
            Some("text/plain"),
            Some("image/svg+xml"),
            Some("application/octet-stream"),
            Some("text/javascript-but-not"),
        ] {
            assert!(documentable(&with_type(page)), "{page:?}");
        }
        for asset in [
            "text/javascript",
            "text/javascript; charset=utf-8",
            "Application/JavaScript",
            "text/css",
            "application/wasm",
        ] {
            assert!(!documentable(&with_type(Some(asset))), "{asset}");
        }
    }
}
