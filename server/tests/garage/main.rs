//! Courier against a three-node Garage cluster (path-style addressing): the
//! same flows as on the embedded store, public links through the proxy
//! README describes, delete, two instances sharing one secret, a node
//! failure, and `courier check` / `setup-bucket`.
//!
//! Run through `scripts/garage-cluster`, which starts the cluster and passes
//! its settings in the environment: `scripts/garage-cluster cargo test -p courier --test garage`.

mod cli_resume;
mod public_gateway;

use std::process::Command;

use aws_sdk_s3::types::{
    AbortIncompleteMultipartUpload, BucketLifecycleConfiguration, ExpirationStatus, LifecycleExpiration, LifecycleRule,
    LifecycleRuleFilter,
};
use reqwest::StatusCode;

use courier_test_support::{
    TestCourier, aborting_leaves_nothing, an_expired_token_deletes_nothing, anonymous_get,
    completing_what_does_not_add_up_aborts, deleting_holds, location, md5_hex, multipart_goes_through,
    part_urls_write_their_part_only, public_links_hold, public_links_stay_off, query, sample_bytes,
    upload_big_file_in_large_writes, upload_many,
};

const SECRET: &str = "garage-tests-share-this-secret-0123456789";

/// The cluster's settings, from `scripts/garage-cluster`.
fn cluster() -> Vec<(String, String)> {
    let names = [
        "COURIER_BUCKET",
        "COURIER_S3_FORCE_PATH_STYLE",
        "AWS_REGION",
        "AWS_ENDPOINT_URL_S3",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
    ];
    names
        .iter()
        .map(|name| {
            let value = std::env::var(name)
                .unwrap_or_else(|_| panic!("{name} is not set: run these tests through scripts/garage-cluster"));
            (name.to_string(), value)
        })
        .collect()
}

async fn spawn_on_garage(extra: &[(&str, &str)]) -> TestCourier {
    let cluster = cluster();
    let cluster: Vec<(&str, &str)> = cluster.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    TestCourier::builder()
        .configured_store()
        .envs(&cluster)
        .env("COURIER_SECRET", SECRET)
        .envs(extra)
        .start()
        .await
}

fn s3() -> aws_sdk_s3::Client {
    let env: std::collections::HashMap<String, String> = cluster().into_iter().collect();
    courier_test_support::s3_client(
        &env["AWS_ENDPOINT_URL_S3"],
        &env["AWS_REGION"],
        &env["AWS_ACCESS_KEY_ID"],
        &env["AWS_SECRET_ACCESS_KEY"],
    )
}

async fn object_exists(key: &str) -> bool {
    let bucket = std::env::var("COURIER_BUCKET").expect("bucket");
    s3().head_object().bucket(bucket).key(key).send().await.is_ok()
}

#[tokio::test]
async fn the_whole_flow_works_on_garage() {
    let courier = spawn_on_garage(&[]).await;
    let bytes = sample_bytes(700_000);
    let grant = courier
        .grant("Garage report.pdf", "application/pdf", bytes.len() as u64)
        .await;
    assert_eq!(grant.url, format!("{}/{}", courier.store, courier.bucket));
    let stored = courier
        .post_to_store(
            &grant.url,
            &grant.fields,
            "Garage report.pdf",
            "application/pdf",
            &bytes,
        )
        .await;
    if stored.status() == StatusCode::SEE_OTHER {
        let params = query(&location(&stored));
        assert_eq!(params["key"], grant.key);
        assert_eq!(params["etag"].trim_matches('"'), md5_hex(&bytes));
    }
    let link = courier.link_from(stored).await;
    assert_eq!(
        (link.filename.as_str(), link.size),
        ("Garage report.pdf", bytes.len() as u64)
    );
    assert_eq!(link.etag, md5_hex(&bytes));
    let (disposition, downloaded) = courier.download_named(&link.download_url).await;
    assert!(
        disposition.contains("filename*=UTF-8''Garage%20report.pdf"),
        "{disposition}"
    );
    assert_eq!(downloaded.as_slice(), bytes.as_slice());
}

