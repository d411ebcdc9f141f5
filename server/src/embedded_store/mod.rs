//! The embedded S3-compatible store, used when no bucket is configured:
//! `s3s` + `s3s-fs` on its own port, a data directory on disk, local
//! credentials and the `courier` bucket created at start. The browser reaches
//! it cross-origin exactly as it reaches AWS, so it answers with CORS headers
//! for the app's origin.
//!
//! The port is public, so everything in front of `s3s` guards it: the bucket
//! and key in every path ([`request_guard`]), and again on every operation
//! `s3s-fs` runs (`guarded_fs`), browser POSTs read up to the
//! file and refused unless signed ([`post_form`]), one write per grant
//! ([`grant_use`]), a body cap, limits on concurrent requests, and the
//! connection cap and timeouts for headers, stalled bodies and stalled
//! writes that the app has too ([`crate::serve`]).
//! Unconfirmed uploads expire after a day (`expiry`). Requests must be
//! signed, except plain reads of public files ([`public_read`]).

mod answer;
pub mod credentials;
mod expiry;
pub mod grant_use;
mod guarded_fs;
mod layout;
mod payload_hash;
pub mod post_form;
mod public_read;
pub mod rechunk;
mod refusal_log;
pub mod request_guard;
pub mod request_slots;

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::{ConnectInfo, Request, State};
use axum::response::{IntoResponse, Response};
use http::{HeaderValue, Method, StatusCode, header};
use http_body_util::Limited;
use s3s::auth::SimpleAuth;
use s3s::config::{S3Config, StaticConfigProvider};
use s3s::service::{S3Service, S3ServiceBuilder};
use tower_http::cors::{AllowOrigin, CorsLayer};

use grant_use::GrantUses;
use request_guard::Target;
use request_slots::{RequestSlots, SlotLimits};

use crate::client_addr::TrustedProxies;
use crate::serve::{Limits, Server};

pub use credentials::StoreCredentials;

#[derive(Debug)]
pub struct EmbeddedStoreConfig {
    pub addr: SocketAddr,
    pub data_dir: PathBuf,
    /// Origins whose pages may POST to the store (the app's).
    pub allowed_origins: Vec<String>,
    /// The largest file one POST may carry (`Limits::largest_post`): `s3s`
    /// holds a POST's file in memory until it is stored.
    pub max_post_bytes: u64,
    /// The largest part of a multipart upload (streamed to disk).
    pub max_part_bytes: u64,
    /// Slow and idle clients, and how many at once ([`Limits::STORE`]).
    pub limits: Limits,
    /// Requests served at once, in all and for one client ([`SlotLimits::STORE`]).
    pub slots: SlotLimits,
    /// Proxies in front of the store (`COURIER_TRUSTED_PROXIES`): behind
    /// them, the client is the address they report.
    pub trusted_proxies: TrustedProxies,
    /// The free space new writes leave (`COURIER_MIN_FREE_BYTES`; `None`:
    /// 1 GiB, or a twentieth of a disk under 20 GiB).
    pub min_free_bytes: Option<u64>,
}

/// A started store; it serves until stopped, or until this is dropped.
#[derive(Debug)]
pub struct RunningStore {
    pub addr: SocketAddr,
    pub bucket: String,
    pub credentials: StoreCredentials,
    pub data_dir: PathBuf,
    server: Server,
}

#[derive(Debug, thiserror::Error)]
pub enum EmbeddedStoreError {
    #[error(transparent)]
    Credentials(#[from] credentials::CredentialsError),
    #[error("cannot prepare the data directory {path}: {source}")]
    DataDir { path: PathBuf, source: std::io::Error },
    #[error("cannot open the store's data directory: {0}")]
    Store(String),
    #[error("cannot listen on {addr} (COURIER_EMBEDDED_S3_ADDR): {source}")]
    Bind { addr: SocketAddr, source: std::io::Error },
    #[error("an allowed origin is not a valid header value: {0}")]
    Origin(String),
}

impl RunningStore {
    pub const BUCKET: &str = layout::BUCKET;
    pub const REGION: &str = "us-east-1";

