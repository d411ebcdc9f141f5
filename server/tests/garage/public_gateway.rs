//! The proxy that serves a Garage bucket's public files to anyone, as README
//! describes it (an nginx `location /public/files/` does the same): Garage
//! has no anonymous S3 access and no bucket policies, and its website
//! endpoint serves the WHOLE bucket to whoever names it in the Host header,
//! so it is only ever reached through this. GET and HEAD of
//! `/public/files/…` go to the website endpoint with `Host: <bucket>`, with
//! the headers a download needs both ways; everything else is 404.

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};

/// Request headers passed on: ranges and revalidation.
const ASKED: [header::HeaderName; 4] = [
    header::RANGE,
    header::IF_NONE_MATCH,
    header::IF_MODIFIED_SINCE,
    header::IF_MATCH,
];
/// Response headers passed back.
const ANSWERED: [header::HeaderName; 8] = [
    header::CONTENT_TYPE,
    header::CONTENT_LENGTH,
    header::CONTENT_RANGE,
    header::ACCEPT_RANGES,
    header::ETAG,
    header::LAST_MODIFIED,
    header::CACHE_CONTROL,
    header::CONTENT_DISPOSITION,
];

struct Upstream {
    http: reqwest::Client,
    /// Garage's `[s3_web]` address, e.g. `http://127.0.0.1:3902`.
    web_endpoint: String,
    bucket: String,
    /// The only path prefix served.
    prefix: &'static str,
}

/// Starts the gateway for `public/files/` of the cluster's bucket on a free
/// port; returns its URL, the `COURIER_PUBLIC_BASE_URL` to use.
pub async fn spawn() -> String {
    spawn_serving("/public/files/").await
}

/// A MISCONFIGURED gateway that serves the whole bucket: what `courier check`
/// must catch.
pub async fn spawn_whole_bucket() -> String {
    spawn_serving("/").await
}

async fn spawn_serving(prefix: &'static str) -> String {
    let upstream = Upstream {
        http: reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("a client"),
        web_endpoint: std::env::var("GARAGE_WEB_ENDPOINT")
            .expect("GARAGE_WEB_ENDPOINT is not set: run these tests through scripts/garage-cluster"),
        bucket: std::env::var("COURIER_BUCKET").expect("COURIER_BUCKET"),
        prefix,
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("a port");
    let url = format!("http://{}/", listener.local_addr().expect("an address"));
    let app = Router::new().fallback(forward).with_state(Arc::new(upstream));
    tokio::spawn(async move { axum::serve(listener, app).await });
    url
}

async fn forward(State(upstream): State<Arc<Upstream>>, method: Method, uri: Uri, headers: HeaderMap) -> Response {
    let path = uri.path();
    if !matches!(method, Method::GET | Method::HEAD) || !serves(path, upstream.prefix) {
        return StatusCode::NOT_FOUND.into_response();
    }
    // The path as received (Garage decodes it into the key), without the query.
    let mut request = upstream
        .http
        .request(method, format!("{}{path}", upstream.web_endpoint))
        .header(header::HOST, &upstream.bucket);
    for name in ASKED {
        if let Some(value) = headers.get(&name) {
            request = request.header(name, value);
        }
    }
    let Ok(answer) = request.send().await else {
        return StatusCode::BAD_GATEWAY.into_response();
    };
    let mut response = Response::builder().status(answer.status());
    for name in ANSWERED {
        if let Some(value) = answer.headers().get(&name) {
            response = response.header(name, value);
        }
    }
    match answer.bytes().await {
        Ok(body) => response.body(Body::from(body)).expect("a response"),
        Err(_) => StatusCode::BAD_GATEWAY.into_response(),
    }
}

/// Garage reads the path literally (percent-decoded, dots kept), so a path
/// that starts with the prefix names a key under it; dot segments are
/// refused all the same, as a normalising proxy would resolve them.
fn serves(path: &str, prefix: &str) -> bool {
    let decoded = percent_encoding::percent_decode_str(path).decode_utf8_lossy();
    path.starts_with(prefix)
        && decoded.starts_with(prefix)
        && decoded[1..].split('/').all(|s| !s.is_empty() && s != "." && s != "..")
}
