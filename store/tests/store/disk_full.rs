//! The store's disk fills up: the upload that does not fit is refused as
//! full (`507 XMinioStorageFull`, which the page words as "The storage is
//! full"), nothing of it stays under its key, and the store keeps serving
//! everything else. Before it fills, the store stops new uploads at a floor
//! of free space (`COURIER_MIN_FREE_BYTES`), and a multipart upload's
//! declared size counts against free space from its start until it ends,
//! across restarts.
//!
//! Each test mounts a small tmpfs as the data directory (which needs root).
//! The tests of a full disk itself keep no floor, so that the disk really
//! fills.

use std::path::PathBuf;

use courier_store::STORAGE_FULL;
use reqwest::{StatusCode, header};

use crate::support::{BrowserForm, ORIGIN, TestStore, Tmpfs, code, files_under, sample_bytes, status};

/// A tmpfs page: what a file takes at the least.
const PAGE: u64 = 4096;
const MIB: u64 = 1024 * 1024;
/// What the stores of the floor's tests keep free.
const FLOOR: u64 = 4 * MIB;

/// A store whose data directory is a fresh tmpfs of `size`, keeping
/// `min_free` bytes free.
async fn store_keeping_free(size: &str, min_free: u64) -> (Tmpfs, TestStore) {
    let tmpfs = Tmpfs::mount(size);
    let store = TestStore::builder()
        .data_dir(&tmpfs.dir)
        .min_free_bytes(min_free)
        .start()
        .await;
    (tmpfs, store)
}

/// The store's answer to HEAD and to GET of `key` (signed), by status.
async fn head_and_get(store: &TestStore, key: &str) -> (u16, u16) {
    let s3 = store.store_client();
    let head = status(&s3.head_object().bucket(&store.bucket).key(key).send().await);
    let get = status(&s3.get_object().bucket(&store.bucket).key(key).send().await);
    (head, get)
}

/// Nothing of `key` anywhere: not through the store, not on disk (no file,
/// no metadata file, no temporary file, no mark of a write).
async fn assert_nothing_of(store: &TestStore, key: &str) {
    use base64::Engine as _;

    assert_eq!(head_and_get(store, key).await, (404, 404), "{key} answers");
    let object = store.object_path(key);
    assert!(!object.exists(), "{} is on disk", object.display());
    let objects = store.data_dir.join("objects");
    let encode = |s: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s);
    let sidecar = format!(".bucket-{}.object-{}.", encode(&store.bucket), encode(key));
    for needle in [sidecar.as_str(), "/.tmp.", "/.courier-writes/"] {
        assert_eq!(files_under(&objects, needle), Vec::<PathBuf>::new(), "{needle}");
    }
}

/// The grant's prefix holds nothing, not even its directory: the store
/// takes the same upload again.
fn assert_grant_unused(store: &TestStore, grant: &BrowserForm) {
    let prefix = store.object_path(&grant.key);
    let prefix = prefix.parent().expect("a prefix");
    assert!(!prefix.exists(), "{} stays", prefix.display());
}

/// POSTs `bytes` under `grant`: the store must refuse it for a full disk,
/// with CORS (the page reads the answer).
async fn assert_refused_as_full(store: &TestStore, grant: &BrowserForm, name: &str, bytes: &[u8]) {
    let refused = store
        .post_form(&grant.url, &grant.fields, name, "application/octet-stream", bytes)
        .await;
    let status = refused.status();
    assert_eq!(
        refused
            .headers()
            .get(header::ACCESS_CONTROL_ALLOW_ORIGIN)
            .map(|v| v.as_bytes()),
        Some(ORIGIN.as_bytes())
    );
    let body = refused.text().await.expect("a body");
    eprintln!("the store answers {status}: {body}");
    assert_eq!(status, StatusCode::INSUFFICIENT_STORAGE);
    assert!(body.contains(&format!("<Code>{STORAGE_FULL}</Code>")), "{body}");
}

