//! The embedded store killed (SIGKILL) mid-upload, on the real binary: after
//! a restart on the same data directory no key holds part of a file, no
//! temporary file is left, and the same file goes up whole.
//!
//! `s3s` holds a browser POST's file in memory until all of it has arrived,
//! then `s3s-fs` writes it to `.tmp.<n>.internal.part` and renames it into
//! place; confirming copies it to `files/<id>/<name>`. So a kill can land
//! while the file arrives (nothing is on the disk yet), while it is written,
//! or while it is copied.

use std::io::{BufRead as _, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use app::model::{DownloadLink, UploadGrant};
use reqwest::{StatusCode, header};
use tokio::io::AsyncWriteExt as _;
use tokio::net::TcpStream;

use courier_test_support::{embedded_store_client, files_under, location, md5_hex, sample_bytes};

/// Large enough that writing it takes the store a while (tens of
/// milliseconds): long enough to be killed in the middle.
const FILE_BYTES: usize = 16 * 1024 * 1024;
/// A copy is the kernel's work, and quicker: a larger file.
const COPIED_BYTES: usize = 48 * 1024 * 1024;

/// The `courier` binary with its embedded store on `data_dir`; killed when
/// dropped. (`disk_full.rs` starts it too, on a small disk.)
pub struct Courier {
    child: Child,
    pub app: String,
    store: String,
    log: mpsc::Receiver<String>,
    /// What it logged so far.
    lines: Vec<String>,
}

impl Courier {
    fn start(data_dir: &Path) -> Self {
        Self::start_with(data_dir, &[("COURIER_MAX_UPLOAD_BYTES", COPIED_BYTES.to_string())])
    }

    /// With these settings besides its ports and data directory.
    pub fn start_with(data_dir: &Path, settings: &[(&str, String)]) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_courier"));
        child
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", data_dir)
            .env("LEPTOS_SITE_ADDR", "127.0.0.1:0")
            .env("COURIER_EMBEDDED_S3_ADDR", "127.0.0.1:0")
            .env("COURIER_DATA_DIR", data_dir)
            .envs(settings.iter().map(|(name, value)| (name, value)));
        let mut child = child
            .env("RUST_LOG", "info")
            .env("NO_COLOR", "1")
            .current_dir(data_dir)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("courier starts");
        let stderr = child.stderr.take().expect("its log");
        let (lines, log) = mpsc::channel();
        // Read to the end, or the process blocks once the pipe is full.
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                let _ = lines.send(line);
            }
        });
        let mut courier = Self {
            child,
            app: String::new(),
            store: String::new(),
            log,
            lines: Vec::new(),
        };
        while courier.app.is_empty() {
            let line = courier
                .log
                .recv_timeout(Duration::from_secs(60))
                .unwrap_or_else(|_| panic!("courier did not start:\n{}", courier.lines.join("\n")));
            if line.contains("embedded S3-compatible store") {
                courier.store = log_field(&line, "endpoint").expect("the store's endpoint");
            } else if line.contains("courier is ready") {
                courier.app = log_field(&line, "app").expect("the app's address");
            }
            courier.lines.push(line);
        }
        assert!(
            !courier.store.is_empty(),
            "no embedded store:\n{}",
            courier.lines.join("\n")
        );
        courier
    }

    /// SIGKILL, and wait until the process is gone.
    pub fn kill(mut self) {
        self.child.kill().expect("SIGKILL");
        self.child.wait().expect("it dies");
    }

    /// Everything it logged so far.
    fn logged(&mut self) -> &[String] {
        self.lines.extend(self.log.try_iter());
        &self.lines
    }
}

impl Drop for Courier {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `url` (signed in an earlier run, whose ports were others) at `base`:
/// grants and tokens stay valid across restarts.
fn at(base: &str, url: &str) -> String {
    let url = url::Url::parse(url).expect("a URL");
    format!("{base}{}", &url[url::Position::BeforePath..])
}

/// A field of a text log line (` name=value`).
fn log_field(line: &str, name: &str) -> Option<String> {
    let marker = format!(" {name}=");
    let rest = &line[line.find(&marker)? + marker.len()..];
    Some(rest.split_whitespace().next()?.to_owned())
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

async fn grant(http: &reqwest::Client, courier: &Courier, name: &str, size: usize) -> UploadGrant {
    let response = http
        .post(format!("{}/api/sign_upload", courier.app))
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

/// A browser's upload POST for `grant`: the request head and form fields,
/// then the file, then the closing boundary.
fn upload_request(grant: &UploadGrant, origin: &str, name: &str, bytes: &[u8]) -> (Vec<u8>, Vec<u8>) {
    let url = url::Url::parse(&grant.url).expect("the store's URL");
    let boundary = "----courierKilledStore";
    let mut form = String::new();
    for (field, value) in &grant.fields {
        form.push_str(&format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"{field}\"\r\n\r\n{value}\r\n"
        ));
    }
    form.push_str(&format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
    ));
    let tail = format!("\r\n--{boundary}--\r\n");
    let head = format!(
        "POST {} HTTP/1.1\r\nHost: {}\r\nOrigin: {origin}\r\nContent-Type: multipart/form-data; boundary={boundary}\r\nContent-Length: {}\r\n\r\n{form}",
        url.path(),
        url.authority(),
        form.len() + bytes.len() + tail.len()
    );
    let mut body = bytes.to_vec();
    body.extend_from_slice(tail.as_bytes());
    (head.into_bytes(), body)
}

/// Polls (without pausing) until `found` sees a file partly written, then
/// kills the process: returns how far the file had got.
fn kill_once_writing(courier: Courier, found: impl Fn() -> Option<PathBuf>) -> u64 {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(size) = found()
            .and_then(|path| std::fs::metadata(path).ok())
            .map(|m| m.len())
            .filter(|&size| size > 0)
        {
            courier.kill();
            return size;
        }
        assert!(Instant::now() < deadline, "the store never started writing");
        std::hint::spin_loop();
    }
}

