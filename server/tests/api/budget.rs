//! The per-client upload budget (`COURIER_CLIENT_BYTES_PER_DAY`): every
//! grant charges the size it declares, a client past its budget is refused
//! with a sentence before anything is signed or started at the store, and
//! every client has its own (behind a trusted proxy, each forwarded
//! address; an IPv6 /64 as one).

use app::multipart::MultipartGrant;
use reqwest::{Response, StatusCode};
use wire::endpoint;

use courier_test_support::{TestCourier, uploads_in_progress};

const MIB: u64 = 1024 * 1024;

/// 200 MiB a day, each forwarded address its own client.
async fn spawn_budgeted() -> TestCourier {
    TestCourier::builder()
        .envs(&[
            ("COURIER_CLIENT_BYTES_PER_DAY", &(200 * MIB).to_string()),
            ("COURIER_TRUSTED_PROXIES", "127.0.0.1"),
        ])
        .start()
        .await
}

/// `name` (`sign_upload` or `start_multipart`) for a file of `size` bytes,
/// from `client` as the trusted proxy reports it.
async fn grant_for(courier: &TestCourier, client: &str, name: &str, size: u64) -> Response {
    let file = ("big.bin", "application/octet-stream", size, None);
    let request = match name {
        "sign_upload" => courier.request(&endpoint::sign_upload(file.0, file.1, file.2, file.3)),
        "start_multipart" => courier.request(&endpoint::start_multipart(file.0, file.1, file.2, file.3)),
        other => panic!("{other} grants no upload"),
    };
    request
        .header("x-forwarded-for", client)
        .send()
        .await
        .expect("Courier answers")
}

async fn granted(courier: &TestCourier, client: &str, name: &str, size: u64) -> Response {
    let response = grant_for(courier, client, name, size).await;
    assert_eq!(response.status(), StatusCode::OK, "{name} of {size} bytes for {client}");
    response
}

/// A refusal's status, `Retry-After` and sentence.
async fn refused(response: Response) -> (StatusCode, Option<u64>, String) {
    let status = response.status();
    let retry_after = response
        .headers()
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok());
    let body: serde_json::Value = response.json().await.expect("a JSON refusal");
    let sentence = body["error"].as_str().expect("a sentence").to_owned();
    (status, retry_after, sentence)
}

#[tokio::test]
async fn a_client_past_its_budget_is_refused_before_anything_is_started() {
    let courier = spawn_budgeted().await;
    let s3 = courier.store_client();
    let first = "203.0.113.1";
    granted(&courier, first, "sign_upload", 10 * MIB).await;
    granted(&courier, first, "start_multipart", 150 * MIB).await;
    assert_eq!(uploads_in_progress(&s3, &courier.bucket).await.len(), 1);

    // 40 MiB left: a 100 MiB file is refused, and says why and until when.
    let (status, retry_after, sentence) = refused(grant_for(&courier, first, "start_multipart", 100 * MIB).await).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(
        sentence,
        "This file is 100 MiB, but this address has only 40 MiB left of the 200 MiB this Courier accepts from one address in a day. Enough frees up in 24 hours and 10 minutes: try again then, or ask its operator."
    );
    let retry_after = retry_after.expect("Retry-After");
    assert!((24 * 3600..=24 * 3600 + 601).contains(&retry_after), "{retry_after}");
    assert_eq!(
        uploads_in_progress(&s3, &courier.bucket).await.len(),
        1,
        "no upload was started for the refused grant"
    );
    let (status, _, _) = refused(grant_for(&courier, first, "sign_upload", 50 * MIB).await).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "one POST is charged the same");

    // What is left is granted, then nothing more.
    granted(&courier, first, "sign_upload", 40 * MIB).await;
    let (status, _, sentence) = refused(grant_for(&courier, first, "sign_upload", 1).await).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(
        sentence,
        "This address has been granted 200 MiB of uploads in the last 24 hours, the most this Courier accepts from one address in a day. Try again in 24 hours and 10 minutes, or ask its operator."
    );

    // Another client behind the same proxy has its own budget.
    let second = "203.0.113.2";
    granted(&courier, second, "start_multipart", 150 * MIB).await;
    assert_eq!(uploads_in_progress(&s3, &courier.bucket).await.len(), 2);
    // A file larger than a whole day's budget never fits.
    let (status, retry_after, sentence) =
        refused(grant_for(&courier, second, "start_multipart", 300 * MIB).await).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(retry_after, None);
    assert_eq!(
        sentence,
        "This file is 300 MiB, more than the 200 MiB this Courier accepts from one address in a day. Ask its operator."
    );
    assert_eq!(uploads_in_progress(&s3, &courier.bucket).await.len(), 2);
}

