//! The store killed (SIGKILL) mid-upload, as its own binary: after a
//! restart on the same data directory no key holds part of a file, no
//! temporary file is left, and the same file goes up whole.
//!
//! `s3s` holds a browser POST's file in memory until all of it has arrived,
//! then `s3s-fs` writes it to `.tmp.<n>.internal.part` and renames it into
//! place; confirming copies it to `files/<id>/<name>`. So a kill can land
//! while the file arrives (nothing is on the disk yet), while it is written,
//! or while it is copied.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use tokio::io::AsyncWriteExt as _;
use tokio::net::TcpStream;

use crate::support::{BrowserForm, ORIGIN, TestStore, files_under, location, md5_hex, query, sample_bytes};

/// Large enough that writing it takes the store a while (tens of
/// milliseconds): long enough to be killed in the middle.
const FILE_BYTES: usize = 16 * 1024 * 1024;
/// A copy is the kernel's work, and quicker: a larger file.
const COPIED_BYTES: usize = 48 * 1024 * 1024;

/// The `courier-store` binary on `data_dir`.
async fn start(data_dir: &Path) -> TestStore {
    TestStore::builder()
        .data_dir(data_dir)
        .max_post_bytes(COPIED_BYTES as u64)
        .start_binary()
        .await
}

/// `form` (signed in an earlier run, whose port was another) for `store`:
/// grants stay valid across restarts.
fn at(store: &TestStore, form: &BrowserForm) -> BrowserForm {
    BrowserForm {
        url: format!("{}/{}", store.endpoint, store.bucket),
        ..form.clone()
    }
}

/// A browser's upload POST for `grant`: the request head and form fields,
/// then the file, then the closing boundary.
fn upload_request(store: &TestStore, grant: &BrowserForm, name: &str, bytes: &[u8]) -> (Vec<u8>, Vec<u8>) {
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
        "POST /{} HTTP/1.1\r\nHost: {}\r\nOrigin: {ORIGIN}\r\nContent-Type: multipart/form-data; boundary={boundary}\r\nContent-Length: {}\r\n\r\n{form}",
        store.bucket,
        store.addr(),
        form.len() + bytes.len() + tail.len()
    );
    let mut body = bytes.to_vec();
    body.extend_from_slice(tail.as_bytes());
    (head.into_bytes(), body)
}

