//! Courier's signing core: everything that needs the secret or the S3
//! client. Upload grants (a POST policy for one key or one per-page prefix),
//! confirmations of finished uploads, and download links.
//!
//! Server only, and free of any UI: the app's server functions reach it
//! through Leptos context, the `/confirm-upload` route through axum state.
//!
//! - [`grant`]: `grant_upload` and `grant_form`, built on [`post_policy`];
//! - [`confirm`]: the store's redirect checked, the upload moved to its
//!   confirmed key, and renewals;
//! - [`link`]: the download link JSON and its presigned GET ([`presign`]),
//!   or a public file's plain URL;
//! - [`delete`]: a file deleted for its owner;
//! - [`token`], [`object_key`], [`file_name`]: what the above are built from.

pub mod access;
mod confirm;
mod confirm_lock;
pub mod content_disposition;
pub mod credentials;
mod delete;
pub mod error;
pub mod file_name;
mod grant;
mod link;
pub mod multipart;
pub mod object_key;
pub mod password;
pub mod post_policy;
pub mod presign;
pub mod seal;
mod share;
pub mod sigv4;
pub mod storage_budget;
mod store;
pub mod token;
pub mod upload_budget;
mod utc;

use std::sync::Arc;
use std::time::Duration;

use url::Url;

pub use confirm::ConfirmRequest;
pub use error::{Refusal, SignError};
pub use grant::UploadRequest;
pub use presign::{BucketUrl, BucketUrlError};
pub use share::{SHARE_DOWNLOAD_TTL, UNLOCK_TTL};

pub use store::{CALL_ATTEMPT_TIMEOUT, CALL_TIMEOUT, COPY_TIMEOUT, READY_TIMEOUT, Store, StoreNotReady};
pub use time::OffsetDateTime;
pub use wire::seal::Encryption;
pub use wire::{DownloadLink, FileRules, FormFields, LinkKind, PageSettings, UploadGrant};

use token::TokenSecret;

/// The object metadata that carries the original file name (percent-encoded,
/// since metadata travels in HTTP headers).
pub const FILENAME_METADATA: &str = "filename";
/// The form field that sets it on a POST upload (`x-amz-meta-` and the
/// above; a test keeps the two in step).
const FILENAME_METADATA_FIELD: &str = "x-amz-meta-filename";

/// The longest an upload grant lives (`COURIER_UPLOAD_TTL_SECS` at most):
/// SigV4 signs for a week at most. The settings cap the setting with it, and
/// the embedded store's sweep keeps an emptied grant prefix this long, since
/// a grant could still write there until then.
pub const MAX_UPLOAD_TTL_SECS: u64 = 7 * 24 * 3600;

/// The default of [`Limits::owner_token_window`]: a page retrying a lost
/// answer asks again within a minute (1, 2, 4 … 15 s apart).
pub const DEFAULT_OWNER_TOKEN_WINDOW_SECS: u64 = 120;
/// Longer would hand the owner token to a replay long after the upload.
pub const MAX_OWNER_TOKEN_WINDOW_SECS: u64 = 3600;

/// How long grants and links live, and what files are accepted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Limits {
    pub rules: FileRules,
    /// How many uploads a page runs at once (`COURIER_PARALLEL_UPLOADS`).
    pub parallel_uploads: u32,
    pub upload_ttl: Duration,
    pub download_ttl: Duration,
    /// How long "new link" (and delete) keeps working after an upload.
    pub renew_ttl: Duration,
    /// How long after a file is first confirmed a confirmation still hands
    /// out its owner token (`COURIER_OWNER_TOKEN_WINDOW_SECS`): the page's
    /// own retries after a lost answer fit in it, while a confirmation URL
    /// replayed later (from a browser's history) gets the link only.
    pub owner_token_window: Duration,
    pub links: LinkSettings,
    pub multipart: MultipartSettings,
    pub shares: ShareLimits,
    /// `COURIER_ENCRYPTION`
    pub encryption: Encryption,
}

impl Limits {
    /// The largest file one POST grant (or the plain form) takes.
    pub fn largest_post(&self) -> u64 {
        wire::multipart::largest_post(self.rules.max_bytes, self.multipart.threshold)
    }
}

/// When a file goes up in parts, and how many at once.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MultipartSettings {
    /// `COURIER_MULTIPART_THRESHOLD`: files at least this large use multipart.
    pub threshold: u64,
    /// `COURIER_PARALLEL_PARTS`
    pub parallel_parts: u32,
    /// `COURIER_PART_CHECKSUMS`: every part URL signs the part's SHA-256
    /// (`x-amz-checksum-sha256`), so the store refuses a part damaged on the
    /// way. Off only for a store without S3's checksums, and for measuring
    /// what the checksum costs.
    pub part_checksums: bool,
}

impl Default for MultipartSettings {
    fn default() -> Self {
        Self {
            threshold: 64 * 1024 * 1024,
            parallel_parts: 4,
            part_checksums: true,
        }
    }
}

