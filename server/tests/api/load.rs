//! Big files and many clients at once against the embedded store: every
//! upload must end in a working link whose bytes and ETag match.

use bytes::Bytes;
use reqwest::StatusCode;

use crate::helpers::{md5_hex, spawn_courier, spawn_courier_with, tricky_bytes, upload_many};

const MIB: usize = 1024 * 1024;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_big_file_sent_in_large_writes_goes_through() {
    let courier = spawn_courier().await;
    let bytes = Bytes::from(tricky_bytes(72 * MIB));
    let grant = courier
        .grant("big data set.bin", "application/octet-stream", bytes.len() as u64)
        .await;
    // As `curl -F file=@big.bin` sends it: the file in 4 MiB writes.
    let stored = courier
        .post_in_large_writes(&grant, "big data set.bin", bytes.clone(), 4 * MIB)
        .await;
    assert_eq!(
        stored.status(),
        StatusCode::SEE_OTHER,
        "{}",
        stored.text().await.unwrap_or_default()
    );
    let confirmed = courier.follow_as_fetch(&stored).await;
    assert_eq!(confirmed.status(), StatusCode::OK);
    let link: app::model::DownloadLink = confirmed.json().await.expect("a link");
    assert_eq!(
        (link.size, link.etag.as_str()),
        (bytes.len() as u64, md5_hex(&bytes).as_str())
    );
    assert!(
        courier.downloaded_bytes(&link.download_url).await == bytes,
        "the bytes differ"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn five_hundred_uploads_from_two_hundred_clients_all_land() {
    let courier = spawn_courier_with(&[("COURIER_RATE_LIMIT_PER_MINUTE", "0")]).await;
    let report = upload_many(&courier, 200, 500).await;
    eprintln!(
        "embedded store: {} uploads ({} MB) from {} clients in {:.1} s, {} failed",
        report.uploads,
        report.bytes / 1_000_000,
        report.clients,
        report.elapsed.as_secs_f64(),
        report.failures.len()
    );
    assert!(
        report.failures.is_empty(),
        "{} of {} uploads failed:\n{}",
        report.failures.len(),
        report.uploads,
        report.failures.join("\n")
    );
}
