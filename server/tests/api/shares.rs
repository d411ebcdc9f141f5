//! Shares over HTTP, on the embedded store with SQLite: a confirmed upload
//! gets its share; `/s/<id>` shows it and `/s/<id>/<n>` counts a download
//! and redirects to a one-minute GET; the sender's token changes the rules
//! and takes the link back; what is over is deleted and answers 410.

use std::time::Duration;

use app::share::{RuleChange, ShareState};
use reqwest::{StatusCode, header};

use courier_test_support::{TestCourier, location, object_exists, sample_bytes, share_ref};

/// Many clients are simulated from one address.
const NO_RATE_LIMIT: (&str, &str) = ("COURIER_RATE_LIMIT_PER_MINUTE", "0");

/// A share whose files are swept within a second of being over.
async fn sweeping_courier() -> TestCourier {
    TestCourier::builder()
        .env("COURIER_SHARE_SWEEP_SECS", "1")
        .start()
        .await
}

fn share_id(link: &app::model::DownloadLink) -> String {
    link.share.as_ref().expect("a share").id.clone()
}

async fn text(response: reqwest::Response) -> String {
    response.text().await.expect("a body")
}

/// How many answers had each status, by status.
fn tally(answers: &[reqwest::Response]) -> Vec<(u16, usize)> {
    let mut counts = std::collections::BTreeMap::new();
    for answer in answers {
        *counts.entry(answer.status().as_u16()).or_insert(0) += 1;
    }
    counts.into_iter().collect()
}

/// Rules that change one thing: the download limit, the expiry, the password.
fn at_most(max: u32) -> RuleChange {
    RuleChange {
        max_downloads: Some(max),
        ..RuleChange::default()
    }
}

fn lasting_hours(hours: u32) -> RuleChange {
    RuleChange {
        expires_in_hours: Some(hours),
        ..RuleChange::default()
    }
}

fn locked_with(password: &str) -> RuleChange {
    RuleChange {
        password: Some(password.to_owned()),
        ..RuleChange::default()
    }
}

/// A file uploaded to `courier`, its share limited to 5 downloads.
async fn limited_to_5(courier: &TestCourier) -> (app::model::DownloadLink, app::share::ShareLink) {
    let link = courier.upload("popular.txt", "text/plain", b"wanted by many").await;
    let change = at_most(5);
    let share = courier.set_rules(&link, change).await;
    assert_eq!(share.max_downloads, Some(5));
    (link, share)
}

/// 200 downloads of the share's first file at once, spread over the
/// instances given: how many answers had each status.
async fn two_hundred_at_once(instances: &[&TestCourier], share: &app::share::ShareLink) -> Vec<(u16, usize)> {
    let path = format!("{}/1", share.id);
    let answers = futures::future::join_all((0..200).map(|i| instances[i % instances.len()].share_get(&path))).await;
    tally(&answers)
}