#[tokio::test]
async fn the_plain_form_works_on_garage() {
    let courier = spawn_on_garage(&[]).await;
    let (action, fields) = courier.page_form().await;
    let stored = courier
        .post_to_store(&action, &fields, "no script.txt", "text/plain", b"plain form")
        .await;
    assert_eq!(
        stored.status(),
        StatusCode::SEE_OTHER,
        "{}",
        stored.text().await.unwrap_or_default()
    );
    let target = location(&stored);
    // Garage substitutes ${filename} itself.
    assert_eq!(
        query(&target)["key"],
        fields["key"].replace("${filename}", "no script.txt")
    );
    let page = courier.get_as(&target, "text/html").await;
    assert_eq!(page.status(), StatusCode::OK);
    assert!(page.text().await.expect("HTML").contains("no script.txt"));
    let json = courier.get_as(&target, "application/json").await;
    let link: app::model::DownloadLink = json.json().await.expect("a link");
    assert_eq!(
        courier.downloaded_bytes(&link.download_url).await.as_slice(),
        b"plain form"
    );
}

#[tokio::test]
async fn garage_refuses_a_tampered_policy_and_stores_nothing() {
    let courier = spawn_on_garage(&[]).await;
    let grant = courier.grant("a.txt", "text/plain", 7).await;
    let elsewhere = format!("uploads/{}/evil.txt", "0b6e2cf0-9d7e-4d8e-8f7a-3a3e0e8f9b11");
    let mut fields = grant.fields.clone();
    fields.insert("key".to_owned(), elsewhere.clone());
    let refused = courier
        .post_to_store(&grant.url, &fields, "a.txt", "text/plain", b"payload")
        .await;
    assert!(refused.status().is_client_error(), "{}", refused.status());
    let xml = refused.text().await.expect("body");
    let sentence = app::store_error::StoreError::parse(&xml)
        .expect("an S3 error")
        .sentence(courier::settings::DEFAULT_MAX_UPLOAD_BYTES);
    assert!(
        sentence.ends_with('.') && !sentence.contains("InvalidRequest"),
        "{sentence}"
    );

    let refused = courier
        .post_to_store(&grant.url, &grant.fields, "a.txt", "text/plain", b"longer payload")
        .await;
    assert!(
        refused.status().is_client_error(),
        "a size other than signed: {}",
        refused.status()
    );

    assert!(!object_exists(&grant.key).await);
    assert!(!object_exists(&elsewhere).await);
}

#[tokio::test]
async fn two_instances_serve_one_person() {
    let a = spawn_on_garage(&[]).await;
    let b = spawn_on_garage(&[]).await;
    let grant = a.grant("shared.txt", "text/plain", 6).await;
    let stored = a
        .post_to_store(&grant.url, &grant.fields, "shared.txt", "text/plain", b"shared")
        .await;
    assert_eq!(stored.status(), StatusCode::SEE_OTHER);
    // The store redirects to A; B confirms it.
    let on_b = location(&stored).replacen(&a.base, &b.base, 1);
    let confirmed = b.get_as(&on_b, "application/json").await;
    assert_eq!(confirmed.status(), StatusCode::OK);
    let link: app::model::DownloadLink = confirmed.json().await.expect("a link from B");
    // A mints a new link with B's token; both links work.
    let renewed = a.sign_download(&link.key, &link.token).await;
    assert_eq!(renewed.status(), StatusCode::OK);
    let renewed: app::model::DownloadLink = renewed.json().await.expect("a link from A");
    for url in [&link.download_url, &renewed.download_url] {
        assert_eq!(a.downloaded_bytes(url).await.as_slice(), b"shared");
    }
}

fn cluster_script(args: &[&str]) {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../scripts/garage-cluster");
    let status = Command::new(script)
        .args(args)
        .status()
        .expect("the cluster script runs");
    assert!(status.success(), "garage-cluster {args:?} failed");
}

