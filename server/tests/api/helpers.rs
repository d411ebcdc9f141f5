use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;

use app::model::{DownloadLink, LinkKind, UploadGrant};
use app::multipart::{MultipartGrant, MultipartUpload, PartToSign, PartUrl};
use courier::serve::{Limits, Serving};
use courier::settings::Settings;
use courier::startup::Application;
use md5::{Digest as _, Md5};
use reqwest::multipart::{Form, Part};
use reqwest::{Response, StatusCode, header};
use wire::endpoint::{self, Call, FORM_CONTENT_TYPE};

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
    pub data_dir: tempfile::TempDir,
}

pub async fn spawn_courier() -> TestCourier {
    spawn_courier_with(&[]).await
}

/// Starts Courier with extra `COURIER_*` settings, on the embedded store.
pub async fn spawn_courier_with(vars: &[(&str, &str)]) -> TestCourier {
    let data_dir = tempfile::tempdir().expect("a temporary data directory");
    let mut env = vec![
        ("COURIER_EMBEDDED_S3_ADDR".to_owned(), "127.0.0.1:0".to_owned()),
        ("COURIER_DATA_DIR".to_owned(), data_dir.path().display().to_string()),
    ];
    env.extend(vars.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    spawn_courier_on(env, data_dir).await
}

/// Courier serving a release-like site from `site` (assets under `pkg/`
/// named `<name>.<hash>.<ext>`), with the hash file a build writes, which
/// names `hash` for the script, the module and the stylesheet.
pub async fn spawn_courier_serving_hashed(site: &std::path::Path, hash: &str) -> TestCourier {
    let hashes = site.join("hash.txt");
    std::fs::write(&hashes, format!("js: {hash}\nwasm: {hash}\ncss: {hash}\n")).expect("hash.txt");
    spawn_courier_with(&[
        ("LEPTOS_SITE_ROOT", &site.display().to_string()),
        ("LEPTOS_HASH_FILES", "true"),
        ("LEPTOS_HASH_FILE_NAME", &hashes.display().to_string()),
    ])
    .await
}

/// Courier whose rate limit allows a burst of `burst` requests and then one
/// a minute: nothing refills while a test runs, however slow the machine.
pub async fn spawn_rate_limited(burst: u32) -> TestCourier {
    let burst = burst.to_string();
    spawn_courier_with(&[
        ("COURIER_RATE_LIMIT_PER_MINUTE", "1"),
        ("COURIER_RATE_LIMIT_BURST", &burst),
    ])
    .await
}

/// Starts Courier with exactly these settings (plus a free port for the app).
pub async fn spawn_courier_on(vars: Vec<(String, String)>, data_dir: tempfile::TempDir) -> TestCourier {
    spawn_courier_serving(vars, data_dir, Serving::default()).await
}

/// The same, served with `serving`'s limits.
pub async fn spawn_courier_serving(
    vars: Vec<(String, String)>,
    data_dir: tempfile::TempDir,
    serving: Serving,
) -> TestCourier {
    // Logs show with a failing test's output (RUST_LOG to see more).
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into()))
        .with_test_writer()
        .try_init();
    let mut env: HashMap<String, String> = HashMap::from([("LEPTOS_SITE_ADDR".to_owned(), "127.0.0.1:0".to_owned())]);
    env.extend(vars);
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
        data_dir,
    }
}

impl TestCourier {
    pub async fn sign_upload(&self, filename: &str, content_type: &str, size: u64) -> Response {
        self.sign_upload_for(filename, content_type, size, None).await
    }

    /// `sign_upload` for a file that gets `link` (`expiring` or `public`);
    /// `None` leaves it to the server's default.
    pub async fn sign_upload_for(&self, filename: &str, content_type: &str, size: u64, link: Option<&str>) -> Response {
        self.call(endpoint::sign_upload(filename, content_type, size, link.map(link_kind)))
            .await
    }

    pub async fn grant(&self, filename: &str, content_type: &str, size: u64) -> UploadGrant {
        let response = self.sign_upload(filename, content_type, size).await;
        assert_eq!(response.status(), StatusCode::OK, "sign_upload refused");
        response.json().await.expect("an UploadGrant")
    }

    /// POSTs the fields, then the file, to the store, as the browser does.
    pub async fn post_to_store(
        &self,
        url: &str,
        fields: impl IntoIterator<Item = (impl AsRef<str>, impl AsRef<str>)>,
        file_name: &str,
        content_type: &str,
        bytes: &[u8],
    ) -> Response {
        let mut form = Form::new();
        for (name, value) in fields {
            form = form.text(name.as_ref().to_owned(), value.as_ref().to_owned());
        }
        let part = Part::bytes(bytes.to_vec())
            .file_name(file_name.to_owned())
            .mime_str(content_type)
            .expect("mime");
        form = form.part("file", part);
        self.http
            .post(url)
            .header(header::ORIGIN, &self.base)
            .multipart(form)
            .send()
            .await
            .expect("the store answers")
    }

    /// Follows a 303 from the store the way fetch does: a GET asking for JSON.
    pub async fn follow_as_fetch(&self, response: &Response) -> Response {
        let location = location(response);
        self.http
            .get(location)
            .header(header::ACCEPT, "application/json")
            .header(header::ORIGIN, "null")
            .send()
            .await
            .expect("confirm answers")
    }

    /// Sign, upload and confirm one file; returns the link.
    pub async fn upload(&self, name: &str, content_type: &str, bytes: &[u8]) -> DownloadLink {
        let grant = self.grant(name, content_type, bytes.len() as u64).await;
        self.upload_under(&grant, name, content_type, bytes).await
    }

    /// The same, for a file that gets a public link.
    pub async fn upload_public(&self, name: &str, content_type: &str, bytes: &[u8]) -> DownloadLink {
        let response = self
            .sign_upload_for(name, content_type, bytes.len() as u64, Some("public"))
            .await;
        assert_eq!(response.status(), StatusCode::OK, "a public grant");
        let grant: UploadGrant = response.json().await.expect("an UploadGrant");
        self.upload_under(&grant, name, content_type, bytes).await
    }

