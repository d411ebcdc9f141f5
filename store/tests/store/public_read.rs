//! Public links (issue 12) on the embedded store, at the S3 level: anyone
//! may GET or HEAD a confirmed public file (`public/files/<id>/<name>`) by
//! its plain URL; every other unsigned request is refused as before, and
//! signed requests work as before. (`public_links.rs` runs the whole flow.)

use aws_sdk_s3::primitives::ByteStream;
use reqwest::multipart::{Form, Part};
use reqwest::{Method, StatusCode, header};

use crate::support::{TestStore, sample_bytes};

const GRANT: &str = "6f1d1c52-3a55-4f4c-9a4e-1d7f25d1c0aa";
const CONFIRMED: &str = "0123456789abcdef0123456789abcdef";

/// A confirmed public file, a public upload not yet confirmed, a private
/// upload and a private confirmed file, written with the store's own
/// credentials.
struct Fixture {
    store: TestStore,
    s3: aws_sdk_s3::Client,
    public_key: String,
    bytes: Vec<u8>,
    private_keys: [String; 3],
}

async fn fixture() -> Fixture {
    let store = TestStore::start().await;
    let s3 = store.store_client();
    let bytes = sample_bytes(10_000);
    let public_key = format!("public/files/{CONFIRMED}/holiday photo.jpg");
    let private_keys = [
        format!("uploads/{GRANT}/secret.txt"),
        format!("files/{CONFIRMED}/secret.txt"),
        format!("public/uploads/{GRANT}/secret.txt"),
    ];
    put(&s3, &store, &public_key, &bytes).await;
    for key in &private_keys {
        put(&s3, &store, key, b"private bytes").await;
    }
    Fixture {
        store,
        s3,
        public_key,
        bytes,
        private_keys,
    }
}

async fn put(s3: &aws_sdk_s3::Client, store: &TestStore, key: &str, bytes: &[u8]) {
    s3.put_object()
        .bucket(&store.bucket)
        .key(key)
        .content_type("image/jpeg")
        .body(ByteStream::from(bytes.to_vec()))
        .send()
        .await
        .expect("a signed PUT");
}

impl Fixture {
    /// The object's plain URL, as a public link spells it.
    fn url(&self, key: &str) -> String {
        self.store.plain_url(key)
    }

    /// An unsigned request: no Authorization header, no signature in the query.
    async fn anonymous(&self, method: Method, url: &str) -> reqwest::Response {
        self.store
            .http
            .request(method, url)
            .send()
            .await
            .expect("the store answers")
    }

    /// What the store holds under `key`, read with a signature.
    async fn stored(&self, key: &str) -> Vec<u8> {
        self.s3
            .get_object()
            .bucket(&self.store.bucket)
            .key(key)
            .send()
            .await
            .expect("a signed GET")
            .body
            .collect()
            .await
            .expect("the body")
            .into_bytes()
            .to_vec()
    }

    /// The public file is still there, with its bytes, for anyone.
    async fn public_file_is_untouched(&self) {
        assert_eq!(self.stored(&self.public_key).await, self.bytes);
        let read = self.anonymous(Method::GET, &self.url(&self.public_key)).await;
        assert_eq!(read.status(), StatusCode::OK);
        assert_eq!(read.bytes().await.expect("the body").as_ref(), self.bytes.as_slice());
    }
}

async fn assert_access_denied(response: reqwest::Response, what: &str) {
    assert_eq!(response.status(), StatusCode::FORBIDDEN, "{what}");
    let body = response.text().await.expect("the body");
    assert!(body.contains("<Code>AccessDenied</Code>"), "{what}: {body}");
}

