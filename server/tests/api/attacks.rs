//! What an attacker sends to the embedded store's public port and to the app,
//! beyond what our own page sends. Each test is a row in SECURITY.md.

use std::time::Duration;

use reqwest::{StatusCode, header};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

use courier_test_support::{TestCourier, location, md5_hex, query, sample_bytes};

/// A victim's confirmed upload: its link, bytes, name and type as served.
struct Victim {
    link: app::model::DownloadLink,
    bytes: Vec<u8>,
}

async fn victim(courier: &TestCourier) -> Victim {
    let bytes = b"quarterly numbers, the real ones".to_vec();
    let link = courier.upload("quarterly report.pdf", "application/pdf", &bytes).await;
    Victim { link, bytes }
}

impl Victim {
    /// The victim's link still serves exactly what was confirmed.
    async fn is_untouched(&self, courier: &TestCourier) {
        let response = courier.download(&self.link.download_url).await;
        assert_eq!(response.status(), StatusCode::OK);
        let content_type = response.headers()[header::CONTENT_TYPE]
            .to_str()
            .expect("ascii")
            .to_owned();
        let (disposition, bytes) = courier.download_named(&self.link.download_url).await;
        assert_eq!(bytes, self.bytes, "the victim's bytes changed");
        assert_eq!(md5_hex(&bytes), self.link.etag);
        assert!(
            disposition.contains("filename*=UTF-8''quarterly%20report.pdf"),
            "{disposition}"
        );
        assert_eq!(content_type, "application/pdf");
    }

    fn id(&self) -> &str {
        self.link.key.split('/').nth(1).expect("files/<id>/<name>")
    }
}

/// Sends `request` as it is (no client normalises its path) and returns the
/// status line and the whole answer.
async fn raw(addr: &str, request: &str) -> String {
    let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    stream.write_all(request.as_bytes()).await.expect("write");
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut answer)).await;
    String::from_utf8_lossy(&answer).into_owned()
}

fn store_addr(courier: &TestCourier) -> String {
    courier.store.trim_start_matches("http://").to_owned()
}

#[tokio::test]
async fn a_form_key_with_dot_segments_is_refused_and_the_victim_keeps_its_file() {
    let courier = TestCourier::start().await;
    let victim = victim(&courier).await;
    let (action, fields) = courier.page_form().await;
    let mine = fields["key"].trim_end_matches("${filename}").to_owned();
    let sidecar = format!("{mine}../../../.bucket-Y291cmllcg.object-x.metadata.json");
    for key in [
        format!("{mine}../../files/{}/quarterly-report.pdf", victim.id()),
        format!("{mine}../x/quarterly-report.pdf"),
        format!("{mine}./x"),
        format!("{mine}a//x"),
        format!("{mine}a\\..\\..\\x"),
        sidecar,
    ] {
        let mut forged = fields.clone();
        forged.insert("key".to_owned(), key.clone());
        let refused = courier
            .post_to_store(
                &action,
                &forged,
                "evil.pdf",
                "application/x-msdownload",
                b"evil bytes, same size as th",
            )
            .await;
        assert_eq!(refused.status(), StatusCode::BAD_REQUEST, "{key}");
        let body = refused.text().await.expect("body");
        assert!(body.contains("<Code>InvalidArgument</Code>"), "{key}: {body}");
    }
    victim.is_untouched(&courier).await;
    assert_eq!(courier.stored_keys(), vec![victim.link.key.clone()]);
}

#[tokio::test]
async fn a_file_name_cannot_carry_a_path_into_the_key() {
    let courier = TestCourier::start().await;
    let victim = victim(&courier).await;
    let (action, fields) = courier.page_form().await;
    let name = format!("../../files/{}/quarterly report.pdf", victim.id());
    let stored = courier
        .post_to_store(&action, &fields, &name, "application/pdf", b"evil")
        .await;
    // Stored, but under the form's own prefix, as its base name.
    assert_eq!(stored.status(), StatusCode::SEE_OTHER);
    let key = query(&location(&stored))["key"].clone();
    assert_eq!(key, fields["key"].replace("${filename}", "quarterly report.pdf"));
    victim.is_untouched(&courier).await;
}

