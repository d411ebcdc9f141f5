//! The embedded store's disk fills up: the upload that does not fit fails
//! with a sentence the person understands, nothing of it stays under its
//! key, and the store keeps serving everything else. Before it fills, the
//! store stops new uploads at a floor of free space
//! (`COURIER_MIN_FREE_BYTES`), and a multipart upload's declared size
//! counts against free space from its start until it ends, across restarts.
//!
//! Each test mounts a small tmpfs as the data directory. That needs root
//! (the tests run as root on the CI machine); without it the test fails and
//! says so. The tests of a full disk itself keep no floor, so that the disk
//! really fills.

use std::path::PathBuf;
use std::process::Command;

use app::error::CourierError;
use app::model::UploadGrant;
use reqwest::{StatusCode, header};

use crate::killed_store::Courier;
use courier_test_support::{TestCourier, files_under, location, sample_bytes, uploads_in_progress};

const MAX_UPLOAD_BYTES: u64 = 8 * 1024 * 1024;
/// A tmpfs page: what a file takes at the least.
const PAGE: u64 = 4096;

/// A tmpfs mounted on a fresh directory, unmounted when dropped (also when
/// the test fails).
struct Tmpfs {
    dir: PathBuf,
}

impl Tmpfs {
    fn mount(size: &str) -> (Self, tempfile::TempDir) {
        let dir = tempfile::tempdir().expect("a mount point");
        let mounted = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size},mode=0700"), "tmpfs"])
            .arg(dir.path())
            .output()
            .expect("the mount command runs");
        assert!(
            mounted.status.success(),
            "this test fills the store's disk, a {size} tmpfs it mounts, and mounting needs \
             root (CAP_SYS_ADMIN): run the tests as root. mount said: {}",
            String::from_utf8_lossy(&mounted.stderr).trim()
        );
        let tmpfs = Self {
            dir: dir.path().to_owned(),
        };
        (tmpfs, dir)
    }

    /// Bytes new files may still take.
    fn available(&self) -> u64 {
        let out = Command::new("stat")
            .args(["-f", "-c", "%a %S"])
            .arg(&self.dir)
            .output()
            .expect("stat runs");
        let text = String::from_utf8_lossy(&out.stdout);
        let numbers: Vec<u64> = text.split_whitespace().map(|n| n.parse().expect("a number")).collect();
        numbers[0] * numbers[1]
    }

    /// Fills the disk until exactly `left` bytes (whole pages) stay free.
    fn fill_until(&self, left: u64) -> PathBuf {
        let filler = self.dir.join("filler");
        let size = self.available() - left;
        std::fs::write(&filler, vec![0u8; size as usize]).expect("the filler fits");
        assert_eq!(self.available(), left);
        filler
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let unmounted = Command::new("umount").arg(&self.dir).output();
        if !unmounted.is_ok_and(|out| out.status.success()) {
            // The store still holds a file open there: detach it anyway.
            let _ = Command::new("umount").arg("-l").arg(&self.dir).output();
        }
        let _ = std::fs::remove_dir(&self.dir);
    }
}

/// Courier whose data directory is a fresh tmpfs of `size`, which its store
/// may fill to the last byte.
async fn courier_on_tmpfs(size: &str) -> (Tmpfs, TestCourier) {
    courier_keeping_free(size, 0, MAX_UPLOAD_BYTES).await
}

/// Courier whose data directory is a fresh tmpfs of `size`, whose store
/// keeps `min_free` bytes free, taking files up to `max_upload` bytes.
async fn courier_keeping_free(size: &str, min_free: u64, max_upload: u64) -> (Tmpfs, TestCourier) {
    let (tmpfs, data_dir) = Tmpfs::mount(size);
    let courier = TestCourier::builder()
        .data_dir(data_dir)
        .env("COURIER_MAX_UPLOAD_BYTES", max_upload.to_string())
        .env("COURIER_MIN_FREE_BYTES", min_free.to_string())
        .start()
        .await;
    (tmpfs, courier)
}