    /// Prepares the data directory and starts serving on `config.addr`.
    pub async fn start(config: EmbeddedStoreConfig) -> Result<Self, EmbeddedStoreError> {
        let credentials = StoreCredentials::load_or_create(&config.data_dir)?;
        let root = config.data_dir.join("objects");
        // s3s-fs keeps one directory per bucket: creating it creates the bucket.
        let bucket_dir = root.join(Self::BUCKET);
        std::fs::create_dir_all(&bucket_dir).map_err(|source| EmbeddedStoreError::DataDir {
            path: bucket_dir.clone(),
            source,
        })?;
        restrict_to_owner(&config.data_dir)?;
        let fs = s3s_fs::FileSystem::new(&root).map_err(|e| EmbeddedStoreError::Store(format!("{e:?}")))?;
        let mut builder = S3ServiceBuilder::new(guarded_fs::GuardedFs::new(fs, &root, config.min_free_bytes));
        builder.set_auth(SimpleAuth::from_single(
            credentials.access_key_id.clone(),
            credentials.secret_access_key.clone(),
        ));
        builder.set_access(public_read::PublicRead);
        let mut s3_config = S3Config::default();
        // s3s holds a POST's file in memory until it is stored: no larger than a grant allows.
        s3_config.post_object_max_file_size = config.max_post_bytes;
        s3_config.form_max_fields_size = post_form::MAX_FIELDS_BYTES;
        s3_config.form_max_field_size = post_form::MAX_FIELDS_BYTES;
        builder.set_config(Arc::new(StaticConfigProvider::new(Arc::new(s3_config))));
        let s3 = builder.build();

        let origins = config
            .allowed_origins
            .iter()
            .map(|o| HeaderValue::from_str(o).map_err(|_| EmbeddedStoreError::Origin(o.clone())))
            .collect::<Result<Vec<_>, _>>()?;
        let cors = CorsLayer::new()
            .allow_origin(AllowOrigin::list(origins))
            .allow_methods([Method::GET, Method::POST, Method::PUT, Method::HEAD])
            .allow_headers(tower_http::cors::Any)
            .expose_headers([header::ETAG])
            .max_age(Duration::from_secs(3600));
        let state = StoreState {
            s3,
            grants: GrantUses::new(bucket_dir),
            body_cap: config
                .max_post_bytes
                .saturating_add(FORM_OVERHEAD)
                .max(config.max_part_bytes),
            slots: Arc::new(RequestSlots::new(config.slots)),
            proxies: config.trusted_proxies.clone(),
            refusals: Arc::default(),
        };
        let router = Router::new().fallback(serve_s3).with_state(state).layer(cors);

        let listener = crate::serve::bind(config.addr).map_err(|source| EmbeddedStoreError::Bind {
            addr: config.addr,
            source,
        })?;
        let addr = listener.local_addr().map_err(|source| EmbeddedStoreError::Bind {
            addr: config.addr,
            source,
        })?;
        let server = Server::spawn(listener, router, config.limits, config.trusted_proxies);
        expiry::spawn(root.join(Self::BUCKET));
        Ok(Self {
            addr,
            bucket: Self::BUCKET.to_owned(),
            credentials,
            data_dir: config.data_dir,
            server,
        })
    }

    /// Takes no new connections; requests in flight (uploads being written)
    /// finish.
    pub fn stop(&self) {
        self.server.stop();
    }

    /// Resolves once stopped and every connection has closed.
    pub async fn finished(&mut self) {
        self.server.finished().await;
    }

