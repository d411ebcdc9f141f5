//! `GET /confirm-upload`: every refusal is a clear sentence, as JSON or HTML.

use reqwest::{StatusCode, header};

use courier_test_support::{TestCourier, query};

#[tokio::test]
async fn refusals_come_in_the_format_asked_for() {
    let courier = TestCourier::start().await;
    let link = courier.upload("kept.txt", "text/plain", b"kept").await;
    let other = courier.upload("other.txt", "text/plain", b"other").await;
    let never_uploaded = "uploads/0b6e2cf0-9d7e-4d8e-8f7a-3a3e0e8f9b11/ghost.txt";
    // A valid upload token for a key that holds no object.
    let ghost_grant = courier.grant("ghost.txt", "text/plain", 5).await;
    let ghost_token = query(&ghost_grant.fields["success_action_redirect"])["token"].clone();

    let bucket = courier.bucket.clone();
    let cases: Vec<(String, StatusCode)> = vec![
        (String::new(), StatusCode::BAD_REQUEST),
        (format!("bucket={bucket}&key={}", link.key), StatusCode::BAD_REQUEST),
        (
            format!("token={}&bucket=someone-else&key={}", link.token, link.key),
            StatusCode::BAD_REQUEST,
        ),
        (
            format!("token={}&bucket={bucket}&key=secrets/passwords.txt", link.token),
            StatusCode::BAD_REQUEST,
        ),
        (
            format!("token=garbage&bucket={bucket}&key={}", link.key),
            StatusCode::FORBIDDEN,
        ),
        (
            format!("token={}&bucket={bucket}&key={}", link.token, other.key),
            StatusCode::FORBIDDEN,
        ),
        (
            format!("token={}&bucket={bucket}&key={never_uploaded}", link.token),
            StatusCode::FORBIDDEN,
        ),
        (
            format!("token={ghost_token}&bucket={bucket}&key={}", ghost_grant.key),
            StatusCode::NOT_FOUND,
        ),
    ];
    for (query, status) in cases {
        let url = format!("{}/confirm-upload?{query}", courier.base);
        let json = courier.get_as(&url, "application/json").await;
        assert_eq!(json.status(), status, "{query}");
        assert_eq!(json.headers()[header::ACCESS_CONTROL_ALLOW_ORIGIN], "*");
        let body: serde_json::Value = json.json().await.expect("JSON");
        let sentence = body["error"].as_str().expect("a sentence").to_owned();
        assert!(sentence.ends_with('.'), "{sentence}");

        let html = courier.get_as(&url, "text/html").await;
        assert_eq!(html.status(), status, "{query}");
        assert!(
            html.headers()[header::CONTENT_TYPE]
                .to_str()
                .expect("ascii")
                .starts_with("text/html")
        );
        let page = html.text().await.expect("page");
        assert!(page.contains(&html_escape(&sentence)), "{page}");
    }
}

#[tokio::test]
async fn a_plain_browser_gets_a_page_with_the_link() {
    let courier = TestCourier::start().await;
    let grant = courier.grant("page.txt", "text/plain", 4).await;
    let stored = courier
        .post_to_store(&grant.url, &grant.fields, "page.txt", "text/plain", b"page")
        .await;
    let location = courier_test_support::location(&stored);
    let page = courier.get_as(&location, "text/html,application/xhtml+xml").await;
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.expect("page");
    assert!(html.contains("page.txt") && html.contains("4 bytes"), "{html}");
    let href = html
        .split("class=\"download-link\"")
        .next()
        .and_then(|before| before.rsplit("href=\"").next())
        .expect("a link");
    let href = href.split('"').next().expect("an href").replace("&amp;", "&");
    assert_eq!(courier.downloaded_bytes(&href).await.as_slice(), b"page");
}

fn html_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#x27;")
}

#[tokio::test]
async fn the_followed_redirect_may_be_preflighted() {
    // An upload with progress events is preflighted, and so is the GET that
    // follows the store's 303 here, from the opaque origin `null`.
    let courier = TestCourier::start().await;
    let response = courier
        .http
        .request(
            reqwest::Method::OPTIONS,
            format!("{}/confirm-upload?token=x", courier.base),
        )
        .header(header::ORIGIN, "null")
        .header("access-control-request-method", "GET")
        .send()
        .await
        .expect("answers");
    assert!(response.status().is_success(), "{}", response.status());
    assert_eq!(response.headers()[header::ACCESS_CONTROL_ALLOW_ORIGIN], "*");
    assert!(
        response.headers()[header::ACCESS_CONTROL_ALLOW_METHODS]
            .to_str()
            .expect("ascii")
            .contains("GET")
    );
}
