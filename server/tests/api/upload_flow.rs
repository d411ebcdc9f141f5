//! The hydrated client's path: sign, POST to the store, 303, confirm, download.

use reqwest::{StatusCode, header};

use courier_test_support::{TestCourier, md5_hex, query, sample_bytes};

#[tokio::test]
async fn a_file_goes_up_and_comes_back_through_a_signed_link() {
    let courier = TestCourier::start().await;
    let bytes = sample_bytes(300_000);
    let grant = courier
        .grant("Quarterly report.pdf", "application/pdf", bytes.len() as u64)
        .await;
    assert_eq!(grant.url, format!("{}/{}", courier.store, courier.bucket));
    assert!(
        grant.key.starts_with("uploads/") && grant.key.ends_with("/Quarterly-report.pdf"),
        "{}",
        grant.key
    );

    // 1. The store takes the form and redirects to /confirm-upload, with CORS for the page.
    let stored = courier
        .post_to_store(
            &grant.url,
            &grant.fields,
            "Quarterly report.pdf",
            "application/pdf",
            &bytes,
        )
        .await;
    assert_eq!(stored.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        stored.headers()[header::ACCESS_CONTROL_ALLOW_ORIGIN],
        courier.base.as_str()
    );
    let location = courier_test_support::location(&stored);
    assert!(
        location.starts_with(&format!("{}/confirm-upload?token=", courier.base)),
        "{location}"
    );
    let params = query(&location);
    assert_eq!(params["bucket"], courier.bucket);
    assert_eq!(params["key"], grant.key);
    assert_eq!(params["etag"].trim_matches('"'), md5_hex(&bytes));

    // 2. The followed GET gets JSON that a cross-origin fetch may read.
    let confirmed = courier.follow_as_fetch(&stored).await;
    assert_eq!(confirmed.status(), StatusCode::OK);
    assert_eq!(confirmed.headers()[header::ACCESS_CONTROL_ALLOW_ORIGIN], "*");
    assert_eq!(confirmed.headers()[header::CACHE_CONTROL], "no-store");
    let link: app::model::DownloadLink = confirmed.json().await.expect("a DownloadLink");
    // Confirmed: copied where no grant reaches, under the same name.
    assert!(
        link.key.starts_with("files/") && link.key.ends_with("/Quarterly-report.pdf"),
        "{}",
        link.key
    );
    assert_eq!(courier.stored_keys(), vec![link.key.clone()]);
    assert_eq!(link.filename, "Quarterly report.pdf");
    assert_eq!(link.size, bytes.len() as u64);
    assert_eq!(link.etag, md5_hex(&bytes));

    // 3. The link downloads the same bytes, under the original name.
    let (disposition, downloaded) = courier.download_named(&link.download_url).await;
    assert!(
        disposition.starts_with("attachment;") && disposition.contains("filename*=UTF-8''Quarterly%20report.pdf"),
        "{disposition}"
    );
    assert_eq!(downloaded.as_slice(), bytes.as_slice());
}

#[tokio::test]
async fn unicode_names_survive_to_the_download() {
    let courier = TestCourier::start().await;
    let link = courier.upload("résumé 2026 ✓.txt", "text/plain", b"bonjour").await;
    assert_eq!(link.filename, "résumé 2026 ✓.txt");
    let (disposition, downloaded) = courier.download_named(&link.download_url).await;
    assert!(
        disposition.contains("filename*=UTF-8''r%C3%A9sum%C3%A9%202026%20%E2%9C%93.txt"),
        "{disposition}"
    );
    assert_eq!(downloaded.as_slice(), b"bonjour");
}