    pub fn open_connections(&self) -> usize {
        self.server.open_connections()
    }
}

/// A browser POST's fields (at most 64 KiB) must arrive within this.
const FIELDS_DEADLINE: Duration = Duration::from_secs(15);
/// Room around a POST's file for its fields and boundaries.
const FORM_OVERHEAD: u64 = 2 * post_form::MAX_FIELDS_BYTES as u64;

#[derive(Clone)]
struct StoreState {
    s3: S3Service,
    grants: Arc<GrantUses>,
    /// The largest request body the store reads.
    body_cap: u64,
    slots: Arc<RequestSlots>,
    proxies: TrustedProxies,
    refusals: Arc<refusal_log::RefusalLog>,
}

async fn serve_s3(State(store): State<StoreState>, request: Request) -> Response {
    let (method, path) = (request.method().clone(), request.uri().path().to_owned());
    let log = Arc::clone(&store.refusals);
    let mut response = match guarded(store, request).await {
        Ok(response) => response,
        Err((status, code, message)) => s3_error(status, code, &message),
    };
    log.refused(response.status(), &method, &path);
    // Uploaded bytes are never to be read as anything but what they claim.
    response
        .headers_mut()
        .insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    answer::finish(response, &answer::request_id()).await
}

type Refusal = (StatusCode, &'static str, String);

async fn guarded(store: StoreState, mut request: Request) -> Result<Response, Refusal> {
    let client = client_of(&store.proxies, &request);
    ignore_invalid_range(&mut request);
    let _request = store.slots.request(request.method(), client).await.map_err(busy)?;
    let target = request_guard::check(&request, RunningStore::BUCKET).map_err(|e| {
        let (status, code) = e.s3_code();
        (status, code, e.to_string())
    })?;
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|length| length > store.body_cap) {
        return Err(too_large());
    }
    // (A body that stalls fails after `Limits::body_idle`: the serve loop
    // wraps every body, so a client that stops sending gives its slots back.)
    // A chunked body (no length to check) is cut off at the cap while it is
    // read. Others keep their body as it is: s3s reads the length from it.
    let request = if declared.is_none() && request.headers().contains_key(header::TRANSFER_ENCODING) {
        let cap = usize::try_from(store.body_cap).unwrap_or(usize::MAX);
        request.map(|body| Body::new(Limited::new(body, cap)))
    } else {
        request
    };

    let mut _form = None;
    let mut _claim = None;
    let is_post = request.method() == Method::POST;
    let content_types = request.headers().get_all(header::CONTENT_TYPE);
    let says_multipart = content_types.iter().any(|v| {
        v.to_str()
            .map_or(true, |v| v.to_ascii_lowercase().contains("multipart"))
    });
    let boundary = post_form::multipart_boundary(&request).filter(|_| content_types.iter().count() == 1);
    // Whatever `s3s` might read as a form goes through the form checks, or nowhere.
    if is_post && says_multipart && boundary.is_none() {
        return Err((
            StatusCode::BAD_REQUEST,
            "MalformedPOSTRequest",
            "A browser upload needs one Content-Type: multipart/form-data with a boundary.".to_owned(),
        ));
    }
    let request = match boundary {
        Some(boundary) if is_post => {
            if target != Target::Bucket {
                return Err((
                    StatusCode::METHOD_NOT_ALLOWED,
                    "MethodNotAllowed",
                    "Browser uploads are POSTed to the bucket's URL.".to_owned(),
                ));
            }
            // The fields are small: a client that trickles them loses its slot.
            let form = tokio::time::timeout(FIELDS_DEADLINE, post_form::read(request, &boundary))
                .await
                .map_err(|_| {
                    (
                        StatusCode::REQUEST_TIMEOUT,
                        "RequestTimeout",
                        "The form's fields did not arrive in time.".to_owned(),
                    )
                })?
                .map_err(|e| {
                    let (status, code) = e.s3_code();
                    (status, code, e.to_string())
                })?;
            _claim = Some(
                store
                    .grants
                    .claim(&form.key)
                    .map_err(|e| (StatusCode::FORBIDDEN, "AccessDenied", e.to_string()))?,
            );
            // Only a signed form, its fields read, waits for a POST slot: a
            // client that never sends its fields cannot take one.
            _form = Some(store.slots.form(client).await.map_err(busy)?);
            form.request
        }
        _ => request,
    };
    // A body that declares its SHA-256 is held to it (browser forms never do).
    let mismatched = payload_hash::Mismatched::default();
    let request = match payload_hash::declared(request.headers()) {
        Some(digest) if !is_post => {
            let mismatched = mismatched.clone();
            request.map(|body| Body::new(payload_hash::CheckedBody::new(body, digest, mismatched)))
        }
        _ => request,
    };
    match store.s3.call(request.map(s3s::Body::http_body_unsync)).await {
        Ok(_) if mismatched.happened() => Err((
            StatusCode::BAD_REQUEST,
            "XAmzContentSHA256Mismatch",
            payload_hash::MISMATCH.to_owned(),
        )),
        Ok(response) => Ok(response.map(Body::new)),
        Err(error) => {
            tracing::error!(?error, "the embedded store failed a request");
            Err((
                StatusCode::INTERNAL_SERVER_ERROR,
                "InternalError",
                "The store failed to handle the request.".to_owned(),
            ))
        }
    }
}

/// A `Range` that does not parse as one byte range is ignored, as S3 and
/// RFC 9110 ignore it (the whole object is served); `s3s` refused the
/// request instead. (Several ranges at once: S3 serves none of them either.)
fn ignore_invalid_range(request: &mut Request) {
    let ranges = request.headers().get_all(header::RANGE);
    let valid = ranges.iter().count() <= 1 && ranges.iter().all(|value| value.to_str().is_ok_and(one_byte_range));
    if !valid {
        request.headers_mut().remove(header::RANGE);
    }
}

/// `bytes=<first>-[<last>]` or `bytes=-<suffix>`, with `first <= last`:
/// RFC 9110's grammar for one range. (Numbers too large for `s3s` still
/// reach it, which refuses them as unsatisfiable.)
fn one_byte_range(value: &str) -> bool {
    let Some((first, last)) = value.trim().strip_prefix("bytes=").and_then(|r| r.split_once('-')) else {
        return false;
    };
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    match (first.is_empty(), last.is_empty()) {
        (true, true) => false,
        (true, false) => digits(last),
        (false, true) => digits(first),
        (false, false) => {
            digits(first)
                && digits(last)
                && match (first.parse::<u128>(), last.parse::<u128>()) {
                    (Ok(first), Ok(last)) => first <= last,
                    // Past u128: leave it to `s3s`.
                    _ => true,
                }
        }
    }
}

/// Who sent `request`: the peer, or behind a trusted proxy the address it reports.
fn client_of(proxies: &TrustedProxies, request: &Request) -> IpAddr {
    let peer = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map_or(IpAddr::from([0, 0, 0, 0]), |ConnectInfo(peer)| peer.ip());
    proxies.client_of(peer, request.headers())
}

/// What S3 answers when it wants a client to slow down.
fn busy(busy: request_slots::Busy) -> Refusal {
    (StatusCode::SERVICE_UNAVAILABLE, "SlowDown", busy.to_string())
}

fn too_large() -> Refusal {
    (
        StatusCode::PAYLOAD_TOO_LARGE,
        "EntityTooLarge",
        "Your proposed upload exceeds the maximum allowed object size.".to_owned(),
    )
}

/// Only the owner may read the store's files (objects, credentials).
fn restrict_to_owner(dir: &std::path::Path) -> Result<(), EmbeddedStoreError> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700)).map_err(|source| {
            EmbeddedStoreError::DataDir {
                path: dir.to_owned(),
                source,
            }
        })?;
    }
    Ok(())
}

fn s3_error(status: StatusCode, code: &str, message: &str) -> Response {
    let message = message.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;");
    let body = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>{code}</Code><Message>{message}</Message></Error>"
    );
    (status, [(header::CONTENT_TYPE, "application/xml")], body).into_response()
}

#[cfg(test)]
mod tests {
    #[test]
    fn one_byte_range_is_rfc_9110s_grammar() {
        for valid in [
            "bytes=0-1",
            "bytes=5-",
            "bytes=-10",
            " bytes=0-0 ",
            "bytes=18446744073709551616-",
        ] {
            assert!(super::one_byte_range(valid), "{valid}");
        }
        for invalid in [
            "bytes=abc",
            "bytes=5-2",
            "items=0-1",
            "bytes=0-1,3-4",
            "bytes=-",
            "bytes=1",
            "bytes= 1-2",
        ] {
            assert!(!super::one_byte_range(invalid), "{invalid}");
        }
    }
}
