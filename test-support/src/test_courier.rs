//! A running Courier for a test: the app and its embedded store (or a
//! configured one) on free loopback ports, started by one builder.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use courier::serve::{Limits, Serving};
use courier::settings::Settings;
use courier::startup::Application;

use crate::store::embedded_store_client;

/// A well-behaved client forgets idle connections before the server closes
/// them: the app and the store close one idle for `header_read` (10 s), and
/// a request sent on it at that moment fails ("connection closed before
/// message completed"; browsers resend such a request by themselves,
/// reqwest does not).
pub const IDLE_CONNECTION_LIFETIME: std::time::Duration =
    std::time::Duration::from_millis(Limits::APP.header_read.as_millis() as u64 / 2);

/// A running Courier with its embedded store, on free ports.
pub struct TestCourier {
    pub base: String,
    pub store: String,
    pub bucket: String,
    pub http: reqwest::Client,
    /// The test's own directory (deleted with it).
    pub data_dir: tempfile::TempDir,
    /// Where the embedded store keeps its data: `data_dir`, unless it was
    /// started on another's ([`TestCourierBuilder::store_data_in`]).
    pub store_dir: PathBuf,
}

/// How a test Courier starts: by default on the embedded store, in a fresh
/// temporary data directory, with the default limits.
pub struct TestCourierBuilder {
    env: Vec<(String, String)>,
    data_dir: Option<tempfile::TempDir>,
    store: Store,
    serving: Serving,
}

/// Where the bytes go.
enum Store {
    /// The embedded store, its data in the test's directory.
    Embedded,
    /// The embedded store, its data in this directory (another Courier's).
    EmbeddedIn(PathBuf),
    /// A configured store, named by the settings given.
    Configured,
}

impl TestCourier {
    pub fn builder() -> TestCourierBuilder {
        TestCourierBuilder {
            env: Vec::new(),
            data_dir: None,
            store: Store::Embedded,
            serving: Serving::default(),
        }
    }

    /// A Courier with every default.
    pub async fn start() -> Self {
        Self::builder().start().await
    }
}

impl TestCourierBuilder {
    /// A setting (`COURIER_*`, `LEPTOS_*`, `AWS_*`); a later one wins.
    pub fn env(mut self, name: &str, value: impl Into<String>) -> Self {
        self.env.push((name.to_owned(), value.into()));
        self
    }

    /// Several settings.
    pub fn envs(mut self, vars: &[(&str, &str)]) -> Self {
        self.env
            .extend(vars.iter().map(|(name, value)| (name.to_string(), value.to_string())));
        self
    }

    /// A rate limit that allows a burst of `burst` requests and then one a
    /// minute: nothing refills while a test runs, however slow the machine.
    pub fn rate_limited(self, burst: u32) -> Self {
        self.env("COURIER_RATE_LIMIT_PER_MINUTE", "1")
            .env("COURIER_RATE_LIMIT_BURST", burst.to_string())
    }

    /// Serving a release-like site from `site` (assets under `pkg/` named
    /// `<name>.<hash>.<ext>`), with the hash file a build writes, which names
    /// `hash` for the script, the module and the stylesheet.
    pub fn site(self, site: &Path, hash: &str) -> Self {
        let hashes = site.join("hash.txt");
        std::fs::write(&hashes, format!("js: {hash}\nwasm: {hash}\ncss: {hash}\n")).expect("hash.txt");
        self.env("LEPTOS_SITE_ROOT", site.display().to_string())
            .env("LEPTOS_HASH_FILES", "true")
            .env("LEPTOS_HASH_FILE_NAME", hashes.display().to_string())
    }

    /// The test's data directory (a tmpfs, say); the embedded store keeps
    /// its data there.
    pub fn data_dir(mut self, dir: tempfile::TempDir) -> Self {
        self.data_dir = Some(dir);
        self
    }

    /// The embedded store on data kept in `dir` (another Courier's, which
    /// owns it): the same files, as after a restart or a redeploy.
    pub fn store_data_in(mut self, dir: &Path) -> Self {
        self.store = Store::EmbeddedIn(dir.to_owned());
        self
    }