#[tokio::test]
async fn sign_download_gives_a_fresh_link_to_the_token_holder_only() {
    let courier = TestCourier::start().await;
    let link = courier.upload("notes.txt", "text/plain", b"first draft").await;

    let fresh = courier.sign_download(&link.key, &link.token).await;
    assert_eq!(fresh.status(), StatusCode::OK);
    let fresh: app::model::DownloadLink = fresh.json().await.expect("a DownloadLink");
    assert_eq!(
        (fresh.key.as_str(), fresh.size, fresh.token.as_str()),
        (link.key.as_str(), 11, link.token.as_str())
    );
    // Both the first link and the fresh one work.
    courier
        .assert_serves(&[(&fresh, b"first draft"), (&link, b"first draft")])
        .await;

    // Knowing the key, or holding an old download URL, is not enough.
    let signature = query(&link.download_url)["X-Amz-Signature"].clone();
    for token in [String::new(), "r.9999999999.AAAA".to_owned(), signature] {
        let refused = courier.sign_download(&link.key, &token).await;
        assert!(
            matches!(refused.status(), StatusCode::FORBIDDEN | StatusCode::BAD_REQUEST),
            "{}",
            refused.status()
        );
        let body: serde_json::Value = refused.json().await.expect("a JSON refusal");
        assert!(body["error"].as_str().is_some_and(|s| s.ends_with('.')), "{body}");
    }
    // A token for one file opens no other.
    let other = courier.upload("other.txt", "text/plain", b"other").await;
    let refused = courier.sign_download(&other.key, &link.token).await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn a_tampered_form_is_refused_by_the_store_and_leaves_nothing_behind() {
    let courier = TestCourier::start().await;
    let bytes = b"payload".to_vec();
    let grant = courier.grant("a.txt", "text/plain", bytes.len() as u64).await;
    let intended = grant.key.clone();
    let elsewhere = format!("uploads/{}/evil.txt", uuid_like());

    // Another key, the policy left as it was.
    let mut fields = grant.fields.clone();
    fields.insert("key".to_owned(), elsewhere.clone());
    let refused = courier
        .post_to_store(&grant.url, &fields, "a.txt", "text/plain", &bytes)
        .await;
    assert!(refused.status().is_client_error(), "{}", refused.status());
    assert!(refused.text().await.expect("body").contains("<Code>"));

    // The policy rewritten to allow any key, the signature left as it was.
    let mut fields = grant.fields.clone();
    let policy = base64_decode(&fields["policy"]).replace(
        &format!("{{\"key\":\"{intended}\"}}"),
        "[\"starts-with\",\"$key\",\"uploads/\"]",
    );
    assert_ne!(
        policy,
        base64_decode(&fields["policy"]),
        "the tamper must change the policy"
    );
    fields.insert("policy".to_owned(), base64_encode(&policy));
    fields.insert("key".to_owned(), elsewhere.clone());
    let refused = courier
        .post_to_store(&grant.url, &fields, "a.txt", "text/plain", &bytes)
        .await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    assert!(refused.text().await.expect("body").contains("SignatureDoesNotMatch"));

    // A file larger than declared-and-allowed is refused too.
    let small = courier_test_support::TestCourier::builder()
        .envs(&[("COURIER_MAX_UPLOAD_BYTES", "1024")])
        .start()
        .await;
    let grant_small = small.grant("big.bin", "application/octet-stream", 1000).await;
    let refused = small
        .post_to_store(
            &grant_small.url,
            &grant_small.fields,
            "big.bin",
            "application/octet-stream",
            &vec![7; 4096],
        )
        .await;
    assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
    assert!(refused.text().await.expect("body").contains("EntityTooLarge"));

    assert!(!courier.object_path(&intended).exists());
    assert!(!courier.object_path(&elsewhere).exists());
    assert_eq!(courier.stored_keys(), Vec::<String>::new());
    assert_eq!(small.stored_keys(), Vec::<String>::new());
}

fn uuid_like() -> &'static str {
    "0b6e2cf0-9d7e-4d8e-8f7a-3a3e0e8f9b11"
}

fn base64_decode(text: &str) -> String {
    use base64::Engine as _;
    String::from_utf8(base64::engine::general_purpose::STANDARD.decode(text).expect("base64")).expect("utf-8")
}

fn base64_encode(text: &str) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(text)
}
