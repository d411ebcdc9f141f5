//! Download links: the link JSON for a stored file, with a fresh presigned
//! GET that downloads under the name the person gave it, or, for a public
//! file, its plain URL.

use std::time::Duration;

use aws_sdk_s3::operation::head_object::HeadObjectOutput;
use percent_encoding::utf8_percent_encode;
use time::OffsetDateTime;

use crate::error::SignError;
use crate::file_name::FileName;
use crate::object_key::{KEY_PATH, ObjectKey};
use crate::presign::{GetObject, presign_get};
use crate::store::bare_etag;
use crate::token::{TokenScope, UploadToken};
use crate::{DownloadLink, FILENAME_METADATA, LinkKind, Signer, content_disposition, rfc3339};

impl Signer {
    /// The link JSON for `key`, from its HEAD: name, size, ETag and a fresh
    /// presigned GET.
    pub(crate) async fn link(
        &self,
        key: &ObjectKey,
        head: &HeadObjectOutput,
        token: String,
        now: OffsetDateTime,
    ) -> Result<DownloadLink, SignError> {
        let filename = original_name(key, head);
        let size = head.content_length().and_then(|n| u64::try_from(n).ok()).unwrap_or(0);
        let (download_url, expires_at) = match key.link() {
            LinkKind::Public => (self.public_url(key), None),
            LinkKind::Expiring => {
                let ttl = self.0.limits.download_ttl;
                let url = self.presign_download(key, &filename, now, ttl, None).await?;
                (url, Some(rfc3339(now + ttl)))
            }
        };
        tracing::debug!(key = %key.as_str(), size, link = key.link().as_str(), "signed a download link");
        Ok(DownloadLink {
            key: key.as_str().to_owned(),
            filename,
            size,
            content_type: head.content_type().unwrap_or("application/octet-stream").to_owned(),
            etag: bare_etag(head.e_tag()),
            download_url,
            expires_at,
            link: key.link(),
            token,
            share: None,
            seal: head.metadata().and_then(|m| m.get(crate::seal::SEAL_METADATA)).cloned(),
        })
    }

    /// A public file's plain URL: the public base, then the key (its
    /// segments percent-encoded, its slashes kept).
    pub fn public_url(&self, key: &ObjectKey) -> String {
        let encoded = utf8_percent_encode(key.as_str(), KEY_PATH);
        let mut url = String::with_capacity(self.0.public_base.len() + key.as_str().len() * 3);
        url.push_str(&self.0.public_base);
        url.extend(encoded);
        url
    }

    /// The token a new file's owner gets with its link (new links, delete):
    /// counted from when the object was written, so confirming or completing
    /// again never extends it.
    pub(crate) fn owner_token(&self, key: &ObjectKey, head: &HeadObjectOutput, now: OffsetDateTime) -> String {
        let written = head
            .last_modified()
            .and_then(|t| OffsetDateTime::from_unix_timestamp(t.secs()).ok())
            .unwrap_or(now);
        UploadToken::issue(
            &self.0.secret,
            TokenScope::Renewal,
            key.as_str(),
            written + self.0.limits.renew_ttl,
        )
    }

    /// A GET URL for `key` that lives `ttl` and downloads as `filename`,
    /// answered with `cache_control` where there is one.
    pub(crate) async fn presign_download(
        &self,
        key: &ObjectKey,
        filename: &str,
        now: OffsetDateTime,
        ttl: Duration,
        cache_control: Option<&str>,
    ) -> Result<String, SignError> {
        let identity = self.signing_identity().await?;
        let disposition = content_disposition::attachment(filename);
        let get = GetObject {
            key: key.as_str(),
            cache_control,
            content_disposition: Some(&disposition),
            expires_in: ttl,
        };
        Ok(presign_get(&identity, &self.0.bucket_url, get, now))
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