/// The store's answer to HEAD and to GET of `key` (signed), by status.
async fn head_and_get(courier: &TestCourier, key: &str) -> (u16, u16) {
    let s3 = courier.store_client();
    let status = |raw: Option<&aws_sdk_s3::config::http::HttpResponse>| raw.map_or(0, |r| r.status().as_u16());
    let head = match s3.head_object().bucket(&courier.bucket).key(key).send().await {
        Ok(_) => 200,
        Err(error) => status(error.raw_response()),
    };
    let get = match s3.get_object().bucket(&courier.bucket).key(key).send().await {
        Ok(_) => 200,
        Err(error) => status(error.raw_response()),
    };
    (head, get)
}

/// Nothing of `key` anywhere: not through the store, not on disk (no file,
/// no metadata file, no temporary file, no mark of a write).
async fn assert_nothing_of(courier: &TestCourier, key: &str) {
    use base64::Engine as _;

    assert_eq!(head_and_get(courier, key).await, (404, 404), "{key} answers");
    let object = courier.object_path(key);
    assert!(!object.exists(), "{} is on disk", object.display());
    let objects = courier.data_dir.path().join("objects");
    let encode = |s: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s);
    let sidecar = format!(".bucket-{}.object-{}.", encode(&courier.bucket), encode(key));
    for needle in [sidecar.as_str(), "/.tmp.", "/.courier-writes/"] {
        assert_eq!(files_under(&objects, needle), Vec::<PathBuf>::new(), "{needle}");
    }
}

/// The grant's prefix holds nothing, not even its directory: the store
/// takes the same upload again.
fn assert_grant_unused(courier: &TestCourier, grant: &UploadGrant) {
    let prefix = courier.object_path(&grant.key);
    let prefix = prefix.parent().expect("a prefix");
    assert!(!prefix.exists(), "{} stays", prefix.display());
}

/// The sentence the page shows for the store's answer to its POST.
fn sentence_for(status: StatusCode, body: &str) -> String {
    match app::store_error::read_upload_answer(status.as_u16(), body, MAX_UPLOAD_BYTES) {
        Err(CourierError::StoreRefused(sentence)) => sentence,
        other => panic!("the page would show {other:?} for {status} {body}"),
    }
}

/// POSTs `bytes` under `grant`: the store must refuse it for a full disk,
/// with CORS (the page reads the answer) and the sentence for it.
async fn assert_refused_as_full(courier: &TestCourier, grant: &UploadGrant, name: &str, bytes: &[u8]) {
    let refused = courier
        .post_to_store(&grant.url, &grant.fields, name, "application/octet-stream", bytes)
        .await;
    let status = refused.status();
    assert_eq!(
        refused
            .headers()
            .get(header::ACCESS_CONTROL_ALLOW_ORIGIN)
            .map(|v| v.as_bytes()),
        Some(courier.base.as_bytes())
    );
    let body = refused.text().await.expect("a body");
    eprintln!("the store answers {status}: {body}");
    assert_eq!(status, StatusCode::INSUFFICIENT_STORAGE);
    assert!(body.contains("<Code>XMinioStorageFull</Code>"), "{body}");
    let sentence = sentence_for(status, &body);
    eprintln!("the page says: {sentence}");
    assert!(
        sentence.starts_with("The storage is full: ") && sentence.contains("sending it again is safe"),
        "{sentence}"
    );
}