/// The store's answer to a HEAD of `key`, signed with its own credentials.
async fn head_status(courier: &Courier, data_dir: &Path, key: &str) -> u16 {
    match embedded_store_client(&courier.store, data_dir)
        .head_object()
        .bucket("courier")
        .key(key)
        .send()
        .await
    {
        Ok(_) => 200,
        Err(error) => error.raw_response().map_or(0, |r| r.status().as_u16()),
    }
}

/// No part of a file under any key, and nothing half-done on disk: no
/// temporary file, no mark of a write in progress.
fn assert_no_trace(data_dir: &Path) {
    let objects = data_dir.join("objects");
    let bucket = objects.join("courier");
    assert_eq!(files_under(&bucket, ""), Vec::<PathBuf>::new(), "objects");
    for needle in ["/.tmp.", "/.courier-writes/", ".metadata.json", ".internal.json"] {
        assert_eq!(files_under(&objects, needle), Vec::<PathBuf>::new(), "{needle}");
    }
}

/// The whole flow, as the page runs it: POST, 303, confirm, download.
async fn upload_whole(http: &reqwest::Client, courier: &Courier, grant: &UploadGrant, bytes: &[u8]) -> DownloadLink {
    let mut form = reqwest::multipart::Form::new();
    for (field, value) in &grant.fields {
        form = form.text(field.to_owned(), value.to_owned());
    }
    let part = reqwest::multipart::Part::bytes(bytes.to_vec())
        .file_name("big.bin")
        .mime_str("application/octet-stream")
        .expect("mime");
    let stored = http
        .post(&grant.url)
        .header(header::ORIGIN, &courier.app)
        .multipart(form.part("file", part))
        .send()
        .await
        .expect("the store answers");
    assert_eq!(stored.status(), StatusCode::SEE_OTHER);
    let link = confirm(http, &at(&courier.app, &location(&stored))).await;
    assert_eq!(link.etag, md5_hex(bytes));
    let downloaded = http.get(&link.download_url).send().await.expect("the link answers");
    assert_eq!(downloaded.status(), StatusCode::OK);
    assert!(
        downloaded.bytes().await.expect("the file") == bytes,
        "the link serves other bytes"
    );
    link
}

async fn confirm(http: &reqwest::Client, location: &str) -> DownloadLink {
    let confirmed = http
        .get(location)
        .header(header::ACCEPT, "application/json")
        .send()
        .await
        .expect("confirm answers");
    assert_eq!(confirmed.status(), StatusCode::OK);
    confirmed.json().await.expect("a DownloadLink")
}

