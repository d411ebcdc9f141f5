//! Graceful shutdown (issue 13), on the real binary: on SIGTERM or Ctrl-C the
//! app takes no new connections and finishes its requests in flight, the
//! embedded store finishes the uploads it is writing, and the process exits
//! 0; past the grace period it exits anyway, and says so.

use std::io::{BufRead as _, BufReader};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use app::model::{DownloadLink, UploadGrant};
use reqwest::StatusCode;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::time::Instant;

use crate::raw_http::{closed_by, host_of, path_of, read_response, refuses_connections, start_request, upload_form};
use courier_test_support::{TestCourier, location, md5_hex, sample_bytes};

/// The `courier` binary, started on free ports; killed if a test fails.
struct CourierProcess {
    child: Child,
    /// `http://host:port` of the app, and of the embedded store if it runs one.
    app: String,
    store: Option<String>,
    data_dir: tempfile::TempDir,
    log: Arc<Mutex<Vec<String>>>,
}

impl CourierProcess {
    /// Starts the binary with the embedded store.
    fn embedded(extra: &[(&str, &str)]) -> Self {
        let data_dir = tempfile::tempdir().expect("a data directory");
        let mut vars = vec![
            ("COURIER_EMBEDDED_S3_ADDR".to_owned(), "127.0.0.1:0".to_owned()),
            ("COURIER_DATA_DIR".to_owned(), data_dir.path().display().to_string()),
        ];
        vars.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        Self::start(vars, data_dir)
    }

