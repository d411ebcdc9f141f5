//! The server's one job: signing. Upload grants (a POST policy for one key or
//! one per-page prefix), confirmations of finished uploads, and download links.
//!
//! Server-only: it holds the secret and the S3 client, and never compiles for
//! the browser. Server functions reach it through Leptos context; the
//! `/confirm-upload` route through axum state.

mod confirm_lock;
pub mod content_disposition;
pub mod credentials;
pub mod file_name;
pub mod object_key;
pub mod post_policy;
pub mod sigv4;
pub mod token;

use std::sync::Arc;
use std::time::Duration;

use aws_sdk_s3::error::{DisplayErrorContext, SdkError};
use aws_sdk_s3::operation::head_object::HeadObjectOutput;
use aws_sdk_s3::presigning::PresigningConfig;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use url::Url;

use crate::error::CourierError;
use crate::file_rules::FileRules;
use crate::model::{DownloadLink, UploadGrant};
use credentials::CredentialSource;
use file_name::FileName;
use object_key::{KeyArea, ObjectKey, UploadPrefix};
use post_policy::PostPolicy;
use token::{TokenError, TokenScope, TokenSecret, UploadToken, VerifiedToken};

/// The object metadata that carries the original file name (percent-encoded,
/// since metadata travels in HTTP headers).
pub const FILENAME_METADATA: &str = "filename";

/// A slow upload may finish well after its policy expired (the store checks
/// expiry when the request starts); its confirmation is still honoured.
const CONFIRM_GRACE: Duration = Duration::from_secs(60 * 60);

/// The plain form's policy covers a whole prefix, so it lives shorter than
/// a per-file grant: long enough to pick a file, not to serve as storage.
const FORM_TTL: Duration = Duration::from_secs(10 * 60);

/// The bucket and how to reach it.
pub struct Store {
    pub client: aws_sdk_s3::Client,
    pub bucket: String,
    pub region: String,
    /// The bucket's URL as the browser POSTs to it.
    pub post_url: String,
    pub credentials: CredentialSource,
}

/// How long grants and links live, and what files are accepted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Limits {
    pub max_upload_bytes: u64,
    /// Media type patterns (`COURIER_ALLOWED_TYPES`); empty means any type.
    pub allowed_types: Vec<String>,
    /// How many uploads a page runs at once (`COURIER_PARALLEL_UPLOADS`).
    pub parallel_uploads: u32,
    pub upload_ttl: Duration,
    pub download_ttl: Duration,
    /// How long "new link" keeps working after an upload.
    pub renew_ttl: Duration,
}

/// A request to upload one file, as the browser describes it.
#[derive(Clone, Debug)]
pub struct UploadRequest {
    pub filename: String,
    pub content_type: String,
    pub size: u64,
}

/// What the store's redirect brings to `/confirm-upload` (its query).
#[derive(Clone, Debug, Default, serde::Deserialize)]
pub struct ConfirmRequest {
    pub token: Option<String>,
    pub bucket: Option<String>,
    pub key: Option<String>,
    /// The ETag the store reported for the upload.
    pub etag: Option<String>,
}

#[derive(Clone)]
pub struct Signer(Arc<Inner>);

struct Inner {
    store: Store,
    secret: TokenSecret,
    /// The app's public origin, ending in `/`.
    public_url: Url,
    limits: Limits,
    /// `scheme://host:port` of `store.post_url`, for the page's CSP.
    store_origin: String,
    confirming: confirm_lock::ConfirmLocks,
}

impl Signer {
    pub fn new(store: Store, secret: TokenSecret, public_url: Url, limits: Limits) -> Self {
        let store_origin = Url::parse(&store.post_url)
            .map(|u| u.origin().ascii_serialization())
            .unwrap_or_default();
        Self(Arc::new(Inner {
            store,
            secret,
            public_url,
            limits,
            store_origin,
            confirming: confirm_lock::ConfirmLocks::default(),
        }))
    }

    pub fn bucket(&self) -> &str {
        &self.0.store.bucket
    }

    /// The store's origin (`scheme://host:port`), which the page's CSP allows.
    pub fn store_origin(&self) -> &str {
        &self.0.store_origin
    }

    /// What an uploaded file must be.
    pub fn file_rules(&self) -> FileRules {
        FileRules {
            max_bytes: self.0.limits.max_upload_bytes,
            allowed_types: self.0.limits.allowed_types.clone(),
        }
    }

