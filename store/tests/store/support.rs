//! One builder for a test store ([`TestStore::builder`]), and what the tests
//! share: an S3 client signing with the store's credentials, sample bytes.

use std::time::Duration;

use aws_sdk_s3::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_s3::presigning::PresigningConfig;
use aws_sdk_s3::primitives::ByteStream;
use courier_serve::{Limits, Server, TrustedProxies};
use courier_store::{EmbeddedStore, SlotLimits, StoreConfig, StoreCredentials};
use tokio::task::JoinHandle;

/// The store on a free loopback port, over a temporary data directory.
pub struct TestStore {
    /// `http://127.0.0.1:<port>`.
    pub endpoint: String,
    pub bucket: String,
    /// Follows no redirects: the tests look at each answer.
    pub http: reqwest::Client,
    /// Removed with the store.
    _data_dir: tempfile::TempDir,
    pub credentials: StoreCredentials,
    _server: Server,
    sweeper: JoinHandle<()>,
}

/// What a test store is built with; the defaults are the server's (a
/// test that needs other limits gets a setter here).
pub struct StoreBuilder {
    limits: Limits,
    slots: SlotLimits,
    allowed_origins: Vec<String>,
    max_post_bytes: u64,
    max_part_bytes: u64,
    min_free_bytes: Option<u64>,
}

impl TestStore {
    pub fn builder() -> StoreBuilder {
        StoreBuilder {
            limits: Limits::STORE,
            slots: SlotLimits::STORE,
            allowed_origins: vec!["http://127.0.0.1:3000".to_owned()],
            max_post_bytes: 64 << 20,
            max_part_bytes: 64 << 20,
            min_free_bytes: None,
        }
    }

    /// A store with the defaults.
    pub async fn start() -> Self {
        Self::builder().start().await
    }

    /// An S3 client that signs with the store's own credentials, as the
    /// server's does.
    pub fn store_client(&self) -> aws_sdk_s3::Client {
        let config = aws_sdk_s3::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .http_client(
                aws_smithy_http_client::Builder::new()
                    .tls_provider(aws_smithy_http_client::tls::Provider::Rustls(
                        aws_smithy_http_client::tls::rustls_provider::CryptoMode::Ring,
                    ))
                    .build_https(),
            )
            .region(Region::new(EmbeddedStore::REGION))
            .endpoint_url(&self.endpoint)
            .credentials_provider(Credentials::new(
                &self.credentials.access_key_id,
                &self.credentials.secret_access_key,
                None,
                None,
                "test",
            ))
            .force_path_style(true)
            .build();
        aws_sdk_s3::Client::from_conf(config)
    }

    /// Stores `bytes` under `key` with a signed PUT.
    pub async fn put(&self, key: &str, content_type: &str, bytes: &[u8]) {
        self.store_client()
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .content_type(content_type)
            .body(ByteStream::from(bytes.to_vec()))
            .send()
            .await
            .unwrap_or_else(|error| panic!("a signed PUT of {key}: {error:?}"));
    }

    /// A presigned GET of `key`, as a private download link is.
    pub async fn presigned_get(&self, key: &str) -> String {
        self.store_client()
            .get_object()
            .bucket(&self.bucket)
            .key(key)
            .presigned(PresigningConfig::expires_in(Duration::from_secs(600)).expect("a valid lifetime"))
            .await
            .expect("presigned")
            .uri()
            .to_owned()
    }

    /// Sends `request` to the store byte for byte (no client normalises its
    /// path) and returns the whole answer, status line first.
    pub async fn send_raw_to_store(&self, request: &str) -> String {
        use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

        let addr = self.endpoint.trim_start_matches("http://");
        let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
        stream.write_all(request.as_bytes()).await.expect("write");
        let mut answer = Vec::new();
        let _ = tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut answer)).await;
        String::from_utf8_lossy(&answer).into_owned()
    }

    /// `key`'s plain URL, as a public link spells it.
    pub fn plain_url(&self, key: &str) -> String {
        let encoded = percent_encoding::utf8_percent_encode(key, signer::object_key::KEY_PATH);
        format!("{}/{}/{encoded}", self.endpoint, self.bucket)
    }
}

impl StoreBuilder {
    pub async fn start(self) -> TestStore {
        // Logs show with a failing test's output (RUST_LOG to see more).
        let _ = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into()))
            .with_test_writer()
            .try_init();
        let data_dir = tempfile::tempdir().expect("a temporary data directory");
        let store = EmbeddedStore::build(StoreConfig {
            data_dir: data_dir.path().to_owned(),
            allowed_origins: self.allowed_origins,
            max_post_bytes: self.max_post_bytes,
            max_part_bytes: self.max_part_bytes,
            slots: self.slots,
            trusted_proxies: TrustedProxies::default(),
            min_free_bytes: self.min_free_bytes,
        })
        .expect("the store builds");
        let listener = courier_serve::bind("127.0.0.1:0".parse().expect("an address")).expect("a free port");
        let addr = listener.local_addr().expect("its address");
        let server = Server::spawn(listener, store.router, self.limits, TrustedProxies::default());
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            // Forgotten before the store closes an idle connection.
            .pool_idle_timeout(self.limits.header_read / 2)
            .build()
            .expect("a client");
        TestStore {
            endpoint: format!("http://{addr}"),
            bucket: EmbeddedStore::BUCKET.to_owned(),
            http,
            _data_dir: data_dir,
            credentials: store.credentials,
            _server: server,
            sweeper: store.sweeper.spawn(),
        }
    }
}

impl Drop for TestStore {
    fn drop(&mut self) {
        self.sweeper.abort();
    }
}

/// `len` bytes that are not all alike.
pub fn sample_bytes(len: usize) -> Vec<u8> {
    // One period of `i * 31 % 251`, copied: byte by byte is slow unoptimised.
    let period: Vec<u8> = (0..251usize).map(|i| (i * 31 % 251) as u8).collect();
    let mut bytes = Vec::with_capacity(len + period.len());
    while bytes.len() < len {
        bytes.extend_from_slice(&period);
    }
    bytes.truncate(len);
    bytes
}
