//! Looking behind Courier: S3 clients for any store, the embedded store's
//! files on disk, and anonymous reads.

use reqwest::{StatusCode, header};

/// An S3 client for the embedded store at `endpoint`, signing with the
/// credentials in its data directory, as the server's does.
pub fn embedded_store_client(endpoint: &str, data_dir: &std::path::Path) -> aws_sdk_s3::Client {
    let credentials = courier::embedded_store::StoreCredentials::load_or_create(data_dir).expect("credentials");
    s3_client(
        endpoint,
        "us-east-1",
        &credentials.access_key_id,
        &credentials.secret_access_key,
    )
}

/// A path-style S3 client for any store, on the server's own HTTP client.
pub fn s3_client(endpoint: &str, region: &str, access_key_id: &str, secret_access_key: &str) -> aws_sdk_s3::Client {
    use aws_sdk_s3::config::{BehaviorVersion, Credentials, Region};

    let config = aws_sdk_s3::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .http_client(courier::storage::http_client())
        .region(Region::new(region.to_owned()))
        .endpoint_url(endpoint)
        .credentials_provider(Credentials::new(access_key_id, secret_access_key, None, None, "test"))
        .force_path_style(true)
        .build();
    aws_sdk_s3::Client::from_conf(config)
}

/// Whether `key` is in the store, asked with the store's own credentials.
pub async fn object_exists(s3: &aws_sdk_s3::Client, bucket: &str, key: &str) -> bool {
    s3.head_object().bucket(bucket).key(key).send().await.is_ok()
}

/// An unsigned GET, as anyone holding a URL makes it: its status and body.
pub async fn anonymous_get(url: &str) -> (StatusCode, Vec<u8>) {
    let response = reqwest::get(url).await.expect("the store answers");
    let status = response.status();
    (status, response.bytes().await.expect("a body").to_vec())
}

/// The `Content-Disposition` an unsigned GET of `url` answers with.
pub(crate) async fn disposition_of(url: &str) -> String {
    let response = reqwest::get(url).await.expect("the store answers");
    let value = response.headers().get(header::CONTENT_DISPOSITION);
    value.and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned()
}

/// The store's own list of the multipart uploads in progress in `bucket`
/// (`ListMultipartUploads`, one page): key and upload id, as listed.
pub async fn uploads_in_progress(s3: &aws_sdk_s3::Client, bucket: &str) -> Vec<(String, String)> {
    let listed = s3
        .list_multipart_uploads()
        .bucket(bucket)
        .send()
        .await
        .expect("the store lists uploads");
    listed_uploads(&listed)
}

/// One page of `ListMultipartUploads`: key and upload id of each upload.
pub fn listed_uploads(
    listed: &aws_sdk_s3::operation::list_multipart_uploads::ListMultipartUploadsOutput,
) -> Vec<(String, String)> {
    listed
        .uploads()
        .iter()
        .map(|u| {
            (
                u.key().unwrap_or_default().to_owned(),
                u.upload_id().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}
