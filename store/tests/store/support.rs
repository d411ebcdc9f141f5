//! One builder for a test store ([`TestStore::builder`]), and what the tests
//! share: an S3 client signing with the store's credentials, the browser's
//! POST forms (`browser_form`), multipart uploads as the page sends them
//! (`multipart`), the store's files on disk (`disk`), sample bytes.
//!
//! A store runs in the test's process, or as the `courier-store` binary
//! (`store_process`) for a test that kills it and starts it again on the
//! same data directory.

mod browser_form;
mod disk;
mod multipart;
mod store_process;

use std::path::{Path, PathBuf};
use std::time::Duration;

use aws_sdk_s3::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_s3::presigning::PresigningConfig;
use aws_sdk_s3::primitives::ByteStream;
use courier_serve::{Limits, Server, TrustedProxies};
use courier_store::{EmbeddedStore, SlotLimits, StoreConfig, StoreCredentials};
use tokio::task::JoinHandle;

pub use browser_form::{BrowserForm, location};
pub use courier_test_support::{Tmpfs, files_under, md5_hex, query, sample_bytes};
pub use multipart::part_sha256;
use store_process::StoreProcess;

/// The page's origin: the one origin the test stores let POST.
pub const ORIGIN: &str = "http://127.0.0.1:3000";

/// The store on a free loopback port, over a data directory.
pub struct TestStore {
    /// `http://127.0.0.1:<port>`.
    pub endpoint: String,
    pub bucket: String,
    /// Follows no redirects: the tests look at each answer.
    pub http: reqwest::Client,
    pub data_dir: PathBuf,
    pub credentials: StoreCredentials,
    /// The largest file a browser form may send.
    max_post_bytes: u64,
    running: Running,
    /// Removed with the store, when the builder made it.
    _temp_dir: Option<tempfile::TempDir>,
}

enum Running {
    InProcess { _server: Server, sweeper: JoinHandle<()> },
    Process(StoreProcess),
}

/// What a test store is built with; the defaults are the server's.
pub struct StoreBuilder {
    limits: Limits,
    slots: SlotLimits,
    max_post_bytes: u64,
    max_part_bytes: u64,
    min_free_bytes: Option<u64>,
    data_dir: Option<PathBuf>,
}

impl TestStore {
    pub fn builder() -> StoreBuilder {
        StoreBuilder {
            limits: Limits::STORE,
            slots: SlotLimits::STORE,
            max_post_bytes: 64 << 20,
            max_part_bytes: 64 << 20,
            min_free_bytes: None,
            data_dir: None,
        }
    }

    /// A store with the defaults.
    pub async fn start() -> Self {
        Self::builder().start().await
    }