    /// On a configured store rather than the embedded one, which the
    /// settings given name (`AWS_ENDPOINT_URL_S3`, `COURIER_BUCKET` …).
    pub fn configured_store(mut self) -> Self {
        self.store = Store::Configured;
        self
    }

    /// Served with `serving`'s limits.
    pub fn serving(mut self, serving: Serving) -> Self {
        self.serving = serving;
        self
    }

    pub async fn start(self) -> TestCourier {
        // Logs show with a failing test's output (RUST_LOG to see more).
        let _ = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into()))
            .with_test_writer()
            .try_init();
        let data_dir = match self.data_dir {
            Some(dir) => dir,
            None => tempfile::tempdir().expect("a temporary data directory"),
        };
        let mut env: HashMap<String, String> =
            HashMap::from([("LEPTOS_SITE_ADDR".to_owned(), "127.0.0.1:0".to_owned())]);
        let store_dir = match &self.store {
            Store::Embedded => Some(data_dir.path().to_owned()),
            Store::EmbeddedIn(dir) => Some(dir.clone()),
            Store::Configured => None,
        };
        // The share database (SQLite) beside the store's data, or in the
        // test's own directory on a configured store.
        let database_dir = store_dir.clone().unwrap_or_else(|| data_dir.path().to_owned());
        env.insert("COURIER_DATA_DIR".to_owned(), database_dir.display().to_string());
        if store_dir.is_some() {
            env.insert("COURIER_EMBEDDED_S3_ADDR".to_owned(), "127.0.0.1:0".to_owned());
        }
        env.extend(self.env);
        let serving = self.serving;
        let settings = Settings::parse(|name| env.get(name).cloned()).expect("valid test settings");
        let application = Application::build_with(settings, serving)
            .await
            .expect("courier starts");
        let base = format!("http://{}", application.app_addr());
        let (store, bucket) = match application.embedded_store() {
            Some(running) => (format!("http://{}", running.addr), running.bucket.clone()),
            None => (
                env["AWS_ENDPOINT_URL_S3"].trim_end_matches('/').to_owned(),
                env["COURIER_BUCKET"].clone(),
            ),
        };
        tokio::spawn(application.run_until_stopped());
        // The test follows redirects itself, to see each step.
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .pool_idle_timeout(serving.app.header_read.min(serving.store.header_read) / 2)
            .build()
            .expect("client");
        TestCourier {
            base,
            store,
            bucket,
            http,
            store_dir: store_dir.unwrap_or_else(|| data_dir.path().to_owned()),
            data_dir,
        }
    }
}

impl TestCourier {
    /// Where the embedded store keeps an object on disk.
    pub fn object_path(&self, key: &str) -> PathBuf {
        self.store_dir.join("objects").join(&self.bucket).join(key)
    }

    /// Every object stored under `[public/]uploads/` (by grants) or
    /// `[public/]files/` (confirmed), sorted.
    pub fn stored_keys(&self) -> Vec<String> {
        crate::disk::stored_keys(&self.store_dir.join("objects").join(&self.bucket))
    }

    /// An S3 client that signs with the embedded store's own credentials, as
    /// the server's does: for fixtures, and for what only signed requests may do.
    pub fn store_client(&self) -> aws_sdk_s3::Client {
        embedded_store_client(&self.store, &self.store_dir)
    }

    /// Sends `request` to the store byte for byte (no client normalises its
    /// path) and returns the whole answer, status line first.
    pub async fn send_raw_to_store(&self, request: &str) -> String {
        use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

        let addr = self.store.trim_start_matches("http://");
        let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
        stream.write_all(request.as_bytes()).await.expect("write");
        let mut answer = Vec::new();
        let _ = tokio::time::timeout(std::time::Duration::from_secs(5), stream.read_to_end(&mut answer)).await;
        String::from_utf8_lossy(&answer).into_owned()
    }
}
