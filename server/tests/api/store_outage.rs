//! The store goes away and comes back: at signing, while uploading, when
//! confirming, when renewing and deleting. Each step says so in a sentence
//! that says retrying is safe, and retrying works once the store is back.
//! Courier reaches a real embedded store through a switch (a TCP relay the
//! test turns off, and on again), exactly as the uploader reaches it.

use std::time::Instant;

use app::model::{DownloadLink, UploadGrant};
use reqwest::multipart::{Form, Part};
use reqwest::{StatusCode, header};
use tokio::net::{TcpListener, TcpStream};

use courier_test_support::{TestCourier, location, md5_hex, sample_bytes};

/// What the switch does with a connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Store {
    /// Relayed to the store.
    Up,
    /// Closed at once, as a machine that is gone resets it.
    Down,
    /// Accepted and never answered, as a store that hangs does.
    Hung,
}

/// A TCP relay in front of the store that the test turns off and on;
/// turning it off also cuts the connections it relays (clients keep theirs
/// open between requests).
struct Switch {
    addr: std::net::SocketAddr,
    state: tokio::sync::watch::Sender<Store>,
}

impl Switch {
    async fn in_front_of(store: std::net::SocketAddr) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("a port");
        let addr = listener.local_addr().expect("addr");
        let (state, watching) = tokio::sync::watch::channel(Store::Up);
        tokio::spawn(async move {
            loop {
                let Ok((mut client, _)) = listener.accept().await else {
                    return;
                };
                let mut watching = watching.clone();
                let now = *watching.borrow_and_update();
                tokio::spawn(async move {
                    match now {
                        Store::Up => {
                            let Ok(mut upstream) = TcpStream::connect(store).await else {
                                return;
                            };
                            tokio::select! {
                                _ = tokio::io::copy_bidirectional(&mut client, &mut upstream) => {}
                                _ = watching.wait_for(|s| *s != Store::Up) => {}
                            }
                        }
                        Store::Down => {}
                        Store::Hung => {
                            let _ = watching.wait_for(|s| *s == Store::Up).await;
                        }
                    }
                });
            }
        });
        Self { addr, state }
    }

    fn set(&self, store: Store) {
        self.state.send_replace(store);
    }
}

/// Courier on an external store (a real embedded store, run by `store`)
/// reached through a switch; the browser's uploads go through it too.
async fn courier_behind_a_switch() -> (TestCourier, Switch, TestCourier) {
    let store = TestCourier::start().await;
    let store_addr = store
        .store
        .trim_start_matches("http://")
        .parse()
        .expect("the store's address");
    let switch = Switch::in_front_of(store_addr).await;
    let credentials: serde_json::Value = serde_json::from_slice(
        &std::fs::read(store.data_dir.path().join("credentials.json")).expect("the store's credentials"),
    )
    .expect("JSON");
    let vars = [
        ("COURIER_BUCKET", "courier".to_owned()),
        ("COURIER_SECRET", "store-outage-test-secret-0123456789abcdef".to_owned()),
        ("COURIER_S3_FORCE_PATH_STYLE", "true".to_owned()),
        ("AWS_REGION", "us-east-1".to_owned()),
        ("AWS_ENDPOINT_URL_S3", format!("http://{}", switch.addr)),
        (
            "AWS_ACCESS_KEY_ID",
            credentials["access_key_id"].as_str().expect("key").to_owned(),
        ),
        (
            "AWS_SECRET_ACCESS_KEY",
            credentials["secret_access_key"].as_str().expect("secret").to_owned(),
        ),
    ];
    let vars: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let courier = TestCourier::builder().configured_store().envs(&vars).start().await;
    (courier, switch, store)
}

/// The browser's POST to the store; `Err` when no answer came.
async fn post(courier: &TestCourier, grant: &UploadGrant, bytes: &[u8]) -> Result<reqwest::Response, reqwest::Error> {
    let mut form = Form::new();
    for (name, value) in &grant.fields {
        form = form.text(name.to_owned(), value.to_owned());
    }
    let part = Part::bytes(bytes.to_vec())
        .file_name("notes.txt")
        .mime_str("text/plain")?;
    courier
        .http
        .post(&grant.url)
        .header(header::ORIGIN, &courier.base)
        .multipart(form.part("file", part))
        .send()
        .await
}

/// The upload token in a grant's redirect.
fn upload_token(grant: &UploadGrant) -> String {
    let redirect = &grant.fields["success_action_redirect"];
    redirect.split_once("token=").expect("a token").1.to_owned()
}

