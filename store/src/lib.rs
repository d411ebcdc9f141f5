//! Courier's embedded S3-compatible store, used when no bucket is
//! configured: `s3s` + `s3s-fs` over a data directory, local credentials and
//! the `courier` bucket created at start. The browser reaches it
//! cross-origin exactly as it reaches AWS, so it answers with CORS headers
//! for the app's origin. A crate of its own, as `s3s-fs` stands beside
//! `s3s`, so it can be tested and changed without the app.
//!
//! Its public face is small: [`EmbeddedStore::build`] makes, from a
//! [`StoreConfig`], the store's axum `Router` and its [`Sweeper`] (the
//! expiry of unconfirmed uploads); whoever runs it binds a port and serves
//! the router with `courier_serve` (connection caps and timeouts for
//! headers, stalled bodies and stalled writes), as the server does, or as
//! the `courier-store` binary does alone.
//!
//! The port is public, so everything in the router guards it: the bucket
//! and key in every path (`request_guard`), and again on every operation
//! `s3s-fs` runs (`guarded_fs`), browser POSTs read up to the file and
//! refused unless signed (`post_form`), one write per grant (`grant_use`), a
//! body cap, limits on concurrent requests (`request_slots`). Requests must
//! be signed, except plain reads of public files (`public_read`). Every
//! refusal of its own is one type, written as S3 writes it (`refusal`); one
//! module owns every name on disk (`layout`).

mod answer;
mod credentials;
mod expiry;
mod grant_use;
mod guarded_fs;
mod layout;
mod payload_hash;
mod post_form;
mod public_read;
mod rechunk;
mod refusal;
mod refusal_log;
mod request_guard;
mod request_slots;

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::{ConnectInfo, Request, State};
use axum::response::Response;
use courier_serve::{CutBody, TrustedProxies};
use http::{HeaderValue, Method, StatusCode, header};
use http_body_util::Limited;
use s3s::S3ErrorCode;
use s3s::auth::SimpleAuth;
use s3s::config::{S3Config, StaticConfigProvider};
use s3s::service::{S3Service, S3ServiceBuilder};
use tower_http::cors::{AllowOrigin, CorsLayer};

use grant_use::GrantUses;
use refusal::Refusal;
use request_guard::Target;
use request_slots::RequestSlots;

pub use credentials::{CredentialsError, StoreCredentials};
pub use expiry::Sweeper;
pub use layout::BUCKET;
pub use refusal::{S3_INCOMPLETE_BODY, S3_REQUEST_TIMEOUT, STORAGE_FULL};
pub use request_slots::SlotLimits;

/// The region the store signs in (any works; S3 clients need one).
pub const REGION: &str = "us-east-1";

/// What the store is built from.
#[derive(Debug)]
pub struct StoreConfig {
    pub data_dir: PathBuf,
    /// Origins whose pages may POST to the store (the app's).
    pub allowed_origins: Vec<String>,
    /// The largest file one POST may carry (`Limits::largest_post`): `s3s`
    /// holds a POST's file in memory until it is stored.
    pub max_post_bytes: u64,
    /// The largest part of a multipart upload (streamed to disk).
    pub max_part_bytes: u64,
    /// Requests served at once, in all and for one client ([`SlotLimits::STORE`]).
    pub slots: SlotLimits,
    /// Proxies in front of the store (`COURIER_TRUSTED_PROXIES`): behind
    /// them, the client is the address they report.
    pub trusted_proxies: TrustedProxies,
    /// The free space new writes leave (`COURIER_MIN_FREE_BYTES`; `None`:
    /// 1 GiB, or a twentieth of a disk under 20 GiB).
    pub min_free_bytes: Option<u64>,
}

/// A store ready to be served: its router, its sweeper and its credentials.
#[derive(Debug)]
pub struct EmbeddedStore {
    /// Serve it with `ConnectInfo<SocketAddr>` in each request's
    /// extensions (as `courier_serve::Server` does), so each client gets its
    /// own share of the store.
    pub router: Router,
    /// Run it while the router is served.
    pub sweeper: Sweeper,
    pub credentials: StoreCredentials,
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error(transparent)]
    Credentials(#[from] CredentialsError),
    #[error("cannot prepare the data directory {path}: {source}")]
    DataDir { path: PathBuf, source: std::io::Error },
    #[error("cannot open the store's data directory: {0}")]
    Store(String),
    #[error("an allowed origin is not a valid header value: {0}")]
    Origin(String),
}

impl EmbeddedStore {
    pub const BUCKET: &str = layout::BUCKET;
    pub const REGION: &str = REGION;