    /// Uploads and confirms one file under `grant`.
    async fn upload_under(&self, grant: &UploadGrant, name: &str, content_type: &str, bytes: &[u8]) -> DownloadLink {
        let stored = self
            .post_to_store(&grant.url, &grant.fields, name, content_type, bytes)
            .await;
        self.link_from(stored).await
    }

    /// The store's answer to an upload, which must be its 303, followed to
    /// `/confirm-upload` as fetch does: the link.
    pub async fn link_from(&self, stored: Response) -> DownloadLink {
        assert_eq!(
            stored.status(),
            StatusCode::SEE_OTHER,
            "the store refused: {}",
            stored.text().await.unwrap_or_default()
        );
        let confirmed = self.follow_as_fetch(&stored).await;
        assert_eq!(confirmed.status(), StatusCode::OK);
        confirmed.json().await.expect("a DownloadLink")
    }

    /// A GET that asks for `accept` (a browser asks for HTML, fetch for JSON).
    pub async fn get_as(&self, url: &str, accept: &str) -> Response {
        self.http
            .get(url)
            .header(header::ACCEPT, accept)
            .send()
            .await
            .expect("Courier answers")
    }

    /// What a link serves: its `Content-Disposition` and its bytes (checking it succeeds).
    pub async fn download_named(&self, url: &str) -> (String, Vec<u8>) {
        let response = self.download(url).await;
        assert_eq!(response.status(), StatusCode::OK, "the link must work");
        let disposition = response
            .headers()
            .get(header::CONTENT_DISPOSITION)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        (disposition, response.bytes().await.expect("the body").to_vec())
    }

    /// Each link serves its bytes.
    pub async fn assert_serves(&self, links: &[(&DownloadLink, &[u8])]) {
        for (link, expected) in links {
            assert_eq!(
                self.downloaded_bytes(&link.download_url).await.as_slice(),
                *expected,
                "{}",
                link.key
            );
        }
    }

    /// The bytes a link serves.
    pub async fn downloaded_bytes(&self, url: &str) -> Vec<u8> {
        self.download(url).await.bytes().await.expect("the body").to_vec()
    }

    pub async fn download(&self, url: &str) -> Response {
        self.http.get(url).send().await.expect("the store answers")
    }

    /// Asks Courier for a fresh link, as the page's "New link" does.
    pub async fn sign_download(&self, key: &str, token: &str) -> Response {
        self.call(endpoint::sign_download(key, token)).await
    }

    /// Asks Courier to delete a file, as the page's Delete button does.
    pub async fn delete_upload(&self, key: &str, token: &str) -> Response {
        self.call(endpoint::delete_upload(key, token)).await
    }

    /// The form's action and hidden fields, read from the page's HTML.
    pub async fn page_form(&self) -> (String, BTreeMap<String, String>) {
        self.page_form_at("/").await
    }

    /// The settings the page hands its uploader (the island's `data-props`).
    pub async fn page_settings(&self) -> serde_json::Value {
        let html = self
            .get_as(&format!("{}/", self.base), "text/html")
            .await
            .text()
            .await
            .expect("HTML");
        let props = html
            .split(" data-props=\"")
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .expect("the uploader's props");
        let props = props
            .replace("&quot;", "\"")
            .replace("&#x27;", "'")
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&amp;", "&");
        let props: serde_json::Value = serde_json::from_str(&props).expect("JSON props");
        props["settings"].clone()
    }

    /// The same, from the page at `path` (such as `/?link=public`).
    pub async fn page_form_at(&self, path: &str) -> (String, BTreeMap<String, String>) {
        let courier = self;
        let page = courier
            .http
            .get(format!("{}{path}", courier.base))
            .send()
            .await
            .expect("the page");
        assert_eq!(page.status(), StatusCode::OK);
        let html = page.text().await.expect("HTML");
        let form = html
            .split("<form")
            .nth(1)
            .and_then(|f| f.split("</form>").next())
            .expect("a form");
        let attribute = |tag: &str, name: &str| -> Option<String> {
            let start = tag.find(&format!(" {name}=\""))? + name.len() + 3;
            Some(
                tag[start..]
                    .split('"')
                    .next()?
                    .replace("&amp;", "&")
                    .replace("&quot;", "\""),
            )
        };
        let action = attribute(form.split('>').next().expect("the form tag"), "action").expect("an action");
        assert!(
            form.contains("method=\"post\"") && form.contains("enctype=\"multipart/form-data\""),
            "{form}"
        );
        let mut fields = BTreeMap::new();
        for input in form.split("<input").skip(1) {
            let tag = input.split('>').next().expect("a tag");
            if tag.contains("type=\"hidden\"") {
                fields.insert(
                    attribute(tag, "name").expect("name"),
                    attribute(tag, "value").unwrap_or_default(),
                );
            }
        }
        assert!(form.contains("type=\"file\" name=\"file\""), "{form}");
        (action, fields)
    }

    /// Where the embedded store keeps an object on disk.
    pub fn object_path(&self, key: &str) -> PathBuf {
        self.data_dir.path().join("objects").join(&self.bucket).join(key)
    }

    /// Every object stored under `[public/]uploads/` (by grants) or
    /// `[public/]files/` (confirmed), sorted.
    pub fn stored_keys(&self) -> Vec<String> {
        let root = self.data_dir.path().join("objects").join(&self.bucket);
        let mut keys: Vec<String> = ["uploads", "files", "public"]
            .iter()
            .flat_map(|area| files_under(&root.join(area), ""))
            .filter_map(|path| path.strip_prefix(&root).ok().map(|p| p.display().to_string()))
            .collect();
        keys.sort();
        keys
    }
}

impl TestCourier {
    /// An S3 client that signs with the embedded store's own credentials, as
    /// the server's does: for fixtures, and for what only signed requests may do.
    pub fn store_client(&self) -> aws_sdk_s3::Client {
        embedded_store_client(&self.store, self.data_dir.path())
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

/// Every file under `dir` whose path contains `needle`, sorted.
pub fn files_under(dir: &std::path::Path, needle: &str) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut pending = vec![dir.to_owned()];
    while let Some(dir) = pending.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else { continue };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                pending.push(path);
            } else if path.to_string_lossy().contains(needle) {
                found.push(path);
            }
        }
    }
    found.sort();
    found
}