#[tokio::test]
async fn a_store_killed_while_an_upload_arrives_or_is_written_keeps_nothing_of_it() {
    let data_dir = tempfile::tempdir().expect("a data directory");
    let bytes = sample_bytes(FILE_BYTES);
    let http = client();

    // 1. Killed while the file arrives: half of it sent, slowly.
    let courier = Courier::start(data_dir.path());
    let arriving = grant(&http, &courier, "big.bin", bytes.len()).await;
    let (head, body) = upload_request(&arriving, &courier.app, "big.bin", &bytes);
    let mut stream = TcpStream::connect(courier.store.trim_start_matches("http://"))
        .await
        .expect("connect");
    stream.write_all(&head).await.expect("the fields");
    for piece in body[..FILE_BYTES / 2].chunks(FILE_BYTES / 8) {
        stream.write_all(piece).await.expect("part of the file");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // The store holds what arrived in memory: nothing is on the disk yet.
    assert_eq!(files_under(data_dir.path(), "/.tmp."), Vec::<PathBuf>::new());
    courier.kill();
    drop(stream);

    let courier = Courier::start(data_dir.path());
    assert_eq!(head_status(&courier, data_dir.path(), &arriving.key).await, 404);
    assert_no_trace(data_dir.path());
    // The same grant takes the same file, whole.
    let arriving = UploadGrant {
        url: at(&courier.store, &arriving.url),
        ..arriving
    };
    let link = upload_whole(&http, &courier, &arriving, &bytes).await;
    let s3_key = link.key.clone();

    // 2. Killed while the store writes the file to disk.
    let written = grant(&http, &courier, "big.bin", bytes.len()).await;
    let (head, body) = upload_request(&written, &courier.app, "big.bin", &bytes);
    let mut stream = TcpStream::connect(courier.store.trim_start_matches("http://"))
        .await
        .expect("connect");
    stream.write_all(&head).await.expect("the fields");
    stream.write_all(&body).await.expect("the file");
    let objects = data_dir.path().join("objects");
    let started = Instant::now();
    let got = tokio::task::spawn_blocking(move || {
        kill_once_writing(courier, || files_under(&objects, "/.tmp.").into_iter().next())
    })
    .await
    .expect("killed");
    eprintln!(
        "killed {:?} after the file was sent, with {got} of {FILE_BYTES} bytes written",
        started.elapsed()
    );
    assert!(got < FILE_BYTES as u64, "the write had finished");
    drop(stream);
    let left: Vec<PathBuf> = files_under(data_dir.path(), "/.tmp.");
    eprintln!("left by SIGKILL: {left:?}");

    let courier = Courier::start(data_dir.path());
    assert_eq!(head_status(&courier, data_dir.path(), &written.key).await, 404);
    assert_eq!(files_under(data_dir.path(), "/.tmp."), Vec::<PathBuf>::new());
    assert_eq!(
        files_under(&data_dir.path().join("objects/courier"), ""),
        vec![data_dir.path().join("objects/courier").join(&s3_key)],
        "only the file confirmed before"
    );
    let written = UploadGrant {
        url: at(&courier.store, &written.url),
        ..written
    };
    upload_whole(&http, &courier, &written, &bytes).await;
    let mut courier = courier;
    let logged = courier.logged();
    assert!(!logged.iter().any(|line| line.contains("ERROR")), "{logged:#?}");
}

#[tokio::test]
async fn a_store_killed_while_confirming_leaves_no_truncated_copy() {
    let data_dir = tempfile::tempdir().expect("a data directory");
    let bytes = sample_bytes(COPIED_BYTES);
    let http = client();
    let courier = Courier::start(data_dir.path());
    let upload = grant(&http, &courier, "big.bin", bytes.len()).await;
    let mut form = reqwest::multipart::Form::new();
    for (field, value) in &upload.fields {
        form = form.text(field.to_owned(), value.to_owned());
    }
    let part = reqwest::multipart::Part::bytes(bytes.clone())
        .file_name("big.bin")
        .mime_str("application/octet-stream")
        .expect("mime");
    let stored = http
        .post(&upload.url)
        .header(header::ORIGIN, &courier.app)
        .multipart(form.part("file", part))
        .send()
        .await
        .expect("the store answers");
    assert_eq!(stored.status(), StatusCode::SEE_OTHER);
    let confirm_at = location(&stored);

    // Confirming copies the upload to files/<id>/: killed in the middle.
    let confirming = tokio::spawn({
        let (http, confirm_at) = (http.clone(), confirm_at.clone());
        async move {
            http.get(confirm_at)
                .header(header::ACCEPT, "application/json")
                .send()
                .await
        }
    });
    let files = data_dir.path().join("objects/courier/files");
    let got =
        tokio::task::spawn_blocking(move || kill_once_writing(courier, || files_under(&files, "").into_iter().next()))
            .await
            .expect("killed");
    eprintln!("killed while confirming, with {got} of {COPIED_BYTES} bytes copied");
    assert!(got < COPIED_BYTES as u64, "the copy had finished");
    assert!(
        confirming.await.expect("the request ends").is_err(),
        "confirmed before the kill"
    );

    // After a restart: the upload whole, no part of a copy; confirming
    // again links the whole file.
    let courier = Courier::start(data_dir.path());
    let bucket = data_dir.path().join("objects/courier");
    assert_eq!(files_under(&bucket, ""), vec![bucket.join(&upload.key)]);
    assert_eq!(head_status(&courier, data_dir.path(), &upload.key).await, 200);
    let link = confirm(&http, &at(&courier.app, &confirm_at)).await;
    assert_eq!(
        (link.size, link.etag.as_str()),
        (COPIED_BYTES as u64, md5_hex(&bytes).as_str())
    );
    let downloaded = http.get(&link.download_url).send().await.expect("the link answers");
    assert!(
        downloaded.bytes().await.expect("the file") == bytes,
        "the link serves other bytes"
    );
    assert_eq!(files_under(&bucket, ""), vec![bucket.join(&link.key)]);
    let mut courier = courier;
    let logged = courier.logged();
    assert!(
        logged
            .iter()
            .any(|line| line.contains("writes the last run did not finish were undone")),
        "{logged:#?}"
    );
}