/// Polls (without pausing) until `found` sees a file partly written, then
/// kills the store: returns how far the file had got.
fn kill_once_writing(store: TestStore, found: impl Fn() -> Option<PathBuf>) -> u64 {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(size) = found()
            .and_then(|path| std::fs::metadata(path).ok())
            .map(|m| m.len())
            .filter(|&size| size > 0)
        {
            store.kill();
            return size;
        }
        assert!(Instant::now() < deadline, "the store never started writing");
        std::hint::spin_loop();
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

/// The whole upload, as the page sends it: POST, 303 with the file's ETag,
/// and its link serves it whole. Its key.
async fn upload_whole(store: &TestStore, grant: &BrowserForm, bytes: &[u8]) -> String {
    let stored = store
        .post_form(&grant.url, &grant.fields, "big.bin", "application/octet-stream", bytes)
        .await;
    assert_eq!(stored.status(), StatusCode::SEE_OTHER);
    let params = query(&location(&stored));
    assert_eq!(params["etag"].trim_matches('"'), md5_hex(bytes));
    let key = params["key"].clone();
    assert!(store.downloaded(&key).await == bytes, "the link serves other bytes");
    key
}

#[tokio::test]
async fn a_store_killed_while_an_upload_arrives_or_is_written_keeps_nothing_of_it() {
    let data_dir = tempfile::tempdir().expect("a data directory");
    let bytes = sample_bytes(FILE_BYTES);

    // 1. Killed while the file arrives: half of it sent, slowly.
    let store = start(data_dir.path()).await;
    let arriving = store.grant("big.bin", "application/octet-stream", bytes.len() as u64);
    let (head, body) = upload_request(&store, &arriving, "big.bin", &bytes);
    let mut stream = TcpStream::connect(store.addr()).await.expect("connect");
    stream.write_all(&head).await.expect("the fields");
    for piece in body[..FILE_BYTES / 2].chunks(FILE_BYTES / 8) {
        stream.write_all(piece).await.expect("part of the file");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // The store holds what arrived in memory: nothing is on the disk yet.
    assert_eq!(files_under(data_dir.path(), "/.tmp."), Vec::<PathBuf>::new());
    store.kill();
    drop(stream);

    let store = start(data_dir.path()).await;
    assert_eq!(store.head_status(&arriving.key).await, 404);
    assert_no_trace(data_dir.path());
    // The same grant takes the same file, whole.
    let before = upload_whole(&store, &at(&store, &arriving), &bytes).await;

    // 2. Killed while the store writes the file to disk.
    let written = store.grant("big.bin", "application/octet-stream", bytes.len() as u64);
    let (head, body) = upload_request(&store, &written, "big.bin", &bytes);
    let mut stream = TcpStream::connect(store.addr()).await.expect("connect");
    stream.write_all(&head).await.expect("the fields");
    stream.write_all(&body).await.expect("the file");
    let objects = data_dir.path().join("objects");
    let started = Instant::now();
    let got = tokio::task::spawn_blocking(move || {
        kill_once_writing(store, || files_under(&objects, "/.tmp.").into_iter().next())
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

    let mut store = start(data_dir.path()).await;
    assert_eq!(store.head_status(&written.key).await, 404);
    assert_eq!(files_under(data_dir.path(), "/.tmp."), Vec::<PathBuf>::new());
    let bucket = data_dir.path().join("objects/courier");
    assert_eq!(
        files_under(&bucket, ""),
        vec![bucket.join(&before)],
        "only the file stored before"
    );
    upload_whole(&store, &at(&store, &written), &bytes).await;
    let logged = store.logged();
    assert!(!logged.iter().any(|line| line.contains("ERROR")), "{logged:#?}");
}

#[tokio::test]
async fn a_store_killed_while_confirming_leaves_no_truncated_copy() {
    let data_dir = tempfile::tempdir().expect("a data directory");
    let bytes = sample_bytes(COPIED_BYTES);
    let store = start(data_dir.path()).await;
    let grant = store.grant("big.bin", "application/octet-stream", bytes.len() as u64);
    let upload = store
        .post_upload(&grant, "big.bin", "application/octet-stream", &bytes)
        .await;

    // Confirming copies the upload to files/<id>/: killed in the middle.
    let copy = store
        .store_client()
        .copy_object()
        .bucket(&store.bucket)
        .key("files/0123456789abcdef0123456789abcdef/big.bin")
        .copy_source(format!("{}/{upload}", store.bucket))
        .send();
    let confirming = tokio::spawn(copy);
    let files = data_dir.path().join("objects/courier/files");
    let got =
        tokio::task::spawn_blocking(move || kill_once_writing(store, || files_under(&files, "").into_iter().next()))
            .await
            .expect("killed");
    eprintln!("killed while confirming, with {got} of {COPIED_BYTES} bytes copied");
    assert!(got < COPIED_BYTES as u64, "the copy had finished");
    assert!(
        confirming.await.expect("the request ends").is_err(),
        "confirmed before the kill"
    );

    // After a restart: the upload whole, no part of a copy; confirming
    // again copies the whole file.
    let mut store = start(data_dir.path()).await;
    let bucket = data_dir.path().join("objects/courier");
    assert_eq!(files_under(&bucket, ""), vec![bucket.join(&upload)]);
    assert_eq!(store.head_status(&upload).await, 200);
    let confirmed = store.confirm(&upload).await;
    let head = store
        .store_client()
        .head_object()
        .bucket(&store.bucket)
        .key(&confirmed)
        .send()
        .await
        .expect("the copy");
    assert_eq!(
        (head.content_length(), head.e_tag().map(|e| e.trim_matches('"'))),
        (Some(COPIED_BYTES as i64), Some(md5_hex(&bytes).as_str()))
    );
    assert!(
        store.downloaded(&confirmed).await == bytes,
        "the link serves other bytes"
    );
    assert_eq!(files_under(&bucket, ""), vec![bucket.join(&confirmed)]);
    let logged = store.logged();
    assert!(
        logged
            .iter()
            .any(|line| line.contains("writes the last run did not finish were undone")),
        "{logged:#?}"
    );
}