    /// Prepares the data directory (credentials, the bucket, writes a killed
    /// process left unfinished) and builds the store on it.
    pub fn build(config: StoreConfig) -> Result<Self, StoreError> {
        let credentials = StoreCredentials::load_or_create(&config.data_dir)?;
        let root = config.data_dir.join(layout::OBJECTS_DIR);
        // s3s-fs keeps one directory per bucket: creating it creates the bucket.
        let bucket_dir = root.join(Self::BUCKET);
        std::fs::create_dir_all(&bucket_dir).map_err(|source| StoreError::DataDir {
            path: bucket_dir.clone(),
            source,
        })?;
        restrict_to_owner(&config.data_dir)?;
        let fs = s3s_fs::FileSystem::new(&root).map_err(|e| StoreError::Store(format!("{e:?}")))?;
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
            .map(|o| HeaderValue::from_str(o).map_err(|_| StoreError::Origin(o.clone())))
            .collect::<Result<Vec<_>, _>>()?;
        let cors = CorsLayer::new()
            .allow_origin(AllowOrigin::list(origins))
            .allow_methods([Method::GET, Method::POST, Method::PUT, Method::HEAD])
            .allow_headers(tower_http::cors::Any)
            .expose_headers([header::ETAG])
            .max_age(Duration::from_secs(3600));
        let state = StoreState {
            s3,
            grants: GrantUses::new(bucket_dir.clone()),
            body_cap: config
                .max_post_bytes
                .saturating_add(FORM_OVERHEAD)
                .max(config.max_part_bytes),
            slots: Arc::new(RequestSlots::new(config.slots)),
            proxies: config.trusted_proxies,
            refusals: Arc::default(),
        };
        let router = Router::new().fallback(serve_s3).with_state(state).layer(cors);
        Ok(Self {
            router,
            sweeper: Sweeper::new(bucket_dir),
            credentials,
        })
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
    let cut = CutBody::of(&request);
    let id = answer::request_id();
    let log = Arc::clone(&store.refusals);
    let mut response = match guarded(store, request).await {
        Ok(response) => response,
        Err(refusal) => refusal.into_response(&id),
    };
    // A body that stalled, trickled or broke off is answered as S3 answers it.
    if let Some(why) = cut.as_ref().and_then(|cut| cut.why(&response)) {
        tracing::debug!(?why, status = %response.status(), "a request's body was cut");
        response = courier_serve::replace_answer(response, Refusal::cut_body(why).into_response(&id));
    }
    log.refused(response.status(), &method, &path);
    // Uploaded bytes are never to be read as anything but what they claim.
    response
        .headers_mut()
        .insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    answer::finish(response, &id).await
}

async fn guarded(store: StoreState, mut request: Request) -> Result<Response, Refusal> {
    let client = client_of(&store.proxies, &request);
    request.extensions_mut().insert(guarded_fs::ClientAddr(client));
    ignore_invalid_range(&mut request);
    let _request = store.slots.request(request.method(), client).await?;
    let target = request_guard::check(&request, EmbeddedStore::BUCKET)?;
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|length| length > store.body_cap) {
        return Err(Refusal::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            S3ErrorCode::EntityTooLarge,
            "Your proposed upload exceeds the maximum allowed object size.",
        ));
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
        return Err(Refusal::new(
            StatusCode::BAD_REQUEST,
            S3ErrorCode::MalformedPOSTRequest,
            "A browser upload needs one Content-Type: multipart/form-data with a boundary.",
        ));
    }
    let request = match boundary {
        Some(boundary) if is_post => {
            if target != Target::Bucket {
                return Err(Refusal::new(
                    StatusCode::METHOD_NOT_ALLOWED,
                    S3ErrorCode::MethodNotAllowed,
                    "Browser uploads are POSTed to the bucket's URL.",
                ));
            }
            // The fields are small: a client that trickles them loses its slot.
            let form = tokio::time::timeout(FIELDS_DEADLINE, post_form::read(request, &boundary))
                .await
                .map_err(|_| {
                    Refusal::new(
                        StatusCode::REQUEST_TIMEOUT,
                        S3ErrorCode::RequestTimeout,
                        "The form's fields did not arrive in time.",
                    )
                })??;
            _claim = Some(store.grants.claim(&form.key)?);
            // Only a signed form, its fields read, waits for a POST slot: a
            // client that never sends its fields cannot take one.
            _form = Some(store.slots.form(client).await?);
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
        Ok(_) if mismatched.happened() => Err(payload_hash::mismatch()),
        Ok(response) => Ok(response.map(Body::new)),
        Err(error) => {
            tracing::error!(?error, "the embedded store failed a request");
            Err(Refusal::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                S3ErrorCode::InternalError,
                "The store failed to handle the request.",
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

/// Only the owner may read the store's files (objects, credentials).
fn restrict_to_owner(dir: &std::path::Path) -> Result<(), StoreError> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700)).map_err(|source| {
            StoreError::DataDir {
                path: dir.to_owned(),
                source,
            }
        })?;
    }
    Ok(())
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