    /// A grant to POST one file under a fresh key of its own.
    pub async fn grant_upload(&self, request: UploadRequest, now: OffsetDateTime) -> Result<UploadGrant, CourierError> {
        let name = FileName::parse(&request.filename).map_err(|_| {
            CourierError::BadRequest("The file has no usable name. Rename it and try again.".to_owned())
        })?;
        let limits = &self.0.limits;
        let content_type = self.file_rules().check(request.size, &request.content_type)?;
        let key = ObjectKey::for_upload(&name);
        let expires_at = now + limits.upload_ttl;
        let token = UploadToken::issue(
            &self.0.secret,
            TokenScope::Key,
            key.as_str(),
            expires_at + CONFIRM_GRACE,
        );
        let original_name =
            percent_encoding::utf8_percent_encode(name.as_str(), percent_encoding::NON_ALPHANUMERIC).to_string();

        let policy = PostPolicy::builder(&self.0.store.bucket, expires_at)
            .field("key", key.as_str())
            .field("Content-Type", &content_type)
            .field("acl", "private")
            .field("success_action_redirect", self.confirm_url(&token).as_str())
            .field(&format!("x-amz-meta-{FILENAME_METADATA}"), &original_name)
            // Exactly the declared size: nothing else can be sent under this grant.
            .content_length_range(request.size, request.size);
        self.grant(policy, key.as_str().to_owned(), expires_at, now).await
    }

    /// A grant for the plain HTML form: any name under a per-page prefix.
    pub async fn grant_form(&self, now: OffsetDateTime) -> Result<UploadGrant, CourierError> {
        let limits = &self.0.limits;
        let prefix = UploadPrefix::generate();
        let expires_at = now + limits.upload_ttl.min(FORM_TTL);
        let token = UploadToken::issue(
            &self.0.secret,
            TokenScope::Prefix,
            prefix.as_str(),
            expires_at + CONFIRM_GRACE,
        );
        let policy = PostPolicy::builder(&self.0.store.bucket, expires_at)
            .field_starting_with("key", prefix.as_str(), &prefix.form_key())
            .field("acl", "private")
            .field("success_action_redirect", self.confirm_url(&token).as_str())
            .content_length_range(1, limits.max_upload_bytes);
        self.grant(policy, prefix.form_key(), expires_at, now).await
    }

    async fn grant(
        &self,
        policy: PostPolicy,
        key: String,
        expires_at: OffsetDateTime,
        now: OffsetDateTime,
    ) -> Result<UploadGrant, CourierError> {
        let credentials = self.0.store.credentials.current().await.map_err(|e| {
            tracing::error!(error = %e, "cannot sign an upload");
            CourierError::StoreUnavailable(
                "Courier cannot sign uploads right now: its storage credentials could not be loaded. Try again later."
                    .to_owned(),
            )
        })?;
        let signed = policy.sign(&credentials, &self.0.store.region, now);
        tracing::info!(key = %key, "signed an upload policy");
        Ok(UploadGrant {
            url: self.0.store.post_url.clone(),
            fields: signed.fields,
            key,
            expires_at: rfc3339(expires_at),
            max_bytes: self.0.limits.max_upload_bytes,
            allowed_types: self.0.limits.allowed_types.clone(),
            parallel_uploads: self.0.limits.parallel_uploads,
        })
    }

    /// Checks the store's redirect, moves the new object to its confirmed key
    /// and signs a download link for it.
    pub async fn confirm(&self, request: ConfirmRequest, now: OffsetDateTime) -> Result<DownloadLink, CourierError> {
        let (Some(token), Some(bucket), Some(key)) = (request.token, request.bucket, request.key) else {
            return Err(CourierError::BadRequest(
                "This confirmation link is incomplete: it needs token, bucket and key. Upload the file again."
                    .to_owned(),
            ));
        };
        if bucket != self.0.store.bucket {
            return Err(CourierError::BadRequest(
                "This confirmation names a bucket Courier does not use.".to_owned(),
            ));
        }
        let (key, verified) = self.verify(&key, &token, now)?;
        if verified.scope == TokenScope::Renewal {
            return Err(CourierError::Forbidden(
                "This token does not allow a link to that file.".to_owned(),
            ));
        }
        self.confirm_upload(&key, request.etag.as_deref(), now).await
    }

    /// A fresh link for a file uploaded earlier, for the holder of its token:
    /// a renewal token signs a link to its confirmed file; an upload token
    /// confirms its upload first.
    pub async fn renew(&self, key: &str, token: &str, now: OffsetDateTime) -> Result<DownloadLink, CourierError> {
        let (key, verified) = self.verify(key, token, now)?;
        match verified.scope {
            TokenScope::Renewal => {
                let head = self.head(&key).await?.ok_or_else(not_found)?;
                self.link(&key, &head, token.to_owned(), now).await
            }
            TokenScope::Key | TokenScope::Prefix => self.confirm_upload(&key, None, now).await,
        }
    }

