//! Builds the `Store` the signer uses: the embedded store, or AWS S3 / any
//! S3-compatible store through the standard AWS configuration.

use aws_config::BehaviorVersion;
use aws_credential_types::Credentials;
use aws_credential_types::provider::SharedCredentialsProvider;
use aws_sdk_s3::config::timeout::TimeoutConfig;
use aws_sdk_s3::config::{Region, RequestChecksumCalculation, ResponseChecksumValidation, SharedHttpClient};
use aws_smithy_http_client::tls;

use signer::Store;
use signer::credentials::CredentialSource;

use crate::embedded_store::RunningStore;
use crate::settings::ExternalStore;

#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    #[error("no AWS region is configured: set AWS_REGION (for Garage or MinIO, the region the store was set up with)")]
    NoRegion,
    #[error(
        "no AWS credentials are configured: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE, or run where an instance role is available"
    )]
    NoCredentials,
}

/// The embedded store, reached over loopback like any other S3 endpoint.
pub fn embedded(running: &RunningStore) -> Store {
    let credentials = Credentials::new(
        &running.credentials.access_key_id,
        &running.credentials.secret_access_key,
        None,
        None,
        "courier-embedded",
    );
    let provider = SharedCredentialsProvider::new(credentials);
    let endpoint = format!("http://{}", running.addr);
    let config = aws_sdk_s3::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .http_client(http_client())
        .region(Region::new(RunningStore::REGION))
        .endpoint_url(&endpoint)
        .credentials_provider(provider.clone())
        .force_path_style(true);
    let config = for_browsers(config).build();
    Store {
        client: aws_sdk_s3::Client::from_conf(config),
        bucket: running.bucket.clone(),
        post_url: format!("{endpoint}/{}", running.bucket),
        credentials: CredentialSource::new(provider, RunningStore::REGION),
    }
}

/// AWS S3 or an S3-compatible store, configured the standard AWS way; what
/// the settings name explicitly overrides the SDK's own chain.
pub async fn external(settings: &ExternalStore) -> Result<Store, StorageError> {
    let mut loader = aws_config::defaults(BehaviorVersion::latest()).http_client(http_client());
    if let Some(region) = &settings.region {
        loader = loader.region(Region::new(region.clone()));
    }
    if let Some(endpoint) = &settings.endpoint {
        loader = loader.endpoint_url(endpoint.as_str().trim_end_matches('/'));
    }
    if let Some(c) = &settings.credentials {
        let credentials = Credentials::new(
            &c.access_key_id,
            &c.secret_access_key,
            c.session_token.clone(),
            None,
            "courier-settings",
        );
        loader = loader.credentials_provider(credentials);
    }
    let sdk = loader.load().await;
    let region = sdk.region().ok_or(StorageError::NoRegion)?.to_string();
    let provider = sdk.credentials_provider().ok_or(StorageError::NoCredentials)?;
    let config = aws_sdk_s3::config::Builder::from(&sdk).force_path_style(settings.force_path_style);
    let config = for_browsers(config).build();
    Ok(Store {
        client: aws_sdk_s3::Client::from_conf(config),
        bucket: settings.bucket.clone(),
        post_url: post_url(
            settings.endpoint.as_ref(),
            &settings.bucket,
            &region,
            settings.force_path_style,
        ),
        credentials: CredentialSource::new(provider, &region),
    })
}

/// HTTPS through rustls with ring (and the platform's roots), plain HTTP
/// for a loopback store: one client for the store and the credential chain.
/// (The SDK has no default client in this build: every S3 client, tests'
/// too, is given this one.)
pub fn http_client() -> SharedHttpClient {
    aws_smithy_http_client::Builder::new()
        .tls_provider(tls::Provider::Rustls(tls::rustls_provider::CryptoMode::Ring))
        .build_https()
}

/// Checksums only where S3 requires them: otherwise presigned GETs would ask
/// the browser for checksum headers it never sends. Every call bounded in
/// time (the SDK has no default), so a store that hangs is reported as
/// unreachable.
fn for_browsers(config: aws_sdk_s3::config::Builder) -> aws_sdk_s3::config::Builder {
    config
        .request_checksum_calculation(RequestChecksumCalculation::WhenRequired)
        .response_checksum_validation(ResponseChecksumValidation::WhenRequired)
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(STORE_CONNECT_TIMEOUT)
                .operation_attempt_timeout(signer::CALL_ATTEMPT_TIMEOUT)
                .operation_timeout(signer::CALL_TIMEOUT)
                .build(),
        )
}

/// A store on the network answers a connection in well under this.
const STORE_CONNECT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(3);

/// Where a browser POSTs to reach `bucket`.
pub fn post_url(endpoint: Option<&url::Url>, bucket: &str, region: &str, path_style: bool) -> String {
    match endpoint {
        Some(endpoint) if path_style => format!("{}/{bucket}", endpoint.as_str().trim_end_matches('/')),
        Some(endpoint) => {
            let mut url = endpoint.clone();
            let host = format!("{bucket}.{}", endpoint.host_str().unwrap_or_default());
            if url.set_host(Some(&host)).is_err() {
                return format!("{}/{bucket}", endpoint.as_str().trim_end_matches('/'));
            }
            url.as_str().trim_end_matches('/').to_owned()
        }
        None if path_style => format!("https://s3.{region}.amazonaws.com/{bucket}"),
        None => format!("https://{bucket}.s3.{region}.amazonaws.com"),
    }
}

#[cfg(test)]
mod tests {
    use super::post_url;

    #[test]
    fn post_urls_follow_the_addressing_style() {
        let garage = url::Url::parse("http://127.0.0.1:3900").expect("url");
        assert_eq!(
            post_url(Some(&garage), "files", "garage", true),
            "http://127.0.0.1:3900/files"
        );
        let minio = url::Url::parse("https://s3.example.com/").expect("url");
        assert_eq!(
            post_url(Some(&minio), "files", "us-east-1", false),
            "https://files.s3.example.com"
        );
        assert_eq!(
            post_url(None, "files", "eu-west-1", false),
            "https://files.s3.eu-west-1.amazonaws.com"
        );
        assert_eq!(
            post_url(None, "files", "eu-west-1", true),
            "https://s3.eu-west-1.amazonaws.com/files"
        );
    }
}
