//! The security model, case by case: every bad input gets a clear answer and
//! changes nothing. Each test here is named in SECURITY.md.

use std::time::Duration;

use reqwest::{StatusCode, header};
use wire::endpoint::Endpoint;

use courier_test_support::{TestCourier, query, sample_bytes};

#[tokio::test]
async fn a_file_of_another_size_than_declared_is_refused() {
    let courier = TestCourier::start().await;
    let grant = courier.grant("exact.bin", "application/octet-stream", 1000).await;
    for size in [999, 1001] {
        let refused = courier
            .post_to_store(
                &grant.url,
                &grant.fields,
                "exact.bin",
                "application/octet-stream",
                &sample_bytes(size),
            )
            .await;
        assert!(refused.status().is_client_error(), "{size}: {}", refused.status());
    }
    assert_eq!(courier.stored_keys(), Vec::<String>::new());
    // The declared size itself goes through.
    let stored = courier
        .post_to_store(
            &grant.url,
            &grant.fields,
            "exact.bin",
            "application/octet-stream",
            &sample_bytes(1000),
        )
        .await;
    assert_eq!(stored.status(), StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn a_content_type_other_than_signed_is_refused() {
    let courier = TestCourier::start().await;
    let grant = courier.grant("photo.png", "image/png", 4).await;
    let mut fields = grant.fields.clone();
    fields.insert("Content-Type".to_owned(), "text/html".to_owned());
    let refused = courier
        .post_to_store(&grant.url, &fields, "photo.png", "text/html", b"<h1>")
        .await;
    assert!(refused.status().is_client_error(), "{}", refused.status());
    assert_eq!(courier.stored_keys(), Vec::<String>::new());
}

#[tokio::test]
async fn types_outside_the_allow_list_are_not_signed() {
    let courier = TestCourier::builder()
        .envs(&[("COURIER_ALLOWED_TYPES", "image/*,application/pdf")])
        .start()
        .await;
    for (content_type, status) in [
        ("image/png", StatusCode::OK),
        ("application/pdf", StatusCode::OK),
        ("text/html", StatusCode::BAD_REQUEST),
        ("", StatusCode::BAD_REQUEST),
        ("application/pdf+x", StatusCode::BAD_REQUEST),
    ] {
        let response = courier.sign_upload("file", content_type, 10).await;
        assert_eq!(response.status(), status, "{content_type:?}");
        if status != StatusCode::OK {
            let body: serde_json::Value = response.json().await.expect("JSON");
            assert!(
                body["error"]
                    .as_str()
                    .is_some_and(|s| s.contains("image/*, application/pdf")),
                "{body}"
            );
        }
    }
    // The page says what is accepted, and the picker offers only that.
    let page = courier
        .http
        .get(&courier.base)
        .send()
        .await
        .expect("page")
        .text()
        .await
        .expect("HTML");
    assert!(page.contains("accept=\"image/*,application/pdf\""), "{page}");
    assert!(page.contains("image/*, application/pdf"), "{page}");
}

#[tokio::test]
async fn an_expired_policy_is_refused_by_the_store() {
    let courier = TestCourier::builder()
        .envs(&[("COURIER_UPLOAD_TTL_SECS", "1")])
        .start()
        .await;
    let grant = courier.grant("late.txt", "text/plain", 4).await;
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let refused = courier
        .post_to_store(&grant.url, &grant.fields, "late.txt", "text/plain", b"late")
        .await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    let body = refused.text().await.expect("body");
    let error = app::store_error::StoreError::parse(&body).expect("an S3 error");
    assert!(error.is_expired_policy(), "{body}");
    assert!(
        error
            .sentence(courier::settings::DEFAULT_MAX_UPLOAD_BYTES)
            .contains("expired")
    );
    assert_eq!(courier.stored_keys(), Vec::<String>::new());
}

#[tokio::test]
async fn an_expired_renewal_token_gets_no_new_link() {
    let courier = TestCourier::builder()
        .envs(&[("COURIER_RENEW_TTL_SECS", "1")])
        .start()
        .await;
    let link = courier.upload("short.txt", "text/plain", b"short").await;
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let refused = courier.sign_download(&link.key, &link.token).await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    let body: serde_json::Value = refused.json().await.expect("JSON");
    assert!(body["error"].as_str().is_some_and(|s| s.contains("expired")), "{body}");
    // The old download link itself still works until its own expiry.
    assert_eq!(courier.download(&link.download_url).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn traversal_and_foreign_keys_are_refused_everywhere() {
    let courier = TestCourier::start().await;
    let link = courier.upload("mine.txt", "text/plain", b"mine").await;
    let prefix = link.key.rsplit_once('/').map(|(p, _)| p).expect("a prefix");
    for key in [
        "../credentials.json".to_owned(),
        "uploads/../credentials.json".to_owned(),
        format!("{prefix}/../../credentials.json"),
        format!("{prefix}/%2e%2e/x"),
        "objects/courier/x".to_owned(),
        String::new(),
    ] {
        let url = format!("{}/confirm-upload", courier.base);
        let response = courier
            .http
            .get(&url)
            .query(&[
                ("token", link.token.as_str()),
                ("bucket", courier.bucket.as_str()),
                ("key", key.as_str()),
            ])
            .header(header::ACCEPT, "application/json")
            .send()
            .await
            .expect("answers");
        assert!(
            matches!(response.status(), StatusCode::BAD_REQUEST | StatusCode::FORBIDDEN),
            "{key}: {}",
            response.status()
        );
        let body: serde_json::Value = response.json().await.expect("JSON");
        assert!(body.get("download_url").is_none(), "{body}");
    }
}

#[tokio::test]
async fn signing_is_rate_limited_per_address() {
    let courier = TestCourier::builder().rate_limited(5).start().await;
    let mut statuses = Vec::new();
    for _ in 0..8 {
        statuses.push(courier.sign_upload("a.txt", "text/plain", 1).await);
    }
    let ok = statuses.iter().filter(|r| r.status() == StatusCode::OK).count();
    assert_eq!(ok, 5, "the burst");
    let limited = statuses
        .into_iter()
        .find(|r| r.status() == StatusCode::TOO_MANY_REQUESTS)
        .expect("a 429");
    let retry_after: u64 = limited.headers()[header::RETRY_AFTER]
        .to_str()
        .expect("ascii")
        .parse()
        .expect("seconds");
    assert!((1..=61).contains(&retry_after), "{retry_after}");
    let body: serde_json::Value = limited.json().await.expect("JSON");
    assert!(
        body["error"]
            .as_str()
            .is_some_and(|s| s.starts_with("Too many requests")),
        "{body}"
    );
    // The confirm route shares the limit and answers a browser with a page.
    let page = courier
        .http
        .get(format!("{}/confirm-upload", courier.base))
        .send()
        .await
        .expect("answers");
    assert_eq!(page.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(page.text().await.expect("HTML").contains("Too many requests"));
    // The page carries a form policy: it shares the limit. Its files do not.
    assert_eq!(
        courier.http.get(&courier.base).send().await.expect("page").status(),
        StatusCode::TOO_MANY_REQUESTS
    );
    assert_ne!(
        courier
            .http
            .get(format!("{}/health", courier.base))
            .send()
            .await
            .expect("health")
            .status(),
        StatusCode::TOO_MANY_REQUESTS
    );
}

#[tokio::test]
async fn a_client_over_its_limit_is_refused_before_its_body_is_read() {
    let courier = TestCourier::builder().rate_limited(1).start().await;
    assert_eq!(
        courier.sign_upload("a.txt", "text/plain", 1).await.status(),
        StatusCode::OK
    );
    // Over the body cap too: the rate limit answers first, so nothing is read.
    let big = courier
        .http
        .post(format!("{}{}", courier.base, Endpoint::SignUpload.path()))
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(vec![b'a'; 100 * 1024])
        .send()
        .await
        .expect("answers");
    assert_eq!(big.status(), StatusCode::TOO_MANY_REQUESTS);
}

/// `sign_upload` as a client behind a proxy: `forwarded` is the
/// `X-Forwarded-For` the request arrives with.
async fn sign_forwarded(courier: &courier_test_support::TestCourier, forwarded: &str) -> StatusCode {
    courier
        .request(&wire::endpoint::sign_upload("a.txt", "text/plain", 1, None))
        .header("x-forwarded-for", forwarded)
        .send()
        .await
        .expect("answers")
        .status()
}

#[tokio::test]
async fn a_forwarded_address_is_ignored_unless_its_proxy_is_trusted() {
    // Every request names another client, but none of them comes through a
    // trusted proxy: all share the peer's allowance.
    let courier = TestCourier::builder().rate_limited(2).start().await;
    let mut statuses = Vec::new();
    for n in 1..=3 {
        statuses.push(sign_forwarded(&courier, &format!("203.0.113.{n}")).await);
    }
    assert_eq!(
        statuses,
        [StatusCode::OK, StatusCode::OK, StatusCode::TOO_MANY_REQUESTS]
    );
}

#[tokio::test]
async fn behind_a_trusted_proxy_each_client_has_its_own_allowance() {
    let courier = TestCourier::builder()
        .envs(&[
            ("COURIER_RATE_LIMIT_PER_MINUTE", "1"),
            ("COURIER_RATE_LIMIT_BURST", "2"),
            ("COURIER_TRUSTED_PROXIES", "127.0.0.1, 10.0.0.0/8"),
        ])
        .start()
        .await;
    let first = "203.0.113.1";
    assert_eq!(sign_forwarded(&courier, first).await, StatusCode::OK);
    // Through a second proxy of ours: the same client.
    assert_eq!(
        sign_forwarded(&courier, &format!("{first}, 10.1.2.3")).await,
        StatusCode::OK
    );
    assert_eq!(sign_forwarded(&courier, first).await, StatusCode::TOO_MANY_REQUESTS);
    // A client cannot escape its allowance by writing an address in front of
    // the one the proxy appends.
    assert_eq!(
        sign_forwarded(&courier, &format!("198.51.100.9, {first}")).await,
        StatusCode::TOO_MANY_REQUESTS
    );
    // Another client behind the same proxy is not held back.
    assert_eq!(sign_forwarded(&courier, "203.0.113.2").await, StatusCode::OK);
}

#[tokio::test]
async fn oversized_request_bodies_are_refused() {
    let courier = TestCourier::start().await;
    let huge = "x".repeat(100 * 1024);
    let response = courier
        .http
        .post(format!("{}{}", courier.base, Endpoint::SignUpload.path()))
        .form(&[
            ("filename", huge.as_str()),
            ("content_type", "text/plain"),
            ("size", "1"),
        ])
        .send()
        .await
        .expect("answers");
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let body: serde_json::Value = response.json().await.expect("JSON");
    assert!(
        body["error"].as_str().is_some_and(|s| s.contains("too large")),
        "{body}"
    );
}

#[tokio::test]
async fn every_response_carries_the_security_headers() {
    let courier = TestCourier::start().await;
    let page = courier.http.get(&courier.base).send().await.expect("page");
    let csp = page.headers()[header::CONTENT_SECURITY_POLICY]
        .to_str()
        .expect("ascii")
        .to_owned();
    let html = page.text().await.expect("HTML");
    let nonce = csp
        .split("'nonce-")
        .nth(1)
        .and_then(|s| s.split('\'').next())
        .expect("a nonce in the CSP");
    assert!(
        html.contains(&format!("nonce=\"{nonce}\"")),
        "the hydration script carries the CSP's nonce"
    );
    assert!(
        csp.contains("'wasm-unsafe-eval'") && csp.contains("frame-ancestors 'none'"),
        "{csp}"
    );
    assert!(csp.contains(&format!("connect-src 'self' {}", courier.store)), "{csp}");
    assert!(csp.contains(&format!("form-action 'self' {}", courier.store)), "{csp}");
    assert!(!csp.contains("unsafe-inline"), "{csp}");

    let link = courier.upload("h.txt", "text/plain", b"h").await;
    let token = query(&link.download_url);
    assert!(token.contains_key("X-Amz-Signature"));
    for url in [
        courier.base.clone(),
        format!("{}/confirm-upload", courier.base),
        format!("{}/health", courier.base),
    ] {
        let response = courier.http.get(&url).send().await.expect("answers");
        let headers = response.headers();
        assert_eq!(headers[header::REFERRER_POLICY], "no-referrer", "{url}");
        assert_eq!(headers[header::X_CONTENT_TYPE_OPTIONS], "nosniff", "{url}");
        assert!(headers.contains_key(header::CONTENT_SECURITY_POLICY), "{url}");
        assert_eq!(headers[header::X_FRAME_OPTIONS], "DENY", "{url}");
        // Each response names its request, for tracing a report to the log.
        let id = headers["x-request-id"].to_str().expect("ascii");
        assert_eq!(id.len(), 36, "a UUID: {id}");
    }
    // The id is always ours: a caller cannot choose or repeat one.
    let chosen = courier
        .http
        .get(format!("{}/health", courier.base))
        .header("x-request-id", "chosen-by-the-caller")
        .send()
        .await
        .expect("answers");
    let id = chosen.headers()["x-request-id"].to_str().expect("ascii");
    assert!(id != "chosen-by-the-caller" && id.len() == 36, "{id}");
}

/// Scripts, styles and WebAssembly are never shown as a page: they carry
/// `nosniff` and no Referer, but not the document-only CSP and framing
/// headers, which browsers ignore on them. Everything else keeps all four.
#[tokio::test]
async fn assets_carry_only_the_headers_that_apply_to_them() {
    let site = tempfile::tempdir().expect("a site root");
    let pkg = site.path().join("pkg");
    std::fs::create_dir(&pkg).expect("pkg");
    for name in [
        "courier.1a2b.js",
        "courier.1a2b.wasm",
        "courier.1a2b.css",
        "notes.1a2b.txt",
    ] {
        std::fs::write(pkg.join(name), b"asset").expect("asset");
    }
    let courier = TestCourier::builder().site(site.path(), "1a2b").start().await;
    for (name, kind) in [
        ("courier.1a2b.js", "text/javascript"),
        ("courier.1a2b.wasm", "application/wasm"),
        ("courier.1a2b.css", "text/css"),
    ] {
        let response = courier.get_as(&format!("{}/pkg/{name}", courier.base), "*/*").await;
        let headers = response.headers();
        assert_eq!(response.status(), StatusCode::OK, "{name}");
        assert!(
            headers[header::CONTENT_TYPE].to_str().expect("ascii").starts_with(kind),
            "{name}"
        );
        assert_eq!(headers[header::X_CONTENT_TYPE_OPTIONS], "nosniff", "{name}");
        assert_eq!(headers[header::REFERRER_POLICY], "no-referrer", "{name}");
        assert!(!headers.contains_key(header::CONTENT_SECURITY_POLICY), "{name}");
        assert!(!headers.contains_key(header::X_FRAME_OPTIONS), "{name}");
    }
    // A file a browser would show, and the 404 page: all of them.
    for url in [
        format!("{}/pkg/notes.1a2b.txt", courier.base),
        format!("{}/pkg/courier.0000.js", courier.base),
        courier.base.clone(),
    ] {
        let response = courier.get_as(&url, "*/*").await;
        let headers = response.headers();
        assert_eq!(headers[header::X_FRAME_OPTIONS], "DENY", "{url}");
        assert!(
            headers[header::CONTENT_SECURITY_POLICY]
                .to_str()
                .expect("ascii")
                .contains("frame-ancestors 'none'"),
            "{url}"
        );
        assert_eq!(headers[header::X_CONTENT_TYPE_OPTIONS], "nosniff", "{url}");
    }
}

#[tokio::test]
async fn html_in_a_file_name_is_shown_as_text() {
    let courier = TestCourier::start().await;
    // Browsers never put a path separator in a file name, so the probe has none.
    let name = "<img src=x onerror=alert(1)>.txt";
    let grant = courier.grant(name, "text/plain", 2).await;
    let stored = courier
        .post_to_store(&grant.url, &grant.fields, name, "text/plain", b"hi")
        .await;
    let page = courier
        .get_as(&courier_test_support::location(&stored), "text/html")
        .await;
    let html = page.text().await.expect("HTML");
    assert!(!html.contains("<img src=x"), "{html}");
    assert!(html.contains("&lt;img src=x onerror=alert(1)&gt;.txt"), "{html}");
}
