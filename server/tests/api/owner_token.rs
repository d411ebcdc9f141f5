//! The owner token (new links, delete) goes only with the first
//! confirmation of an upload and its retries soon after: the store's 303
//! `Location`, which a browser's history keeps, must not yield it later.
//! The plain form's page puts it in no URL: its "New link" is a POST.

use std::time::Duration;

use reqwest::{StatusCode, header};

use courier_test_support::{TestCourier, location, query};

/// Short enough for a test to wait past it.
const WINDOW: (&str, &str) = ("COURIER_OWNER_TOKEN_WINDOW_SECS", "1");
/// Past the window, whatever second the copy's date was cut to.
const PAST_THE_WINDOW: Duration = Duration::from_millis(2_200);

/// Uploads through the plain form (as a browser with JavaScript off); the
/// store's 303 `Location`, with the page's upload token in it.
async fn plain_upload(courier: &TestCourier, name: &str, bytes: &[u8]) -> String {
    let (action, fields) = courier.page_form().await;
    let stored = courier.post_to_store(&action, &fields, name, "text/plain", bytes).await;
    assert_eq!(stored.status(), StatusCode::SEE_OTHER);
    location(&stored)
}

/// Every value of `attribute` in `html`, unescaped as a browser reads it.
fn attribute_values(html: &str, attribute: &str) -> Vec<String> {
    html.split(&format!(" {attribute}=\""))
        .skip(1)
        .map(|rest| rest.split('"').next().unwrap_or_default().replace("&amp;", "&"))
        .collect()
}

/// The "New link" form's action and its key and token fields.
fn new_link_form(html: &str) -> (String, String, String) {
    let form = html
        .split("<form")
        .nth(1)
        .and_then(|rest| rest.split("</form>").next())
        .unwrap_or_else(|| panic!("a New link form: {html}"));
    assert!(form.contains("method=\"post\""), "{form}");
    assert!(form.contains("New link"), "{form}");
    let action = attribute_values(form, "action").pop().expect("an action");
    let field = |name: &str| {
        form.split(&format!("name=\"{name}\""))
            .nth(1)
            .map(|rest| attribute_values(rest, "value").swap_remove(0))
            .unwrap_or_else(|| panic!("a {name} field: {form}"))
    };
    (action, field("key"), field("token"))
}

