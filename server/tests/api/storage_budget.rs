//! The whole Courier's storage budget (`COURIER_STORAGE_BUDGET_BYTES`): a
//! grant that would take the bucket past it is refused with a sentence that
//! names the budget and what is left, before anything is signed or started
//! at the store; an upload in progress counts from its start and gives its
//! room back when aborted; and what is already in the bucket counts, as a
//! second instance that never granted it finds by listing the bucket.

use app::multipart::MultipartGrant;
use reqwest::{Response, StatusCode};
use wire::endpoint;

use courier_test_support::{TestCourier, sample_bytes, uploads_in_progress};

const MIB: u64 = 1024 * 1024;

async fn start_multipart(courier: &TestCourier, size: u64) -> Response {
    courier
        .call(endpoint::start_multipart(
            "big.bin",
            "application/octet-stream",
            size,
            None,
        ))
        .await
}

async fn refusal(response: Response) -> (StatusCode, String) {
    let status = response.status();
    let body: serde_json::Value = response.json().await.expect("a JSON refusal");
    (status, body["error"].as_str().expect("a sentence").to_owned())
}

#[tokio::test]
async fn grants_stop_at_the_storage_budget_and_say_what_is_left() {
    let courier = TestCourier::builder()
        .env("COURIER_STORAGE_BUDGET_BYTES", (20 * MIB).to_string())
        .start()
        .await;
    let s3 = courier.store_client();

    // 6 MiB in one POST, confirmed.
    courier
        .upload("six.bin", "application/octet-stream", &sample_bytes(6 * MIB as usize))
        .await;

    // 14 MiB left: 16 MiB is refused, and nothing is started at the store.
    let (status, sentence) = refusal(start_multipart(&courier, 16 * MIB).await).await;
    assert_eq!(status, StatusCode::INSUFFICIENT_STORAGE);
    // (A 507 names its request, as every 5xx does, for the operator's log.)
    assert!(
        sentence.starts_with(
            "This Courier's storage budget of 20 MiB has 14 MiB left, less than this file's 16 MiB. Nothing was stored. Try again when files have expired or been deleted, or ask its operator."
        ),
        "{sentence}"
    );
    assert!(uploads_in_progress(&s3, &courier.bucket).await.is_empty());

    // An upload in progress counts from its start...
    let grant: MultipartGrant = start_multipart(&courier, 10 * MIB).await.json().await.expect("a grant");
    let (status, sentence) = refusal(start_multipart(&courier, 5 * MIB).await).await;
    assert_eq!(status, StatusCode::INSUFFICIENT_STORAGE);
    assert!(sentence.contains("has 4 MiB left"), "{sentence}");
    let one_post = courier
        .sign_upload("five.bin", "application/octet-stream", 5 * MIB)
        .await;
    assert_eq!(one_post.status(), StatusCode::INSUFFICIENT_STORAGE, "one POST too");
    // ...and gives its room back when aborted.
    assert_eq!(courier.abort_multipart(&grant.upload).await.status(), StatusCode::OK);
    assert_eq!(start_multipart(&courier, 14 * MIB).await.status(), StatusCode::OK);

    // The plain form (no JavaScript) declares no size and takes any number
    // of files: under a storage budget the page signs none, and says why.
    let page = courier
        .http
        .get(format!("{}/", courier.base))
        .send()
        .await
        .expect("the page")
        .text()
        .await
        .expect("HTML");
    assert!(
        !page.contains("x-amz-signature"),
        "no plain form under a storage budget"
    );
    assert!(
        page.contains("checked against this Courier&#x27;s storage budget")
            || page.contains("checked against this Courier's storage budget"),
        "{page}"
    );

    // A file larger than the whole budget never fits.
    let (status, sentence) = refusal(start_multipart(&courier, 21 * MIB).await).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(
        sentence.starts_with("This file is 21 MiB, more than this Courier's whole storage budget of 20 MiB."),
        "{sentence}"
    );
}

#[tokio::test]
async fn what_the_bucket_holds_counts_for_an_instance_that_never_granted_it() {
    let first = TestCourier::start().await;
    first
        .upload("six.bin", "application/octet-stream", &sample_bytes(6 * MIB as usize))
        .await;
    // Another instance, on the same store, with a budget: it lists the bucket.
    let second = TestCourier::builder()
        .env("COURIER_STORAGE_BUDGET_BYTES", (20 * MIB).to_string())
        .store_data_in(first.data_dir.path())
        .start()
        .await;
    let (status, sentence) = refusal(start_multipart(&second, 15 * MIB).await).await;
    assert_eq!(status, StatusCode::INSUFFICIENT_STORAGE);
    assert!(sentence.contains("has 14 MiB left"), "{sentence}");
    assert_eq!(start_multipart(&second, 14 * MIB).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_completed_upload_is_counted_once_and_an_abort_after_it_gives_nothing_back() {
    let courier = TestCourier::builder()
        .env("COURIER_STORAGE_BUDGET_BYTES", (30 * MIB).to_string())
        .env("COURIER_MULTIPART_THRESHOLD", (8 * MIB).to_string())
        .start()
        .await;
    let bytes = sample_bytes(10 * MIB as usize);
    let grant: MultipartGrant = start_multipart(&courier, 10 * MIB).await.json().await.expect("a grant");
    let numbers: Vec<u32> = (1..=grant.upload.size.div_ceil(grant.upload.part_size) as u32).collect();
    courier.send_parts(&grant.upload, &bytes, &numbers).await;
    // Completed three times (a retry whose answer was lost is normal), then aborted.
    for _ in 0..3 {
        assert_eq!(courier.complete_multipart(&grant.upload).await.status(), StatusCode::OK);
    }
    assert_eq!(courier.abort_multipart(&grant.upload).await.status(), StatusCode::OK);
    // 10 MiB stored, counted once: 20 MiB left, no more, no less.
    let (status, sentence) = refusal(start_multipart(&courier, 21 * MIB).await).await;
    assert_eq!(status, StatusCode::INSUFFICIENT_STORAGE);
    assert!(sentence.contains("has 20 MiB left"), "{sentence}");
    assert_eq!(start_multipart(&courier, 20 * MIB).await.status(), StatusCode::OK);
}
