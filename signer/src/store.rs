//! The bucket and the few calls the signer makes to it: HEAD, a conditional
//! server-side copy, and DELETE. Store failures are logged here in full and
//! reach the person as one sentence.

use aws_sdk_s3::error::{DisplayErrorContext, SdkError};
use aws_sdk_s3::operation::head_object::HeadObjectOutput;

use crate::Signer;
use crate::credentials::CredentialSource;
use crate::error::SignError;
use crate::object_key::{KEY_PATH, ObjectKey};

/// The bucket and how to reach it.
pub struct Store {
    pub client: aws_sdk_s3::Client,
    pub bucket: String,
    /// The bucket's URL as the browser POSTs to it.
    pub post_url: String,
    /// What the signer signs with (and the store's region).
    pub credentials: CredentialSource,
}

impl Signer {
    /// The object's metadata, or `None` when there is no such object.
    pub(crate) async fn head(&self, key: &ObjectKey) -> Result<Option<HeadObjectOutput>, SignError> {
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
                Err(SignError::StoreUnreachable)
            }
        }
    }

    /// A server-side copy, only of the bytes that carry `etag`.
    pub(crate) async fn copy(&self, from: &ObjectKey, to: &ObjectKey, etag: &str) -> Result<(), SignError> {
        let store = &self.0.store;
        let source = format!(
            "{}/{}",
            store.bucket,
            percent_encoding::utf8_percent_encode(from.as_str(), KEY_PATH)
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
            Err(error) if error.raw_response().is_some_and(|r| r.status().as_u16() == 412) => {
                Err(SignError::ChangedWhileConfirming)
            }
            Err(error) => {
                tracing::error!(from = %from.as_str(), to = %to.as_str(), error = %DisplayErrorContext(&error), "copy failed");
                Err(SignError::StoreUnreachable)
            }
        }
    }

    /// Deletes `key`; deleting what is already gone succeeds (as S3 does).
    pub(crate) async fn delete_object(&self, key: &ObjectKey) -> Result<(), SignError> {
        let store = &self.0.store;
        match store
            .client
            .delete_object()
            .bucket(&store.bucket)
            .key(key.as_str())
            .send()
            .await
        {
            Ok(_) => Ok(()),
            Err(error) if is_not_found(&error) => Ok(()),
            Err(error) => {
                tracing::error!(key = %key.as_str(), error = %DisplayErrorContext(&error), "DELETE failed");
                Err(SignError::NotDeleted)
            }
        }
    }

    /// Best effort: a leftover upload is never linked, and expires with its prefix.
    pub(crate) async fn remove_upload(&self, key: &ObjectKey) {
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
}

fn is_not_found<E>(error: &SdkError<E, aws_sdk_s3::config::http::HttpResponse>) -> bool {
    matches!(error, SdkError::ServiceError(e) if e.raw().status().as_u16() == 404)
}

/// An ETag without its quotes (Garage and AWS quote it, s3s does not).
pub(crate) fn bare_etag(etag: Option<&str>) -> String {
    etag.unwrap_or_default().trim_matches('"').to_owned()
}