#[tokio::test]
async fn an_ipv6_network_shares_one_budget() {
    let courier = spawn_budgeted().await;
    granted(&courier, "2001:db8:1:2::1", "start_multipart", 150 * MIB).await;
    let (status, _, _) = refused(grant_for(&courier, "2001:db8:1:2:ffff::9", "start_multipart", 100 * MIB).await).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "same /64");
    granted(&courier, "2001:db8:1:3::1", "start_multipart", 100 * MIB).await;
}

#[tokio::test]
async fn an_abort_and_a_refused_grant_give_the_charge_back_and_a_completion_keeps_it() {
    let courier = spawn_budgeted().await;
    let client = "203.0.113.3";
    // Refused by the signer after the charge (one POST takes at most 64
    // MiB): nothing was granted, so nothing stays charged.
    let (status, _, _) = refused(grant_for(&courier, client, "sign_upload", 100 * MIB).await).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    let grant: MultipartGrant = granted(&courier, client, "start_multipart", 200 * MIB)
        .await
        .json()
        .await
        .expect("a MultipartGrant");
    let (status, _, _) = refused(grant_for(&courier, client, "start_multipart", 100 * MIB).await).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "the whole day's budget is held");
    // Aborted: nothing of it is stored any more, so its charge comes back.
    assert_eq!(courier.abort_multipart(&grant.upload).await.status(), StatusCode::OK);
    let grant: MultipartGrant = granted(&courier, client, "start_multipart", 200 * MIB)
        .await
        .json()
        .await
        .expect("a MultipartGrant");
    // Aborting twice gives back once; an upload completed keeps its charge.
    assert_eq!(courier.abort_multipart(&grant.upload).await.status(), StatusCode::OK);
    let _ = courier.abort_multipart(&grant.upload).await;
    let bytes = courier_test_support::sample_bytes(6 * MIB as usize);
    let small: MultipartGrant = granted(&courier, client, "start_multipart", 6 * MIB)
        .await
        .json()
        .await
        .expect("a MultipartGrant");
    let numbers: Vec<u32> = (1..=small.upload.size.div_ceil(small.upload.part_size) as u32).collect();
    courier.send_parts(&small.upload, &bytes, &numbers).await;
    assert_eq!(courier.complete_multipart(&small.upload).await.status(), StatusCode::OK);
    // An abort after the completion finds nothing in progress: nothing comes back.
    assert_eq!(courier.abort_multipart(&small.upload).await.status(), StatusCode::OK);
    let (status, _, _) = refused(grant_for(&courier, client, "start_multipart", 195 * MIB).await).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "the completed 6 MiB still count");
    granted(&courier, client, "start_multipart", 194 * MIB).await;
}

#[tokio::test]
async fn zero_turns_the_budget_off() {
    let courier = TestCourier::builder()
        .envs(&[
            ("COURIER_CLIENT_BYTES_PER_DAY", "0"),
            ("COURIER_RATE_LIMIT_PER_MINUTE", "0"),
        ])
        .start()
        .await;
    // More than the default day's 100 GiB, one upload at a time (each
    // aborted, which gives its room on disk back).
    for _ in 0..51 {
        let grant: MultipartGrant = granted(&courier, "203.0.113.4", "start_multipart", 2 * 1024 * MIB)
            .await
            .json()
            .await
            .expect("a MultipartGrant");
        assert_eq!(courier.abort_multipart(&grant.upload).await.status(), StatusCode::OK);
    }
}
