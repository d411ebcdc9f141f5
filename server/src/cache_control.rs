//! How long browsers and caches may keep what the app sends.
//!
//! - The site's assets under `/pkg/`, when their names carry their content
//!   hash (release builds): forever. A new build has new names, so a repeat
//!   visit downloads no asset bytes at all. (The split bundle's files that
//!   name one another are named by their final content too: see
//!   `tools/bundle-seal`.)
//! - Everything that signs (the page carries a signed form policy and a
//!   per-page upload prefix, the API returns grants and links): never stored.
//!   A shared cache handing one person's page to another would share the
//!   prefix and its token.
//! - Anything else (favicon, unhashed dev assets): revalidated every time.

use axum::extract::Request;
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;

pub const IMMUTABLE: HeaderValue = HeaderValue::from_static("public, max-age=31536000, immutable");
pub const NO_STORE: HeaderValue = HeaderValue::from_static("no-store");
pub const REVALIDATE: HeaderValue = HeaderValue::from_static("no-cache");

/// Where the hashed assets are served from (`/<site-pkg-dir>/`).
#[derive(Clone, Debug)]
pub struct Assets {
    pub pkg_prefix: String,
    /// Whether the build named the assets by content (`hash-files`).
    pub hashed: bool,
}

/// For the static files: immutable when hashed, revalidated otherwise.
/// Errors (a 404 for a name from an older build) are never cached.
/// (tower-http's `ServeDir` picks the precompressed file but sends no `Vary`.)
pub async fn static_files(assets: axum::extract::State<Assets>, request: Request, next: Next) -> Response {
    let immutable = assets.hashed && request.uri().path().starts_with(assets.pkg_prefix.as_str());
    let mut response = next.run(request).await;
    let value = match (
        response.status().is_success() || response.status().is_redirection(),
        immutable,
    ) {
        (true, true) => IMMUTABLE,
        (true, false) => REVALIDATE,
        (false, _) => NO_STORE,
    };
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, value);
    // The same URL is sent as brotli, gzip or as is: caches must key on it.
    headers.append(header::VARY, HeaderValue::from_static("accept-encoding"));
    response
}