    /// `http://127.0.0.1:<port>` → `127.0.0.1:<port>`.
    pub fn addr(&self) -> &str {
        self.endpoint.trim_start_matches("http://")
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

    /// The bytes `key` holds, read with a signature (its link must work).
    pub async fn downloaded(&self, key: &str) -> Vec<u8> {
        let answer = self
            .http
            .get(self.presigned_get(key).await)
            .send()
            .await
            .expect("the store answers");
        assert_eq!(answer.status(), reqwest::StatusCode::OK, "{key}");
        answer.bytes().await.expect("the body").to_vec()
    }

    /// Each key serves its bytes.
    pub async fn assert_serves(&self, objects: &[(&str, &[u8])]) {
        for (key, bytes) in objects {
            assert!(self.downloaded(key).await == *bytes, "{key} serves other bytes");
        }
    }

    /// The store's status for a signed HEAD of `key`.
    pub async fn head_status(&self, key: &str) -> u16 {
        status(
            &self
                .store_client()
                .head_object()
                .bucket(&self.bucket)
                .key(key)
                .send()
                .await,
        )
    }

    /// Sends `request` to the store byte for byte (no client normalises its
    /// path) and returns the whole answer, status line first.
    pub async fn send_raw_to_store(&self, request: &str) -> String {
        use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

        let mut stream = tokio::net::TcpStream::connect(self.addr()).await.expect("connect");
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

    /// SIGKILL to the `courier-store` process, and wait until it is gone
    /// (its data directory stays: the builder was given it).
    pub fn kill(mut self) {
        match &mut self.running {
            Running::Process(process) => process.kill(),
            Running::InProcess { .. } => panic!("only a store started as its binary can be killed"),
        }
    }

    /// Everything the `courier-store` process logged so far.
    pub fn logged(&mut self) -> &[String] {
        match &mut self.running {
            Running::Process(process) => process.logged(),
            Running::InProcess { .. } => panic!("a store in the test's process logs with the test"),
        }
    }
}

impl StoreBuilder {
    /// The serve loop's timeouts, connection caps and body-rate floor.
    pub fn limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// The free space new writes leave (`COURIER_MIN_FREE_BYTES`).
    pub fn min_free_bytes(mut self, bytes: u64) -> Self {
        self.min_free_bytes = Some(bytes);
        self
    }

    /// The largest file a browser form may send (`COURIER_MAX_POST_BYTES`).
    pub fn max_post_bytes(mut self, bytes: u64) -> Self {
        self.max_post_bytes = bytes;
        self
    }

    /// This data directory (the caller keeps it, to start a store on it
    /// again), instead of a temporary one.
    pub fn data_dir(mut self, dir: &Path) -> Self {
        self.data_dir = Some(dir.to_owned());
        self
    }

    /// The store in the test's process, served as the server serves it.
    pub async fn start(self) -> TestStore {
        // Logs show with a failing test's output (RUST_LOG to see more).
        let _ = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into()))
            .with_test_writer()
            .try_init();
        let (data_dir, temp_dir) = self.prepared_data_dir();
        let store = EmbeddedStore::build(StoreConfig {
            data_dir: data_dir.clone(),
            allowed_origins: vec![ORIGIN.to_owned()],
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
        TestStore {
            endpoint: format!("http://{addr}"),
            bucket: EmbeddedStore::BUCKET.to_owned(),
            http: self.client(),
            data_dir,
            credentials: store.credentials,
            max_post_bytes: self.max_post_bytes,
            running: Running::InProcess {
                _server: server,
                sweeper: store.sweeper.spawn(),
            },
            _temp_dir: temp_dir,
        }
    }

    /// The `courier-store` binary, configured as an operator configures it
    /// (its limits and slots are the defaults).
    pub async fn start_binary(self) -> TestStore {
        assert!(
            self.limits == Limits::STORE && self.slots == SlotLimits::STORE,
            "the binary serves with the default limits"
        );
        let (data_dir, temp_dir) = self.prepared_data_dir();
        let mut settings = vec![
            ("COURIER_ALLOWED_ORIGINS", ORIGIN.to_owned()),
            ("COURIER_MAX_POST_BYTES", self.max_post_bytes.to_string()),
            ("COURIER_MAX_PART_BYTES", self.max_part_bytes.to_string()),
        ];
        if let Some(bytes) = self.min_free_bytes {
            settings.push(("COURIER_MIN_FREE_BYTES", bytes.to_string()));
        }
        let process = tokio::task::spawn_blocking({
            let data_dir = data_dir.clone();
            move || StoreProcess::start(&data_dir, &settings)
        })
        .await
        .expect("started");
        TestStore {
            endpoint: process.endpoint.clone(),
            bucket: EmbeddedStore::BUCKET.to_owned(),
            http: self.client(),
            credentials: StoreCredentials::load_or_create(&data_dir).expect("the store's credentials"),
            data_dir,
            max_post_bytes: self.max_post_bytes,
            running: Running::Process(process),
            _temp_dir: temp_dir,
        }
    }

    fn prepared_data_dir(&self) -> (PathBuf, Option<tempfile::TempDir>) {
        match &self.data_dir {
            Some(dir) => (dir.clone(), None),
            None => {
                let temp = tempfile::tempdir().expect("a temporary data directory");
                (temp.path().to_owned(), Some(temp))
            }
        }
    }

    fn client(&self) -> reqwest::Client {
        reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            // Forgotten before the store closes an idle connection.
            .pool_idle_timeout(self.limits.header_read / 2)
            .build()
            .expect("a client")
    }
}

impl Drop for TestStore {
    fn drop(&mut self) {
        if let Running::InProcess { sweeper, .. } = &self.running {
            sweeper.abort();
        }
    }
}

/// The HTTP status the store answered an SDK call with.
pub fn status<T, E>(result: &Result<T, aws_sdk_s3::error::SdkError<E>>) -> u16 {
    match result {
        Ok(_) => 200,
        Err(error) => error.raw_response().map_or(0, |raw| raw.status().as_u16()),
    }
}

/// What the store's SDK client answered: its S3 error code, if it failed.
pub fn code<T, E: aws_sdk_s3::error::ProvideErrorMetadata>(
    result: &Result<T, aws_sdk_s3::error::SdkError<E>>,
) -> Option<String> {
    match result {
        Ok(_) => None,
        Err(error) => Some(
            error
                .as_service_error()
                .and_then(|service| service.code())
                .unwrap_or("not a service error")
                .to_owned(),
        ),
    }
}