pub fn location(response: &Response) -> String {
    response
        .headers()
        .get(header::LOCATION)
        .expect("a Location header")
        .to_str()
        .expect("ascii")
        .to_owned()
}

pub fn md5_hex(bytes: &[u8]) -> String {
    hex::encode(Md5::digest(bytes))
}

/// Some bytes that are not all alike.
pub fn sample_bytes(len: usize) -> Vec<u8> {
    // One period of `i * 31 % 251`, copied: byte by byte, an unoptimised
    // test build spent more time here than Courier did on the upload.
    let period: Vec<u8> = (0..251usize).map(|i| (i * 31 % 251) as u8).collect();
    let mut bytes = Vec::with_capacity(len + period.len());
    while bytes.len() < len {
        bytes.extend_from_slice(&period);
    }
    bytes.truncate(len);
    bytes
}

/// The query parameters of a URL.
pub fn query(url: &str) -> HashMap<String, String> {
    url::Url::parse(url)
        .expect("a URL")
        .query_pairs()
        .into_owned()
        .collect()
}

/// A body whose bytes include many near-boundaries (`\r\n--` and the start
/// of a multipart boundary), the pattern that makes `s3s` buffer.
pub fn tricky_bytes(len: usize) -> Vec<u8> {
    let mut bytes = sample_bytes(len);
    let decoy = b"\r\n--------courier";
    let mut at = 1000;
    while at + decoy.len() < len {
        let cut = 1 + at % (decoy.len() - 1);
        bytes[at..at + cut].copy_from_slice(&decoy[..cut]);
        at += 65_536 - 7 * (at % 13);
    }
    bytes
}

impl TestCourier {
    /// POSTs a grant's form as `curl -F` does with a big file: the fields,
    /// then the file in writes of `write` bytes each.
    pub async fn post_in_large_writes(
        &self,
        grant: &UploadGrant,
        file_name: &str,
        bytes: bytes::Bytes,
        write: usize,
    ) -> Response {
        let boundary = "------------------------courierLargeWrites";
        let head = form_head(grant, file_name, boundary);
        let tail = format!("\r\n--{boundary}--\r\n");
        let length = head.len() + bytes.len() + tail.len();
        let mut pieces = vec![bytes::Bytes::from(head)];
        let mut rest = bytes;
        while !rest.is_empty() {
            pieces.push(rest.split_to(write.min(rest.len())));
        }
        pieces.push(bytes::Bytes::from(tail));
        let body = reqwest::Body::wrap_stream(futures::stream::iter(pieces.into_iter().map(Ok::<_, std::io::Error>)));
        self.http
            .post(&grant.url)
            .header(
                header::CONTENT_TYPE,
                format!("multipart/form-data; boundary={boundary}"),
            )
            .header(header::CONTENT_LENGTH, length)
            .body(body)
            .send()
            .await
            .expect("the store answers")
    }
}

/// A browser's multipart form under `grant`, up to the file's first byte:
/// every field, then the file part's headers.
pub fn form_head(grant: &UploadGrant, file_name: &str, boundary: &str) -> String {
    let mut head = String::new();
    for (name, value) in &grant.fields {
        head.push_str(&format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
        ));
    }
    let content_type = grant.fields.get("Content-Type").cloned().unwrap_or_default();
    head.push_str(&format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{file_name}\"\r\nContent-Type: {content_type}\r\n\r\n"
    ));
    head
}

/// What one run of many uploads at once came to.
#[derive(Debug)]
pub struct LoadReport {
    pub uploads: usize,
    pub clients: usize,
    pub bytes: u64,
    pub elapsed: std::time::Duration,
    /// How long each `sign_upload` and each `/confirm-upload` took, as the
    /// clients saw them during the run (answered calls only).
    pub signing: Vec<std::time::Duration>,
    pub confirming: Vec<std::time::Duration>,
    /// One line per upload that did not end in a working link.
    pub failures: Vec<String>,
}

/// What one client saw of its uploads.
#[derive(Default)]
struct ClientRun {
    signing: Vec<std::time::Duration>,
    confirming: Vec<std::time::Duration>,
    failures: Vec<String>,
}

/// `uploads` uploads from `clients` clients at once (each its own
/// connections), each through the whole flow as the browser runs it: sign,
/// POST to the store, follow the 303 to `/confirm-upload` as fetch does,
/// download the link; bytes and ETag must match what was sent. Sizes run
/// from 1 byte to 1 MB, names are not all ASCII.
pub async fn upload_many(courier: &TestCourier, clients: usize, uploads: usize) -> LoadReport {
    let started = std::time::Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    let mut total = 0u64;
    for client in 0..clients {
        let mine: Vec<usize> = (client..uploads).step_by(clients).collect();
        total += mine.iter().map(|&i| load_size(i) as u64).sum::<u64>();
        let base = courier.base.clone();
        tasks.spawn(async move {
            let http = reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .pool_idle_timeout(IDLE_CONNECTION_LIFETIME)
                // Each client from an address of its own, as clients are:
                // the store and the app give each address its share.
                .local_address(client_address(client))
                .build()
                .expect("client");
            let mut run = ClientRun::default();
            for i in mine {
                if let Err(error) = upload_once(&http, &base, i, &mut run).await {
                    run.failures
                        .push(format!("upload {i} ({} bytes): {error}", load_size(i)));
                }
            }
            run
        });
    }
    let mut report = LoadReport {
        uploads,
        clients,
        bytes: total,
        elapsed: std::time::Duration::ZERO,
        signing: Vec::new(),
        confirming: Vec::new(),
        failures: Vec::new(),
    };
    while let Some(result) = tasks.join_next().await {
        let run = result.expect("a client task");
        report.signing.extend(run.signing);
        report.confirming.extend(run.confirming);
        report.failures.extend(run.failures);
    }
    report.elapsed = started.elapsed();
    report
}

/// A loopback address of client `n`'s own (127.0.1.1, 127.0.1.2 …): Linux
/// routes all of 127.0.0.0/8 to the loopback interface, so a test can play
/// many clients on one machine.
pub fn client_address(n: usize) -> std::net::IpAddr {
    let n = u16::try_from(n % 65_000).unwrap_or(0) + 1;
    let [high, low] = n.to_be_bytes();
    std::net::IpAddr::from([127, 1 + high / 128, high % 128, low])
}

