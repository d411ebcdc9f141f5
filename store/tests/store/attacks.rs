//! What an attacker sends to the store's public port, beyond what our own
//! page sends: forged keys and paths, unsigned or malformed forms, and
//! connections that never finish. Each test is a row in SECURITY.md.

use std::time::Duration;

use reqwest::{StatusCode, header};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

use crate::support::{TestStore, location, md5_hex, query, sample_bytes};

/// A victim's confirmed upload: its key and bytes.
struct Victim {
    key: String,
    bytes: Vec<u8>,
}

async fn victim(store: &TestStore) -> Victim {
    let bytes = b"quarterly numbers, the real ones".to_vec();
    let key = store.upload("quarterly report.pdf", "application/pdf", &bytes).await;
    Victim { key, bytes }
}

impl Victim {
    /// The victim's link still serves exactly what was confirmed, under its
    /// name and type.
    async fn is_untouched(&self, store: &TestStore) {
        let link = store
            .store_client()
            .get_object()
            .bucket(&store.bucket)
            .key(&self.key)
            .response_content_disposition(signer::content_disposition::attachment("quarterly report.pdf"))
            .presigned(
                aws_sdk_s3::presigning::PresigningConfig::expires_in(Duration::from_secs(60)).expect("a lifetime"),
            )
            .await
            .expect("presigned");
        let response = store.http.get(link.uri()).send().await.expect("the store answers");
        assert_eq!(response.status(), StatusCode::OK);
        let text = |name| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_owned()
        };
        let (content_type, disposition, e_tag) = (
            text(header::CONTENT_TYPE),
            text(header::CONTENT_DISPOSITION),
            text(header::ETAG),
        );
        let bytes = response.bytes().await.expect("the body");
        assert_eq!(bytes, self.bytes, "the victim's bytes changed");
        assert_eq!(e_tag.trim_matches('"'), md5_hex(&self.bytes));
        assert!(
            disposition.contains("filename*=UTF-8''quarterly%20report.pdf"),
            "{disposition}"
        );
        assert_eq!(content_type, "application/pdf");
    }

    fn id(&self) -> &str {
        self.key.split('/').nth(1).expect("files/<id>/<name>")
    }
}

