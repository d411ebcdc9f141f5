//! What an attacker sends to the app, or through it to the embedded store,
//! beyond what our own page sends. Each test is a row in SECURITY.md. (The
//! attacks on the store's port alone are in `store/tests/store/attacks.rs`.)

use std::time::Duration;

use reqwest::{StatusCode, header};

use courier_test_support::{TestCourier, md5_hex, sample_bytes};

#[tokio::test]
async fn a_shared_link_keeps_serving_the_confirmed_bytes_whatever_its_grant_sends_later() {
    let courier = TestCourier::start().await;
    let original = sample_bytes(4096);
    let grant = courier.grant("contract.txt", "text/plain", 4096).await;
    let stored = courier
        .post_to_store(&grant.url, &grant.fields, "contract.txt", "text/plain", &original)
        .await;
    assert_eq!(stored.status(), StatusCode::SEE_OTHER);
    let link: app::model::DownloadLink = courier.follow_as_fetch(&stored).await.json().await.expect("link");
    assert!(link.key.starts_with("files/"), "{}", link.key);

    // The same grant, other bytes of the same size, after the link was shared.
    let forged = vec![b'!'; 4096];
    let again = courier
        .post_to_store(&grant.url, &grant.fields, "contract.txt", "text/plain", &forged)
        .await;
    assert_eq!(again.status(), StatusCode::FORBIDDEN);
    assert!(again.text().await.expect("body").contains("already used"));

    // Confirming the first redirect again finds the same file; renewing too.
    let reconfirmed: app::model::DownloadLink = courier.follow_as_fetch(&stored).await.json().await.expect("link");
    assert_eq!(
        (reconfirmed.key.as_str(), reconfirmed.etag.as_str()),
        (link.key.as_str(), link.etag.as_str())
    );
    let renewed = courier.sign_download(&link.key, &link.token).await;
    let renewed: app::model::DownloadLink = renewed.json().await.expect("link");
    for served in [&link, &reconfirmed, &renewed] {
        assert_eq!(courier.downloaded_bytes(&served.download_url).await, original);
        assert_eq!(served.etag, md5_hex(&original));
    }
    assert_eq!(courier.stored_keys(), vec![link.key.clone()]);
}

#[tokio::test]
async fn replaying_an_upload_token_never_extends_the_renewal() {
    let courier = TestCourier::start().await;
    let grant = courier.grant("a.txt", "text/plain", 1).await;
    let stored = courier
        .post_to_store(&grant.url, &grant.fields, "a.txt", "text/plain", b"a")
        .await;
    let mut renewal_tokens = Vec::new();
    for _ in 0..3 {
        let link: app::model::DownloadLink = courier.follow_as_fetch(&stored).await.json().await.expect("link");
        renewal_tokens.push(link.token);
        tokio::time::sleep(Duration::from_millis(1100)).await;
    }
    assert!(renewal_tokens.windows(2).all(|w| w[0] == w[1]), "{renewal_tokens:?}");
}

#[tokio::test]
async fn the_page_is_rate_limited_like_the_signing_endpoints() {
    let courier = TestCourier::builder().rate_limited(3).start().await;
    let mut statuses = Vec::new();
    for _ in 0..3 {
        statuses.push(courier.get_as(&courier.base, "text/html").await.status());
    }
    // Each page hands out a form policy: the burst is shared with sign_upload.
    statuses.push(courier.sign_upload("a.txt", "text/plain", 1).await.status());
    statuses.push(courier.get_as(&courier.base, "text/html").await.status());
    assert_eq!(
        statuses,
        [
            StatusCode::OK,
            StatusCode::OK,
            StatusCode::OK,
            StatusCode::TOO_MANY_REQUESTS,
            StatusCode::TOO_MANY_REQUESTS
        ]
    );
}

#[tokio::test]
async fn oversized_chunked_bodies_and_unknown_functions_get_sentences() {
    let courier = TestCourier::start().await;
    let chunks = futures::stream::iter((0..40).map(|_| Ok::<_, std::io::Error>(bytes::Bytes::from(vec![b'a'; 4096]))));
    let too_big = courier
        .http
        .post(format!(
            "{}{}",
            courier.base,
            wire::endpoint::Endpoint::SignUpload.path()
        ))
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(reqwest::Body::wrap_stream(chunks))
        .send()
        .await
        .expect("answers");
    assert_eq!(too_big.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let body: serde_json::Value = too_big.json().await.expect("JSON");
    assert!(
        body["error"].as_str().is_some_and(|s| s.contains("too large")),
        "{body}"
    );

    let unknown = courier
        .http
        .post(format!("{}{}/no_such_function", courier.base, wire::endpoint::PREFIX))
        .send()
        .await
        .expect("answers");
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);
    let body = unknown.text().await.expect("body");
    assert!(!body.contains("server function"), "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn confirmations_of_one_upload_at_once_agree_and_keep_the_bytes() {
    let courier = TestCourier::start().await;
    let bytes = sample_bytes(8 * 1024 * 1024);
    let grant = courier
        .grant("twice.bin", "application/octet-stream", bytes.len() as u64)
        .await;
    let stored = courier
        .post_to_store(
            &grant.url,
            &grant.fields,
            "twice.bin",
            "application/octet-stream",
            &bytes,
        )
        .await;
    assert_eq!(stored.status(), StatusCode::SEE_OTHER);
    let confirmations = futures::future::join_all((0..6).map(|_| courier.follow_as_fetch(&stored))).await;
    let mut keys = Vec::new();
    for confirmed in confirmations {
        assert_eq!(confirmed.status(), StatusCode::OK);
        let link: app::model::DownloadLink = confirmed.json().await.expect("a link");
        assert_eq!(link.etag, md5_hex(&bytes));
        keys.push(link.key.clone());
        assert_eq!(courier.downloaded_bytes(&link.download_url).await, bytes);
    }
    keys.dedup();
    assert_eq!(keys.len(), 1, "{keys:?}");
    assert_eq!(courier.stored_keys(), keys);
}