#[tokio::test]
async fn a_full_disk_refuses_the_upload_keeps_nothing_of_it_and_serves_the_rest() {
    let (tmpfs, courier) = courier_on_tmpfs("3m").await;
    let first_bytes = sample_bytes(200_000);
    let first = courier
        .upload("first.bin", "application/octet-stream", &first_bytes)
        .await;

    // More than the disk has left: the store runs out of room midway.
    let too_big = sample_bytes((tmpfs.available() + 100_000) as usize);
    let grant = courier
        .grant("too big.bin", "application/octet-stream", too_big.len() as u64)
        .await;
    assert_refused_as_full(&courier, &grant, "too big.bin", &too_big).await;
    assert_nothing_of(&courier, &grant.key).await;
    assert_grant_unused(&courier, &grant);

    // Everything else is served as before, and smaller files still go up.
    courier.assert_serves(&[(&first, &first_bytes)]).await;
    let second_bytes = sample_bytes(100_000);
    let second = courier
        .upload("second.bin", "application/octet-stream", &second_bytes)
        .await;
    courier
        .assert_serves(&[(&first, &first_bytes), (&second, &second_bytes)])
        .await;

    // Deleting a file gives its room back, metadata files included.
    let before = tmpfs.available();
    let deleted = courier.delete_upload(&first.key, &first.token).await;
    assert_eq!(deleted.status(), StatusCode::OK);
    assert_nothing_of(&courier, &first.key).await;
    assert!(
        tmpfs.available() >= before + 200_000,
        "{before} -> {}",
        tmpfs.available()
    );
    courier.assert_serves(&[(&second, &second_bytes)]).await;
}

#[tokio::test]
async fn a_disk_that_fills_up_between_a_file_and_its_metadata_keeps_neither() {
    let (tmpfs, courier) = courier_on_tmpfs("3m").await;
    let bytes = sample_bytes(64 * PAGE as usize);
    // Room for the file and no more; then for the file and its first
    // metadata file (s3s-fs writes two, one page each, after the file).
    for pages_to_spare in [0, 1] {
        let name = format!("exactly {pages_to_spare}.bin");
        let grant = courier
            .grant(&name, "application/octet-stream", bytes.len() as u64)
            .await;
        let filler = tmpfs.fill_until(bytes.len() as u64 + pages_to_spare * PAGE);
        assert_refused_as_full(&courier, &grant, &name, &bytes).await;
        assert_nothing_of(&courier, &grant.key).await;
        assert_grant_unused(&courier, &grant);

        // Room again: the same upload, under the same grant, goes through.
        std::fs::remove_file(filler).expect("free the disk");
        let stored = courier
            .post_to_store(&grant.url, &grant.fields, &name, "application/octet-stream", &bytes)
            .await;
        let link = courier.link_from(stored).await;
        courier.assert_serves(&[(&link, &bytes)]).await;
    }
}

#[tokio::test]
async fn a_confirmation_that_finds_the_disk_full_keeps_the_upload_and_links_it_whole_later() {
    let (tmpfs, courier) = courier_on_tmpfs("3m").await;
    let bytes = sample_bytes(128 * PAGE as usize);
    let grant = courier.grant("report.pdf", "application/pdf", bytes.len() as u64).await;
    // Room for the upload and its two metadata files, and half a copy.
    let filler = tmpfs.fill_until(bytes.len() as u64 * 3 / 2 + 2 * PAGE);
    let stored = courier
        .post_to_store(&grant.url, &grant.fields, "report.pdf", "application/pdf", &bytes)
        .await;
    assert_eq!(stored.status(), StatusCode::SEE_OTHER);

    // Confirming copies the file where no grant writes: it does not fit.
    let confirmed = courier.follow_as_fetch(&stored).await;
    let status = confirmed.status();
    let text = confirmed.text().await.unwrap_or_default();
    assert!(status.is_server_error(), "{status}");
    // Said as it is, not as an unreachable store.
    assert!(text.contains("The storage is full"), "{text}");
    // No part of a copy anywhere; the upload stays whole.
    assert_eq!(courier.stored_keys(), vec![grant.key.clone()]);
    assert_eq!(
        std::fs::read(courier.object_path(&grant.key)).expect("the upload"),
        bytes
    );

    // Once there is room, confirming again links the whole file.
    std::fs::remove_file(filler).expect("free the disk");
    let again = courier
        .http
        .get(location(&stored))
        .header(header::ACCEPT, "application/json")
        .send()
        .await
        .expect("confirm answers");
    assert_eq!(again.status(), StatusCode::OK);
    let link: app::model::DownloadLink = again.json().await.expect("a DownloadLink");
    courier.assert_serves(&[(&link, &bytes)]).await;
    assert_eq!(courier.stored_keys(), vec![link.key.clone()]);
}

