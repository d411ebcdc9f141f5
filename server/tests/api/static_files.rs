//! The site's static files: a directory is not found, never redirected (a
//! redirect to `//pkg/` would send a browser to the host `pkg`).

use reqwest::{StatusCode, header};

use courier_test_support::TestCourier;

#[tokio::test]
async fn directories_are_not_found_and_never_redirected_off_site() {
    let site = tempfile::tempdir().expect("a site root");
    let pkg = site.path().join("pkg");
    std::fs::create_dir(&pkg).expect("pkg");
    std::fs::write(pkg.join("courier.js"), b"script").expect("a script");
    let courier = TestCourier::builder()
        .envs(&[("LEPTOS_SITE_ROOT", &site.path().display().to_string())])
        .start()
        .await;

    for path in ["//pkg", "/pkg", "/pkg/", "//pkg/", "///pkg"] {
        let response = courier.get_as(&format!("{}{path}", courier.base), "text/html").await;
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{path}");
        assert!(response.headers().get(header::LOCATION).is_none(), "{path}");
        assert_eq!(response.headers()[header::CACHE_CONTROL], "no-store", "{path}");
    }
    // The files themselves are still served.
    let script = courier.get_as(&format!("{}/pkg/courier.js", courier.base), "*/*").await;
    assert_eq!(script.status(), StatusCode::OK);
}
