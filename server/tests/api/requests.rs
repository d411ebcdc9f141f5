//! File requests: a link whoever may upload makes, through which someone
//! without upload access uploads into the maker's share, within a file
//! count, a size and a time; the maker sees the files arrive and closes it.

use reqwest::StatusCode;
use wire::endpoint;
use wire::{DownloadLink, MultipartGrant, RequestLink, RequestRef, RequestRules, UploadGrant};

use courier_test_support::{TestCourier, location, sample_bytes};

use crate::access::{refusal, send};

const PASSWORD: &str = "correct horse battery staple";

/// A Courier where uploading needs the password, and an API token its
/// maker uses (`Authorization`).
async fn locked_courier() -> (TestCourier, String) {
    let courier = TestCourier::builder()
        .envs(&[
            ("COURIER_UPLOAD_ACCESS", "password"),
            ("COURIER_UPLOAD_PASSWORD", PASSWORD),
        ])
        .start()
        .await;
    let database = courier_shares::DatabaseConfig::from_setting(None, courier.data_dir.path()).expect("SQLite");
    let made = courier::commands::token(&database, &["create".to_owned(), "maker".to_owned()])
        .await
        .expect("a token");
    let bearer = format!("Bearer {}", made.lines[0]);
    (courier, bearer)
}

async fn statuses(courier: &TestCourier, requests: &[RequestRef]) -> Vec<RequestLink> {
    let answer = send(courier, &endpoint::request_status(requests), &[]).await;
    assert_eq!(answer.status(), StatusCode::OK);
    answer.json().await.expect("RequestLinks")
}

/// Signs, posts and confirms one small file through request `id`, as a stranger.
async fn send_through(courier: &TestCourier, id: &str, name: &str, bytes: &[u8]) -> DownloadLink {
    let call = endpoint::sign_upload(name, "application/pdf", bytes.len() as u64, None).for_request(Some(id));
    let answer = send(courier, &call, &[]).await;
    assert_eq!(
        answer.status(),
        StatusCode::OK,
        "{}",
        answer.text().await.unwrap_or_default()
    );
    let grant: UploadGrant = answer.json().await.expect("a grant");
    let stored = courier
        .post_to_store(&grant.url, &grant.fields, name, "application/pdf", bytes)
        .await;
    courier.link_from(stored).await
}