impl LoadReport {
    /// Prints the run's figures (for SECURITY.md) and fails on any lost upload.
    pub fn assert_every_upload_landed(&self, store: &str) {
        eprintln!(
            "{store}: {} uploads ({} MB) from {} clients in {:.1} s ({:.0} uploads/s), {} failed; \
             sign_upload p50 {} / p99 {}, /confirm-upload p50 {} / p99 {}",
            self.uploads,
            self.bytes / 1_000_000,
            self.clients,
            self.elapsed.as_secs_f64(),
            self.uploads as f64 / self.elapsed.as_secs_f64(),
            self.failures.len(),
            millis(percentile(&self.signing, 50)),
            millis(percentile(&self.signing, 99)),
            millis(percentile(&self.confirming, 50)),
            millis(percentile(&self.confirming, 99)),
        );
        assert!(
            self.failures.is_empty(),
            "{} of {} uploads failed:\n{}",
            self.failures.len(),
            self.uploads,
            self.failures.join("\n")
        );
        // Every upload was signed and confirmed once, and each call was timed.
        assert_eq!(
            (self.signing.len(), self.confirming.len()),
            (self.uploads, self.uploads)
        );
    }
}

/// The `p`th percentile (nearest rank) of `times`.
fn percentile(times: &[std::time::Duration], p: usize) -> Option<std::time::Duration> {
    let mut sorted = times.to_vec();
    sorted.sort();
    let rank = (sorted.len() * p).div_ceil(100);
    sorted.get(rank.saturating_sub(1)).copied()
}

fn millis(time: Option<std::time::Duration>) -> String {
    time.map_or_else(|| "-".to_owned(), |t| format!("{:.1} ms", t.as_secs_f64() * 1000.0))
}

/// A multipart threshold that lets the 72 MiB file below go up in one POST.
pub const BIG_FILE_IN_ONE_POST: (&str, &str) = ("COURIER_MULTIPART_THRESHOLD", "134217728");

/// 72 MiB with near-boundaries every 64 KiB, POSTed in 4 MiB writes as
/// `curl -F file=@big.bin` sends it; the link must serve it back whole.
pub async fn upload_big_file_in_large_writes(courier: &TestCourier) {
    let bytes = bytes::Bytes::from(tricky_bytes(72 * 1024 * 1024));
    let grant = courier
        .grant("big data set.bin", "application/octet-stream", bytes.len() as u64)
        .await;
    let stored = courier
        .post_in_large_writes(&grant, "big data set.bin", bytes.clone(), 4 * 1024 * 1024)
        .await;
    let link = courier.link_from(stored).await;
    assert_eq!(
        (link.size, link.etag.as_str()),
        (bytes.len() as u64, md5_hex(&bytes).as_str())
    );
    assert!(
        courier.downloaded_bytes(&link.download_url).await == bytes,
        "the bytes differ"
    );
}

fn load_size(i: usize) -> usize {
    match i % 10 {
        0 => 1,
        1 => 1_000_000,
        _ => 1 + i * 7919 % 1_000_000,
    }
}

/// An error and every cause under it: reqwest's own message names only the URL.
fn with_causes(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut cause = error.source();
    while let Some(inner) = cause {
        text.push_str(&format!(": {inner}"));
        cause = inner.source();
    }
    text
}