#[tokio::test]
async fn uploads_survive_one_node_down() {
    let courier = spawn_on_garage(&[]).await;
    let before = courier
        .upload("before.txt", "text/plain", b"written with three nodes")
        .await;

    cluster_script(&["stop-node", "3"]);
    let during = courier
        .upload("during.txt", "text/plain", b"written with two nodes")
        .await;
    courier
        .assert_serves(&[
            (&during, b"written with two nodes"),
            (&before, b"written with three nodes"),
        ])
        .await;

    cluster_script(&["start-node", "3"]);
    let after = courier
        .upload("after.txt", "text/plain", b"written after the restart")
        .await;
    courier
        .assert_serves(&[
            (&after, b"written after the restart"),
            (&during, b"written with two nodes"),
        ])
        .await;
}

/// Courier serving public links through the gateway (Garage's answer to
/// anonymous reads of `public/files/`).
async fn spawn_public_on_garage(extra: &[(&str, &str)]) -> TestCourier {
    let gateway = public_gateway::spawn().await;
    let mut vars = vec![("COURIER_PUBLIC_BASE_URL", gateway.as_str())];
    vars.extend_from_slice(extra);
    spawn_on_garage(&vars).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_multipart_upload_goes_through_on_garage() {
    multipart_goes_through(&spawn_on_garage(&[]).await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_part_url_writes_its_part_only_on_garage() {
    part_urls_write_their_part_only(&spawn_on_garage(&[]).await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn completing_what_does_not_add_up_is_refused_and_aborted_on_garage() {
    completing_what_does_not_add_up_aborts(&spawn_on_garage(&[]).await, &s3()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aborting_leaves_nothing_on_garage() {
    let courier = spawn_on_garage(&[]).await;
    aborting_leaves_nothing(&courier, &s3()).await;
}

#[tokio::test]
async fn public_links_serve_anyone_and_nothing_private_on_garage() {
    public_links_hold(&spawn_public_on_garage(&[]).await, &s3()).await;
}

#[tokio::test]
async fn only_the_owner_deletes_and_then_links_fail_on_garage() {
    deleting_holds(&spawn_public_on_garage(&[]).await, &s3()).await;
}

#[tokio::test]
async fn an_expired_token_cannot_delete_on_garage() {
    let courier = spawn_public_on_garage(&[("COURIER_RENEW_TTL_SECS", "1")]).await;
    an_expired_token_deletes_nothing(&courier, &s3()).await;
}

#[tokio::test]
async fn public_links_can_be_turned_off_on_garage() {
    public_links_stay_off(&spawn_on_garage(&[("COURIER_PUBLIC_LINKS", "false")]).await).await;
}

/// The gateway itself: ranges and HEAD pass, nothing but GET and HEAD of
/// `public/files/` does, and Garage's website endpoint knows no bucket
/// unless the Host header names it.
#[tokio::test]
async fn the_public_gateway_serves_public_files_and_nothing_else() {
    let gateway = public_gateway::spawn().await;
    let courier = spawn_on_garage(&[("COURIER_PUBLIC_BASE_URL", &gateway)]).await;
    let bytes = sample_bytes(1000);
    let public = courier
        .upload_public("ranged.bin", "application/octet-stream", &bytes)
        .await;
    assert!(public.download_url.starts_with(&format!("{gateway}public/files/")));
    let private = courier.upload("private.txt", "text/plain", b"private bytes").await;

    let http = reqwest::Client::new();
    let ranged = http
        .get(&public.download_url)
        .header(reqwest::header::RANGE, "bytes=10-19")
        .send()
        .await
        .expect("the gateway answers");
    assert_eq!(ranged.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(ranged.headers()[reqwest::header::CONTENT_RANGE], "bytes 10-19/1000");
    assert_eq!(ranged.bytes().await.expect("a body").as_ref(), &bytes[10..20]);
    let head = http.head(&public.download_url).send().await.expect("HEAD");
    assert_eq!(head.status(), StatusCode::OK);
    assert_eq!(head.headers()[reqwest::header::CONTENT_LENGTH], "1000");
    assert_eq!(
        head.headers()[reqwest::header::CONTENT_TYPE],
        "application/octet-stream"
    );

    for method in [reqwest::Method::PUT, reqwest::Method::POST, reqwest::Method::DELETE] {
        let response = http
            .request(method.clone(), &public.download_url)
            .body("overwrite")
            .send()
            .await
            .expect("the gateway answers");
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{method}");
    }
    for url in [
        format!("{gateway}{}", private.key),
        format!("{gateway}public/files/%2e%2e/%2e%2e/{}", private.key),
        format!("{gateway}public%2Ffiles%2F..%2F..%2F{}", private.key),
        format!("{gateway}public/uploads/{}", private.key),
        gateway.clone(),
    ] {
        let (status, body) = anonymous_get(&url).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{url}");
        assert!(!body.windows(13).any(|w| w == b"private bytes"), "{url}");
    }
    assert_eq!(anonymous_get(&public.download_url).await, (StatusCode::OK, bytes));

    // Straight at the website endpoint, no Host naming the bucket: nothing.
    let web = std::env::var("GARAGE_WEB_ENDPOINT").expect("GARAGE_WEB_ENDPOINT");
    let direct = format!("{web}/{}", public.key);
    assert_eq!(anonymous_get(&direct).await.0, StatusCode::NOT_FOUND, "{direct}");
}

/// `check` and `setup-bucket` read and change the bucket's settings: one at a time.
static BUCKET_SETTINGS: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Runs the `courier` binary on the cluster (off the test's runtime, which
/// keeps serving the gateway meanwhile); its success and its output.
async fn courier_command(args: &[&str], public_url: &str, extra: &[(&str, &str)]) -> (bool, String) {
    // The share database `check` opens: the test's own.
    let data_dir = tempfile::tempdir().expect("a data directory");
    let mut command = Command::new(env!("CARGO_BIN_EXE_courier"));
    command
        .args(args)
        .env("COURIER_DATA_DIR", data_dir.path())
        .envs(cluster())
        .env("COURIER_SECRET", SECRET)
        .env("COURIER_PUBLIC_URL", public_url)
        // (`check` reports the mode: this Courier would serve anyone.)
        .env("COURIER_UPLOAD_ACCESS", "open")
        .env("RUST_LOG", "warn")
        .envs(extra.iter().copied());
    let output = tokio::task::spawn_blocking(move || command.output())
        .await
        .expect("the command's thread")
        .expect("courier runs");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output.status.success(), text)
}

#[tokio::test]
async fn check_finds_missing_cors_and_setup_bucket_fixes_it() {
    let _one_at_a_time = BUCKET_SETTINGS.lock().await;
    let bucket = std::env::var("COURIER_BUCKET").expect("bucket");
    // An origin of its own, so that other tests' rules do not interfere.
    let public_url = "https://check.courier.test";
    let gateway = public_gateway::spawn().await;
    let through_gateway = [("COURIER_PUBLIC_BASE_URL", gateway.as_str())];
    let _ = s3().delete_bucket_cors().bucket(&bucket).send().await;
    // The rules an earlier setup-bucket left (no public/uploads/ yet), and one of someone else's.
    let rule = |id: &str, prefix: &str| {
        let rule = LifecycleRule::builder()
            .id(id)
            .status(ExpirationStatus::Enabled)
            .filter(LifecycleRuleFilter::builder().prefix(prefix).build());
        let rule = if id == "courier-abort-incomplete-multipart" {
            rule.abort_incomplete_multipart_upload(
                AbortIncompleteMultipartUpload::builder()
                    .days_after_initiation(1)
                    .build(),
            )
        } else {
            rule.expiration(LifecycleExpiration::builder().days(1).build())
        };
        rule.build().expect("a rule")
    };
    let earlier = BucketLifecycleConfiguration::builder()
        .rules(rule("courier-abort-incomplete-multipart", ""))
        .rules(rule("courier-expire-unconfirmed-uploads", "uploads/"))
        .rules(rule("someone-elses", "tmp/"))
        .build()
        .expect("rules");
    s3().put_bucket_lifecycle_configuration()
        .bucket(&bucket)
        .lifecycle_configuration(earlier)
        .send()
        .await
        .expect("Garage takes lifecycle rules");

    let (ok, text) = courier_command(&["check"], public_url, &through_gateway).await;
    assert!(!ok, "check must fail without CORS: {text}");
    assert!(text.contains("CORS") && text.contains("courier setup-bucket"), "{text}");

    let (ok, text) = courier_command(&["setup-bucket"], public_url, &through_gateway).await;
    assert!(ok, "{text}");
    assert!(text.contains("CORS: now allows https://check.courier.test"), "{text}");
    assert!(
        text.contains("unconfirmed uploads (uploads/, public/uploads/) expire, after 1 day (changed)"),
        "{text}"
    );
    let rules = s3()
        .get_bucket_lifecycle_configuration()
        .bucket(&bucket)
        .send()
        .await
        .expect("the rules");
    let mut ids: Vec<_> = rules.rules().iter().filter_map(|r| r.id()).collect();
    ids.sort_unstable();
    assert_eq!(
        ids,
        [
            "courier-abort-incomplete-multipart",
            "courier-expire-unconfirmed-public-uploads",
            "courier-expire-unconfirmed-uploads",
            "someone-elses"
        ]
    );
    // Garage answers NotImplemented to bucket policies: the proxy's job.
    assert!(
        text.contains("bucket policy: this store has no bucket policies")
            && text.contains("point COURIER_PUBLIC_BASE_URL at a proxy")
            && text.contains("(skipped)"),
        "{text}"
    );
    let (ok, text) = courier_command(&["setup-bucket"], public_url, &through_gateway).await;
    assert!(
        ok && text.contains("CORS: already allows https://check.courier.test (unchanged)"),
        "idempotent: {text}"
    );
    assert!(
        text.contains("lifecycle: incomplete multipart uploads are aborted and unconfirmed uploads (uploads/, public/uploads/) expire (unchanged)"),
        "idempotent: {text}"
    );

    let (ok, text) = courier_command(&["check"], public_url, &through_gateway).await;
    assert!(ok, "{text}");
    for line in [
        "ok   A signed upload and download round trip works.".to_owned(),
        format!("ok   A public link serves its file without a signature ({gateway}public/files/"),
        format!("ok   Private files are not served without a signature ({gateway}files/"),
        "ok   Deleting a file with its owner's token works (the test files are gone).".to_owned(),
        "ok   The share database (SQLite at ".to_owned(),
        ") is reachable, with all ".to_owned(),
        "ok   Uploads: COURIER_UPLOAD_ACCESS is open.".to_owned(),
    ] {
        assert!(text.contains(&line), "{line}\n{text}");
    }
    // A database that cannot be reached fails the check, named without its password.
    let nowhere = [
        ("COURIER_PUBLIC_BASE_URL", gateway.as_str()),
        ("COURIER_DATABASE_URL", "postgres://courier:hunter2@127.0.0.1:1/courier"),
    ];
    let (ok, text) = courier_command(&["check"], public_url, &nowhere).await;
    assert!(!ok, "{text}");
    assert!(
        text.contains("FAIL Could not reach the share database (PostgreSQL at courier@127.0.0.1:1/courier)")
            && !text.contains("hunter2"),
        "{text}"
    );
}

/// `check` fails, saying what to do, when public links would not serve
/// (no base URL: Garage's S3 API has no anonymous access; its website
/// endpoint without a Host that names the bucket), or when the base serves
/// private files too; with public links off there is nothing to check.
#[tokio::test]
async fn check_fails_when_public_links_cannot_work_or_leak() {
    let _one_at_a_time = BUCKET_SETTINGS.lock().await;
    let public_url = "https://check.courier.test";
    let (ok, text) = courier_command(&["setup-bucket"], public_url, &[]).await;
    assert!(ok, "{text}");
    let store = std::env::var("AWS_ENDPOINT_URL_S3").expect("endpoint");
    let bucket = std::env::var("COURIER_BUCKET").expect("bucket");
    let web = std::env::var("GARAGE_WEB_ENDPOINT").expect("GARAGE_WEB_ENDPOINT");
    let fix = "run `courier setup-bucket` (AWS; Block Public Access must allow its bucket policy), or set COURIER_PUBLIC_BASE_URL to a proxy that serves public/files/ (Garage, MinIO…), or set COURIER_PUBLIC_LINKS=false.";
    for (base, url, status) in [
        (None, format!("{store}/{bucket}/public/files/"), 403),
        (Some(web.clone()), format!("{web}/public/files/"), 404),
    ] {
        let extra: Vec<(&str, &str)> = base.iter().map(|b| ("COURIER_PUBLIC_BASE_URL", b.as_str())).collect();
        let (ok, text) = courier_command(&["check"], public_url, &extra).await;
        assert!(!ok, "{text}");
        let failure = format!("FAIL An anonymous GET of {url}");
        let answer = format!("/courier-check.txt answered {status}: {fix}\n");
        assert!(
            text.contains(&failure) && text.contains(&answer),
            "{failure} … {answer}{text}"
        );
        assert!(text.contains("ok   Private files are not served"), "{text}");
        assert!(
            text.contains("ok   Deleting a file with its owner's token works"),
            "{text}"
        );
    }

    let leaky = public_gateway::spawn_whole_bucket().await;
    let (ok, text) = courier_command(&["check"], public_url, &[("COURIER_PUBLIC_BASE_URL", &leaky)]).await;
    assert!(!ok, "{text}");
    let leak = format!("FAIL Private files are readable without a signature through {leaky}files/");
    assert!(
        text.contains(&leak) && text.contains(": COURIER_PUBLIC_BASE_URL must serve only public/files/."),
        "{text}"
    );
    assert!(text.contains("ok   A public link serves its file"), "{text}");

    let off = [("COURIER_PUBLIC_LINKS", "false")];
    let (ok, text) = courier_command(&["check"], public_url, &off).await;
    assert!(ok, "{text}");
    assert!(
        text.contains("ok   Public links are off (COURIER_PUBLIC_LINKS=false): nothing to check."),
        "{text}"
    );
    let (ok, text) = courier_command(&["setup-bucket"], public_url, &off).await;
    assert!(ok && text.contains("bucket policy: public links are off"), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_big_file_in_large_writes_goes_through_on_garage() {
    upload_big_file_in_large_writes(&spawn_on_garage(&[courier_test_support::BIG_FILE_IN_ONE_POST]).await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn five_hundred_uploads_from_two_hundred_clients_on_garage() {
    let courier = spawn_on_garage(&[("COURIER_RATE_LIMIT_PER_MINUTE", "0")]).await;
    upload_many(&courier, 200, 500)
        .await
        .assert_every_upload_landed("garage");
}

/// Garage keeps keys opaque, so a key with `..` is just a strange key there:
/// but Courier never confirms it, and the victim's file stays as it was.
#[tokio::test]
async fn no_key_escapes_its_grant_on_garage() {
    let courier = spawn_on_garage(&[]).await;
    let original = b"the victim's real bytes".to_vec();
    let victim = courier.upload("victim report.pdf", "application/pdf", &original).await;
    let victim_id = victim.key.split('/').nth(1).expect("files/<id>/<name>").to_owned();
    let (action, fields) = courier.page_form().await;
    let mine = fields["key"].trim_end_matches("${filename}").to_owned();
    let mut attempts = Vec::new();
    let mut forged = fields.clone();
    forged.insert(
        "key".to_owned(),
        format!("{mine}../../files/{victim_id}/victim-report.pdf"),
    );
    attempts.push(
        courier
            .post_to_store(&action, &forged, "x.pdf", "application/pdf", b"evil bytes")
            .await,
    );
    // A fresh page for the ${filename} variant.
    let (action, fields) = courier.page_form().await;
    let name = format!("../../files/{victim_id}/victim report.pdf");
    attempts.push(
        courier
            .post_to_store(&action, &fields, &name, "application/pdf", b"evil bytes")
            .await,
    );
    for attempt in attempts {
        if attempt.status() != StatusCode::SEE_OTHER {
            assert!(attempt.status().is_client_error(), "{}", attempt.status());
            continue;
        }
        // The store took it; Courier refuses to confirm it.
        let refused = courier.follow_as_fetch(&attempt).await;
        assert!(
            matches!(refused.status(), StatusCode::BAD_REQUEST | StatusCode::FORBIDDEN),
            "{}: {}",
            location(&attempt),
            refused.status()
        );
    }
    let served = courier.download(&victim.download_url).await;
    assert_eq!(served.headers()[reqwest::header::CONTENT_TYPE], "application/pdf");
    let (disposition, bytes) = courier.download_named(&victim.download_url).await;
    assert_eq!(bytes, original);
    assert!(disposition.contains("victim%20report.pdf"), "{disposition}");
}

#[tokio::test]
async fn a_shared_link_keeps_its_bytes_on_garage() {
    let courier = spawn_on_garage(&[]).await;
    let original = sample_bytes(2048);
    let grant = courier.grant("contract.txt", "text/plain", 2048).await;
    let stored = courier
        .post_to_store(&grant.url, &grant.fields, "contract.txt", "text/plain", &original)
        .await;
    let link: app::model::DownloadLink = courier.follow_as_fetch(&stored).await.json().await.expect("a link");
    assert!(link.key.starts_with("files/"), "{}", link.key);
    assert!(!object_exists(&grant.key).await, "the upload was moved");

    // Garage lets the grant write again while its policy lives...
    let forged = vec![b'!'; 2048];
    let again = courier
        .post_to_store(&grant.url, &grant.fields, "contract.txt", "text/plain", &forged)
        .await;
    assert_eq!(again.status(), StatusCode::SEE_OTHER);
    // ...but that lands on another confirmed key; the shared link is unchanged.
    let other: app::model::DownloadLink = courier.follow_as_fetch(&again).await.json().await.expect("a link");
    assert_ne!(other.key, link.key);
    assert_eq!(courier.downloaded_bytes(&link.download_url).await, original);
    assert_eq!(link.etag, md5_hex(&original));
    let reconfirmed: app::model::DownloadLink = courier.follow_as_fetch(&stored).await.json().await.expect("a link");
    assert_eq!(reconfirmed.key, link.key);
    assert_eq!(courier.downloaded_bytes(&reconfirmed.download_url).await, original);
}

#[tokio::test]
async fn shares_download_from_garage_and_what_is_over_is_deleted_there() {
    let courier = spawn_on_garage(&[("COURIER_SHARE_SWEEP_SECS", "1")]).await;
    let bytes = sample_bytes(200_000);
    let kept = courier
        .upload("shared on garage.bin", "application/octet-stream", &bytes)
        .await;
    let share = kept.share.clone().expect("a share");
    let redirect = courier.share_get(&format!("{}/1", share.id)).await;
    assert_eq!(redirect.status(), StatusCode::FOUND);
    assert_eq!(courier.downloaded_bytes(&location(&redirect)).await, bytes);

    // Taken back: deleted from Garage at once.
    let revoked = courier.revoke_share(&courier_test_support::share_ref(&kept)).await;
    assert_eq!(revoked.status(), StatusCode::OK);
    assert!(!object_exists(&kept.key).await, "taken back: deleted from Garage");
    assert_eq!(courier.share_get(&share.id).await.status(), StatusCode::GONE);

    // Expired: deleted by the sweep.
    let old = courier.upload("old on garage.txt", "text/plain", b"old").await;
    let old_id = old.share.as_ref().expect("a share").id.clone();
    courier.expire_share(&old_id, std::time::Duration::from_secs(120)).await;
    let mut swept = false;
    for _ in 0..100 {
        if !object_exists(&old.key).await {
            swept = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(swept, "expired: swept from Garage");
    assert_eq!(courier.share_get(&old_id).await.status(), StatusCode::GONE);
}