#[tokio::test]
async fn paths_that_climb_or_leave_the_bucket_are_refused_before_any_signature_check() {
    let courier = TestCourier::start().await;
    let victim = victim(&courier).await;
    let addr = store_addr(&courier);
    for path in [
        format!("/courier/files/{}/../../../credentials.json", victim.id()),
        "/courier/uploads/%2e%2e/%2e%2e/credentials.json".to_owned(),
        "/courier/uploads%2F..%2F..%2Fcredentials.json".to_owned(),
        "/courier/a//b".to_owned(),
        "/courier/a%5C..%5Cb".to_owned(),
    ] {
        let answer = raw(
            &addr,
            &format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"),
        )
        .await;
        assert!(answer.starts_with("HTTP/1.1 400"), "{path}: {answer}");
        assert!(answer.contains("InvalidArgument"), "{path}: {answer}");
        assert!(
            answer.to_ascii_lowercase().contains("x-content-type-options: nosniff"),
            "{answer}"
        );
    }
    for path in ["/", "/other-bucket", "/objects/x", "/courier-copy/x"] {
        let answer = raw(
            &addr,
            &format!("PUT {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"),
        )
        .await;
        assert!(answer.starts_with("HTTP/1.1 403"), "{path}: {answer}");
    }
    // A copy whose source climbs out is refused too, whoever signed it.
    let answer = raw(
        &addr,
        &format!(
            "PUT /courier/uploads/x HTTP/1.1\r\nHost: {addr}\r\nx-amz-copy-source: courier/../credentials.json\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        ),
    )
    .await;
    assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
    victim.is_untouched(&courier).await;
}

#[tokio::test]
async fn a_shared_link_keeps_serving_the_confirmed_bytes_whatever_its_grant_sends_later() {
    let courier = TestCourier::start().await;
    let original = sample_bytes(4096);
    let grant = courier.grant("contract.txt", "text/plain", 4096).await;
    let stored = courier
        .post_to_store(&grant.url, &grant.fields, "contract.txt", "text/plain", &original)
        .await;
    assert_eq!(stored.status(), StatusCode::SEE_OTHER);
    let link: app::model::DownloadLink = courier.follow_as_fetch(&stored).await.json().await.expect("link");
    assert!(link.key.starts_with("files/"), "{}", link.key);

    // The same grant, other bytes of the same size, after the link was shared.
    let forged = vec![b'!'; 4096];
    let again = courier
        .post_to_store(&grant.url, &grant.fields, "contract.txt", "text/plain", &forged)
        .await;
    assert_eq!(again.status(), StatusCode::FORBIDDEN);
    assert!(again.text().await.expect("body").contains("already used"));

    // Confirming the first redirect again finds the same file; renewing too.
    let reconfirmed: app::model::DownloadLink = courier.follow_as_fetch(&stored).await.json().await.expect("link");
    assert_eq!(
        (reconfirmed.key.as_str(), reconfirmed.etag.as_str()),
        (link.key.as_str(), link.etag.as_str())
    );
    let renewed = courier.sign_download(&link.key, &link.token).await;
    let renewed: app::model::DownloadLink = renewed.json().await.expect("link");
    for served in [&link, &reconfirmed, &renewed] {
        assert_eq!(courier.downloaded_bytes(&served.download_url).await, original);
        assert_eq!(served.etag, md5_hex(&original));
    }
    assert_eq!(courier.stored_keys(), vec![link.key.clone()]);
}

#[tokio::test]
async fn replaying_an_upload_token_never_extends_the_renewal() {
    let courier = TestCourier::start().await;
    let grant = courier.grant("a.txt", "text/plain", 1).await;
    let stored = courier
        .post_to_store(&grant.url, &grant.fields, "a.txt", "text/plain", b"a")
        .await;
    let mut renewal_tokens = Vec::new();
    for _ in 0..3 {
        let link: app::model::DownloadLink = courier.follow_as_fetch(&stored).await.json().await.expect("link");
        renewal_tokens.push(link.token);
        tokio::time::sleep(Duration::from_millis(1100)).await;
    }
    assert!(renewal_tokens.windows(2).all(|w| w[0] == w[1]), "{renewal_tokens:?}");
}

#[tokio::test]
async fn an_unsigned_post_is_refused_from_its_fields() {
    let courier = TestCourier::start().await;
    let (action, fields) = courier.page_form().await;
    let mut unsigned = fields.clone();
    for name in ["policy", "x-amz-signature"] {
        unsigned.retain(|k, _| !k.eq_ignore_ascii_case(name));
    }
    let refused = courier
        .post_to_store(&action, &unsigned, "a.txt", "text/plain", &sample_bytes(1 << 20))
        .await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    let body = refused.text().await.expect("body");
    assert!(body.contains("only signed uploads"), "{body}");
    // A POST form to an object's URL is not an upload at all.
    let to_object = courier
        .post_to_store(&format!("{action}/uploads/x"), &fields, "a.txt", "text/plain", b"a")
        .await;
    assert_eq!(to_object.status(), StatusCode::METHOD_NOT_ALLOWED);
    // Content types that s3s might still read as a form, but ours would not.
    let addr = store_addr(&courier);
    for content_type in [
        "Content-Type: multipart/form-data\r\n",
        "Content-Type: multipart/form-data; boundary=x\r\nContent-Type: multipart/form-data; boundary=y\r\n",
        "Content-Type: MULTIPART/mixed; boundary=x\r\n",
    ] {
        let answer = raw(
            &addr,
            &format!(
                "POST /courier HTTP/1.1\r\nHost: {addr}\r\n{content_type}Content-Length: 0\r\nConnection: close\r\n\r\n"
            ),
        )
        .await;
        assert!(answer.starts_with("HTTP/1.1 400"), "{content_type:?}: {answer}");
    }
    // A body over the cap is refused from its declared length.
    let answer = raw(
        &addr,
        &format!(
            "POST /courier HTTP/1.1\r\nHost: {addr}\r\nContent-Type: multipart/form-data; boundary=x\r\nContent-Length: 999999999999\r\nConnection: close\r\n\r\n"
        ),
    )
    .await;
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert_eq!(courier.stored_keys(), Vec::<String>::new());
}

/// Reads until the peer closes, for at most `limit`; whether it closed.
async fn closed_within(stream: &mut tokio::net::TcpStream, limit: Duration) -> bool {
    let mut buf = [0u8; 512];
    tokio::time::timeout(limit, async {
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        }
    })
    .await
    .is_ok()
}