async fn upload_once(http: &reqwest::Client, base: &str, i: usize, run: &mut ClientRun) -> Result<(), String> {
    let name = format!("файл {i} ✓.bin");
    let bytes = tricky_bytes(load_size(i));
    let call = endpoint::sign_upload(&name, "application/octet-stream", bytes.len() as u64, None);
    let asked = std::time::Instant::now();
    let signed = http
        .post(format!("{base}{}", call.path()))
        .header(header::CONTENT_TYPE, FORM_CONTENT_TYPE)
        .body(call.body())
        .send()
        .await
        .map_err(|e| format!("sign_upload: {}", with_causes(&e)))?;
    run.signing.push(asked.elapsed());
    if signed.status() != StatusCode::OK {
        return Err(format!("sign_upload answered {}", signed.status()));
    }
    let grant: UploadGrant = signed.json().await.map_err(|e| format!("grant: {e}"))?;
    let mut form = Form::new();
    for (field, value) in &grant.fields {
        form = form.text(field.to_owned(), value.to_owned());
    }
    let part = Part::bytes(bytes.clone())
        .file_name(name.clone())
        .mime_str("application/octet-stream")
        .map_err(|e| e.to_string())?;
    let stored = http
        .post(&grant.url)
        .header(header::ORIGIN, base)
        .multipart(form.part("file", part))
        .send()
        .await
        .map_err(|e| format!("store POST: {}", with_causes(&e)))?;
    if stored.status() != StatusCode::SEE_OTHER {
        let status = stored.status();
        return Err(format!(
            "store answered {status}: {}",
            stored.text().await.unwrap_or_default()
        ));
    }
    let asked = std::time::Instant::now();
    let confirmed = http
        .get(location(&stored))
        .header(header::ACCEPT, "application/json")
        .header(header::ORIGIN, "null")
        .send()
        .await
        .map_err(|e| format!("confirm: {}", with_causes(&e)))?;
    run.confirming.push(asked.elapsed());
    if confirmed.status() != StatusCode::OK {
        return Err(format!("confirm answered {}", confirmed.status()));
    }
    let link: DownloadLink = confirmed.json().await.map_err(|e| format!("link: {e}"))?;
    if link.etag != md5_hex(&bytes) || link.size != bytes.len() as u64 || link.filename != name {
        return Err(format!("the link describes another file: {link:?}"));
    }
    let downloaded = http
        .get(&link.download_url)
        .send()
        .await
        .map_err(|e| format!("download: {}", with_causes(&e)))?;
    if downloaded.status() != StatusCode::OK {
        return Err(format!("download answered {}", downloaded.status()));
    }
    let got = downloaded
        .bytes()
        .await
        .map_err(|e| format!("download body: {}", with_causes(&e)))?;
    if got.as_ref() != bytes.as_slice() {
        return Err(format!("the link served {} other bytes", got.len()));
    }
    Ok(())
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
async fn disposition_of(url: &str) -> String {
    let response = reqwest::get(url).await.expect("the store answers");
    let value = response.headers().get(header::CONTENT_DISPOSITION);
    value.and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned()
}

/// Public links on any store (`s3` signs with the store's credentials, to
/// look behind Courier): a public upload's plain URL serves its bytes to
/// anyone; private files, and public uploads not yet confirmed, are refused
/// to anonymous readers; each grant writes only under its own prefix; the
/// plain form uploads publicly when the page is asked for it.
pub async fn public_links_hold(courier: &TestCourier, s3: &aws_sdk_s3::Client) {
    let bytes = sample_bytes(3000);
    let public = courier.upload_public("photo.jpg", "image/jpeg", &bytes).await;
    assert_eq!(public.link, app::model::LinkKind::Public);
    assert_eq!(public.expires_at, None, "a public link never expires");
    assert!(public.key.starts_with("public/files/"), "{}", public.key);
    assert!(!public.download_url.contains("X-Amz-"), "{}", public.download_url);
    assert_eq!(
        anonymous_get(&public.download_url).await,
        (StatusCode::OK, bytes.clone())
    );
    // Saved, never opened as a page of the store's origin.
    assert_eq!(
        disposition_of(&public.download_url).await,
        "attachment; filename=\"photo.jpg\"; filename*=UTF-8''photo.jpg"
    );
    let base = public
        .download_url
        .strip_suffix(&public.key)
        .expect("the link ends with the key")
        .to_owned();

    let private = courier.upload("secret.txt", "text/plain", b"private bytes").await;
    assert_eq!(private.link, app::model::LinkKind::Expiring);
    assert!(private.expires_at.is_some());
    let store_url = |key: &str| format!("{}/{}/{key}", courier.store, courier.bucket);
    for url in [format!("{base}{}", private.key), store_url(&private.key)] {
        let (status, body) = anonymous_get(&url).await;
        assert!(!status.is_success(), "{url} served a private file: {status}");
        assert!(!body.windows(13).any(|w| w == b"private bytes"), "{url}");
    }

    // A public upload before it is confirmed: not for anonymous readers.
    let name = "pending.txt";
    let response = courier.sign_upload_for(name, "text/plain", 7, Some("public")).await;
    let pending: UploadGrant = response.json().await.expect("a grant");
    assert!(pending.key.starts_with("public/uploads/"), "{}", pending.key);
    let stored = courier
        .post_to_store(&pending.url, &pending.fields, name, "text/plain", b"pending")
        .await;
    assert_eq!(stored.status(), StatusCode::SEE_OTHER);
    assert!(object_exists(s3, &courier.bucket, &pending.key).await);
    for url in [format!("{base}{}", pending.key), store_url(&pending.key)] {
        assert!(!anonymous_get(&url).await.0.is_success(), "{url}");
    }

    // Each policy pins its own prefix: a public grant cannot write a private
    // key, nor a private grant a public one.
    let id = "6f1d1c52-3a55-4f4c-9a4e-1d7f25d1c0aa";
    let hex = "0123456789abcdef0123456789abcdef";
    for (link, forged) in [
        ("public", format!("uploads/{id}/x.txt")),
        ("public", format!("files/{hex}/x.txt")),
        ("expiring", format!("public/uploads/{id}/x.txt")),
        ("expiring", format!("public/files/{hex}/x.txt")),
    ] {
        let response = courier.sign_upload_for("x.txt", "text/plain", 5, Some(link)).await;
        let mut grant: UploadGrant = response.json().await.expect("a grant");
        grant.fields.insert("key".to_owned(), forged.clone());
        let stored = courier
            .post_to_store(&grant.url, &grant.fields, "x.txt", "text/plain", b"xxxxx")
            .await;
        // 403 from AWS and the embedded store, 400 from Garage.
        assert!(
            stored.status().is_client_error(),
            "a {link} grant wrote {forged}: {}",
            stored.status()
        );
        assert!(!object_exists(s3, &courier.bucket, &forged).await, "{forged}");
    }

    // Without JavaScript: `/?link=public` carries the public form's policy.
    let (action, fields) = courier.page_form_at("/?link=public").await;
    assert!(fields["key"].starts_with("public/uploads/"), "{fields:?}");
    let stored = courier
        .post_to_store(&action, &fields, "form.txt", "text/plain", b"from the plain form")
        .await;
    let link = courier.link_from(stored).await;
    assert_eq!(link.link, app::model::LinkKind::Public);
    assert_eq!(
        anonymous_get(&link.download_url).await,
        (StatusCode::OK, b"from the plain form".to_vec())
    );
    assert_eq!(disposition_of(&link.download_url).await, "attachment");
    let (_, fields) = courier.page_form().await;
    assert!(
        fields["key"].starts_with("uploads/"),
        "the default stays expiring: {fields:?}"
    );
}

/// Deleting, on any store: only the file's own token deletes it; afterwards
/// its links (signed or public) answer 404 and "new link" finds nothing.
pub async fn deleting_holds(courier: &TestCourier, s3: &aws_sdk_s3::Client) {
    let a = courier.upload("a.txt", "text/plain", b"file a").await;
    let b = courier.upload("b.txt", "text/plain", b"file b").await;
    let c = courier.upload_public("c.txt", "text/plain", b"file c").await;

    let mut forged = a.token.clone().into_bytes();
    let last = forged.len() - 1;
    forged[last] = if forged[last] == b'A' { b'B' } else { b'A' };
    let forged = String::from_utf8(forged).expect("ascii");
    for token in [b.token.as_str(), c.token.as_str(), forged.as_str(), "r.1.AAAA", ""] {
        let response = courier.delete_upload(&a.key, token).await;
        assert!(
            matches!(response.status(), StatusCode::FORBIDDEN | StatusCode::BAD_REQUEST),
            "{token}: {}",
            response.status()
        );
        assert!(object_exists(s3, &courier.bucket, &a.key).await, "{token} deleted it");
    }
    courier.assert_serves(&[(&a, b"file a")]).await;

    for link in [&a, &c] {
        let response = courier.delete_upload(&link.key, &link.token).await;
        assert_eq!(response.status(), StatusCode::OK, "{}", link.key);
        assert!(!object_exists(s3, &courier.bucket, &link.key).await);
        assert_eq!(
            courier.download(&link.download_url).await.status(),
            StatusCode::NOT_FOUND
        );
        let renewed = courier.sign_download(&link.key, &link.token).await;
        assert_eq!(renewed.status(), StatusCode::NOT_FOUND);
        // Deleting again changes nothing and says so calmly.
        assert_eq!(
            courier.delete_upload(&link.key, &link.token).await.status(),
            StatusCode::OK
        );
    }
    courier.assert_serves(&[(&b, b"file b")]).await;
}

/// With a token that has expired (Courier started with a renewal time of a
/// second), delete is refused and the file stays.
pub async fn an_expired_token_deletes_nothing(courier: &TestCourier, s3: &aws_sdk_s3::Client) {
    let link = courier.upload("old.txt", "text/plain", b"old file").await;
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    let response = courier.delete_upload(&link.key, &link.token).await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert!(object_exists(s3, &courier.bucket, &link.key).await);
}

/// With `COURIER_PUBLIC_LINKS=false`: no public grant, no public form.
pub async fn public_links_stay_off(courier: &TestCourier) {
    let response = courier.sign_upload_for("x.txt", "text/plain", 5, Some("public")).await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let text = response.text().await.expect("a body");
    assert!(text.contains("Public links are turned off"), "{text}");
    let (_, fields) = courier.page_form_at("/?link=public").await;
    assert!(fields["key"].starts_with("uploads/"), "{fields:?}");
    let page = courier
        .get_as(&courier.base, "text/html")
        .await
        .text()
        .await
        .expect("HTML");
    assert!(!page.contains("Public link"), "the page offers no public link");
}

/// Multipart uploads, as the page (or a script) drives them.
impl TestCourier {
    /// `start_multipart` for a file of `size` bytes.
    pub async fn start_multipart(&self, filename: &str, content_type: &str, size: u64, link: Option<&str>) -> Response {
        self.call(endpoint::start_multipart(
            filename,
            content_type,
            size,
            link.map(link_kind),
        ))
        .await
    }

    /// Starts one that must be granted.
    pub async fn multipart(&self, filename: &str, size: u64) -> MultipartUpload {
        let response = self
            .start_multipart(filename, "application/octet-stream", size, None)
            .await;
        assert_eq!(response.status(), StatusCode::OK, "start_multipart refused");
        let grant: MultipartGrant = response.json().await.expect("a MultipartGrant");
        grant.upload
    }

    /// `sign_parts` for `(number, base64 SHA-256)` pairs.
    pub async fn sign_parts(&self, upload: &MultipartUpload, parts: &[(u32, String)]) -> Response {
        let parts: Vec<PartToSign> = parts
            .iter()
            .map(|(number, sha256)| PartToSign {
                number: *number,
                sha256: Some(sha256.clone()),
            })
            .collect();
        self.call(endpoint::sign_parts(upload, &parts)).await
    }

    /// `sign_parts` for part numbers alone, no checksum (as with
    /// `COURIER_PART_CHECKSUMS=false`).
    pub async fn sign_parts_without_checksum(&self, upload: &MultipartUpload, numbers: &[u32]) -> Response {
        let parts: Vec<PartToSign> = numbers
            .iter()
            .map(|&number| PartToSign { number, sha256: None })
            .collect();
        self.call(endpoint::sign_parts(upload, &parts)).await
    }

    /// Signs the parts of `bytes` numbered `numbers` (as cut by `upload`).
    pub async fn part_urls(&self, upload: &MultipartUpload, bytes: &[u8], numbers: &[u32]) -> Vec<PartUrl> {
        let parts: Vec<(u32, String)> = numbers.iter().map(|&n| (n, part_sha256(upload, bytes, n))).collect();
        let response = self.sign_parts(upload, &parts).await;
        assert_eq!(response.status(), StatusCode::OK, "sign_parts refused");
        response.json().await.expect("part URLs")
    }

    /// PUTs `body` to a part URL with `sha256` as its `x-amz-checksum-sha256`, as the page does.
    pub async fn put_part(&self, url: &str, body: Vec<u8>, sha256: &str) -> Response {
        self.try_put_part(url, body, sha256).await.expect("the store answers")
    }

    async fn try_put_part(&self, url: &str, body: Vec<u8>, sha256: &str) -> Result<Response, reqwest::Error> {
        self.http
            .put(url)
            .header(header::ORIGIN, &self.base)
            .header("x-amz-checksum-sha256", sha256)
            .body(body)
            .send()
            .await
    }

    /// A part PUT whose signature the store must refuse: 403, or a
    /// connection closed under a body it refused before reading.
    pub async fn assert_put_refused(&self, url: &str, body: Vec<u8>, sha256: &str, what: &str) {
        match self.try_put_part(url, body, sha256).await {
            Ok(answer) => assert_eq!(answer.status(), StatusCode::FORBIDDEN, "{what}"),
            Err(error) => assert!(error.is_request(), "{what}: {error}"),
        }
    }

    /// Signs and sends the parts numbered `numbers`; each must be stored.
    pub async fn send_parts(&self, upload: &MultipartUpload, bytes: &[u8], numbers: &[u32]) {
        for part in self.part_urls(upload, bytes, numbers).await {
            let body = part_bytes(upload, bytes, part.number).to_vec();
            let stored = self
                .put_part(&part.url, body, &part_sha256(upload, bytes, part.number))
                .await;
            let status = stored.status();
            assert_eq!(
                status,
                StatusCode::OK,
                "part {}: {}",
                part.number,
                stored.text().await.unwrap_or_default()
            );
        }
    }

    pub async fn list_parts(&self, upload: &MultipartUpload) -> Response {
        self.call(endpoint::list_parts(upload)).await
    }

    pub async fn complete_multipart(&self, upload: &MultipartUpload) -> Response {
        self.call(endpoint::complete_multipart(upload)).await
    }

    pub async fn abort_multipart(&self, upload: &MultipartUpload) -> Response {
        self.call(endpoint::abort_multipart(upload)).await
    }

    /// Sends `call` to its server function, as the page does.
    pub async fn call<T>(&self, call: Call<T>) -> Response {
        self.request(&call).send().await.expect("Courier answers")
    }

    /// `call` as the page sends it, for a test to add to.
    pub fn request<T>(&self, call: &Call<T>) -> reqwest::RequestBuilder {
        self.http
            .post(format!("{}{}", self.base, call.path()))
            .header(header::CONTENT_TYPE, FORM_CONTENT_TYPE)
            .body(call.body())
    }
}

/// A link kind as tests name it (`"public"`, `"expiring"`).
fn link_kind(name: &str) -> LinkKind {
    LinkKind::parse(name).expect("a link kind")
}

/// An upload as the server functions read it (`upload[key]=…`).
pub fn upload_fields(upload: &MultipartUpload) -> Vec<(String, String)> {
    endpoint::list_parts(upload).fields
}

/// The bytes of part `number` of `bytes`.
pub fn part_bytes<'a>(upload: &MultipartUpload, bytes: &'a [u8], number: u32) -> &'a [u8] {
    let start = (u64::from(number) - 1) * upload.part_size;
    let len = upload.part_len(number).expect("a part of the upload");
    &bytes[start as usize..(start + len) as usize]
}