#[tokio::test]
async fn a_file_request_lets_a_stranger_upload_into_its_makers_share() {
    let (courier, maker) = locked_courier().await;
    let rules = RequestRules {
        max_files: 3,
        max_bytes: 30_000_000,
        expires_in_hours: 24,
    };
    // Only whoever may upload makes one.
    let (status, _) = refusal(send(&courier, &endpoint::create_request(&rules), &[]).await).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let made = send(
        &courier,
        &endpoint::create_request(&rules),
        &[("authorization", &maker)],
    )
    .await;
    assert_eq!(made.status(), StatusCode::OK);
    let request: RequestLink = made.json().await.expect("a RequestLink");
    assert!(request.url.ends_with(&format!("/r/{}", request.id)), "{}", request.url);
    let id = request.id.clone();

    // Its page offers the uploader, without signing in, and no plain form
    // (which could not check a file against the request before it is sent).
    let path = format!("/r/{id}");
    let settings = courier.page_settings_at(&path).await;
    assert_eq!(settings["request"]["files_left"], 3);
    assert_eq!(settings["request"]["bytes_left"], 30_000_000);
    // The page checks a file against the room left before it asks.
    assert_eq!(settings["rules"]["max_bytes"], 30_000_000);
    assert_eq!(settings["public_links"], false);
    let html = courier
        .get_as(&format!("{}{path}", courier.base), "text/html")
        .await
        .text()
        .await
        .expect("HTML");
    assert!(html.contains("Someone asked you for files"), "{html}");
    assert!(!html.contains("Sign in"), "the request's page asks for no password");

    // A stranger sends a file through it: its link, but no control of the
    // maker's share, nor its link.
    let pdf = sample_bytes(600);
    let sent = send_through(&courier, &id, "brief.pdf", &pdf).await;
    assert!(sent.owner_token().is_none() && sent.share.is_none(), "{sent:?}");
    courier.assert_serves(&[(&sent, &pdf)]).await;
    // Without the request, the stranger still may not upload.
    let plain = endpoint::sign_upload("brief.pdf", "application/pdf", 600, None);
    assert_eq!(send(&courier, &plain, &[]).await.status(), StatusCode::UNAUTHORIZED);

    // In parts, too; a multipart upload aborted gives its room back.
    let big = sample_bytes(12 * 1024 * 1024);
    let start = endpoint::start_multipart("scan.tiff", "image/tiff", big.len() as u64, None).for_request(Some(&id));
    let started = send(&courier, &start, &[]).await;
    assert_eq!(started.status(), StatusCode::OK);
    let grant: MultipartGrant = started.json().await.expect("a grant");
    let arriving = statuses(&courier, &[request.reference()]).await;
    assert_eq!(arriving[0].files_arriving, 1);
    assert_eq!(
        send(&courier, &endpoint::abort_multipart(&grant.upload), &[])
            .await
            .status(),
        StatusCode::OK
    );
    assert_eq!(statuses(&courier, &[request.reference()]).await[0].files_arriving, 0);
    let started = send(&courier, &start, &[]).await;
    let grant: MultipartGrant = started.json().await.expect("a grant");
    courier.send_parts(&grant.upload, &big, &[1, 2]).await;
    let completed = send(&courier, &endpoint::complete_multipart(&grant.upload), &[]).await;
    assert_eq!(completed.status(), StatusCode::OK);
    let scan: DownloadLink = completed.json().await.expect("a link");
    assert!(scan.owner_token().is_none() && scan.share.is_none());

    // What is too large for what is left is refused with how much is left, nothing signed.
    let too_big = endpoint::sign_upload("more.pdf", "application/pdf", 20_000_000, None).for_request(Some(&id));
    let (status, sentence) = refusal(send(&courier, &too_big, &[]).await).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(
        sentence.contains("does not fit in what is left of this file request (16.6 MiB)"),
        "{sentence}"
    );
    // Another site's page cannot send through it.
    let small = endpoint::sign_upload("x.pdf", "application/pdf", 10, None).for_request(Some(&id));
    let (status, _) = refusal(send(&courier, &small, &[("sec-fetch-site", "cross-site")]).await).await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // The maker sees both files arrive, in one share of theirs that anyone
    // holding its link downloads from.
    let seen = statuses(&courier, &[request.reference()]).await;
    let names: Vec<_> = seen[0].received.iter().map(|file| file.filename.as_str()).collect();
    assert_eq!(names, ["brief.pdf", "scan.tiff"]);
    assert_eq!(
        (seen[0].files_received, seen[0].bytes_received),
        (2, 600 + big.len() as u64)
    );
    let share = seen[0].share.clone().expect("the share the files went into");
    assert!(share.owner_token().is_some(), "the maker controls the share");
    let share_page = courier
        .get_as(&share.url, "text/html")
        .await
        .text()
        .await
        .expect("HTML");
    assert!(share_page.contains("brief.pdf") && share_page.contains("scan.tiff"));
    let redirect = courier.share_get(&format!("{}/1", share.id)).await;
    assert_eq!(redirect.status(), StatusCode::FOUND);
    assert_eq!(courier.downloaded_bytes(&location(&redirect)).await, pdf);
    // A token that is not the maker's reads nothing.
    let forged = RequestRef {
        id: id.clone(),
        token: share.token.clone(),
    };
    assert!(statuses(&courier, std::slice::from_ref(&forged)).await.is_empty());
    assert_eq!(
        send(&courier, &endpoint::close_request(&forged), &[]).await.status(),
        StatusCode::FORBIDDEN
    );

    // Closed: its page and its grants say so (410); what arrived stays.
    let closed = send(&courier, &endpoint::close_request(&request.reference()), &[]).await;
    let closed: RequestLink = closed.json().await.expect("a RequestLink");
    assert_eq!(closed.state, wire::RequestState::Closed);
    let (status, sentence) = refusal(send(&courier, &small, &[]).await).await;
    assert_eq!(status, StatusCode::GONE);
    assert!(sentence.contains("closed by the person who made it"), "{sentence}");
    let page = courier.get_as(&format!("{}{path}", courier.base), "text/html").await;
    assert_eq!(page.status(), StatusCode::GONE);
    assert!(
        page.text()
            .await
            .expect("HTML")
            .contains("closed by the person who made it")
    );
    let unknown = courier
        .get_as(&format!("{}/r/AAAAAAAAAAAAAAAAAAAAAA", courier.base), "text/html")
        .await;
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);
    assert!(
        courier.get_as(&share.url, "text/html").await.status().is_success(),
        "the share outlives the request"
    );
}

#[tokio::test]
async fn a_file_request_takes_as_many_files_as_it_asked_for() {
    let (courier, maker) = locked_courier().await;
    let rules = RequestRules {
        max_files: 2,
        max_bytes: 1_000,
        expires_in_hours: 1,
    };
    let made = send(
        &courier,
        &endpoint::create_request(&rules),
        &[("authorization", &maker)],
    )
    .await;
    let request: RequestLink = made.json().await.expect("a RequestLink");
    for name in ["a.pdf", "b.pdf"] {
        send_through(&courier, &request.id, name, b"%PDF-1.7").await;
    }
    let third = endpoint::sign_upload("c.pdf", "application/pdf", 8, None).for_request(Some(&request.id));
    let (status, sentence) = refusal(send(&courier, &third, &[]).await).await;
    assert_eq!(status, StatusCode::GONE);
    assert!(sentence.contains("has all the files it asked for (2)"), "{sentence}");
    let seen = statuses(&courier, &[request.reference()]).await;
    assert_eq!(seen[0].state, wire::RequestState::Full);
    // All a request may take counts against its maker's day, at once.
    let huge = RequestRules {
        max_files: 1,
        max_bytes: 200 << 30,
        expires_in_hours: 1,
    };
    let (status, sentence) =
        refusal(send(&courier, &endpoint::create_request(&huge), &[("authorization", &maker)]).await).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(
        sentence.starts_with("A request can take at most 100 GiB in all here"),
        "{sentence}"
    );
    // Rules out of range are refused with a sentence.
    for rules in [
        RequestRules {
            max_files: 0,
            ..rules.clone()
        },
        RequestRules {
            max_bytes: 0,
            ..rules.clone()
        },
        RequestRules {
            expires_in_hours: 24 * 31,
            ..rules.clone()
        },
    ] {
        let (status, _) = refusal(
            send(
                &courier,
                &endpoint::create_request(&rules),
                &[("authorization", &maker)],
            )
            .await,
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{rules:?}");
    }
}