/// Which links uploads may get.
/// How long shares live: a new upload's share lasts `default_lifetime`;
/// the sender may choose anything up to `max_lifetime` (`None`: "never" is
/// allowed). A default above the maximum is cut to it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ShareLimits {
    /// `None`: a new share never expires.
    pub default_lifetime: Option<Duration>,
    /// `COURIER_MAX_SHARE_DAYS`; `None`: no maximum.
    pub max_lifetime: Option<Duration>,
}

impl Default for ShareLimits {
    fn default() -> Self {
        Self {
            default_lifetime: Some(Duration::from_secs(7 * 24 * 3600)),
            max_lifetime: None,
        }
    }
}

impl ShareLimits {
    /// A new share's lifetime: the default, within the maximum.
    pub fn new_share_lifetime(&self) -> Option<Duration> {
        match (self.default_lifetime, self.max_lifetime) {
            (Some(default), Some(max)) => Some(default.min(max)),
            (None, max) => max,
            (default, None) => default,
        }
    }

    /// Whether a sender may give a share `lifetime` (`None`: never).
    pub fn allows(&self, lifetime: Option<Duration>) -> bool {
        match (lifetime, self.max_lifetime) {
            (_, None) => true,
            (None, Some(_)) => false,
            (Some(lifetime), Some(max)) => lifetime <= max,
        }
    }
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LinkSettings {
    /// What a page offers first (`COURIER_DEFAULT_LINK`).
    pub default: LinkKind,
    /// Whether public links may be granted at all (`COURIER_PUBLIC_LINKS`).
    pub public: bool,
    /// Where public files are read from (`COURIER_PUBLIC_BASE_URL`: a CDN,
    /// the bucket's website endpoint, a proxy), ending in `/`; the key
    /// follows. `None`: the store's own bucket URL.
    pub public_base_url: Option<Url>,
}

#[derive(Clone)]
pub struct Signer(Arc<Inner>);

struct Inner {
    store: Store,
    secret: TokenSecret,
    /// `<public origin>/confirm-upload?token=`: a token completes it.
    confirm_base: String,
    /// `<public URL>s/`: where share links point.
    share_base: String,
    /// `<public URL>r/`: a file request's link is this and its id.
    request_base: String,
    /// Where the store's objects are, for presigned GETs.
    bucket_url: BucketUrl,
    limits: Limits,
    /// `scheme://host:port` of `store.post_url`, for the page's CSP.
    store_origin: String,
    /// What a public file's key follows in its link, ending in `/`.
    public_base: String,
    confirming: confirm_lock::ConfirmLocks,
}

impl Signer {
    /// Fails when the store's POST URL is not a bucket URL.
    pub fn new(store: Store, secret: TokenSecret, public_url: &Url, limits: Limits) -> Result<Self, BucketUrlError> {
        let bucket_url = BucketUrl::parse(&store.post_url)?;
        let store_origin = bucket_url.origin().to_owned();
        let confirm_base = format!("{}confirm-upload?token=", public_url.as_str());
        let share_base = format!("{}s/", public_url.as_str());
        let request_base = format!("{}r/", public_url.as_str());
        let public_base = match &limits.links.public_base_url {
            Some(base) => format!("{}/", base.as_str().trim_end_matches('/')),
            None => format!("{}/", store.post_url.trim_end_matches('/')),
        };
        Ok(Self(Arc::new(Inner {
            store,
            secret,
            confirm_base,
            share_base,
            request_base,
            bucket_url,
            limits,
            store_origin,
            public_base,
            confirming: confirm_lock::ConfirmLocks::default(),
        })))
    }

    /// The upload password's sessions, signed with this signer's secret.
    pub fn sessions(&self, password: &str) -> access::Sessions {
        access::Sessions::new(self.0.secret.clone(), password)
    }

    pub fn bucket(&self) -> &str {
        &self.0.store.bucket
    }

    /// The store's origin (`scheme://host:port`), which the page's CSP allows.
    pub fn store_origin(&self) -> &str {
        &self.0.store_origin
    }

    /// How long a POST policy it signs works (`COURIER_UPLOAD_TTL_SECS`).
    pub fn upload_ttl(&self) -> Duration {
        self.0.limits.upload_ttl
    }

    /// What every upload from a page shares: sent once, with the page.
    pub fn page_settings(&self) -> PageSettings {
        let links = &self.0.limits.links;
        PageSettings {
            rules: self.0.limits.rules.clone(),
            parallel_uploads: self.0.limits.parallel_uploads,
            default_link: if links.public {
                links.default
            } else {
                LinkKind::Expiring
            },
            public_links: links.public,
            multipart_threshold: self.0.limits.multipart.threshold,
            parallel_parts: self.0.limits.multipart.parallel_parts,
            part_checksums: self.0.limits.multipart.part_checksums,
            encryption: self.0.limits.encryption,
            request: None,
        }
    }
}

/// RFC 3339 in whole seconds, UTC: how times travel on the wire.
pub use utc::rfc3339;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_metadata_field_names_the_metadata() {
        assert_eq!(FILENAME_METADATA_FIELD, format!("x-amz-meta-{FILENAME_METADATA}"));
    }
}
