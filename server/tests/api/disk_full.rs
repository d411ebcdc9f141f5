//! The embedded store's disk fills up while Courier confirms an upload: the
//! confirmation says so in a sentence, and links the whole file once there
//! is room. (The store's own answers to a full disk, its floor of free
//! space and its reservations are tested in `store/tests/store/disk_full.rs`.)
//!
//! The test mounts a small tmpfs as the data directory. That needs root
//! (the tests run as root on the CI machine); without it the test fails and
//! says so. It keeps no floor, so that the disk really fills.

use reqwest::{StatusCode, header};

use courier_test_support::{TestCourier, Tmpfs, location, sample_bytes};

const MAX_UPLOAD_BYTES: u64 = 8 * 1024 * 1024;
/// A tmpfs page: what a file takes at the least.
const PAGE: u64 = 4096;

/// Courier whose data directory is a fresh tmpfs of `size`, which its store
/// may fill to the last byte.
async fn courier_on_tmpfs(size: &str) -> (Tmpfs, TestCourier) {
    courier_keeping_free(size, 0, MAX_UPLOAD_BYTES).await
}

/// Courier whose data directory is a fresh tmpfs of `size`, whose store
/// keeps `min_free` bytes free, taking files up to `max_upload` bytes.
async fn courier_keeping_free(size: &str, min_free: u64, max_upload: u64) -> (Tmpfs, TestCourier) {
    let tmpfs = Tmpfs::mount(size);
    let courier = TestCourier::builder()
        .store_data_in(&tmpfs.dir)
        .env("COURIER_MAX_UPLOAD_BYTES", max_upload.to_string())
        .env("COURIER_MIN_FREE_BYTES", min_free.to_string())
        .start()
        .await;
    (tmpfs, courier)
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
