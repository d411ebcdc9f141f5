//! An abandoned multipart upload on the embedded store goes after a day, as
//! the lifecycle rule of `courier setup-bucket` aborts one elsewhere. The
//! store sweeps when it starts and every ten minutes after: a restart on
//! the same data directory, once the upload's files are two days old, sweeps
//! it there and then. A younger upload stays whole and still completes.

use std::path::PathBuf;
use std::time::{Duration, Instant, SystemTime};

use app::model::DownloadLink;
use reqwest::StatusCode;

use courier_test_support::{MULTIPART_FILE, TestCourier, files_under, sample_bytes};

/// Sets a file's last modification `age` ago.
fn age(path: &std::path::Path, age: Duration) {
    std::fs::File::open(path)
        .expect("open")
        .set_modified(SystemTime::now() - age)
        .expect("mtime");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_abandoned_multipart_upload_is_swept_after_a_day() {
    let courier = TestCourier::start().await;
    let bytes = sample_bytes(MULTIPART_FILE);
    let abandoned = courier.multipart("abandoned.bin", bytes.len() as u64).await;
    courier.send_parts(&abandoned, &bytes, &[1, 3]).await;
    let resumed = courier.multipart("resumed.bin", bytes.len() as u64).await;
    courier.send_parts(&resumed, &bytes, &[1]).await;

    let objects = courier.data_dir.path().join("objects");
    let left_by = |upload_id: &str| files_under(&objects, upload_id);
    let files = left_by(&abandoned.upload_id);
    // `.upload-<id>.json`, the object's metadata for the upload, two parts
    // and their digests.
    assert_eq!(files.len(), 6, "{files:#?}");
    for path in &files {
        age(path, Duration::from_secs(2 * 24 * 3600));
    }
    let kept = left_by(&resumed.upload_id);
    assert_eq!(kept.len(), 4, "{kept:#?}");

    // The same data directory (and so the same token secret), started again.
    let TestCourier { data_dir, .. } = courier;
    let restarted = TestCourier::builder().data_dir(data_dir).start().await;
    let deadline = Instant::now() + Duration::from_secs(30);
    while !left_by(&abandoned.upload_id).is_empty() {
        assert!(
            Instant::now() < deadline,
            "the sweep left {:#?}",
            left_by(&abandoned.upload_id)
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(restarted.list_parts(&abandoned).await.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        restarted.complete_multipart(&abandoned).await.status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        files_under(&objects, ".upload_id-").len(),
        2,
        "the young upload's part and its digests only"
    );

    // The young one was not touched: it completes, whole.
    assert_eq!(left_by(&resumed.upload_id), kept);
    restarted.send_parts(&resumed, &bytes, &[2, 3]).await;
    let completed = restarted.complete_multipart(&resumed).await;
    assert_eq!(completed.status(), StatusCode::OK);
    let link: DownloadLink = completed.json().await.expect("a link");
    assert!(
        restarted.downloaded_bytes(&link.download_url).await == bytes,
        "the bytes differ"
    );
    // Nothing but the record that answers a completion made again (kept a day).
    let record = objects.join(format!(".completed-{}.json", resumed.upload_id));
    assert_eq!(left_by(&resumed.upload_id), vec![record] as Vec<PathBuf>);
}