/// Base64 SHA-256 of part `number`, as `x-amz-checksum-sha256` carries it.
pub fn part_sha256(upload: &MultipartUpload, bytes: &[u8], number: u32) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(part_bytes(upload, bytes, number)))
}

/// 20 MiB and 3 bytes: three parts of 8, 8 and 4 MiB + 3.
pub const MULTIPART_FILE: usize = 20 * 1024 * 1024 + 3;

/// The whole multipart flow, parts sent out of order: the store lists them,
/// completing links the file, whose bytes come back whole; completing
/// again answers the same link; the upload's token opens no link itself.
pub async fn multipart_goes_through(courier: &TestCourier) {
    let bytes = tricky_bytes(MULTIPART_FILE);
    let upload = courier.multipart("big data.bin", bytes.len() as u64).await;
    assert_eq!((upload.part_size, upload.part_count()), (8 * 1024 * 1024, 3));
    courier.send_parts(&upload, &bytes, &[3, 1]).await;
    let listed = courier.list_parts(&upload).await;
    assert_eq!(listed.status(), StatusCode::OK);
    let listed: Vec<app::multipart::StoredPart> = listed.json().await.expect("parts");
    let sizes: Vec<(u32, u64)> = listed.iter().map(|p| (p.number, p.size)).collect();
    assert_eq!(sizes, [(1, 8 * 1024 * 1024), (3, 4 * 1024 * 1024 + 3)]);
    // Each with its ETag (its MD5) and the SHA-256 it was sent with, as S3 lists them.
    for part in &listed {
        let part_bytes = part_bytes(&upload, &bytes, part.number);
        assert_eq!(part.etag, md5_hex(part_bytes), "part {}", part.number);
        assert_eq!(
            part.sha256,
            Some(part_sha256(&upload, &bytes, part.number)),
            "part {}",
            part.number
        );
    }
    courier.send_parts(&upload, &bytes, &[2]).await;

    let completed = courier.complete_multipart(&upload).await;
    assert_eq!(completed.status(), StatusCode::OK);
    let link: DownloadLink = completed.json().await.expect("a link");
    assert_eq!(
        (link.key.as_str(), link.size, link.filename.as_str()),
        (upload.key.as_str(), bytes.len() as u64, "big data.bin")
    );
    // S3's multipart ETag: the MD5 of the parts' MD5s, and how many there were.
    let mut part_md5s = Vec::new();
    for number in 1..=3 {
        part_md5s.extend(Md5::digest(part_bytes(&upload, &bytes, number)));
    }
    assert_eq!(link.etag, format!("{}-3", md5_hex(&part_md5s)));
    assert!(
        courier.downloaded_bytes(&link.download_url).await == bytes,
        "the bytes differ"
    );
    let again = courier.complete_multipart(&upload).await;
    assert_eq!(again.status(), StatusCode::OK);
    let again: DownloadLink = again.json().await.expect("a link");
    assert_eq!(again.key, link.key);

    // The multipart token is not the owner's: the link's own token is.
    let refused = courier.sign_download(&upload.key, &upload.token).await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    let renewed = courier.sign_download(&link.key, &link.token).await;
    assert_eq!(renewed.status(), StatusCode::OK);
}

