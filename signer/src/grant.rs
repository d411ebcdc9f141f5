//! Upload grants: a signed POST policy that lets the browser send one file
//! (or, for the plain form, any file under one per-page prefix) straight to
//! the store, and nothing else.

use std::sync::Arc;
use std::time::Duration;

use time::OffsetDateTime;

use crate::credentials::SigningIdentity;

use crate::error::SignError;
use crate::file_name::FileName;
use crate::object_key::{ObjectKey, UploadPrefix};
use crate::post_policy::PostPolicy;
use crate::seal::{SEAL_METADATA_FIELD, SEALED_NAME, SEALED_TYPE, Seal};
use crate::token::{TokenScope, UploadToken};
use crate::{Encryption, FILENAME_METADATA_FIELD, LinkKind, Signer, UploadGrant, content_disposition, rfc3339};

/// A slow upload may finish well after its policy expired (the store checks
/// expiry when the request starts); its confirmation is still honoured.
const CONFIRM_GRACE: Duration = Duration::from_secs(60 * 60);

/// The plain form's policy covers a whole prefix, so it lives shorter than
/// a per-file grant: long enough to pick a file, not to serve as storage.
const FORM_TTL: Duration = Duration::from_secs(10 * 60);

/// A request to upload one file, as the browser describes it.
#[derive(Clone, Debug)]
pub struct UploadRequest {
    pub filename: String,
    pub content_type: String,
    pub size: u64,
    /// The link the file gets once uploaded.
    pub link: LinkKind,
    /// A file encrypted in the browser: its seal (FORMAT.md); `size` is then
    /// the object's, and `filename` and `content_type` are not used.
    pub seal: Option<Seal>,
}

impl Signer {
    /// A grant to POST one file under a fresh key of its own.
    pub async fn grant_upload(&self, request: UploadRequest, now: OffsetDateTime) -> Result<UploadGrant, SignError> {
        let (name, content_type) = self.stored_as(&request)?;
        let limits = &self.0.limits;
        if request.size > limits.largest_post() {
            return Err(SignError::TooLargeForOnePost(limits.largest_post()));
        }
        let key = ObjectKey::for_upload(&name, request.link);
        let expires_at = now + limits.upload_ttl;
        let token = UploadToken::issue(
            &self.0.secret,
            TokenScope::Key,
            key.as_str(),
            expires_at + CONFIRM_GRACE,
        );
        let original_name = std::borrow::Cow::from(percent_encoding::utf8_percent_encode(
            name.as_str(),
            percent_encoding::NON_ALPHANUMERIC,
        ))
        .into_owned();

        // `acl` stays private for public files too: anonymous reads come from
        // the bucket's policy on `public/files/` (new AWS buckets refuse ACLs).
        let policy = PostPolicy::builder(&self.0.store.bucket, expires_at)
            .field("key", key.as_str())
            .field("Content-Type", content_type)
            .field("acl", "private")
            .field("success_action_redirect", self.confirm_url(&token))
            .field(FILENAME_METADATA_FIELD, original_name)
            // Exactly the declared size: nothing else can be sent under this grant.
            .content_length_range(request.size, request.size);
        let policy = match &request.seal {
            Some(seal) => policy.field(SEAL_METADATA_FIELD, seal.as_str()),
            None => policy,
        };
        // A public file is read without a signed `response-content-disposition`:
        // it carries its own, so the browser saves it instead of opening it
        // (an HTML or SVG file would otherwise open as a page of the store's origin).
        let policy = match request.link {
            LinkKind::Public => policy.field("Content-Disposition", content_disposition::attachment(name.as_str())),
            LinkKind::Expiring => policy,
        };
        self.grant(policy, key.as_str().to_owned(), expires_at, now).await
    }