const MIB: u64 = 1024 * 1024;
/// What the stores of the floor's tests keep free.
const FLOOR: u64 = 4 * MIB;

#[tokio::test]
async fn an_upload_that_would_cross_the_floor_is_refused_and_keeps_nothing() {
    let (tmpfs, courier) = courier_keeping_free("8m", FLOOR, MAX_UPLOAD_BYTES).await;
    let first_bytes = sample_bytes(1_000_000);
    let first = courier
        .upload("first.bin", "application/octet-stream", &first_bytes)
        .await;

    // The disk has room for it, but not above the floor.
    let free = tmpfs.available();
    let over = sample_bytes((free - FLOOR + 64 * 1024) as usize);
    let grant = courier
        .grant("over.bin", "application/octet-stream", over.len() as u64)
        .await;
    assert_refused_as_full(&courier, &grant, "over.bin", &over).await;
    assert_nothing_of(&courier, &grant.key).await;
    assert_grant_unused(&courier, &grant);
    assert!(tmpfs.available() >= free, "{free} -> {}", tmpfs.available());
    courier.assert_serves(&[(&first, &first_bytes)]).await;

    // One that stays above it goes up; its confirmation copies it to
    // `files/`, below the floor for a moment: the floor never refuses that.
    let under = sample_bytes((free - FLOOR - 64 * 1024) as usize);
    let stored = courier.upload("under.bin", "application/octet-stream", &under).await;
    courier
        .assert_serves(&[(&first, &first_bytes), (&stored, &under)])
        .await;
    // Now the floor is reached: even a small file waits for room.
    let small = sample_bytes(200_000);
    let grant = courier
        .grant("small.bin", "application/octet-stream", small.len() as u64)
        .await;
    assert_refused_as_full(&courier, &grant, "small.bin", &small).await;
    assert_nothing_of(&courier, &grant.key).await;
    // Deleting a file makes room again.
    let deleted = courier.delete_upload(&stored.key, &stored.token).await;
    assert_eq!(deleted.status(), StatusCode::OK);
    let stored = courier
        .post_to_store(
            &grant.url,
            &grant.fields,
            "small.bin",
            "application/octet-stream",
            &small,
        )
        .await;
    let link = courier.link_from(stored).await;
    courier.assert_serves(&[(&first, &first_bytes), (&link, &small)]).await;
}

/// `start_multipart`'s refusal for want of room: 507 and a sentence.
async fn assert_no_room_to_start(response: reqwest::Response, what: &str) {
    let status = response.status();
    let body = response.text().await.unwrap_or_default();
    assert_eq!(status, StatusCode::INSUFFICIENT_STORAGE, "{what}: {body}");
    let error: CourierError = serde_json::from_str(&body).unwrap_or_else(|_| panic!("{what}: {body}"));
    eprintln!("{what}: {error}");
    match error {
        CourierError::StorageFull(sentence) => assert!(
            sentence.starts_with("The storage has no room for this ") && sentence.contains("nothing was sent"),
            "{what}: {sentence}"
        ),
        other => panic!("{what}: {other:?}"),
    }
}