/// Waits (at most 10 s) until `done` holds.
async fn eventually(mut done: impl AsyncFnMut() -> bool) -> bool {
    for _ in 0..100 {
        if done().await {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    false
}

#[tokio::test]
async fn a_confirmed_upload_gets_a_share_whose_download_goes_straight_to_the_store() {
    let courier = TestCourier::start().await;
    let bytes = sample_bytes(300_000);
    let link = courier.upload("report <final>.pdf", "application/pdf", &bytes).await;
    let share = link.share.clone().expect("the confirmation made a share");
    assert_eq!(share.url, format!("{}/s/{}", courier.base, share.id));
    assert_eq!(share.id.len(), 22);
    assert_eq!(share.state, ShareState::Live);
    assert!(share.owner_token().is_some(), "the sender gets the share's token");
    assert!(share.expires_at.is_some(), "a week by default");
    assert_eq!((share.max_downloads, share.password), (None, false));
    // The seed's link is still there.
    assert!(link.download_url.starts_with(&courier.store), "{}", link.download_url);

    let page = courier.share_get(&share.id).await;
    assert_eq!(page.status(), StatusCode::OK);
    assert_eq!(page.headers()[header::CACHE_CONTROL], "no-store");
    let html = text(page).await;
    assert!(html.contains("report &lt;final&gt;.pdf"), "{html}");
    assert!(html.contains(&format!("/s/{}/1", share.id)), "{html}");
    assert!(!html.contains("X-Amz-Signature"), "no store URL on the page: {html}");

    let redirect = courier.share_get(&format!("{}/1", share.id)).await;
    assert_eq!(redirect.status(), StatusCode::FOUND);
    let url = location(&redirect);
    assert!(url.starts_with(&courier.store), "{url}");
    assert!(url.contains("X-Amz-Expires=60"), "a one-minute GET: {url}");
    let download = reqwest::get(&url).await.expect("the store answers");
    assert_eq!(download.status(), StatusCode::OK);
    let disposition = download.headers()[header::CONTENT_DISPOSITION]
        .to_str()
        .expect("ascii")
        .to_owned();
    assert!(disposition.starts_with("attachment;"), "{disposition}");
    assert!(disposition.contains("report"), "{disposition}");
    assert_eq!(download.bytes().await.expect("bytes").as_ref(), &bytes[..]);
    // A browser's ranged resume of the same URL.
    let resumed = reqwest::Client::new()
        .get(&url)
        .header(header::RANGE, "bytes=100000-")
        .send()
        .await
        .expect("the store answers");
    assert_eq!(resumed.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(resumed.bytes().await.expect("bytes").as_ref(), &bytes[100_000..]);

    // The sender sees the download counted.
    let status = courier.share_status(&[share_ref(&link)]).await;
    assert_eq!(status.status(), StatusCode::OK);
    let shares: Vec<app::share::ShareLink> = status.json().await.expect("shares");
    assert_eq!(shares.len(), 1);
    assert_eq!(shares[0].files[0].downloads, 1);

    // A link preview's HEAD uses nothing up.
    let head = courier
        .http
        .head(format!("{}/s/{}/1", courier.base, share.id))
        .send()
        .await
        .expect("answers");
    assert_eq!(head.status(), StatusCode::METHOD_NOT_ALLOWED);
}

#[tokio::test]
async fn a_download_limit_of_5_gives_exactly_5_redirects_to_200_clients_at_once() {
    // 200 clients, here from one address: past its rate limit.
    let courier = TestCourier::builder().envs(&[NO_RATE_LIMIT]).start().await;
    let (_, share) = limited_to_5(&courier).await;
    assert_eq!(two_hundred_at_once(&[&courier], &share).await, [(302, 5), (410, 195)]);
    let page = courier.share_get(&share.id).await;
    assert_eq!(page.status(), StatusCode::GONE);
    assert!(text(page).await.contains("download limit was reached"));
}

#[tokio::test]
async fn a_password_opens_the_downloads_and_guessing_it_is_slowed() {
    let courier = TestCourier::start().await;
    let link = courier.upload("secret plans.txt", "text/plain", b"plans").await;
    let share = courier.set_rules(&link, locked_with("correct horse")).await;
    assert!(share.password);

    // Locked: no name on the page, no download.
    let page = courier.share_get(&share.id).await;
    assert_eq!(page.status(), StatusCode::OK);
    let html = text(page).await;
    assert!(!html.contains("secret plans"), "{html}");
    assert!(html.contains("name=\"password\""), "{html}");
    let download = courier.share_get(&format!("{}/1", share.id)).await;
    assert_eq!(download.status(), StatusCode::UNAUTHORIZED);

    let wrong = courier.give_password(&share.id, "battery staple").await;
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    assert!(text(wrong).await.contains("That password is not right"));

    let right = courier.give_password(&share.id, "correct horse").await;
    assert_eq!(right.status(), StatusCode::SEE_OTHER);
    let cookie = right.headers()[header::SET_COOKIE].to_str().expect("ascii").to_owned();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains(&format!("Path=/s/{}", share.id)),
        "{cookie}"
    );
    assert!(!cookie.contains("correct"), "{cookie}");
    let pair = TestCourier::unlock_cookie(&right);
    let unlocked = courier.share_get_with(&format!("{}/1", share.id), &pair).await;
    assert_eq!(unlocked.status(), StatusCode::FOUND);
    let page = courier.share_get_with(&share.id, &pair).await;
    assert!(text(page).await.contains("secret plans.txt"));

    // A new password locks out the old one's cookie.
    courier.set_rules(&link, locked_with("new one")).await;
    let locked_again = courier.share_get_with(&format!("{}/1", share.id), &pair).await;
    assert_eq!(locked_again.status(), StatusCode::UNAUTHORIZED);

    // Ten tries a minute (two were made above), then 429 with Retry-After,
    // even for the right password.
    for _ in 0..8 {
        assert_eq!(
            courier.give_password(&share.id, "guess").await.status(),
            StatusCode::UNAUTHORIZED
        );
    }
    let slowed = courier.give_password(&share.id, "new one").await;
    assert_eq!(slowed.status(), StatusCode::TOO_MANY_REQUESTS);
    let wait: u64 = slowed.headers()[header::RETRY_AFTER]
        .to_str()
        .expect("ascii")
        .parse()
        .expect("seconds");
    assert!((1..=7).contains(&wait), "{wait}");
}

#[tokio::test]
async fn taking_a_share_back_deletes_its_file_and_its_page_says_so() {
    let courier = TestCourier::start().await;
    let link = courier.upload("draft.txt", "text/plain", b"draft").await;
    let s3 = courier.store_client();
    assert!(object_exists(&s3, &courier.bucket, &link.key).await);

    // Only with the sender's token.
    let mut forged = share_ref(&link);
    forged.token = courier
        .upload("other.txt", "text/plain", b"x")
        .await
        .share
        .expect("a share")
        .token;
    assert_eq!(courier.revoke_share(&forged).await.status(), StatusCode::FORBIDDEN);

    let revoked = courier.revoke_share(&share_ref(&link)).await;
    assert_eq!(revoked.status(), StatusCode::OK);
    let revoked: app::share::ShareLink = revoked.json().await.expect("a share");
    assert_eq!(revoked.state, ShareState::Revoked);
    assert!(!object_exists(&s3, &courier.bucket, &link.key).await, "deleted at once");
    for path in [share_id(&link), format!("{}/1", share_id(&link))] {
        let answer = courier.share_get(&path).await;
        assert_eq!(answer.status(), StatusCode::GONE, "{path}");
        assert!(text(answer).await.contains("The sender took this link back"));
    }
    // A revoked share stays revoked.
    let change = lasting_hours(24);
    assert_eq!(
        courier.update_share(&share_ref(&link), &change).await.status(),
        StatusCode::GONE
    );
}

#[tokio::test]
async fn an_expired_share_is_swept_from_the_store_and_its_page_says_it_expired() {
    let courier = sweeping_courier().await;
    let link = courier.upload("old.txt", "text/plain", b"old news").await;
    let kept = courier.upload("new.txt", "text/plain", b"fresh").await;
    let s3 = courier.store_client();
    courier.expire_share(&share_id(&link), Duration::from_secs(120)).await;
    let swept = eventually(async || !object_exists(&s3, &courier.bucket, &link.key).await).await;
    assert!(swept, "the expired share's file is deleted");
    let page = courier.share_get(&share_id(&link)).await;
    assert_eq!(page.status(), StatusCode::GONE);
    assert!(text(page).await.contains("This link has expired"));
    assert!(
        object_exists(&s3, &courier.bucket, &kept.key).await,
        "a live share keeps its file"
    );
    // Just expired, within the grace a last download's URL gets: kept for now.
    courier.expire_share(&share_id(&kept), Duration::from_secs(1)).await;
    tokio::time::sleep(Duration::from_millis(2_500)).await;
    assert!(object_exists(&s3, &courier.bucket, &kept.key).await);
    assert_eq!(courier.share_get(&share_id(&kept)).await.status(), StatusCode::GONE);
}

#[tokio::test]
async fn unknown_and_malformed_links_get_the_same_404() {
    let courier = TestCourier::start().await;
    let unknown = courier.share_get("AAAAAAAAAAAAAAAAAAAAAA").await;
    let malformed = courier.share_get("not-an-id").await;
    assert_eq!(
        (unknown.status(), malformed.status()),
        (StatusCode::NOT_FOUND, StatusCode::NOT_FOUND)
    );
    assert_eq!(text(unknown).await, text(malformed).await);
    let link = courier.upload("a.txt", "text/plain", b"a").await;
    for file in ["2", "0", "x", "99999999999999999999"] {
        let answer = courier.share_get(&format!("{}/{file}", share_id(&link))).await;
        assert_eq!(answer.status(), StatusCode::NOT_FOUND, "{file}");
    }
}

#[tokio::test]
async fn deleting_a_file_takes_its_share_back() {
    let courier = TestCourier::start().await;
    let link = courier.upload("mistake.txt", "text/plain", b"oops").await;
    let deleted = courier.delete_upload(&link.key, &link.token).await;
    assert_eq!(deleted.status(), StatusCode::OK);
    assert_eq!(courier.share_get(&share_id(&link)).await.status(), StatusCode::GONE);
}

#[tokio::test]
async fn deleting_one_file_of_a_shared_pair_keeps_the_other_under_its_number() {
    let courier = TestCourier::start().await;
    let first = courier.upload("first.txt", "text/plain", b"first").await;
    let second = courier.upload("second.txt", "text/plain", b"second").await;
    let combined = courier
        .combine_shares(&[share_ref(&first), share_ref(&second)], &RuleChange::default())
        .await;
    let combined: app::share::ShareLink = combined.json().await.expect("a share");
    let deleted = courier.delete_upload(&first.key, &first.token).await;
    assert_eq!(deleted.status(), StatusCode::OK);
    let page = courier.share_get(&combined.id).await;
    assert_eq!(page.status(), StatusCode::OK);
    let html = text(page).await;
    assert!(!html.contains("first.txt") && html.contains("second.txt"), "{html}");
    assert!(html.contains(&format!("/s/{}/2", combined.id)), "{html}");
    assert_eq!(
        courier.share_get(&format!("{}/1", combined.id)).await.status(),
        StatusCode::NOT_FOUND
    );
    let redirect = courier.share_get(&format!("{}/2", combined.id)).await;
    assert_eq!(courier.downloaded_bytes(&location(&redirect)).await, b"second");
    // The last file out takes the link back.
    assert_eq!(
        courier.delete_upload(&second.key, &second.token).await.status(),
        StatusCode::OK
    );
    assert_eq!(courier.share_get(&combined.id).await.status(), StatusCode::GONE);
}

#[tokio::test]
async fn a_public_link_has_no_share() {
    let courier = TestCourier::start().await;
    let link = courier.upload_public("poster.png", "image/png", b"png").await;
    assert!(link.share.is_none());
}

#[tokio::test]
async fn the_operator_maximum_bounds_what_a_sender_chooses() {
    let courier = TestCourier::builder()
        .envs(&[("COURIER_MAX_SHARE_DAYS", "2"), ("COURIER_SHARE_DAYS", "30")])
        .start()
        .await;
    let link = courier.upload("a.txt", "text/plain", b"a").await;
    let share = link.share.clone().expect("a share");
    let expires = time::OffsetDateTime::parse(
        share.expires_at.as_deref().expect("expires"),
        &time::format_description::well_known::Rfc3339,
    )
    .expect("RFC 3339");
    let lifetime = expires - time::OffsetDateTime::now_utc();
    assert!(lifetime <= time::Duration::days(2) && lifetime > time::Duration::days(2) - time::Duration::minutes(5));
    for hours in [0, 49] {
        let change = lasting_hours(hours);
        let refused = courier.update_share(&share_ref(&link), &change).await;
        assert_eq!(refused.status(), StatusCode::BAD_REQUEST, "{hours} hours");
    }
    let share = courier.set_rules(&link, lasting_hours(48)).await;
    assert!(share.expires_at.is_some());
}

#[tokio::test]
async fn two_instances_on_one_postgresql_give_exactly_5_of_200_downloads() {
    let cluster = courier_test_support::PgCluster::start().unwrap_or_else(|why| panic!("{why}"));
    let url = cluster.database("two_instances").unwrap_or_else(|why| panic!("{why}"));
    let first = TestCourier::builder()
        .env("COURIER_DATABASE_URL", &url)
        .envs(&[NO_RATE_LIMIT])
        .start()
        .await;
    // A second instance on the same store and database, as behind a load balancer.
    let second = TestCourier::builder()
        .store_data_in(first.data_dir.path())
        .env("COURIER_DATABASE_URL", &url)
        .envs(&[NO_RATE_LIMIT])
        .start()
        .await;
    let (link, share) = limited_to_5(&first).await;
    // The share made on one instance is served by the other.
    assert_eq!(second.share_get(&share.id).await.status(), StatusCode::OK);
    assert_eq!(
        two_hundred_at_once(&[&first, &second], &share).await,
        [(302, 5), (410, 195)]
    );
    // Either instance's sender token controls it.
    let status = second.share_status(&[share_ref(&link)]).await;
    let shares: Vec<app::share::ShareLink> = status.json().await.expect("shares");
    assert_eq!(shares[0].files[0].downloads, 5);
    assert_eq!(shares[0].state, ShareState::LimitReached);
}

#[tokio::test]
async fn files_sent_together_become_one_share_with_the_rules_asked() {
    let courier = TestCourier::start().await;
    let first = courier.upload("one.txt", "text/plain", b"first file").await;
    let second = courier.upload("two.csv", "text/csv", b"second,file").await;
    let rules = RuleChange {
        max_downloads: Some(1),
        password: Some("together".to_owned()),
        ..RuleChange::default()
    };
    // Every token must be the sender's.
    let mut forged = share_ref(&second);
    forged.token = share_ref(&first).token;
    let refused = courier.combine_shares(&[share_ref(&first), forged], &rules).await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);

    let combined = courier
        .combine_shares(&[share_ref(&first), share_ref(&second)], &rules)
        .await;
    assert_eq!(combined.status(), StatusCode::OK);
    let combined: app::share::ShareLink = combined.json().await.expect("a share");
    assert_eq!((combined.max_downloads, combined.password), (Some(1), true));
    let names: Vec<_> = combined.files.iter().map(|file| file.filename.as_str()).collect();
    assert_eq!(names, ["one.txt", "two.csv"]);
    assert!(combined.owner_token().is_some());
    // The shares given are gone; their files are the new one's.
    assert_eq!(
        courier.share_get(&share_id(&first)).await.status(),
        StatusCode::NOT_FOUND
    );

    let pair = TestCourier::unlock_cookie(&courier.give_password(&combined.id, "together").await);
    for (file, bytes) in [("1", &b"first file"[..]), ("2", &b"second,file"[..])] {
        let redirect = courier.share_get_with(&format!("{}/{file}", combined.id), &pair).await;
        assert_eq!(redirect.status(), StatusCode::FOUND, "file {file}");
        assert_eq!(courier.downloaded_bytes(&location(&redirect)).await, bytes);
    }

    // A share someone used cannot be folded into another.
    let third = courier.upload("three.txt", "text/plain", b"3").await;
    let fourth = courier.upload("four.txt", "text/plain", b"4").await;
    assert_eq!(
        courier.share_get(&format!("{}/1", share_id(&third))).await.status(),
        StatusCode::FOUND
    );
    let refused = courier
        .combine_shares(&[share_ref(&third), share_ref(&fourth)], &RuleChange::default())
        .await;
    assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        courier.share_get(&share_id(&fourth)).await.status(),
        StatusCode::OK,
        "nothing changed"
    );
}

