//! What both commands work on: the configured bucket, the app's origin its
//! CORS rule must allow, and how the S3 client's errors read.

use aws_sdk_s3::types::CorsRule;
use url::Url;

use crate::settings::{ExternalStore, Settings, SettingsError, StorageSettings};
use crate::storage;

#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    #[error("{0}")]
    Settings(#[from] SettingsError),
    #[error("{0}")]
    Storage(#[from] storage::StorageError),
    #[error("this command needs COURIER_BUCKET (the embedded store sets itself up at start)")]
    NoBucket,
    #[error("this command needs COURIER_PUBLIC_URL: the bucket's CORS rule must allow the app's public origin")]
    NoPublicUrl,
    #[error("{0}")]
    Failed(String),
}

pub(super) struct Target<'a> {
    pub external: &'a ExternalStore,
    pub public_url: &'a Url,
    pub origin: String,
}

pub(super) fn target(settings: &Settings) -> Result<Target<'_>, CommandError> {
    let StorageSettings::External(external) = &settings.storage else {
        return Err(CommandError::NoBucket);
    };
    let public_url = settings.public_url.as_ref().ok_or(CommandError::NoPublicUrl)?;
    Ok(Target {
        external,
        public_url,
        origin: public_url.origin().ascii_serialization(),
    })
}

pub(super) fn code_of<E: aws_sdk_s3::error::ProvideErrorMetadata, R>(
    error: &aws_sdk_s3::error::SdkError<E, R>,
) -> Option<String> {
    error.as_service_error().and_then(|e| e.code()).map(str::to_owned)
}

pub(super) fn describe<E: std::error::Error + 'static, R: std::fmt::Debug>(
    error: &aws_sdk_s3::error::SdkError<E, R>,
) -> String {
    aws_sdk_s3::error::DisplayErrorContext(error).to_string()
}

/// Whether a CORS rule lets `origin` POST and GET and read the ETag.
pub(super) fn cors_rule_allows(rule: &CorsRule, origin: &str) -> bool {
    let origin_ok = rule.allowed_origins().iter().any(|o| o == "*" || o == origin);
    let methods_ok = ["POST", "GET"]
        .iter()
        .all(|m| rule.allowed_methods().iter().any(|a| a.eq_ignore_ascii_case(m)));
    let etag_ok = rule.expose_headers().iter().any(|h| h.eq_ignore_ascii_case("etag"));
    origin_ok && methods_ok && etag_ok
}