    /// A grant for the plain HTML form: any name under a per-page prefix,
    /// for files that get `link`.
    pub async fn grant_form(&self, link: LinkKind, now: OffsetDateTime) -> Result<UploadGrant, SignError> {
        self.offers(link)?;
        // The plain form cannot encrypt.
        if self.0.limits.encryption == Encryption::Always {
            return Err(SignError::EncryptionRequired);
        }
        let limits = &self.0.limits;
        let prefix = UploadPrefix::generate(link);
        let expires_at = now + limits.upload_ttl.min(FORM_TTL);
        let token = UploadToken::issue(
            &self.0.secret,
            TokenScope::Prefix,
            prefix.as_str(),
            expires_at + CONFIRM_GRACE,
        );
        let policy = PostPolicy::builder(&self.0.store.bucket, expires_at)
            .field_starting_with("key", prefix.as_str(), prefix.form_key())
            .field("acl", "private")
            .field("success_action_redirect", self.confirm_url(&token))
            .content_length_range(1, limits.largest_post());
        // The name is unknown until the browser sends it: a bare `attachment`
        // saves the file under its key's last segment.
        let policy = match link {
            LinkKind::Public => policy.field("Content-Disposition", "attachment"),
            LinkKind::Expiring => policy,
        };
        self.grant(policy, prefix.form_key(), expires_at, now).await
    }

    async fn grant(
        &self,
        policy: PostPolicy,
        key: String,
        expires_at: OffsetDateTime,
        now: OffsetDateTime,
    ) -> Result<UploadGrant, SignError> {
        let identity = self.signing_identity().await?;
        let signed = policy.sign(&identity, now);
        tracing::debug!(key = %key, "signed an upload policy");
        Ok(UploadGrant {
            url: self.0.store.post_url.clone(),
            fields: signed.fields,
            key,
            expires_at: rfc3339(expires_at),
        })
    }

    /// The name and type an upload is stored under, once its link, rules and
    /// encryption are allowed: its own, or for an encrypted file
    /// [`SEALED_NAME`] and [`SEALED_TYPE`] (its own are in its seal).
    pub(crate) fn stored_as(&self, request: &UploadRequest) -> Result<(FileName, String), SignError> {
        self.offers(request.link)?;
        let rules = &self.0.limits.rules;
        match (&request.seal, self.0.limits.encryption) {
            (None, Encryption::Always) => Err(SignError::EncryptionRequired),
            (Some(_), Encryption::Off) => Err(SignError::EncryptionOff),
            (Some(_), _) if request.link == LinkKind::Public => Err(SignError::SealedPublic),
            (Some(_), _) => {
                let name = FileName::parse(SEALED_NAME).map_err(|_| SignError::NoUsableName)?;
                Ok((name, rules.check(request.size, SEALED_TYPE)?.to_owned()))
            }
            (None, _) => {
                let name = FileName::parse(&request.filename).map_err(|_| SignError::NoUsableName)?;
                Ok((name, rules.check(request.size, &request.content_type)?.to_owned()))
            }
        }
    }

    /// Refuses a public link where public links are turned off.
    pub(crate) fn offers(&self, link: LinkKind) -> Result<(), SignError> {
        match link {
            LinkKind::Public if !self.0.limits.links.public => Err(SignError::PublicLinksOff),
            _ => Ok(()),
        }
    }

    /// The credentials to sign with, from the cache unless they near expiry.
    pub(crate) async fn signing_identity(&self) -> Result<Arc<SigningIdentity>, SignError> {
        self.0.store.credentials.current().await.map_err(|e| {
            tracing::error!(error = %e, "cannot sign");
            SignError::CredentialsUnavailable
        })
    }

    /// Where the store redirects after an upload, carrying the upload's token.
    fn confirm_url(&self, token: &str) -> String {
        // A token is `[kpr].<digits>.<base64url>`: nothing in it to escape.
        let mut url = String::with_capacity(self.0.confirm_base.len() + token.len());
        url.push_str(&self.0.confirm_base);
        url.push_str(token);
        url
    }
}