#[tokio::test]
async fn a_share_database_that_stops_answering_gets_503_and_a_sentence() {
    let cluster = courier_test_support::PgCluster::start().unwrap_or_else(|why| panic!("{why}"));
    let url = cluster.database("outage").unwrap_or_else(|why| panic!("{why}"));
    let courier = TestCourier::builder().env("COURIER_DATABASE_URL", &url).start().await;
    let link = courier.upload("kept.txt", "text/plain", b"kept").await;
    drop(cluster);
    let started = std::time::Instant::now();
    for path in [share_id(&link), format!("{}/1", share_id(&link))] {
        let answer = courier.share_get(&path).await;
        assert_eq!(answer.status(), StatusCode::SERVICE_UNAVAILABLE, "{path}");
        let html = text(answer).await;
        assert!(
            html.contains("Nothing was lost") && html.contains("retrying is safe"),
            "{html}"
        );
    }
    // A confirmation now cannot make its share: it says so, and the file is kept.
    let grant = courier.grant("later.txt", "text/plain", 5).await;
    let stored = courier
        .post_to_store(&grant.url, &grant.fields, "later.txt", "text/plain", b"later")
        .await;
    let confirmed = courier.follow_as_fetch(&stored).await;
    assert_eq!(confirmed.status(), StatusCode::SERVICE_UNAVAILABLE);
    let refusal: serde_json::Value = confirmed.json().await.expect("JSON");
    assert_eq!(refusal["code"], "unavailable", "{refusal}");
    eprintln!("three answers without a database took {:?}", started.elapsed());
}

#[tokio::test]
async fn a_locked_share_database_gets_503_and_counts_nothing() {
    let courier = TestCourier::start().await;
    let link = courier.upload("wanted.txt", "text/plain", b"wanted").await;
    let share = courier.set_rules(&link, at_most(1)).await;
    let lock = courier.lock_share_db().await;
    // The database's busy timeout (5 s), then a sentence; nothing counted.
    let refused = courier.share_get(&format!("{}/1", share.id)).await;
    assert_eq!(refused.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(text(refused).await.contains("Nothing was lost"));
    drop(lock);
    // The one download allowed is still there.
    assert_eq!(
        courier.share_get(&format!("{}/1", share.id)).await.status(),
        StatusCode::FOUND
    );
    assert_eq!(
        courier.share_get(&format!("{}/1", share.id)).await.status(),
        StatusCode::GONE
    );
}