#[tokio::test]
async fn the_store_closes_connections_that_never_finish_their_headers() {
    let courier = TestCourier::start().await;
    let addr = store_addr(&courier);
    // Half a header; nothing at all; an HTTP/2 preface (the store speaks HTTP/1.1 only).
    let mut partial = tokio::net::TcpStream::connect(&addr).await.expect("connect");
    partial
        .write_all(b"GET /courier HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        .await
        .expect("write");
    let mut silent = tokio::net::TcpStream::connect(&addr).await.expect("connect");
    let mut h2 = tokio::net::TcpStream::connect(&addr).await.expect("connect");
    h2.write_all(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n").await.expect("write");
    let limit = Duration::from_secs(20);
    let (partial, silent, h2) = tokio::join!(
        closed_within(&mut partial, limit),
        closed_within(&mut silent, limit),
        closed_within(&mut h2, limit)
    );
    assert_eq!((partial, silent, h2), (true, true, true), "still open after 20 s");
}

#[tokio::test]
async fn form_fields_that_trickle_in_lose_their_slot() {
    let courier = TestCourier::start().await;
    let addr = store_addr(&courier);
    let mut stream = tokio::net::TcpStream::connect(&addr).await.expect("connect");
    stream
        .write_all(b"POST /courier HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=b\r\nContent-Length: 100000\r\n\r\n--b\r\n")
        .await
        .expect("write");
    // A byte every 2 s: never idle for long, but the fields never finish.
    let answer = tokio::time::timeout(Duration::from_secs(30), async {
        let mut answer = Vec::new();
        let mut buf = [0u8; 512];
        loop {
            tokio::select! {
                read = stream.read(&mut buf) => match read {
                    Ok(0) | Err(_) => return answer,
                    Ok(n) => answer.extend_from_slice(&buf[..n]),
                },
                () = tokio::time::sleep(Duration::from_secs(2)) => {
                    if stream.write_all(b"C").await.is_err() {
                        return answer;
                    }
                }
            }
        }
    })
    .await
    .expect("the store answered within 30 s");
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
}

#[tokio::test]
async fn the_page_is_rate_limited_like_the_signing_endpoints() {
    let courier = TestCourier::builder().rate_limited(3).start().await;
    let mut statuses = Vec::new();
    for _ in 0..3 {
        statuses.push(courier.get_as(&courier.base, "text/html").await.status());
    }
    // Each page hands out a form policy: the burst is shared with sign_upload.
    statuses.push(courier.sign_upload("a.txt", "text/plain", 1).await.status());
    statuses.push(courier.get_as(&courier.base, "text/html").await.status());
    assert_eq!(
        statuses,
        [
            StatusCode::OK,
            StatusCode::OK,
            StatusCode::OK,
            StatusCode::TOO_MANY_REQUESTS,
            StatusCode::TOO_MANY_REQUESTS
        ]
    );
}

#[tokio::test]
async fn the_data_directory_is_the_owners_alone() {
    use std::os::unix::fs::PermissionsExt as _;
    // A directory anyone may read, as a default umask makes it (a temporary
    // directory is already private, which would prove nothing).
    let parent = tempfile::tempdir().expect("dir");
    let data_dir = parent.path().join("data");
    std::fs::create_dir(&data_dir).expect("mkdir");
    std::fs::set_permissions(&data_dir, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let _courier = TestCourier::builder()
        .envs(&[("COURIER_DATA_DIR", data_dir.to_str().expect("utf-8"))])
        .start()
        .await;
    let mode = std::fs::metadata(&data_dir).expect("stat").permissions().mode();
    assert_eq!(mode & 0o077, 0, "{mode:o}");
}

#[tokio::test]
async fn oversized_chunked_bodies_and_unknown_functions_get_sentences() {
    let courier = TestCourier::start().await;
    let chunks = futures::stream::iter((0..40).map(|_| Ok::<_, std::io::Error>(bytes::Bytes::from(vec![b'a'; 4096]))));
    let too_big = courier
        .http
        .post(format!(
            "{}{}",
            courier.base,
            wire::endpoint::Endpoint::SignUpload.path()
        ))
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(reqwest::Body::wrap_stream(chunks))
        .send()
        .await
        .expect("answers");
    assert_eq!(too_big.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let body: serde_json::Value = too_big.json().await.expect("JSON");
    assert!(
        body["error"].as_str().is_some_and(|s| s.contains("too large")),
        "{body}"
    );

    let unknown = courier
        .http
        .post(format!("{}{}/no_such_function", courier.base, wire::endpoint::PREFIX))
        .send()
        .await
        .expect("answers");
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);
    let body = unknown.text().await.expect("body");
    assert!(!body.contains("server function"), "{body}");
}

#[tokio::test]
async fn clients_that_stall_before_their_fields_do_not_block_uploads() {
    let courier = TestCourier::start().await;
    let addr = store_addr(&courier);
    // More stalled POSTs than the store has slots for uploads (32).
    let mut stalled = Vec::new();
    for _ in 0..40 {
        let mut stream = tokio::net::TcpStream::connect(&addr).await.expect("connect");
        stream
            .write_all(b"POST /courier HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=b\r\nContent-Length: 100000\r\n\r\n--b\r\n")
            .await
            .expect("write");
        stalled.push(stream);
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let upload = courier.upload("still works.txt", "text/plain", b"still works");
    let link = tokio::time::timeout(Duration::from_secs(20), upload)
        .await
        .expect("the upload waited behind stalled clients");
    assert_eq!(courier.downloaded_bytes(&link.download_url).await, b"still works");
    drop(stalled);
}

/// The guards stop what escapes, not what S3 clients do: the SDK, with the
/// store's own credentials, still writes (with its default streaming
/// checksums), copies, reads, lists and deletes.
#[tokio::test]
async fn an_s3_client_with_the_stores_credentials_still_works() {
    use aws_sdk_s3::primitives::ByteStream;

    let courier = TestCourier::start().await;
    let s3 = courier.store_client();
    let bytes = sample_bytes(3 * 1024 * 1024 + 5);
    let key = "uploads/6f1d1c52-3a55-4f4c-9a4e-1d7f25d1c0aa/sdk.bin";
    s3.put_object()
        .bucket(&courier.bucket)
        .key(key)
        .body(ByteStream::from(bytes.clone()))
        .send()
        .await
        .expect("put");
    s3.copy_object()
        .bucket(&courier.bucket)
        .key("files/0123456789abcdef0123456789abcdef/sdk.bin")
        .copy_source(format!("{}/{key}", courier.bucket))
        .send()
        .await
        .expect("copy");
    let got = s3
        .get_object()
        .bucket(&courier.bucket)
        .key("files/0123456789abcdef0123456789abcdef/sdk.bin")
        .send()
        .await
        .expect("get")
        .body
        .collect()
        .await
        .expect("body")
        .into_bytes();
    assert_eq!(got.as_ref(), bytes.as_slice());
    let listed = s3.list_objects_v2().bucket(&courier.bucket).send().await.expect("list");
    assert_eq!(listed.contents().len(), 2);
    s3.delete_object()
        .bucket(&courier.bucket)
        .key(key)
        .send()
        .await
        .expect("delete");
    // Buckets are not the SDK's to make or list here.
    assert!(s3.create_bucket().bucket("another").send().await.is_err());
    assert!(s3.list_buckets().send().await.is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn confirmations_of_one_upload_at_once_agree_and_keep_the_bytes() {
    let courier = TestCourier::start().await;
    let bytes = sample_bytes(8 * 1024 * 1024);
    let grant = courier
        .grant("twice.bin", "application/octet-stream", bytes.len() as u64)
        .await;
    let stored = courier
        .post_to_store(
            &grant.url,
            &grant.fields,
            "twice.bin",
            "application/octet-stream",
            &bytes,
        )
        .await;
    assert_eq!(stored.status(), StatusCode::SEE_OTHER);
    let confirmations = futures::future::join_all((0..6).map(|_| courier.follow_as_fetch(&stored))).await;
    let mut keys = Vec::new();
    for confirmed in confirmations {
        assert_eq!(confirmed.status(), StatusCode::OK);
        let link: app::model::DownloadLink = confirmed.json().await.expect("a link");
        assert_eq!(link.etag, md5_hex(&bytes));
        keys.push(link.key.clone());
        assert_eq!(courier.downloaded_bytes(&link.download_url).await, bytes);
    }
    keys.dedup();
    assert_eq!(keys.len(), 1, "{keys:?}");
    assert_eq!(courier.stored_keys(), keys);
}