#[tokio::test]
async fn a_form_key_with_dot_segments_is_refused_and_the_victim_keeps_its_file() {
    let store = TestStore::start().await;
    let victim = victim(&store).await;
    let form = store.page_form();
    let mine = form.fields["key"].trim_end_matches("${filename}").to_owned();
    let sidecar = format!("{mine}../../../.bucket-Y291cmllcg.object-x.metadata.json");
    for key in [
        format!("{mine}../../files/{}/quarterly-report.pdf", victim.id()),
        format!("{mine}../x/quarterly-report.pdf"),
        format!("{mine}./x"),
        format!("{mine}a//x"),
        format!("{mine}a\\..\\..\\x"),
        sidecar,
    ] {
        let mut forged = form.fields.clone();
        forged.insert("key".to_owned(), key.clone());
        let refused = store
            .post_form(
                &form.url,
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
    victim.is_untouched(&store).await;
    assert_eq!(store.stored_keys(), vec![victim.key.clone()]);
}

#[tokio::test]
async fn a_file_name_cannot_carry_a_path_into_the_key() {
    let store = TestStore::start().await;
    let victim = victim(&store).await;
    let form = store.page_form();
    let name = format!("../../files/{}/quarterly report.pdf", victim.id());
    let stored = store
        .post_form(&form.url, &form.fields, &name, "application/pdf", b"evil")
        .await;
    // Stored, but under the form's own prefix, as its base name.
    assert_eq!(stored.status(), StatusCode::SEE_OTHER);
    let key = query(&location(&stored))["key"].clone();
    assert_eq!(key, form.fields["key"].replace("${filename}", "quarterly report.pdf"));
    victim.is_untouched(&store).await;
}

#[tokio::test]
async fn paths_that_climb_or_leave_the_bucket_are_refused_before_any_signature_check() {
    let store = TestStore::start().await;
    let victim = victim(&store).await;
    let addr = store.addr();
    for path in [
        format!("/courier/files/{}/../../../credentials.json", victim.id()),
        "/courier/uploads/%2e%2e/%2e%2e/credentials.json".to_owned(),
        "/courier/uploads%2F..%2F..%2Fcredentials.json".to_owned(),
        "/courier/a//b".to_owned(),
        "/courier/a%5C..%5Cb".to_owned(),
    ] {
        let answer = store
            .send_raw_to_store(&format!(
                "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
            ))
            .await;
        assert!(answer.starts_with("HTTP/1.1 400"), "{path}: {answer}");
        assert!(answer.contains("InvalidArgument"), "{path}: {answer}");
        assert!(
            answer.to_ascii_lowercase().contains("x-content-type-options: nosniff"),
            "{answer}"
        );
    }
    for path in ["/", "/other-bucket", "/objects/x", "/courier-copy/x"] {
        let answer = store
            .send_raw_to_store(&format!(
                "PUT {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
            ))
            .await;
        assert!(answer.starts_with("HTTP/1.1 403"), "{path}: {answer}");
    }
    // A copy whose source climbs out is refused too, whoever signed it.
    let answer = store
        .send_raw_to_store(&format!(
            "PUT /courier/uploads/x HTTP/1.1\r\nHost: {addr}\r\nx-amz-copy-source: courier/../credentials.json\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        ))
        .await;
    assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
    victim.is_untouched(&store).await;
}

#[tokio::test]
async fn an_unsigned_post_is_refused_from_its_fields() {
    let store = TestStore::start().await;
    let form = store.page_form();
    let mut unsigned = form.fields.clone();
    for name in ["policy", "x-amz-signature"] {
        unsigned.retain(|k, _| !k.eq_ignore_ascii_case(name));
    }
    let refused = store
        .post_form(&form.url, &unsigned, "a.txt", "text/plain", &sample_bytes(1 << 20))
        .await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    let body = refused.text().await.expect("body");
    assert!(body.contains("only signed uploads"), "{body}");
    // A POST form to an object's URL is not an upload at all.
    let to_object = store
        .post_form(
            &format!("{}/uploads/x", form.url),
            &form.fields,
            "a.txt",
            "text/plain",
            b"a",
        )
        .await;
    assert_eq!(to_object.status(), StatusCode::METHOD_NOT_ALLOWED);
    // Content types that s3s might still read as a form, but ours would not.
    let addr = store.addr();
    for content_type in [
        "Content-Type: multipart/form-data\r\n",
        "Content-Type: multipart/form-data; boundary=x\r\nContent-Type: multipart/form-data; boundary=y\r\n",
        "Content-Type: MULTIPART/mixed; boundary=x\r\n",
    ] {
        let answer = store
            .send_raw_to_store(&format!(
                "POST /courier HTTP/1.1\r\nHost: {addr}\r\n{content_type}Content-Length: 0\r\nConnection: close\r\n\r\n"
            ))
            .await;
        assert!(answer.starts_with("HTTP/1.1 400"), "{content_type:?}: {answer}");
    }
    // A body over the cap is refused from its declared length.
    let answer = store
        .send_raw_to_store(&format!(
            "POST /courier HTTP/1.1\r\nHost: {addr}\r\nContent-Type: multipart/form-data; boundary=x\r\nContent-Length: 999999999999\r\nConnection: close\r\n\r\n"
        ))
        .await;
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert_eq!(store.stored_keys(), Vec::<String>::new());
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
    // Headers must arrive within 2 s (10 s by default), so the test waits seconds.
    let header_read = Duration::from_secs(2);
    let store = TestStore::builder()
        .limits(courier_serve::Limits {
            header_read,
            ..courier_serve::Limits::STORE
        })
        .start()
        .await;
    let addr = store.addr();
    // Half a header; nothing at all; an HTTP/2 preface (the store speaks HTTP/1.1 only).
    let mut partial = tokio::net::TcpStream::connect(addr).await.expect("connect");
    partial
        .write_all(b"GET /courier HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        .await
        .expect("write");
    let mut silent = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let mut h2 = tokio::net::TcpStream::connect(addr).await.expect("connect");
    h2.write_all(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n").await.expect("write");
    let limit = header_read * 2;
    let (partial, silent, h2) = tokio::join!(
        closed_within(&mut partial, limit),
        closed_within(&mut silent, limit),
        closed_within(&mut h2, limit)
    );
    assert_eq!((partial, silent, h2), (true, true, true), "still open after {limit:?}");
}

#[tokio::test]
async fn form_fields_that_trickle_in_lose_their_slot() {
    let store = TestStore::start().await;
    let mut stream = tokio::net::TcpStream::connect(store.addr()).await.expect("connect");
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
async fn the_data_directory_is_the_owners_alone() {
    use std::os::unix::fs::PermissionsExt as _;
    // A directory anyone may read, as a default umask makes it (a temporary
    // directory is already private, which would prove nothing).
    let parent = tempfile::tempdir().expect("dir");
    let data_dir = parent.path().join("data");
    std::fs::create_dir(&data_dir).expect("mkdir");
    std::fs::set_permissions(&data_dir, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let _store = TestStore::builder().data_dir(&data_dir).start().await;
    let mode = std::fs::metadata(&data_dir).expect("stat").permissions().mode();
    assert_eq!(mode & 0o077, 0, "{mode:o}");
}

#[tokio::test]
async fn clients_that_stall_before_their_fields_do_not_block_uploads() {
    let store = TestStore::start().await;
    // More stalled POSTs than the store has slots for uploads (32).
    let mut stalled = Vec::new();
    for _ in 0..40 {
        let mut stream = tokio::net::TcpStream::connect(store.addr()).await.expect("connect");
        stream
            .write_all(b"POST /courier HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=b\r\nContent-Length: 100000\r\n\r\n--b\r\n")
            .await
            .expect("write");
        stalled.push(stream);
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let upload = store.upload("still works.txt", "text/plain", b"still works");
    let key = tokio::time::timeout(Duration::from_secs(20), upload)
        .await
        .expect("the upload waited behind stalled clients");
    assert_eq!(store.downloaded(&key).await, b"still works");
    drop(stalled);
}

/// The guards stop what escapes, not what S3 clients do: the SDK, with the
/// store's own credentials, still writes (with its default streaming
/// checksums), copies, reads, lists and deletes.
#[tokio::test]
async fn an_s3_client_with_the_stores_credentials_still_works() {
    use aws_sdk_s3::primitives::ByteStream;

    let store = TestStore::start().await;
    let s3 = store.store_client();
    let bytes = sample_bytes(3 * 1024 * 1024 + 5);
    let key = "uploads/6f1d1c52-3a55-4f4c-9a4e-1d7f25d1c0aa/sdk.bin";
    s3.put_object()
        .bucket(&store.bucket)
        .key(key)
        .body(ByteStream::from(bytes.clone()))
        .send()
        .await
        .expect("put");
    s3.copy_object()
        .bucket(&store.bucket)
        .key("files/0123456789abcdef0123456789abcdef/sdk.bin")
        .copy_source(format!("{}/{key}", store.bucket))
        .send()
        .await
        .expect("copy");
    let got = s3
        .get_object()
        .bucket(&store.bucket)
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
    let listed = s3.list_objects_v2().bucket(&store.bucket).send().await.expect("list");
    assert_eq!(listed.contents().len(), 2);
    s3.delete_object()
        .bucket(&store.bucket)
        .key(key)
        .send()
        .await
        .expect("delete");
    // Buckets are not the SDK's to make or list here.
    assert!(s3.create_bucket().bucket("another").send().await.is_err());
    assert!(s3.list_buckets().send().await.is_err());
}