    /// Copies an upload to `files/<id>/<name>` (once), removes it from where
    /// its grant could write again, and signs a link to the copy. `etag` is
    /// what the store's redirect reported: it finds the copy when the upload
    /// was already moved (a confirmation retried).
    async fn confirm_upload(
        &self,
        key: &ObjectKey,
        etag: Option<&str>,
        now: OffsetDateTime,
    ) -> Result<DownloadLink, CourierError> {
        if key.area() != KeyArea::Upload {
            return Err(CourierError::Forbidden(
                "This token does not allow a link to that file.".to_owned(),
            ));
        }
        let _one_at_a_time = self.0.confirming.lock(key.as_str()).await;
        // The redirect names the bytes it confirms by their ETag; without one
        // (an upload token replayed), whatever the upload holds now.
        let current = self.head(key).await?.map(|upload| bare_etag(upload.e_tag()));
        let wanted = etag
            .map(|e| bare_etag(Some(e)))
            .or_else(|| current.clone())
            .ok_or_else(not_found)?;
        let confirmed = self.confirmed_key(key, &wanted)?;
        if current.as_deref() == Some(wanted.as_str()) {
            if self.head(&confirmed).await?.is_none() {
                self.copy(key, &confirmed, &wanted).await?;
            }
            self.remove_upload(key).await;
        }
        // Otherwise it was moved already (a retried confirmation finds the
        // copy), or the grant wrote other bytes since, which this redirect
        // does not confirm.
        // The copy carries the upload's metadata, size and ETag.
        let head = self.head(&confirmed).await?.ok_or_else(not_found)?;
        // Counted from when the object was written, so confirming again (or
        // replaying the upload token) never extends it.
        let written = head
            .last_modified()
            .and_then(|t| OffsetDateTime::from_unix_timestamp(t.secs()).ok())
            .unwrap_or(now);
        let token = UploadToken::issue(
            &self.0.secret,
            TokenScope::Renewal,
            confirmed.as_str(),
            written + self.0.limits.renew_ttl,
        );
        tracing::info!(upload = %key.as_str(), confirmed = %confirmed.as_str(), "confirmed an upload");
        self.link(&confirmed, &head, token, now).await
    }

    fn confirmed_key(&self, key: &ObjectKey, etag: &str) -> Result<ObjectKey, CourierError> {
        key.confirmed(&token::confirmed_id(&self.0.secret, key, etag))
            .map_err(|e| CourierError::Internal(format!("The confirmed file's key is invalid ({e}).")))
    }

    fn verify(&self, key: &str, token: &str, now: OffsetDateTime) -> Result<(ObjectKey, VerifiedToken), CourierError> {
        if token.is_empty() {
            return Err(CourierError::BadRequest(
                "The request has no token. Use the link Courier gave you.".to_owned(),
            ));
        }
        let key = ObjectKey::parse(key)
            .map_err(|_| CourierError::BadRequest("That is not a file Courier uploaded.".to_owned()))?;
        let verified = UploadToken::verify(&self.0.secret, token, &key, now).map_err(|e| match e {
            TokenError::Expired => CourierError::Forbidden(
                "This link's permission has expired. Upload the file again to share it.".to_owned(),
            ),
            _ => CourierError::Forbidden("This token does not allow a link to that file.".to_owned()),
        })?;
        Ok((key, verified))
    }

    /// The object's metadata, or `None` when there is no such object.
    async fn head(&self, key: &ObjectKey) -> Result<Option<HeadObjectOutput>, CourierError> {
        let store = &self.0.store;
        match store
            .client
            .head_object()
            .bucket(&store.bucket)
            .key(key.as_str())
            .send()
            .await
        {
            Ok(head) => Ok(Some(head)),
            Err(error) if is_not_found(&error) => Ok(None),
            Err(error) => {
                tracing::error!(key = %key.as_str(), error = %DisplayErrorContext(&error), "HEAD failed");
                Err(store_unreachable())
            }
        }
    }

    /// A server-side copy, only of the bytes that carry `etag`.
    async fn copy(&self, from: &ObjectKey, to: &ObjectKey, etag: &str) -> Result<(), CourierError> {
        let store = &self.0.store;
        let source = format!(
            "{}/{}",
            store.bucket,
            percent_encoding::utf8_percent_encode(from.as_str(), COPY_SOURCE)
        );
        match store
            .client
            .copy_object()
            .bucket(&store.bucket)
            .key(to.as_str())
            .copy_source(source)
            .copy_source_if_match(format!("\"{etag}\""))
            .send()
            .await
        {
            Ok(_) => Ok(()),
            Err(error) if error.raw_response().is_some_and(|r| r.status().as_u16() == 412) => Err(
                CourierError::BadRequest("The file changed while it was being confirmed. Upload it again.".to_owned()),
            ),
            Err(error) => {
                tracing::error!(from = %from.as_str(), to = %to.as_str(), error = %DisplayErrorContext(&error), "copy failed");
                Err(store_unreachable())
            }
        }
    }