#[tokio::test]
async fn a_confirmation_replayed_after_the_window_gives_the_link_and_no_owner_token() {
    let courier = TestCourier::builder().envs(&[WINDOW]).start().await;
    let bytes = b"kept private";
    let replayable = plain_upload(&courier, "diary.txt", bytes).await;

    // The first confirmation, and a retry straight after: the owner token.
    let first: serde_json::Value = courier
        .get_as(&replayable, "application/json")
        .await
        .json()
        .await
        .expect("a link");
    let owner = first["token"].as_str().expect("the owner token").to_owned();
    assert!(owner.starts_with("r."), "{owner}");
    let key = first["key"].as_str().expect("a key").to_owned();

    // Replayed later from the browser's history: the link, and nothing else.
    tokio::time::sleep(PAST_THE_WINDOW).await;
    let replayed = courier.get_as(&replayable, "application/json").await;
    assert_eq!(replayed.status(), StatusCode::OK);
    let replayed: serde_json::Value = replayed.json().await.expect("a link");
    assert!(replayed.get("token").is_none(), "{replayed}");
    assert_eq!(replayed["key"], first["key"]);
    let url = replayed["download_url"].as_str().expect("a download URL");
    assert_eq!(courier.downloaded_bytes(url).await, bytes);
    // As a page: the link, no "New link", and the owner token nowhere.
    let page = courier
        .get_as(&replayable, "text/html")
        .await
        .text()
        .await
        .expect("a page");
    assert!(
        page.contains("diary.txt") && page.contains("class=\"download-link\""),
        "{page}"
    );
    assert!(!page.contains("New link") && !page.contains(&owner), "{page}");
    // The upload token asked through the API, as the page's retry asks.
    let (upload_key, upload_token) = (query(&replayable)["key"].clone(), query(&replayable)["token"].clone());
    let asked = courier.sign_download(&upload_key, &upload_token).await;
    assert!(!asked.status().is_server_error(), "{}", asked.status());
    let asked: serde_json::Value = asked.json().await.expect("JSON");
    assert!(asked.get("token").is_none(), "{asked}");

    // Nothing a replay gave, nor the upload token, deletes the file.
    let mut tried: Vec<String> = vec![upload_token];
    for answer in [&replayed, &asked] {
        let object = answer.as_object().expect("an object");
        tried.extend(object.values().filter_map(|v| v.as_str()).map(str::to_owned));
    }
    for token in &tried {
        for key in [&key, &upload_key] {
            let refused = courier.delete_upload(key, token).await;
            assert!(
                refused.status().is_client_error(),
                "{key} {token}: {}",
                refused.status()
            );
        }
    }
    assert_eq!(courier.downloaded_bytes(url).await, bytes);
    // The first confirmation's token still does.
    assert_eq!(courier.delete_upload(&key, &owner).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn the_confirm_page_puts_no_token_in_a_url_and_its_new_link_posts_it() {
    let courier = TestCourier::builder().envs(&[]).start().await;
    let bytes = b"page bytes";
    let confirm_url = plain_upload(&courier, "plain.txt", bytes).await;
    let page = courier.get_as(&confirm_url, "text/html").await;
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.expect("a page");
    let (action, key, token) = new_link_form(&html);
    assert!(token.starts_with("r."), "{token}");
    for url in ["href", "action", "src"]
        .iter()
        .flat_map(|attribute| attribute_values(&html, attribute))
    {
        assert!(!url.contains("token") && !url.contains(&token), "{url}");
    }

    // "New link", as a browser without JavaScript sends it.
    let renewed = courier
        .http
        .post(format!("{}{action}", courier.base))
        .header(header::ACCEPT, "text/html")
        .form(&[("key", key.as_str()), ("token", token.as_str())])
        .send()
        .await
        .expect("Courier answers");
    assert_eq!(renewed.status(), StatusCode::OK);
    assert_eq!(renewed.headers()[header::CACHE_CONTROL], "no-store");
    assert!(
        renewed.headers()[header::CONTENT_TYPE]
            .to_str()
            .expect("ascii")
            .starts_with("text/html")
    );
    let html = renewed.text().await.expect("a page");
    let download = attribute_values(&html, "href")
        .into_iter()
        .find(|href| href.starts_with(&courier.store))
        .unwrap_or_else(|| panic!("a download link: {html}"));
    assert_eq!(courier.downloaded_bytes(&download).await, bytes);
    // The new page offers "New link" again, still in a form.
    assert_eq!(new_link_form(&html), (action.clone(), key.clone(), token.clone()));

    // Without a token, or with the upload token's key and a forged one: refused, as a page.
    for (key, token, status) in [
        (key.as_str(), "", StatusCode::BAD_REQUEST),
        (key.as_str(), "r.1.AAAA", StatusCode::FORBIDDEN),
    ] {
        let refused = courier
            .http
            .post(format!("{}{action}", courier.base))
            .header(header::ACCEPT, "text/html")
            .form(&[("key", key), ("token", token)])
            .send()
            .await
            .expect("Courier answers");
        assert_eq!(refused.status(), status, "{token}");
        assert_eq!(refused.headers()[header::CACHE_CONTROL], "no-store");
    }
}

#[tokio::test]
async fn new_link_posts_are_rate_limited_like_the_signing_routes() {
    // The page, its confirmation, then "New link" until the burst is spent.
    let courier = TestCourier::builder().rate_limited(4).start().await;
    let confirm_url = plain_upload(&courier, "limited.txt", b"x").await;
    let html = courier
        .get_as(&confirm_url, "text/html")
        .await
        .text()
        .await
        .expect("a page");
    let (action, key, token) = new_link_form(&html);
    let mut statuses = Vec::new();
    for _ in 0..3 {
        let answer = courier
            .http
            .post(format!("{}{action}", courier.base))
            .form(&[("key", key.as_str()), ("token", token.as_str())])
            .send()
            .await
            .expect("Courier answers");
        statuses.push(answer.status());
    }
    assert_eq!(
        statuses,
        [StatusCode::OK, StatusCode::OK, StatusCode::TOO_MANY_REQUESTS]
    );
}

#[tokio::test]
async fn a_confirmation_replayed_after_a_secret_rotation_finds_the_file() {
    const OLD: &str = "the-secret-before-the-rotation-0123456789";
    const NEW: &str = "the-secret-after-the-rotation-0123456789";
    let before = TestCourier::builder().envs(&[("COURIER_SECRET", OLD)]).start().await;
    let bytes = b"confirmed before the rotation";
    let replayable = plain_upload(&before, "before.txt", bytes).await;
    let first = before.get_as(&replayable, "application/json").await;
    assert_eq!(first.status(), StatusCode::OK);
    let first: serde_json::Value = first.json().await.expect("a link");

    // Another instance on the same store, redeployed with the new secret.
    let rotated = TestCourier::builder()
        .store_data_in(before.data_dir.path())
        .envs(&[("COURIER_SECRET", NEW), ("COURIER_SECRET_PREVIOUS", OLD), WINDOW])
        .start()
        .await;
    tokio::time::sleep(PAST_THE_WINDOW).await;
    let (_, confirmation) = replayable.split_once("/confirm-upload").expect("a confirmation URL");
    let replayed = rotated
        .get_as(
            &format!("{}/confirm-upload{confirmation}", rotated.base),
            "application/json",
        )
        .await;
    assert_eq!(replayed.status(), StatusCode::OK);
    let replayed: serde_json::Value = replayed.json().await.expect("a link");
    assert_eq!(replayed["key"], first["key"]);
    assert!(replayed.get("token").is_none(), "{replayed}");
    let url = replayed["download_url"].as_str().expect("a download URL");
    assert_eq!(rotated.downloaded_bytes(url).await, bytes);
}