/// Deletes `key` as deleting a file does.
async fn delete(store: &TestStore, key: &str) {
    store
        .store_client()
        .delete_object()
        .bucket(&store.bucket)
        .key(key)
        .send()
        .await
        .expect("deleted");
}

#[tokio::test]
async fn a_full_disk_refuses_the_upload_keeps_nothing_of_it_and_serves_the_rest() {
    let (tmpfs, store) = store_keeping_free("3m", 0).await;
    let first_bytes = sample_bytes(200_000);
    let first = store
        .upload("first.bin", "application/octet-stream", &first_bytes)
        .await;

    // More than the disk has left: the store runs out of room midway.
    let too_big = sample_bytes((tmpfs.available() + 100_000) as usize);
    let grant = store.grant("too big.bin", "application/octet-stream", too_big.len() as u64);
    assert_refused_as_full(&store, &grant, "too big.bin", &too_big).await;
    assert_nothing_of(&store, &grant.key).await;
    assert_grant_unused(&store, &grant);

    // Everything else is served as before, and smaller files still go up.
    store.assert_serves(&[(&first, &first_bytes)]).await;
    let second_bytes = sample_bytes(100_000);
    let second = store
        .upload("second.bin", "application/octet-stream", &second_bytes)
        .await;
    store
        .assert_serves(&[(&first, &first_bytes), (&second, &second_bytes)])
        .await;

    // Deleting a file gives its room back, metadata files included.
    let before = tmpfs.available();
    delete(&store, &first).await;
    assert_nothing_of(&store, &first).await;
    assert!(
        tmpfs.available() >= before + 200_000,
        "{before} -> {}",
        tmpfs.available()
    );
    store.assert_serves(&[(&second, &second_bytes)]).await;
}

#[tokio::test]
async fn a_disk_that_fills_up_between_a_file_and_its_metadata_keeps_neither() {
    let (tmpfs, store) = store_keeping_free("3m", 0).await;
    let bytes = sample_bytes(64 * PAGE as usize);
    // Room for the file and no more; then for the file and its first
    // metadata file (s3s-fs writes two, one page each, after the file).
    for pages_to_spare in [0, 1] {
        let name = format!("exactly {pages_to_spare}.bin");
        let grant = store.grant(&name, "application/octet-stream", bytes.len() as u64);
        let filler = tmpfs.fill_until(bytes.len() as u64 + pages_to_spare * PAGE);
        assert_refused_as_full(&store, &grant, &name, &bytes).await;
        assert_nothing_of(&store, &grant.key).await;
        assert_grant_unused(&store, &grant);

        // Room again: the same upload, under the same grant, goes through.
        std::fs::remove_file(filler).expect("free the disk");
        let key = store
            .post_upload(&grant, &name, "application/octet-stream", &bytes)
            .await;
        let confirmed = store.confirm(&key).await;
        store.assert_serves(&[(&confirmed, &bytes)]).await;
    }
}

#[tokio::test]
async fn an_upload_that_would_cross_the_floor_is_refused_and_keeps_nothing() {
    let (tmpfs, store) = store_keeping_free("8m", FLOOR).await;
    let first_bytes = sample_bytes(1_000_000);
    let first = store
        .upload("first.bin", "application/octet-stream", &first_bytes)
        .await;

    // The disk has room for it, but not above the floor.
    let free = tmpfs.available();
    let over = sample_bytes((free - FLOOR + 64 * 1024) as usize);
    let grant = store.grant("over.bin", "application/octet-stream", over.len() as u64);
    assert_refused_as_full(&store, &grant, "over.bin", &over).await;
    assert_nothing_of(&store, &grant.key).await;
    assert_grant_unused(&store, &grant);
    assert!(tmpfs.available() >= free, "{free} -> {}", tmpfs.available());
    store.assert_serves(&[(&first, &first_bytes)]).await;

    // One that stays above it goes up; its confirmation copies it to
    // `files/`, below the floor for a moment: the floor never refuses that.
    let under = sample_bytes((free - FLOOR - 64 * 1024) as usize);
    let stored = store.upload("under.bin", "application/octet-stream", &under).await;
    store.assert_serves(&[(&first, &first_bytes), (&stored, &under)]).await;
    // Now the floor is reached: even a small file waits for room.
    let small = sample_bytes(200_000);
    let grant = store.grant("small.bin", "application/octet-stream", small.len() as u64);
    assert_refused_as_full(&store, &grant, "small.bin", &small).await;
    assert_nothing_of(&store, &grant.key).await;
    // Deleting a file makes room again.
    delete(&store, &stored).await;
    let key = store
        .post_upload(&grant, "small.bin", "application/octet-stream", &small)
        .await;
    let confirmed = store.confirm(&key).await;
    store
        .assert_serves(&[(&first, &first_bytes), (&confirmed, &small)])
        .await;
}