    /// Best effort: a leftover upload is never linked, and expires with its prefix.
    async fn remove_upload(&self, key: &ObjectKey) {
        let store = &self.0.store;
        if let Err(error) = store
            .client
            .delete_object()
            .bucket(&store.bucket)
            .key(key.as_str())
            .send()
            .await
        {
            tracing::warn!(key = %key.as_str(), error = %DisplayErrorContext(&error), "could not remove a confirmed upload");
        }
    }

    /// The link JSON for `key`, from its HEAD: name, size, ETag and a fresh
    /// presigned GET.
    async fn link(
        &self,
        key: &ObjectKey,
        head: &HeadObjectOutput,
        token: String,
        now: OffsetDateTime,
    ) -> Result<DownloadLink, CourierError> {
        let filename = original_name(key, head);
        let size = head.content_length().and_then(|n| u64::try_from(n).ok()).unwrap_or(0);
        let ttl = self.0.limits.download_ttl;
        let download_url = self.presign_download(key, &filename, now, ttl).await?;
        tracing::info!(key = %key.as_str(), size, "signed a download link");
        Ok(DownloadLink {
            key: key.as_str().to_owned(),
            filename,
            size,
            etag: bare_etag(head.e_tag()),
            download_url,
            expires_at: rfc3339(now + ttl),
            token,
        })
    }

    /// A GET URL for `key` that lives `ttl` and downloads as `filename`.
    async fn presign_download(
        &self,
        key: &ObjectKey,
        filename: &str,
        now: OffsetDateTime,
        ttl: Duration,
    ) -> Result<String, CourierError> {
        let store = &self.0.store;
        let unsigned =
            |e: &dyn std::fmt::Display| CourierError::Internal(format!("The download link could not be signed ({e})."));
        let presigning = PresigningConfig::builder()
            .start_time(now.into())
            .expires_in(ttl)
            .build()
            .map_err(|e| unsigned(&e))?;
        let presigned = store
            .client
            .get_object()
            .bucket(&store.bucket)
            .key(key.as_str())
            .response_content_disposition(content_disposition::attachment(filename))
            .presigned(presigning)
            .await
            .map_err(|e| unsigned(&e))?;
        Ok(presigned.uri().to_owned())
    }

    fn confirm_url(&self, token: &str) -> Url {
        let mut url = self
            .0
            .public_url
            .join("confirm-upload")
            .unwrap_or_else(|_| self.0.public_url.clone());
        url.query_pairs_mut().append_pair("token", token);
        url
    }
}

/// The name the person gave the file (kept percent-encoded in the object's
/// metadata), made safe again; the key's own name when there is none.
fn original_name(key: &ObjectKey, head: &HeadObjectOutput) -> String {
    let stored = head
        .metadata()
        .and_then(|m| m.get(FILENAME_METADATA))
        .and_then(|encoded| percent_encoding::percent_decode_str(encoded).decode_utf8().ok())
        .map(|name| name.into_owned())
        .unwrap_or_else(|| key.name().to_owned());
    FileName::parse(&stored)
        .map(|n| n.as_str().to_owned())
        .unwrap_or_else(|_| "file".to_owned())
}

/// A key in `x-amz-copy-source`: percent-encoded, its slashes kept.
const COPY_SOURCE: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'/')
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

fn is_not_found<E>(error: &SdkError<E, aws_sdk_s3::config::http::HttpResponse>) -> bool {
    matches!(error, SdkError::ServiceError(e) if e.raw().status().as_u16() == 404)
}

fn not_found() -> CourierError {
    CourierError::NotFound("No file was found for this upload. It may not have finished: upload it again.".to_owned())
}

fn store_unreachable() -> CourierError {
    CourierError::StoreUnavailable(
        "The storage could not be reached to check the file. Try again in a moment.".to_owned(),
    )
}

/// An ETag without its quotes (Garage and AWS quote it, s3s does not).
fn bare_etag(etag: Option<&str>) -> String {
    etag.unwrap_or_default().trim_matches('"').to_owned()
}

pub fn rfc3339(at: OffsetDateTime) -> String {
    at.replace_nanosecond(0)
        .unwrap_or(at)
        .format(&Rfc3339)
        .unwrap_or_default()
}