#[tokio::test]
async fn anyone_reads_a_public_file_by_its_plain_url() {
    let fixture = fixture().await;
    let url = fixture.url(&fixture.public_key);

    let got = fixture.anonymous(Method::GET, &url).await;
    assert_eq!(got.status(), StatusCode::OK);
    assert_eq!(got.headers()[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
    assert_eq!(got.headers()[header::CONTENT_TYPE], "image/jpeg");
    assert_eq!(got.bytes().await.expect("the body").as_ref(), fixture.bytes.as_slice());

    let head = fixture.anonymous(Method::HEAD, &url).await;
    assert_eq!(head.status(), StatusCode::OK);
    assert_eq!(
        head.headers()[header::CONTENT_LENGTH],
        fixture.bytes.len().to_string().as_str()
    );

    let range = fixture
        .store
        .http
        .get(&url)
        .header(header::RANGE, "bytes=100-199")
        .send()
        .await
        .expect("the store answers");
    assert_eq!(range.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(
        range.headers()[header::CONTENT_RANGE],
        format!("bytes 100-199/{}", fixture.bytes.len()).as_str()
    );
    assert_eq!(
        range.bytes().await.expect("the body").as_ref(),
        &fixture.bytes[100..200]
    );
}

#[tokio::test]
async fn private_files_lists_and_subresources_stay_signed_only() {
    let fixture = fixture().await;
    for key in &fixture.private_keys {
        let url = fixture.url(key);
        assert_access_denied(fixture.anonymous(Method::GET, &url).await, key).await;
        let head = fixture.anonymous(Method::HEAD, &url).await;
        assert_eq!(head.status(), StatusCode::FORBIDDEN, "HEAD {key}");
    }
    let bucket = format!("{}/{}", fixture.store.endpoint, fixture.store.bucket);
    let public = fixture.url(&fixture.public_key);
    for url in [
        // Listing `public/` would hand out every public file's id.
        format!("{bucket}?list-type=2&prefix=public/"),
        format!("{bucket}/?list-type=2&prefix=public%2F"),
        format!("{bucket}?prefix=public/"),
        bucket.clone(),
        // Only a plain read of a public file goes unsigned.
        format!("{public}?acl"),
        format!("{public}?tagging"),
        format!("{public}?attributes"),
        format!("{public}?uploadId=x"),
        format!("{public}?partNumber=1"),
        // `public/` in another bucket is not ours to serve.
        format!("{}/other/{}", fixture.store.endpoint, fixture.public_key),
        // Neither is the bucket named as `public`.
        format!(
            "{}/public/files/{CONFIRMED}/holiday%20photo.jpg",
            fixture.store.endpoint
        ),
    ] {
        assert_access_denied(fixture.anonymous(Method::GET, &url).await, &url).await;
    }
}

#[tokio::test]
async fn anonymous_writes_to_a_public_file_are_refused_and_it_stays() {
    let fixture = fixture().await;
    let url = fixture.url(&fixture.public_key);
    let http = &fixture.store.http;

    let overwrite = http.put(&url).body("evil bytes").send().await.expect("answers");
    assert_access_denied(overwrite, "PUT").await;
    let copy = http
        .put(&url)
        .header("x-amz-copy-source", format!("courier/{}", fixture.private_keys[0]))
        .send()
        .await
        .expect("answers");
    assert_access_denied(copy, "copy").await;
    assert_access_denied(fixture.anonymous(Method::DELETE, &url).await, "DELETE").await;
    let multipart = http.post(format!("{url}?uploads")).send().await.expect("answers");
    assert_access_denied(multipart, "multipart upload").await;

    // A browser form without a policy, to the bucket as uploads go…
    let form = Form::new()
        .text("key", fixture.public_key.clone())
        .part("file", Part::bytes(b"evil bytes".to_vec()).file_name("x.jpg"));
    let bucket = format!("{}/{}", fixture.store.endpoint, fixture.store.bucket);
    let posted = http.post(&bucket).multipart(form).send().await.expect("answers");
    assert_access_denied(posted, "POST form").await;
    // …and to the object's own URL.
    let form = Form::new()
        .text("key", fixture.public_key.clone())
        .part("file", Part::bytes(b"evil bytes".to_vec()).file_name("x.jpg"));
    let posted = http.post(&url).multipart(form).send().await.expect("answers");
    assert!(posted.status().is_client_error(), "{}", posted.status());

    fixture.public_file_is_untouched().await;
    // Nothing new was written under `public/` either.
    let listed = fixture
        .s3
        .list_objects_v2()
        .bucket(&fixture.store.bucket)
        .prefix("public/")
        .send()
        .await
        .expect("a signed list");
    let keys: Vec<_> = listed.contents().iter().filter_map(|o| o.key()).collect();
    assert_eq!(keys, [fixture.public_key.as_str(), fixture.private_keys[2].as_str()]);
}

#[tokio::test]
async fn an_anonymous_read_cannot_change_how_the_file_is_served() {
    let fixture = fixture().await;
    let url = fixture.url(&fixture.public_key);
    for query in [
        "response-content-disposition=inline",
        "response-content-type=text%2Fhtml",
        "response-cache-control=no-store",
    ] {
        for method in [Method::GET, Method::HEAD] {
            let answer = fixture.anonymous(method.clone(), &format!("{url}?{query}")).await;
            assert_eq!(answer.status(), StatusCode::BAD_REQUEST, "{method} {query}");
            if method == Method::GET {
                let body = answer.text().await.expect("the body");
                assert!(body.contains("<Code>InvalidRequest</Code>"), "{query}: {body}");
            }
        }
    }
    // A signed link names the download this way, as before.
    let signed = fixture
        .s3
        .get_object()
        .bucket(&fixture.store.bucket)
        .key(&fixture.public_key)
        .response_content_disposition("attachment; filename=\"photo.jpg\"")
        .presigned(
            aws_sdk_s3::presigning::PresigningConfig::expires_in(std::time::Duration::from_secs(60))
                .expect("a presigning config"),
        )
        .await
        .expect("a presigned GET");
    let got = fixture.anonymous(Method::GET, signed.uri()).await;
    assert_eq!(got.status(), StatusCode::OK);
    assert_eq!(
        got.headers()[header::CONTENT_DISPOSITION],
        "attachment; filename=\"photo.jpg\""
    );
}

#[tokio::test]
async fn paths_that_climb_from_public_into_private_files_are_refused() {
    let fixture = fixture().await;
    let host = fixture.store.endpoint.trim_start_matches("http://");
    let secret = format!("uploads/{GRANT}/secret.txt");
    let file = format!("public/files/{CONFIRMED}");
    for path in [
        format!("/courier/{file}/../../../{secret}"),
        format!("/courier/{file}/../../{secret}"),
        format!("/courier/public/files/%2e%2e/%2e%2e/{secret}"),
        format!("/courier/public/files/%2E%2E/%2E%2E/{secret}"),
        format!("/courier/public/files/%2e%2e/{secret}"),
        format!("/courier/public%2Ffiles%2F..%2F..%2F{}", secret.replace('/', "%2F")),
        format!("/courier/public/files/..%2F..%2F{secret}"),
        format!("/courier/public/files//../../{secret}"),
        format!("/courier//{file}/holiday%20photo.jpg"),
        format!("/courier/{file}/holiday%20photo.jpg/..%2F..%2F..%2F..%2F{secret}"),
        format!("/courier/{file}/.%2E/.%2e/.%2E/.%2e/{secret}"),
    ] {
        for method in ["GET", "HEAD"] {
            let answer = fixture
                .store
                .send_raw_to_store(&format!(
                    "{method} {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
                ))
                .await;
            assert!(
                answer.starts_with("HTTP/1.1 400") || answer.starts_with("HTTP/1.1 403"),
                "{method} {path}: {answer}"
            );
            assert!(!answer.contains("private bytes"), "{method} {path}: {answer}");
        }
    }
    // The bucket as a virtual host: the store reads paths only, so the
    // first segment is a bucket, and not ours.
    let answer = fixture
        .store
        .send_raw_to_store(&format!(
            "GET /{secret} HTTP/1.1\r\nHost: courier.{host}\r\nConnection: close\r\n\r\n"
        ))
        .await;
    assert!(answer.starts_with("HTTP/1.1 403"), "{answer}");
    assert!(!answer.contains("private bytes"), "{answer}");
}

#[tokio::test]
async fn signed_requests_under_public_work_as_before() {
    let fixture = fixture().await;
    let (s3, bucket) = (&fixture.s3, fixture.store.bucket.as_str());
    // What confirming a public upload does: copy it to its confirmed key,
    // HEAD it, remove the upload; and what its owner's delete does.
    let upload = "public/uploads/0b6e2cf0-9d7e-4d8e-8f7a-3a3e0e8f9b11/report.pdf";
    let confirmed = format!("public/files/{}/report.pdf", "f".repeat(32));
    put(s3, &fixture.store, upload, b"the report").await;
    s3.copy_object()
        .bucket(bucket)
        .key(&confirmed)
        .copy_source(format!("{bucket}/{upload}"))
        .send()
        .await
        .expect("a signed copy into public/");
    let head = s3
        .head_object()
        .bucket(bucket)
        .key(&confirmed)
        .send()
        .await
        .expect("a signed HEAD");
    assert_eq!(head.content_length(), Some(10));
    assert_eq!(fixture.stored(&confirmed).await, b"the report");
    // Anyone reads it once it is confirmed; the upload itself stays private.
    let read = fixture.anonymous(Method::GET, &fixture.url(&confirmed)).await;
    assert_eq!(read.status(), StatusCode::OK);
    assert_eq!(read.bytes().await.expect("the body").as_ref(), b"the report");
    assert_access_denied(fixture.anonymous(Method::GET, &fixture.url(upload)).await, upload).await;
    for key in [upload, confirmed.as_str()] {
        s3.delete_object()
            .bucket(bucket)
            .key(key)
            .send()
            .await
            .expect("a signed DELETE");
    }
    let gone = fixture.anonymous(Method::GET, &fixture.url(&confirmed)).await;
    assert_eq!(gone.status(), StatusCode::NOT_FOUND);
    let listed = s3
        .list_objects_v2()
        .bucket(bucket)
        .prefix("public/")
        .send()
        .await
        .expect("a signed list");
    assert_eq!(listed.contents().len(), 2, "{listed:?}");
}
