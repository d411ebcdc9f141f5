//! `POST /api/sign_upload`: what it signs and what it refuses.

use reqwest::StatusCode;

use courier_test_support::TestCourier;

#[tokio::test]
async fn a_grant_carries_every_field_the_store_needs() {
    let courier = TestCourier::builder()
        .envs(&[("COURIER_MAX_UPLOAD_BYTES", "5000000")])
        .start()
        .await;
    let response = courier.sign_upload("photo.JPG", "image/jpeg", 123_456).await;
    assert_eq!(response.status(), StatusCode::OK);
    let grant: serde_json::Value = response.json().await.expect("JSON");
    for name in [
        "key",
        "Content-Type",
        "acl",
        "success_action_redirect",
        "policy",
        "x-amz-algorithm",
        "x-amz-credential",
        "x-amz-date",
        "x-amz-signature",
    ] {
        assert!(grant["fields"][name].is_string(), "missing {name}: {grant}");
    }
    assert_eq!(grant["fields"]["acl"], "private");
    assert_eq!(grant["fields"]["Content-Type"], "image/jpeg");
    assert_eq!(grant["fields"]["key"], grant["key"]);
    // The limit reaches the page once, with the form, not with every grant.
    assert!(grant.get("max_bytes").is_none(), "{grant}");
    let form: app::model::FormGrant = courier
        .call(wire::endpoint::sign_upload_form(None))
        .await
        .json()
        .await
        .expect("a FormGrant");
    assert_eq!(form.settings.rules.max_bytes, 5_000_000);
    assert_eq!(form.settings.parallel_uploads, 3);
    let redirect = grant["fields"]["success_action_redirect"].as_str().expect("string");
    assert!(
        redirect.starts_with(&format!("{}/confirm-upload?token=k.", courier.base)),
        "{redirect}"
    );
    let expires = time::OffsetDateTime::parse(
        grant["expires_at"].as_str().expect("string"),
        &time::format_description::well_known::Rfc3339,
    )
    .expect("RFC 3339");
    let ttl = expires - time::OffsetDateTime::now_utc();
    assert!(
        ttl > time::Duration::minutes(14) && ttl <= time::Duration::minutes(15),
        "{ttl}"
    );
}

#[tokio::test]
async fn bad_requests_are_refused_with_a_sentence() {
    let courier = TestCourier::builder()
        .envs(&[("COURIER_MAX_UPLOAD_BYTES", "1000")])
        .start()
        .await;
    for (filename, content_type, size, status, words) in [
        ("a.txt", "text/plain", 0, StatusCode::BAD_REQUEST, "empty"),
        ("a.txt", "text/plain", 1001, StatusCode::PAYLOAD_TOO_LARGE, "1000 bytes"),
        ("", "text/plain", 10, StatusCode::BAD_REQUEST, "name"),
        ("a.txt", "text/plain\r\nx: y", 10, StatusCode::BAD_REQUEST, "file type"),
    ] {
        let response = courier.sign_upload(filename, content_type, size).await;
        assert_eq!(response.status(), status, "{filename:?} {content_type:?} {size}");
        let body: serde_json::Value = response.json().await.expect("a JSON refusal");
        let sentence = body["error"].as_str().expect("a sentence");
        assert!(sentence.contains(words) && sentence.ends_with('.'), "{sentence}");
    }
    let response = courier
        .http
        .post(format!(
            "{}{}",
            courier.base,
            wire::endpoint::Endpoint::SignUpload.path()
        ))
        .form(&[("filename", "a.txt")])
        .send()
        .await
        .expect("answers");
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
}