/// A part URL writes its own part of its own upload, exactly the bytes it
/// was signed for; Courier signs only for the upload its token names.
pub async fn part_urls_write_their_part_only(courier: &TestCourier) {
    let bytes = sample_bytes(MULTIPART_FILE);
    let mine = courier.multipart("mine.bin", bytes.len() as u64).await;
    let theirs = courier.multipart("theirs.bin", bytes.len() as u64).await;
    let url = courier.part_urls(&mine, &bytes, &[1]).await.remove(0).url;
    let body = part_bytes(&mine, &bytes, 1).to_vec();
    let sha256 = part_sha256(&mine, &bytes, 1);
    let status = |response: Response| response.status();

    let other_part = url.replace("partNumber=1", "partNumber=2");
    courier
        .assert_put_refused(&other_part, body.clone(), &sha256, "another part number")
        .await;
    let other_upload = url.replace(&mine.upload_id, &theirs.upload_id);
    courier
        .assert_put_refused(&other_upload, body.clone(), &sha256, "another upload")
        .await;
    let other_sha256 = part_sha256(&mine, &bytes, 2);
    courier
        .assert_put_refused(&url, body.clone(), &other_sha256, "another checksum")
        .await;
    let unchecked = courier
        .http
        .put(&url)
        .header(header::ORIGIN, &courier.base)
        .body(body.clone())
        .send()
        .await;
    // Refused (the embedded store: 403 SignatureDoesNotMatch; Garage: 400, the
    // signed header missing), or the connection closed under it; nothing is
    // stored either way (the parts are listed below).
    if let Ok(answer) = unchecked {
        let status = answer.status();
        let said = answer.text().await.unwrap_or_default();
        assert!(
            status == StatusCode::FORBIDDEN || status == StatusCode::BAD_REQUEST,
            "the checksum left off: {status} {said}"
        );
    }
    courier
        .assert_put_refused(&url, body[1..].to_vec(), &sha256, "a byte short")
        .await;
    // Damaged on the way: the signed checksum no longer matches, and nothing is kept.
    let mut damaged = body.clone();
    damaged[12345] ^= 1;
    let refused = courier.put_part(&url, damaged, &sha256).await;
    assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
    // S3 says `BadDigest`; Garage says `InvalidDigest` for the same.
    let said = refused.text().await.unwrap_or_default();
    assert!(said.contains("BadDigest") || said.contains("InvalidDigest"), "{said}");
    for upload in [&mine, &theirs] {
        let listed: Vec<app::multipart::StoredPart> = courier.list_parts(upload).await.json().await.expect("parts");
        assert!(listed.is_empty(), "{listed:?}");
    }
    assert_eq!(status(courier.put_part(&url, body, &sha256).await), StatusCode::OK);

    // Courier signs only what the token covers.
    let checksums = vec![(1, sha256.clone())];
    let foreign = MultipartUpload {
        token: theirs.token.clone(),
        ..mine.clone()
    };
    let bigger = MultipartUpload {
        size: mine.size + 1,
        ..mine.clone()
    };
    for forged in [&foreign, &bigger] {
        let refused = courier.sign_parts(forged, &checksums).await;
        assert_eq!(refused.status(), StatusCode::FORBIDDEN);
        let body: serde_json::Value = refused.json().await.expect("JSON");
        assert_eq!(body["error"], "This token is not for that upload.");
        assert_eq!(status(courier.complete_multipart(forged).await), StatusCode::FORBIDDEN);
        assert_eq!(status(courier.abort_multipart(forged).await), StatusCode::FORBIDDEN);
    }
    // Out of range, not base64, or an MD5's 16 bytes rather than a SHA-256's 32.
    let an_md5 = "XrY7u+Ae7tCTyyK7j1rNww==".to_owned();
    for (number, checksum) in [
        (0, sha256.clone()),
        (4, sha256.clone()),
        (1, "abc".to_owned()),
        (1, an_md5),
    ] {
        assert_eq!(
            status(courier.sign_parts(&mine, &[(number, checksum)]).await),
            StatusCode::BAD_REQUEST
        );
    }
    let too_many: Vec<(u32, String)> = (0..101).map(|_| (1, sha256.clone())).collect();
    assert_eq!(
        status(courier.sign_parts(&mine, &too_many).await),
        StatusCode::BAD_REQUEST
    );
}

