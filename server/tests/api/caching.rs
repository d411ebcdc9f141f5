//! What browsers may keep: hashed assets for good (a repeat visit fetches no
//! asset bytes), compressed when the browser accepts it; anything signed,
//! never.

use reqwest::{StatusCode, header};

use courier_test_support::TestCourier;

/// A site root like a release build's: a hashed wasm with its brotli and
/// gzip copies.
fn hashed_site() -> tempfile::TempDir {
    let root = tempfile::tempdir().expect("a site root");
    let pkg = root.path().join("pkg");
    std::fs::create_dir(&pkg).expect("pkg");
    std::fs::write(pkg.join("courier.0f1e2d3c.wasm"), b"raw wasm bytes").expect("wasm");
    std::fs::write(pkg.join("courier.0f1e2d3c.wasm.br"), b"brotli bytes").expect("br");
    std::fs::write(pkg.join("courier.0f1e2d3c.wasm.gz"), b"gzip bytes").expect("gz");
    std::fs::write(pkg.join("__wasm_split.5a6b7c8d.js"), b"loader").expect("split loader");
    std::fs::write(root.path().join("favicon.ico"), b"icon").expect("favicon");
    root
}

#[tokio::test]
async fn hashed_assets_are_immutable_and_sent_compressed() {
    let site = hashed_site();
    let courier = TestCourier::builder().site(site.path(), "0f1e2d3c").start().await;
    let url = format!("{}/pkg/courier.0f1e2d3c.wasm", courier.base);
    for (accept, encoding, body) in [
        ("br, gzip", Some("br"), "brotli bytes"),
        ("gzip", Some("gzip"), "gzip bytes"),
        ("identity", None, "raw wasm bytes"),
    ] {
        let response = courier
            .http
            .get(&url)
            .header(header::ACCEPT_ENCODING, accept)
            .send()
            .await
            .expect("asset");
        assert_eq!(response.status(), StatusCode::OK, "{accept}");
        assert_eq!(
            response.headers()[header::CACHE_CONTROL],
            "public, max-age=31536000, immutable"
        );
        assert_eq!(
            response
                .headers()
                .get(header::CONTENT_ENCODING)
                .map(|v| v.to_str().expect("ascii")),
            encoding
        );
        assert_eq!(response.headers()[header::VARY], "accept-encoding");
        assert_eq!(response.text().await.expect("body"), body);
    }
    // The split bundle's loader too (named by its final content at build).
    let loader = courier
        .get_as(&format!("{}/pkg/__wasm_split.5a6b7c8d.js", courier.base), "*/*")
        .await;
    assert_eq!(loader.status(), StatusCode::OK);
    assert_eq!(
        loader.headers()[header::CACHE_CONTROL],
        "public, max-age=31536000, immutable"
    );
    // Outside /pkg/, and a name no build made: never kept for good.
    let favicon = courier.get_as(&format!("{}/favicon.ico", courier.base), "*/*").await;
    assert_eq!(favicon.headers()[header::CACHE_CONTROL], "no-cache");
    let stale = courier
        .get_as(&format!("{}/pkg/courier.00000000.wasm", courier.base), "*/*")
        .await;
    assert_eq!(stale.status(), StatusCode::NOT_FOUND);
    assert_eq!(stale.headers()[header::CACHE_CONTROL], "no-store");
}

#[tokio::test]
async fn unhashed_assets_are_revalidated() {
    let site = hashed_site();
    let root = site.path().display().to_string();
    let courier = TestCourier::builder()
        .envs(&[("LEPTOS_SITE_ROOT", &root), ("LEPTOS_HASH_FILES", "false")])
        .start()
        .await;
    let asset = courier
        .get_as(&format!("{}/pkg/courier.0f1e2d3c.wasm", courier.base), "*/*")
        .await;
    assert_eq!(asset.status(), StatusCode::OK);
    assert_eq!(asset.headers()[header::CACHE_CONTROL], "no-cache");
}

#[tokio::test]
async fn nothing_signed_is_ever_stored() {
    let courier = TestCourier::start().await;
    // The page carries a signed form policy and its per-page prefix. It is
    // sent compressed: brotli to browsers that take it, else gzip.
    for (accepted, encoding) in [("gzip", "gzip"), ("gzip, deflate, br, zstd", "br")] {
        let page = courier
            .http
            .get(format!("{}/", courier.base))
            .header(header::ACCEPT_ENCODING, accepted)
            .send()
            .await
            .expect("the page");
        assert_eq!(page.status(), StatusCode::OK);
        assert_eq!(page.headers()[header::CACHE_CONTROL], "no-store");
        assert_eq!(page.headers()[header::CONTENT_ENCODING], encoding);
        assert_eq!(page.headers()[header::VARY], "accept-encoding");
        assert!(page.bytes().await.expect("a body").len() > 100);
    }
    let grant = courier.sign_upload("a.txt", "text/plain", 3).await;
    assert_eq!(grant.status(), StatusCode::OK);
    assert_eq!(grant.headers()[header::CACHE_CONTROL], "no-store");
    let link = courier.upload("b.txt", "text/plain", b"abc").await;
    let renewed = courier
        .get_as(
            &format!(
                "{}/confirm-upload?token={}&bucket={}&key={}",
                courier.base, link.token, courier.bucket, link.key
            ),
            "application/json",
        )
        .await;
    assert_eq!(renewed.status(), StatusCode::OK);
    assert_eq!(renewed.headers()[header::CACHE_CONTROL], "no-store");
}
