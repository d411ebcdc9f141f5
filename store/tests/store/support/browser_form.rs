//! The browser's uploads: a signed POST policy as the app grants it (one
//! exact key, or the plain form's per-page prefix), signed with `signer`'s
//! own `PostPolicy` and the store's credentials, and the form POSTed as a
//! browser POSTs it. What a confirmation does on the store (copy the upload
//! where no grant writes, remove it) is here too.

use std::collections::BTreeMap;
use std::time::Duration;

use reqwest::{StatusCode, header};
use signer::credentials::{SigningCredentials, SigningIdentity};
use signer::file_name::FileName;
use signer::object_key::{ObjectKey, UploadPrefix};
use signer::post_policy::PostPolicy;
use signer::{LinkKind, OffsetDateTime};

use super::{ORIGIN, TestStore};

/// Where the store sends the browser after an upload.
const CONFIRM_URL: &str = "http://127.0.0.1:3000/confirm-upload?token=test";

/// A signed form: where to POST it, its fields, and the key it writes.
#[derive(Clone, Debug)]
pub struct BrowserForm {
    pub url: String,
    pub fields: BTreeMap<String, String>,
    /// The exact key, or the prefix's `…/${filename}`.
    pub key: String,
}

impl TestStore {
    /// A grant for one file, as `sign_upload` makes it: its exact key
    /// (`uploads/<uuid>/<name>`), type and size.
    pub fn grant(&self, name: &str, content_type: &str, size: u64) -> BrowserForm {
        let name = FileName::parse(name).expect("a usable file name");
        let key = ObjectKey::for_upload(&name, LinkKind::Expiring);
        let original_name = percent_encoding::utf8_percent_encode(name.as_str(), percent_encoding::NON_ALPHANUMERIC);
        let policy = self
            .policy()
            .field("key", key.as_str())
            .field("Content-Type", content_type)
            .field("acl", "private")
            .field("success_action_redirect", CONFIRM_URL)
            .field("x-amz-meta-filename", original_name.to_string())
            .content_length_range(size, size);
        self.signed(policy, key.as_str())
    }

    /// The plain page's form: any name under a fresh prefix.
    pub fn page_form(&self) -> BrowserForm {
        let prefix = UploadPrefix::generate(LinkKind::Expiring);
        let policy = self
            .policy()
            .field_starting_with("key", prefix.as_str(), prefix.form_key())
            .field("acl", "private")
            .field("success_action_redirect", CONFIRM_URL)
            .content_length_range(1, self.max_post_bytes);
        self.signed(policy, &prefix.form_key())
    }

    /// What the app signs with for this store: its own credentials.
    pub fn signing_identity(&self) -> SigningIdentity {
        SigningIdentity::new(
            &SigningCredentials {
                access_key_id: self.credentials.access_key_id.clone(),
                secret_access_key: self.credentials.secret_access_key.clone(),
                session_token: None,
            },
            courier_store::REGION,
        )
    }

    fn policy(&self) -> PostPolicy {
        PostPolicy::builder(&self.bucket, OffsetDateTime::now_utc() + Duration::from_secs(10 * 60))
    }

    fn signed(&self, policy: PostPolicy, key: &str) -> BrowserForm {
        let identity = self.signing_identity();
        let signed = policy.sign(&identity, OffsetDateTime::now_utc());
        BrowserForm {
            url: format!("{}/{}", self.endpoint, self.bucket),
            fields: signed
                .fields
                .iter()
                .map(|(name, value)| (name.to_owned(), value.to_owned()))
                .collect(),
            key: key.to_owned(),
        }
    }

    /// POSTs the fields, then the file, to `url`, as the page's browser does.
    pub async fn post_form(
        &self,
        url: &str,
        fields: impl IntoIterator<Item = (impl AsRef<str>, impl AsRef<str>)>,
        file_name: &str,
        content_type: &str,
        bytes: &[u8],
    ) -> reqwest::Response {
        courier_test_support::post_form(&self.http, url, ORIGIN, fields, file_name, content_type, bytes).await
    }

    /// POSTs `bytes` under `form`; the store must take it (303). Its key.
    pub async fn post_upload(&self, form: &BrowserForm, name: &str, content_type: &str, bytes: &[u8]) -> String {
        let stored = self.post_form(&form.url, &form.fields, name, content_type, bytes).await;
        let status = stored.status();
        let location = location(&stored);
        assert_eq!(
            status,
            StatusCode::SEE_OTHER,
            "the store refused: {}",
            stored.text().await.unwrap_or_default()
        );
        courier_test_support::query(&location)["key"].clone()
    }

    /// Grants, POSTs and confirms one file, as the page and the app do:
    /// its confirmed key.
    pub async fn upload(&self, name: &str, content_type: &str, bytes: &[u8]) -> String {
        let form = self.grant(name, content_type, bytes.len() as u64);
        let key = self.post_upload(&form, name, content_type, bytes).await;
        self.confirm(&key).await
    }

    /// What a confirmation does on the store: copies the upload under `key`
    /// to `files/<id>/<name>` and removes it. The confirmed key.
    pub async fn confirm(&self, key: &str) -> String {
        let upload = ObjectKey::parse(key).expect("an upload's key");
        let id = uuid::Uuid::new_v4().simple().to_string();
        let confirmed = upload.confirmed(&id).expect("a confirmed key");
        let s3 = self.store_client();
        let source = percent_encoding::utf8_percent_encode(key, signer::object_key::KEY_PATH);
        s3.copy_object()
            .bucket(&self.bucket)
            .key(confirmed.as_str())
            .copy_source(format!("{}/{source}", self.bucket))
            .send()
            .await
            .unwrap_or_else(|error| panic!("the copy of {key}: {error:?}"));
        s3.delete_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
            .expect("the upload removed");
        confirmed.as_str().to_owned()
    }
}

/// The `Location` of a redirect.
pub fn location(response: &reqwest::Response) -> String {
    response
        .headers()
        .get(header::LOCATION)
        .map(|value| value.to_str().expect("ascii").to_owned())
        .unwrap_or_default()
}
