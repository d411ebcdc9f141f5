//! The no-JavaScript path: the form in `GET /` posts straight to the store.

use reqwest::StatusCode;

use courier_test_support::{TestCourier, location, query};

#[tokio::test]
async fn the_page_form_uploads_without_javascript() {
    let courier = TestCourier::start().await;
    let (action, fields) = courier.page_form().await;
    assert_eq!(action, format!("{}/{}", courier.store, courier.bucket));
    assert!(fields["key"].ends_with("/${filename}"), "{fields:?}");

    let stored = courier
        .post_to_store(&action, &fields, "Holiday photo.jpg", "image/jpeg", b"jpeg bytes")
        .await;
    assert_eq!(stored.status(), StatusCode::SEE_OTHER);
    let target = location(&stored);
    let key = query(&target)["key"].clone();
    // The store put the file's own name in place of ${filename}.
    assert_eq!(key, fields["key"].replace("${filename}", "Holiday photo.jpg"));

    let page = courier.get_as(&target, "text/html").await;
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.expect("HTML");
    assert!(html.contains("Holiday photo.jpg"), "{html}");
    // Its "New link" posts the file's key and renewal token (in the body,
    // never in a URL) and gets a fresh link.
    let field = |name: &str| {
        html.split(&format!("name=\"{name}\" value=\""))
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .unwrap_or_else(|| panic!("a New link form with {name}: {html}"))
            .replace("&amp;", "&")
    };
    assert!(html.contains("<form method=\"post\" action=\"/new-link\""), "{html}");
    let renewed = courier
        .http
        .post(format!("{}/new-link", courier.base))
        .header(reqwest::header::ACCEPT, "application/json")
        .form(&[("key", field("key")), ("token", field("token"))])
        .send()
        .await
        .expect("Courier answers");
    assert_eq!(renewed.status(), StatusCode::OK);
    let renewed: app::model::DownloadLink = renewed.json().await.expect("a link");
    assert_eq!(
        courier.downloaded_bytes(&renewed.download_url).await.as_slice(),
        b"jpeg bytes"
    );

    let json = courier.get_as(&target, "application/json").await;
    let link: app::model::DownloadLink = json.json().await.expect("a link");
    assert_eq!(link.filename, "Holiday photo.jpg");
    assert_eq!(
        courier.downloaded_bytes(&link.download_url).await.as_slice(),
        b"jpeg bytes"
    );
}

#[tokio::test]
async fn one_page_form_stores_one_file() {
    let courier = TestCourier::start().await;
    let (action, fields) = courier.page_form().await;
    let first = courier
        .post_to_store(&action, &fields, "one.txt", "text/plain", b"one")
        .await;
    assert_eq!(first.status(), StatusCode::SEE_OTHER);
    // The same policy again, for another name: the grant was used.
    let second = courier
        .post_to_store(&action, &fields, "two.txt", "text/plain", b"two")
        .await;
    assert_eq!(second.status(), StatusCode::FORBIDDEN);
    let body = second.text().await.expect("body");
    assert!(
        body.contains("already used") && body.contains("Reload the page"),
        "{body}"
    );
    let prefix = fields["key"].trim_end_matches("${filename}").to_owned();
    assert_eq!(courier.stored_keys(), vec![format!("{prefix}one.txt")]);
}

#[tokio::test]
async fn the_form_cannot_reach_outside_its_prefix() {
    let courier = TestCourier::start().await;
    let (action, mut fields) = courier.page_form().await;
    fields.insert(
        "key".to_owned(),
        "uploads/0b6e2cf0-9d7e-4d8e-8f7a-3a3e0e8f9b11/${filename}".to_owned(),
    );
    let refused = courier
        .post_to_store(&action, &fields, "x.txt", "text/plain", b"x")
        .await;
    assert!(refused.status().is_client_error(), "{}", refused.status());
    assert_eq!(courier.stored_keys(), Vec::<String>::new());
}