/// Completing parts that do not add up to the declared file (one missing,
/// one extra, one of another size, the last two sent with the store's own
/// credentials) is refused with the reason, and the upload is aborted.
pub async fn completing_what_does_not_add_up_aborts(courier: &TestCourier, s3: &aws_sdk_s3::Client) {
    let bytes = sample_bytes(MULTIPART_FILE);
    let upload_part = |upload: &MultipartUpload, number: i32, body: Vec<u8>| {
        s3.upload_part()
            .bucket(&courier.bucket)
            .key(&upload.key)
            .upload_id(&upload.upload_id)
            .part_number(number)
            .body(aws_sdk_s3::primitives::ByteStream::from(body))
            .send()
    };
    let missing = courier.multipart("missing.bin", bytes.len() as u64).await;
    courier.send_parts(&missing, &bytes, &[1, 2]).await;
    let extra = courier.multipart("extra.bin", bytes.len() as u64).await;
    courier.send_parts(&extra, &bytes, &[1, 2, 3]).await;
    upload_part(&extra, 4, vec![1; 10]).await.expect("part 4");
    let resized = courier.multipart("resized.bin", bytes.len() as u64).await;
    courier.send_parts(&resized, &bytes, &[1, 2]).await;
    upload_part(&resized, 3, vec![1; 4 * 1024 * 1024 + 4])
        .await
        .expect("part 3");

    for (upload, reason) in [
        (&missing, "part 3 of 3 is missing"),
        (&extra, "part 4 is beyond the 3 parts of 20971523 bytes"),
        (&resized, "part 3 holds 4194308 bytes, not 4194307"),
    ] {
        let refused = courier.complete_multipart(upload).await;
        assert_eq!(refused.status(), StatusCode::BAD_REQUEST, "{reason}");
        let body: serde_json::Value = refused.json().await.expect("JSON");
        assert_eq!(
            body["error"],
            format!("The upload was not complete ({reason}), so it was cancelled. Upload the file again.")
        );
        assert_upload_is_gone(courier, s3, upload).await;
    }
}

/// Aborting drops every part and the upload itself; aborting again is fine.
pub async fn aborting_leaves_nothing(courier: &TestCourier, s3: &aws_sdk_s3::Client) {
    let bytes = sample_bytes(MULTIPART_FILE);
    let upload = courier.multipart("cancelled.bin", bytes.len() as u64).await;
    courier.send_parts(&upload, &bytes, &[2]).await;
    let this_one = (upload.key.clone(), upload.upload_id.clone());
    assert!(uploads_in_progress(s3, &courier.bucket).await.contains(&this_one));
    assert_eq!(courier.abort_multipart(&upload).await.status(), StatusCode::OK);
    assert_upload_is_gone(courier, s3, &upload).await;
    assert!(!uploads_in_progress(s3, &courier.bucket).await.contains(&this_one));
    assert_eq!(courier.abort_multipart(&upload).await.status(), StatusCode::OK);
    let completed = courier.complete_multipart(&upload).await;
    assert_eq!(completed.status(), StatusCode::NOT_FOUND);
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

/// No parts, no upload, no object: as the store itself sees it.
async fn assert_upload_is_gone(courier: &TestCourier, s3: &aws_sdk_s3::Client, upload: &MultipartUpload) {
    assert_eq!(courier.list_parts(upload).await.status(), StatusCode::NOT_FOUND);
    let listed = s3
        .list_parts()
        .bucket(&courier.bucket)
        .key(&upload.key)
        .upload_id(&upload.upload_id)
        .send()
        .await;
    assert!(listed.is_err(), "the store still lists parts: {listed:?}");
    assert!(!object_exists(s3, &courier.bucket, &upload.key).await);
}
