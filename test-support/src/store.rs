//! S3 clients for any store Courier runs on, the embedded store's signed
//! with its own credentials.

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