    /// Starts the binary with exactly these settings (nothing from the
    /// test's own environment, such as a Garage cluster's COURIER_BUCKET),
    /// and reads its addresses from its log: the embedded store's, then the
    /// app's ("courier is ready").
    fn start(vars: Vec<(String, String)>, data_dir: tempfile::TempDir) -> Self {
        let mut command = Command::new(env!("CARGO_BIN_EXE_courier"));
        command
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", data_dir.path())
            .env("LEPTOS_SITE_ADDR", "127.0.0.1:0")
            .env("RUST_LOG", "info")
            .env("NO_COLOR", "1")
            .envs(vars)
            .current_dir(data_dir.path())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        let mut child = command.spawn().expect("courier starts");
        let stderr = child.stderr.take().expect("its log");
        let log = Arc::new(Mutex::new(Vec::new()));
        let (ready, ready_line) = std::sync::mpsc::channel();
        {
            let log = Arc::clone(&log);
            // Read to the end, or the process blocks once the pipe is full.
            std::thread::spawn(move || {
                for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                    // The store's address comes first, then the app's.
                    if line.contains("embedded S3-compatible store") || line.contains("courier is ready") {
                        let _ = ready.send(line.clone());
                    }
                    log.lock().expect("log").push(line);
                }
            });
        }
        let mut process = Self {
            child,
            app: String::new(),
            store: None,
            data_dir,
            log,
        };
        loop {
            let Ok(line) = ready_line.recv_timeout(Duration::from_secs(60)) else {
                panic!("courier did not start:\n{}", process.log_text());
            };
            if let Some(app) = log_field(&line, "app") {
                process.app = app;
                return process;
            }
            process.store = log_field(&line, "endpoint");
        }
    }

    fn app_addr(&self) -> String {
        host_of(&self.app).to_owned()
    }

    fn signal(&self, name: &str) {
        let status = Command::new("kill")
            .args(["-s", name, &self.child.id().to_string()])
            .status()
            .expect("kill runs");
        assert!(status.success(), "kill -s {name} failed");
    }

    /// Its exit status, if it exits before `within` is over.
    async fn exit_within(&mut self, within: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + within;
        while Instant::now() < deadline {
            if let Some(status) = self.child.try_wait().expect("wait") {
                return Some(status);
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        None
    }

    fn log_text(&self) -> String {
        self.log.lock().expect("log").join("\n")
    }

    fn object_path(&self, key: &str) -> std::path::PathBuf {
        self.data_dir.path().join("objects").join("courier").join(key)
    }
}

impl Drop for CourierProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A field of a log line, written as text (` name=value`) or JSON
/// (`"name":"value"`).
fn log_field(line: &str, name: &str) -> Option<String> {
    [format!(" {name}="), format!("\"{name}\":\"")]
        .iter()
        .find_map(|marker| {
            let rest = &line[line.find(marker.as_str())? + marker.len()..];
            let end = rest
                .find(|c: char| c.is_whitespace() || c == '"' || c == ',')
                .unwrap_or(rest.len());
            Some(rest[..end].to_owned())
        })
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

async fn grant(http: &reqwest::Client, app: &str, name: &str, size: usize) -> UploadGrant {
    let response = http
        .post(format!("{app}/api/sign_upload"))
        .form(&[
            ("filename", name),
            ("content_type", "application/octet-stream"),
            ("size", &size.to_string()),
        ])
        .send()
        .await
        .expect("sign_upload answers");
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.expect("a grant")
}

/// Starts a browser's upload POST and sends its first half; returns once the
/// store's handler is reading it, with the rest to send.
async fn start_upload(grant: &UploadGrant, origin: &str, bytes: &[u8]) -> (TcpStream, Vec<u8>) {
    let (content_type, first, rest) = upload_form(grant, "shutdown.bin", bytes);
    let headers = [("Content-Type", content_type), ("Origin", origin.to_owned())];
    let length = first.len() + rest.len();
    let mut stream = start_request(host_of(&grant.url), "POST", &path_of(&grant.url), &headers, length).await;
    stream.write_all(&first).await.expect("the first half");
    (stream, rest)
}

#[tokio::test]
async fn sigterm_lets_requests_in_flight_finish_then_exits() {
    let mut courier = CourierProcess::embedded(&[]);
    let store = courier.store.clone().expect("the embedded store's address");
    let http = client();
    let bytes = sample_bytes(3_000_000);
    let upload_grant = grant(&http, &courier.app, "shutdown.bin", bytes.len()).await;
    drop(http);

    // In flight at the signal: an upload the store is reading, and a
    // sign_upload whose body has not all arrived.
    let (mut upload, upload_rest) = start_upload(&upload_grant, &courier.app, &bytes).await;
    let body = "filename=late.txt&content_type=application%2Foctet-stream&size=5";
    let headers = [("Content-Type", "application/x-www-form-urlencoded".to_owned())];
    let mut signing = start_request(&courier.app_addr(), "POST", "/api/sign_upload", &headers, body.len()).await;
    signing
        .write_all(&body.as_bytes()[..20])
        .await
        .expect("part of the body");
    // And a connection that has sent nothing (a browser's spare one): it has
    // no request to finish, so it must not hold the stop for its 10 s.
    let mut spare = TcpStream::connect(courier.app_addr()).await.expect("connect");
    tokio::time::sleep(Duration::from_millis(300)).await; // accepted by now

    let signalled = Instant::now();
    courier.signal("TERM");
    assert!(
        refuses_connections(&courier.app_addr(), Duration::from_secs(5)).await,
        "the app still takes new connections"
    );
    // Until the app is done, the store serves as before: the app's
    // confirmations in flight read and copy through it.
    let mut probe = TcpStream::connect(host_of(&store))
        .await
        .expect("the store still serves");
    probe
        .write_all(format!("HEAD /courier/uploads/x HTTP/1.1\r\nHost: {}\r\n\r\n", host_of(&store)).as_bytes())
        .await
        .expect("a request");
    let mut answer = [0u8; 12];
    probe.read_exact(&mut answer).await.expect("an answer");
    assert!(answer.starts_with(b"HTTP/1.1 "), "{answer:?}");
    drop(probe);
    // The app finishes the request in flight.
    signing.write_all(&body.as_bytes()[20..]).await.expect("the rest");
    let signed = read_response(&mut signing).await;
    assert_eq!(signed.status, 200, "{}", String::from_utf8_lossy(&signed.body));
    let late: UploadGrant = serde_json::from_slice(&signed.body).expect("a grant");
    assert!(late.key.ends_with("/late.txt"), "{}", late.key);
    assert_eq!(signed.header("connection"), Some("close"));

    // Then the store takes no new connections, and finishes its upload.
    assert!(
        refuses_connections(host_of(&store), Duration::from_secs(5)).await,
        "the store still takes new connections:\n{}",
        courier.log_text()
    );
    upload.write_all(&upload_rest).await.expect("the rest of the file");
    let stored = read_response(&mut upload).await;
    assert_eq!(stored.status, 303, "{}", String::from_utf8_lossy(&stored.body));
    let written = std::fs::read(courier.object_path(&upload_grant.key)).expect("the object on disk");
    assert!(written == bytes, "the object is not whole: {} bytes", written.len());

    assert!(closed_by(&mut spare, signalled + Duration::from_secs(3)).await);
    let status = courier.exit_within(Duration::from_secs(5)).await;
    assert!(
        status.is_some_and(|s| s.success()),
        "exit {status:?}:\n{}",
        courier.log_text()
    );
    eprintln!("stopped {:?} after SIGTERM", signalled.elapsed());
}

#[tokio::test]
async fn a_confirmation_in_flight_at_sigterm_still_gets_its_link() {
    // The binary on a bucket behind a proxy the test can hold, so a
    // confirmation is certainly in flight (waiting on the store) at the signal.
    let store = TestCourier::start().await;
    let proxy = HoldingProxy::start(host_of(&store.store).to_owned()).await;
    let credentials =
        courier::embedded_store::StoreCredentials::load_or_create(store.data_dir.path()).expect("credentials");
    let vars = [
        ("COURIER_BUCKET", store.bucket.clone()),
        ("COURIER_SECRET", "shutdown-test-secret-0123456789abcdef".to_owned()),
        ("COURIER_S3_FORCE_PATH_STYLE", "true".to_owned()),
        ("AWS_ENDPOINT_URL_S3", proxy.url.clone()),
        ("AWS_REGION", "us-east-1".to_owned()),
        ("AWS_ACCESS_KEY_ID", credentials.access_key_id.clone()),
        ("AWS_SECRET_ACCESS_KEY", credentials.secret_access_key.clone()),
        ("AWS_EC2_METADATA_DISABLED", "true".to_owned()),
    ];
    let vars = vars.into_iter().map(|(k, v)| (k.to_owned(), v)).collect();
    let mut courier = CourierProcess::start(vars, tempfile::tempdir().expect("temp dir"));

    let http = client();
    let bytes = sample_bytes(500_000);
    let upload_grant = grant(&http, &courier.app, "minutes.bin", bytes.len()).await;
    let stored = store
        .post_to_store(
            &upload_grant.url,
            &upload_grant.fields,
            "minutes.bin",
            "application/octet-stream",
            &bytes,
        )
        .await;
    assert_eq!(stored.status(), StatusCode::SEE_OTHER);
    let confirm_url = location(&stored);
    assert!(confirm_url.starts_with(&courier.app), "{confirm_url}");

    proxy.hold();
    let confirming = tokio::spawn(async move {
        client()
            .get(confirm_url)
            .header(reqwest::header::ACCEPT, "application/json")
            .send()
            .await
    });
    proxy.wait_until_holding(Duration::from_secs(20)).await;
    courier.signal("TERM");
    assert!(
        refuses_connections(&courier.app_addr(), Duration::from_secs(5)).await,
        "the app still takes new connections"
    );
    proxy.release();

    let confirmed = confirming.await.expect("the task").expect("confirm answers");
    assert_eq!(confirmed.status(), StatusCode::OK);
    let link: DownloadLink = confirmed.json().await.expect("a link");
    assert_eq!(
        (link.size, link.etag.as_str()),
        (bytes.len() as u64, md5_hex(&bytes).as_str())
    );
    assert_eq!(store.downloaded_bytes(&link.download_url).await, bytes);
    let status = courier.exit_within(Duration::from_secs(10)).await;
    assert!(
        status.is_some_and(|s| s.success()),
        "exit {status:?}:\n{}",
        courier.log_text()
    );
}

#[tokio::test]
async fn ctrl_c_cuts_what_is_left_when_the_grace_runs_out() {
    let grace = Duration::from_secs(1);
    let mut courier = CourierProcess::embedded(&[("COURIER_SHUTDOWN_GRACE_SECS", "1")]);
    let http = client();
    let bytes = sample_bytes(100_000);
    let upload_grant = grant(&http, &courier.app, "stalled.bin", bytes.len()).await;
    drop(http);
    // An upload that never sends its second half.
    let (mut stalled, _never_sent) = start_upload(&upload_grant, &courier.app, &bytes).await;

    let signalled = Instant::now();
    courier.signal("INT");
    let status = courier.exit_within(grace + Duration::from_secs(5)).await;
    assert!(
        status.is_some_and(|s| s.success()),
        "exit {status:?}:\n{}",
        courier.log_text()
    );
    let took = signalled.elapsed();
    assert!(took >= grace, "it did not wait for the upload: {took:?}");
    assert!(closed_by(&mut stalled, Instant::now() + Duration::from_secs(2)).await);
    let log = courier.log_text();
    assert!(log.contains("Ctrl-C"), "{log}");
    assert!(log.contains("the shutdown grace ran out"), "{log}");
    assert!(
        !courier.object_path(&upload_grant.key).exists(),
        "half a file was stored"
    );
}

/// A TCP proxy in front of a store that can hold what clients send, to keep
/// a request of theirs in flight as long as a test needs.
struct HoldingProxy {
    url: String,
    holding: watch::Sender<bool>,
    /// Set once bytes arrive while holding.
    held: watch::Receiver<bool>,
}

impl HoldingProxy {
    async fn start(upstream: String) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("addr"));
        let (holding, holding_rx) = watch::channel(false);
        let (held_tx, held) = watch::channel(false);
        let held_tx = Arc::new(held_tx);
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let Ok(server) = TcpStream::connect(&upstream).await else {
                    continue;
                };
                let (mut client_read, mut client_write) = client.into_split();
                let (mut server_read, mut server_write) = server.into_split();
                let mut holding = holding_rx.clone();
                let held = Arc::clone(&held_tx);
                tokio::spawn(async move {
                    let mut buf = vec![0u8; 64 * 1024];
                    loop {
                        let n = match client_read.read(&mut buf).await {
                            Ok(0) | Err(_) => break,
                            Ok(n) => n,
                        };
                        if *holding.borrow() {
                            held.send_replace(true);
                            let _ = holding.wait_for(|hold| !*hold).await;
                        }
                        if server_write.write_all(&buf[..n]).await.is_err() {
                            break;
                        }
                    }
                    let _ = server_write.shutdown().await;
                });
                tokio::spawn(async move {
                    let _ = tokio::io::copy(&mut server_read, &mut client_write).await;
                    let _ = client_write.shutdown().await;
                });
            }
        });
        Self { url, holding, held }
    }

    fn hold(&self) {
        self.holding.send_replace(true);
    }

    fn release(&self) {
        self.holding.send_replace(false);
    }

    async fn wait_until_holding(&self, within: Duration) {
        let mut held = self.held.clone();
        tokio::time::timeout(within, held.wait_for(|held| *held))
            .await
            .expect("a request reached the proxy")
            .expect("the proxy runs");
    }
}
