//! Multipart uploads on the embedded store: the whole flow over HTTP, part
//! URLs that write only their part, completions that must add up, aborts
//! that leave nothing (not even a part file on disk).

use courier_test_support::{
    TestCourier, aborting_leaves_nothing, completing_what_does_not_add_up_aborts, files_under, listed_uploads,
    multipart_goes_through, part_urls_write_their_part_only, uploads_in_progress,
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_multipart_upload_goes_through() {
    multipart_goes_through(&TestCourier::start().await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_part_url_writes_its_part_only() {
    part_urls_write_their_part_only(&TestCourier::start().await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn completing_what_does_not_add_up_is_refused_and_aborted() {
    let courier = TestCourier::start().await;
    completing_what_does_not_add_up_aborts(&courier, &courier.store_client()).await;
    assert_eq!(
        files_under(courier.data_dir.path(), ".upload_id-"),
        Vec::<std::path::PathBuf>::new()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aborting_leaves_nothing_on_disk() {
    let courier = TestCourier::start().await;
    aborting_leaves_nothing(&courier, &courier.store_client()).await;
    assert_eq!(
        files_under(courier.data_dir.path(), ".upload_id-"),
        Vec::<std::path::PathBuf>::new()
    );
    assert_eq!(
        files_under(courier.data_dir.path(), ".upload-"),
        Vec::<std::path::PathBuf>::new()
    );
}

/// The embedded store lists the uploads in progress as S3 does (`s3s-fs`
/// alone answers `NotImplemented`): by key, then upload id; by prefix; a
/// page at a time; never to an unsigned request.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_store_lists_uploads_in_progress_a_page_at_a_time() {
    let courier = TestCourier::start().await;
    let s3 = courier.store_client();
    let mut started = Vec::new();
    for key in ["files/b/x.bin", "files/a/y.bin", "files/a/y.bin", "other/z.bin"] {
        let created = s3
            .create_multipart_upload()
            .bucket(&courier.bucket)
            .key(key)
            .send()
            .await
            .expect("an upload starts");
        started.push((key.to_owned(), created.upload_id().expect("an upload id").to_owned()));
    }
    started.sort();
    assert_eq!(uploads_in_progress(&s3, &courier.bucket).await, started);

    let listed = s3
        .list_multipart_uploads()
        .bucket(&courier.bucket)
        .prefix("files/")
        .send()
        .await
        .expect("listed by prefix");
    let keys: Vec<_> = listed.uploads().iter().filter_map(|u| u.key()).collect();
    assert_eq!(keys, ["files/a/y.bin", "files/a/y.bin", "files/b/x.bin"]);

    // A page of one (within a key that has two uploads), one of two, then the rest.
    let first = s3
        .list_multipart_uploads()
        .bucket(&courier.bucket)
        .max_uploads(1)
        .send()
        .await
        .expect("a first page");
    assert_eq!(
        (listed_uploads(&first), first.is_truncated()),
        (started[..1].to_vec(), Some(true))
    );
    let second = s3
        .list_multipart_uploads()
        .bucket(&courier.bucket)
        .max_uploads(2)
        .key_marker(first.next_key_marker().expect("a next key marker"))
        .upload_id_marker(first.next_upload_id_marker().expect("a next upload id marker"))
        .send()
        .await
        .expect("a second page");
    assert_eq!(
        (listed_uploads(&second), second.is_truncated()),
        (started[1..3].to_vec(), Some(true))
    );
    let last = s3
        .list_multipart_uploads()
        .bucket(&courier.bucket)
        .key_marker(second.next_key_marker().expect("a next key marker"))
        .upload_id_marker(second.next_upload_id_marker().expect("a next upload id marker"))
        .send()
        .await
        .expect("the last page");
    assert_eq!(
        (listed_uploads(&last), last.is_truncated()),
        (started[3..].to_vec(), Some(false))
    );

    // A page of none ends the listing (nothing to go on from); a negative size is refused.
    let none = s3
        .list_multipart_uploads()
        .bucket(&courier.bucket)
        .max_uploads(0)
        .send()
        .await
        .expect("a page of none");
    assert_eq!((listed_uploads(&none), none.is_truncated()), (vec![], Some(false)));
    let negative = s3
        .list_multipart_uploads()
        .bucket(&courier.bucket)
        .max_uploads(-1)
        .send()
        .await;
    assert!(negative.is_err(), "a negative page size is refused: {negative:?}");

    let (key, id) = &started[0];
    s3.abort_multipart_upload()
        .bucket(&courier.bucket)
        .key(key)
        .upload_id(id)
        .send()
        .await
        .expect("aborted");
    assert_eq!(uploads_in_progress(&s3, &courier.bucket).await, started[1..]);

    let grouped = s3
        .list_multipart_uploads()
        .bucket(&courier.bucket)
        .delimiter("/")
        .send()
        .await;
    assert!(grouped.is_err(), "a delimiter is refused, not ignored: {grouped:?}");
    let unsigned = courier
        .send_raw_to_store(&format!(
            "GET /{}?uploads HTTP/1.1\r\nHost: store\r\nConnection: close\r\n\r\n",
            courier.bucket
        ))
        .await;
    assert!(unsigned.starts_with("HTTP/1.1 403"), "{unsigned}");
    assert!(!unsigned.contains("other/z.bin"), "{unsigned}");
}

/// Starting an upload counts against the rate limit like any grant; its
/// parts, hundreds for a large file, are signed without it.
#[tokio::test]
async fn parts_are_signed_past_the_rate_limit_and_uploads_are_not_started() {
    let courier = courier_test_support::TestCourier::builder()
        .rate_limited(2)
        .start()
        .await;
    let bytes = courier_test_support::sample_bytes(courier_test_support::MULTIPART_FILE);
    let upload = courier.multipart("many parts.bin", bytes.len() as u64).await;
    for _ in 0..20 {
        assert_eq!(courier.part_urls(&upload, &bytes, &[1, 2, 3]).await.len(), 3);
    }
    let started = courier
        .start_multipart("another.bin", "application/octet-stream", bytes.len() as u64, None)
        .await;
    assert_eq!(started.status(), reqwest::StatusCode::OK);
    let refused = courier
        .start_multipart("a third.bin", "application/octet-stream", bytes.len() as u64, None)
        .await;
    assert_eq!(refused.status(), reqwest::StatusCode::TOO_MANY_REQUESTS);
}

/// One POST takes files below the multipart threshold (the plain form's
/// policy says so too); larger ones go in parts, up to the maximum.
#[tokio::test]
async fn one_post_takes_files_up_to_the_threshold_and_parts_take_the_rest() {
    let threshold = 8 * 1024 * 1024;
    let courier = courier_test_support::TestCourier::builder()
        .envs(&[("COURIER_MULTIPART_THRESHOLD", &threshold.to_string())])
        .start()
        .await;
    let refused = courier
        .sign_upload("big.bin", "application/octet-stream", threshold + 1)
        .await;
    assert_eq!(refused.status(), reqwest::StatusCode::PAYLOAD_TOO_LARGE);
    let body: serde_json::Value = refused.json().await.expect("JSON");
    assert_eq!(
        body["error"],
        "A file over 8 MiB goes up in parts: the page does that by itself; from a script, use start_multipart."
    );
    let signed = courier
        .sign_upload("big.bin", "application/octet-stream", threshold)
        .await;
    assert_eq!(signed.status(), reqwest::StatusCode::OK);
    let started = courier
        .start_multipart("big.bin", "application/octet-stream", 5 * 1024 * 1024 * 1024, None)
        .await;
    assert_eq!(started.status(), reqwest::StatusCode::OK);

    // The plain form's policy allows one POST of at most the threshold.
    let (_, fields) = courier.page_form().await;
    use base64::Engine as _;
    let policy = base64::engine::general_purpose::STANDARD
        .decode(&fields["policy"])
        .expect("base64");
    let policy: serde_json::Value = serde_json::from_slice(&policy).expect("JSON");
    let range = policy["conditions"]
        .as_array()
        .expect("conditions")
        .iter()
        .find(|c| c[0] == "content-length-range")
        .expect("a size range")
        .clone();
    assert_eq!(range, serde_json::json!(["content-length-range", 1, threshold]));
    // And the page says so to whoever has no JavaScript.
    let page = courier
        .get_as(&format!("{}/", courier.base), "text/html")
        .await
        .text()
        .await
        .expect("HTML");
    assert!(page.contains("Without JavaScript: up to 8 MiB"), "{page}");
}

/// Each part must come with its SHA-256 for the store to check, unless
/// `COURIER_PART_CHECKSUMS` is off: then parts go without one, and the file
/// still comes back whole.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_part_needs_its_sha256_unless_part_checksums_are_off() {
    use reqwest::StatusCode;
    let bytes = courier_test_support::sample_bytes(courier_test_support::MULTIPART_FILE);

    let courier = TestCourier::start().await;
    let upload = courier.multipart("checked.bin", bytes.len() as u64).await;
    let refused = courier.sign_parts_without_checksum(&upload, &[1]).await;
    assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
    let body: serde_json::Value = refused.json().await.expect("JSON");
    assert_eq!(
        body["error"],
        "Part 1 needs its checksum: the SHA-256 of its bytes, in base64."
    );
    assert_eq!(courier.page_settings().await["part_checksums"], true);

    let courier = courier_test_support::TestCourier::builder()
        .envs(&[("COURIER_PART_CHECKSUMS", "false")])
        .start()
        .await;
    assert_eq!(courier.page_settings().await["part_checksums"], false);
    let upload = courier.multipart("unchecked.bin", bytes.len() as u64).await;
    let signed = courier.sign_parts_without_checksum(&upload, &[1, 2, 3]).await;
    assert_eq!(signed.status(), StatusCode::OK);
    let urls: Vec<app::multipart::PartUrl> = signed.json().await.expect("part URLs");
    for part in urls {
        assert!(!part.url.contains("checksum"), "{}", part.url);
        let body = courier_test_support::part_bytes(&upload, &bytes, part.number).to_vec();
        let stored = courier
            .http
            .put(&part.url)
            .header(reqwest::header::ORIGIN, &courier.base)
            .body(body)
            .send()
            .await
            .expect("the store answers");
        assert_eq!(stored.status(), StatusCode::OK, "part {}", part.number);
    }
    let completed = courier.complete_multipart(&upload).await;
    assert_eq!(completed.status(), StatusCode::OK);
    let link: app::model::DownloadLink = completed.json().await.expect("a link");
    assert!(
        courier.downloaded_bytes(&link.download_url).await == bytes,
        "the bytes differ"
    );
}