/// The store refuses to start a multipart upload for want of room: 507, as full.
async fn assert_no_room_to_start(store: &TestStore, size: u64, what: &str) {
    let refused = store
        .start_multipart(&TestStore::multipart_key("second.bin"), size)
        .await;
    assert_eq!(
        (status(&refused), code(&refused).as_deref()),
        (507, Some(STORAGE_FULL)),
        "{what}"
    );
}

#[tokio::test]
async fn a_multipart_start_reserves_its_declared_size_until_it_ends() {
    let (tmpfs, store) = store_keeping_free("16m", FLOOR).await;
    let room = tmpfs.available() - FLOOR;
    // More than there is room for: refused, nothing started.
    assert_no_room_to_start(&store, room + MIB, "more than the room").await;
    assert_eq!(store.uploads_in_progress().await, Vec::new());

    // Two that each fit, but not together: the second is refused.
    let size = room / 2 + MIB;
    let first_key = TestStore::multipart_key("first.bin");
    let first = store.start_multipart(&first_key, size).await.expect("the first starts");
    assert_no_room_to_start(&store, size, "the second").await;
    // The first's part takes what it reserved (and nothing more is free).
    let bytes = sample_bytes(size as usize);
    store.send_part(&first_key, &first, 1, &bytes).await;
    assert_no_room_to_start(&store, size, "the second, the first's part stored").await;
    // While a POST that fits next to the reservation still goes up.
    let small = sample_bytes(100_000);
    let link = store.upload("small.bin", "application/octet-stream", &small).await;

    // Aborted, the first gives its room back.
    store.abort_multipart(&first_key, &first).await;
    let second_key = TestStore::multipart_key("second.bin");
    let second = store
        .start_multipart(&second_key, size)
        .await
        .expect("the second starts");
    store.send_part(&second_key, &second, 1, &bytes).await;
    store.complete_multipart(&second_key, &second).await;
    store.assert_serves(&[(&link, &small), (&second_key, &bytes)]).await;
}

#[tokio::test]
async fn a_reservation_still_counts_after_the_store_restarts() {
    let tmpfs = Tmpfs::mount("16m");
    let start = || {
        TestStore::builder()
            .data_dir(&tmpfs.dir)
            .min_free_bytes(FLOOR)
            .start_binary()
    };
    let store = start().await;
    let size = (tmpfs.available() - FLOOR) / 2 + MIB;
    let first_key = TestStore::multipart_key("first.bin");
    let first = store.start_multipart(&first_key, size).await.expect("the first starts");
    assert_no_room_to_start(&store, size, "before the restart").await;

    // Killed and started again: nothing in memory, the reservation is on disk.
    store.kill();
    let store = start().await;
    assert_no_room_to_start(&store, size, "after the restart").await;
    // Aborted, it gives its room back.
    store.abort_multipart(&first_key, &first).await;
    let second = store
        .start_multipart(&TestStore::multipart_key("second.bin"), size)
        .await;
    assert!(second.is_ok(), "{second:?}");
}
