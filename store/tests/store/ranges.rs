//! Byte ranges on the embedded store, as S3 answers them: a suffix longer
//! than the object is the whole object, a range past its end is
//! `416 InvalidRange`. `Range: bytes=-9223372036854775808` on any link made
//! `s3s-fs` panic (an empty reply for the client, raw lines on stderr); the
//! store must answer it and keep serving.

use reqwest::{StatusCode, header};

use crate::support::{TestStore, sample_bytes};

const FILE_BYTES: usize = 1000;

/// The store's answer to a GET of `url` with `range`: status, `Content-Range`, body.
async fn get_range(store: &TestStore, url: &str, range: &str) -> (StatusCode, Option<String>, Vec<u8>) {
    let answer = store
        .http
        .get(url)
        .header(header::RANGE, range)
        .send()
        .await
        .unwrap_or_else(|error| panic!("{range}: no answer from the store ({error})"));
    let status = answer.status();
    let content_range = answer
        .headers()
        .get(header::CONTENT_RANGE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let body = answer.bytes().await.expect("the body").to_vec();
    (status, content_range, body)
}

#[tokio::test]
async fn absurd_ranges_on_public_and_presigned_links_are_answered_as_s3_answers_them() {
    let store = TestStore::start().await;
    let bytes = sample_bytes(FILE_BYTES);
    let private_key = "files/0123456789abcdef0123456789abcdef/a.bin";
    let public_key = "public/files/0123456789abcdef0123456789abcdef/b.bin";
    store.put(private_key, "application/octet-stream", &bytes).await;
    store.put(public_key, "application/octet-stream", &bytes).await;
    // A private file's presigned link, and a public file's plain URL.
    let private = store.presigned_get(private_key).await;
    let public = store.plain_url(public_key);
    assert!(private.contains("X-Amz-Signature="), "a presigned link: {private}");
    let whole = format!("bytes 0-{}/{FILE_BYTES}", FILE_BYTES - 1);
    for link in [&private, &public] {
        for range in [
            // 2^63 (the reported panic), u64::MAX, i64::MAX: the whole object.
            "bytes=-9223372036854775808",
            "bytes=-18446744073709551615",
            "bytes=-9223372036854775807",
            // Longer than the object by a little (this answered 500).
            "bytes=-1001",
        ] {
            let (status, content_range, body) = get_range(&store, link, range).await;
            assert_eq!(status, StatusCode::PARTIAL_CONTENT, "{range} on {link}");
            assert_eq!(content_range.as_deref(), Some(whole.as_str()), "{range}");
            assert_eq!(body, bytes, "{range}");
        }
        let (status, content_range, body) = get_range(&store, link, "bytes=-10").await;
        assert_eq!(status, StatusCode::PARTIAL_CONTENT);
        assert_eq!(content_range.as_deref(), Some("bytes 990-999/1000"));
        assert_eq!(body, &bytes[990..]);
        for range in [
            "bytes=1000-",
            "bytes=5000-6000",
            "bytes=-0",
            "bytes=9223372036854775807-",
        ] {
            let (status, _, body) = get_range(&store, link, range).await;
            let body = String::from_utf8_lossy(&body);
            assert_eq!(status, StatusCode::RANGE_NOT_SATISFIABLE, "{range}: {body}");
            assert!(body.contains("<Code>InvalidRange</Code>"), "{range}: {body}");
        }
    }
    // A Range that is not one byte range is ignored, as S3 ignores it: the
    // whole object (s3s refused such a request).
    for link in [&private, &public] {
        for range in ["bytes=abc", "bytes=5-2", "items=0-1", "bytes=0-1,3-4"] {
            let (status, content_range, body) = get_range(&store, link, range).await;
            assert_eq!(status, StatusCode::OK, "{range} on {link}");
            assert_eq!(content_range, None, "{range}");
            assert_eq!(body, bytes, "{range}");
        }
    }
    // The store still serves, every link whole.
    for link in [&private, &public] {
        let (status, _, body) = get_range(&store, link, "bytes=0-").await;
        assert_eq!(status, StatusCode::PARTIAL_CONTENT, "{link}");
        assert_eq!(body, bytes);
    }
    let again = "files/0123456789abcdef0123456789abcdef/c.bin";
    store.put(again, "application/octet-stream", &bytes).await;
    let (status, _, body) = get_range(&store, &store.presigned_get(again).await, "bytes=0-").await;
    assert_eq!(status, StatusCode::PARTIAL_CONTENT);
    assert_eq!(body, bytes);
}