#[tokio::test]
async fn a_multipart_start_reserves_its_declared_size_until_it_ends() {
    let (tmpfs, courier) = courier_keeping_free("16m", FLOOR, 16 * MIB).await;
    let s3 = courier.store_client();
    let room = tmpfs.available() - FLOOR;
    // More than there is room for: refused with a sentence, nothing started.
    let huge = courier
        .start_multipart("huge.bin", "application/octet-stream", room + MIB, None)
        .await;
    assert_no_room_to_start(huge, "more than the room").await;
    assert_eq!(uploads_in_progress(&s3, &courier.bucket).await, Vec::new());

    // Two that each fit, but not together: the second is refused.
    let size = room / 2 + MIB;
    let first = courier.multipart("first.bin", size).await;
    let second = courier
        .start_multipart("second.bin", "application/octet-stream", size, None)
        .await;
    assert_no_room_to_start(second, "the second").await;
    // The first's part takes what it reserved (and nothing more is free).
    let bytes = sample_bytes(size as usize);
    courier.send_parts(&first, &bytes, &[1]).await;
    let second = courier
        .start_multipart("second.bin", "application/octet-stream", size, None)
        .await;
    assert_no_room_to_start(second, "the second, the first's part stored").await;
    // While a POST that fits next to the reservation still goes up.
    let small = sample_bytes(100_000);
    let link = courier.upload("small.bin", "application/octet-stream", &small).await;

    // Aborted, the first gives its room back.
    assert_eq!(courier.abort_multipart(&first).await.status(), StatusCode::OK);
    let second = courier.multipart("second.bin", size).await;
    courier.send_parts(&second, &bytes, &[1]).await;
    assert_eq!(courier.complete_multipart(&second).await.status(), StatusCode::OK);
    courier.assert_serves(&[(&link, &small)]).await;
}

/// The `courier` binary on `data_dir`, keeping [`FLOOR`] free.
fn start_courier(data_dir: &std::path::Path) -> Courier {
    Courier::start_with(
        data_dir,
        &[
            ("COURIER_MAX_UPLOAD_BYTES", (16 * MIB).to_string()),
            ("COURIER_MIN_FREE_BYTES", FLOOR.to_string()),
        ],
    )
}

/// Its server functions, called as a script would.
impl Courier {
    async fn call(&self, name: &str, form: &[(String, String)]) -> reqwest::Response {
        reqwest::Client::new()
            .post(format!("{}/api/{name}", self.app))
            .form(form)
            .send()
            .await
            .expect("Courier answers")
    }

    async fn start_multipart(&self, name: &str, size: u64) -> reqwest::Response {
        let form = [("filename", name), ("content_type", "application/octet-stream")]
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .into_iter()
            .chain([("size".to_owned(), size.to_string())])
            .collect::<Vec<_>>();
        self.call("start_multipart", &form).await
    }

    async fn abort_multipart(&self, upload: &app::multipart::MultipartUpload) -> reqwest::Response {
        self.call("abort_multipart", &courier_test_support::upload_fields(upload))
            .await
    }
}

#[tokio::test]
async fn a_reservation_still_counts_after_the_store_restarts() {
    let (tmpfs, data_dir) = Tmpfs::mount("16m");
    let courier = start_courier(data_dir.path());
    let size = (tmpfs.available() - FLOOR) / 2 + MIB;
    let started = courier.start_multipart("first.bin", size).await;
    assert_eq!(started.status(), StatusCode::OK);
    let first: app::multipart::MultipartGrant = started.json().await.expect("a MultipartGrant");
    assert_no_room_to_start(courier.start_multipart("second.bin", size).await, "before the restart").await;

    // Killed and started again: nothing in memory, the reservation is on disk.
    courier.kill();
    let courier = start_courier(data_dir.path());
    assert_no_room_to_start(courier.start_multipart("second.bin", size).await, "after the restart").await;
    // Aborted (its token still holds: the secret is kept in the data directory).
    assert_eq!(courier.abort_multipart(&first.upload).await.status(), StatusCode::OK);
    assert_eq!(
        courier.start_multipart("second.bin", size).await.status(),
        StatusCode::OK
    );
}