/// A refusal that must say the store could not be reached and that retrying is safe.
async fn assert_says_retrying_is_safe(response: reqwest::Response, step: &str) {
    assert_eq!(response.status(), StatusCode::BAD_GATEWAY, "{step}");
    let body: serde_json::Value = response.json().await.expect("JSON");
    let sentence = body["error"].as_str().unwrap_or_default();
    assert!(
        sentence.contains("could not be reached") || sentence.contains("did not answer"),
        "{step}: {sentence}"
    );
    assert!(sentence.contains("retrying is safe"), "{step}: {sentence}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_step_says_the_store_is_gone_and_retrying_works_once_it_is_back() {
    let (courier, switch, _store) = courier_behind_a_switch().await;
    let bytes = sample_bytes(5000);

    // Signing needs no store: the grant comes, the upload cannot go.
    switch.set(Store::Down);
    let grant = courier.grant("notes.txt", "text/plain", bytes.len() as u64).await;
    assert!(post(&courier, &grant, &bytes).await.is_err(), "the store is gone");
    // What the page asks next (did the file arrive?) is answered in a sentence.
    let asked = courier.sign_download(&grant.key, &upload_token(&grant)).await;
    assert_says_retrying_is_safe(asked, "asking after the upload").await;

    // Back: the same question has a true answer (nothing arrived), and the
    // retry (a new grant, as the page's Retry does) goes through.
    switch.set(Store::Up);
    let asked = courier.sign_download(&grant.key, &upload_token(&grant)).await;
    assert_eq!(asked.status(), StatusCode::NOT_FOUND);
    let grant = courier.grant("notes.txt", "text/plain", bytes.len() as u64).await;
    let stored = post(&courier, &grant, &bytes).await.expect("the store is back");
    assert_eq!(stored.status(), StatusCode::SEE_OTHER);

    // Gone between the store's redirect and the confirmation.
    switch.set(Store::Down);
    let confirm_url = location(&stored);
    let confirming = || async {
        courier
            .http
            .get(&confirm_url)
            .header(header::ACCEPT, "application/json")
            .send()
            .await
            .expect("Courier answers")
    };
    let refused = confirming().await;
    // A fault on our side names its request, so a report can be traced to the log.
    let id = refused.headers()["x-request-id"].to_str().expect("ascii").to_owned();
    let body: serde_json::Value = refused.json().await.expect("JSON");
    assert_eq!(
        body["error"],
        format!(
            "The storage could not be reached to check the file. Nothing is lost: try again in a moment (retrying is safe). (request {})",
            &id[..8]
        )
    );
    assert_says_retrying_is_safe(confirming().await, "confirming").await;
    switch.set(Store::Up);
    let confirmed = confirming().await;
    assert_eq!(confirmed.status(), StatusCode::OK);
    let link: DownloadLink = confirmed.json().await.expect("a link");
    assert_eq!(
        (link.size, link.etag.as_str()),
        (bytes.len() as u64, md5_hex(&bytes).as_str())
    );
    assert_eq!(courier.downloaded_bytes(&link.download_url).await, bytes);

    // "New link" and Delete, with the store gone, then back.
    switch.set(Store::Down);
    let renewed = courier.sign_download(&link.key, &link.token).await;
    assert_says_retrying_is_safe(renewed, "a new link").await;
    let deleted = courier.delete_upload(&link.key, &link.token).await;
    assert_says_retrying_is_safe(deleted, "deleting").await;
    switch.set(Store::Up);
    let renewed = courier.sign_download(&link.key, &link.token).await;
    assert_eq!(renewed.status(), StatusCode::OK);
    let renewed: DownloadLink = renewed.json().await.expect("a link");
    assert_eq!(courier.downloaded_bytes(&renewed.download_url).await, bytes);
    let deleted = courier.delete_upload(&link.key, &link.token).await;
    assert_eq!(deleted.status(), StatusCode::OK);
    assert_eq!(
        courier.download(&renewed.download_url).await.status(),
        StatusCode::NOT_FOUND
    );

    // A refusal the person can act on names no request.
    let refused = courier.sign_upload("empty.txt", "text/plain", 0).await;
    let body: serde_json::Value = refused.json().await.expect("JSON");
    assert_eq!(body["error"], "The file is empty. Choose a file with something in it.");
}

/// A store that takes connections and never answers is given up on, with
/// the same sentence, instead of holding the person's request for good.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_that_never_answers_is_given_up_on() {
    let (courier, switch, _store) = courier_behind_a_switch().await;
    let bytes = sample_bytes(100);
    let link = courier.upload("notes.txt", "text/plain", &bytes).await;
    switch.set(Store::Hung);
    let asked = Instant::now();
    let renewed = tokio::time::timeout(signer::CALL_TIMEOUT * 3, courier.sign_download(&link.key, &link.token))
        .await
        .expect("Courier gives up on the store in time");
    let waited = asked.elapsed();
    assert_says_retrying_is_safe(renewed, "a new link from a hung store").await;
    // Bounded by Courier's own limit on a store call, not by the client.
    assert!(waited >= signer::CALL_ATTEMPT_TIMEOUT, "{waited:?}");
    switch.set(Store::Up);
    assert_eq!(
        courier.sign_download(&link.key, &link.token).await.status(),
        StatusCode::OK
    );
}
