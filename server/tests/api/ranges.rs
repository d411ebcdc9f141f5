//! Byte ranges on the embedded store, as S3 answers them: a suffix longer
//! than the object is the whole object, a range past its end is
//! `416 InvalidRange`. `Range: bytes=-9223372036854775808` on any link made
//! `s3s-fs` panic (an empty reply for the client, raw lines on stderr); the
//! store must answer it and keep serving.

use reqwest::{StatusCode, header};

use crate::helpers::{TestCourier, sample_bytes, spawn_courier};

const FILE_BYTES: usize = 1000;

/// The store's answer to a GET of `url` with `range`: status, `Content-Range`, body.
async fn get_range(courier: &TestCourier, url: &str, range: &str) -> (StatusCode, Option<String>, Vec<u8>) {
    let answer = courier
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
    let courier = spawn_courier().await;
    let bytes = sample_bytes(FILE_BYTES);
    let private = courier.upload("a.bin", "application/octet-stream", &bytes).await;
    let public = courier.upload_public("b.bin", "application/octet-stream", &bytes).await;
    assert!(
        private.download_url.contains("X-Amz-Signature="),
        "a presigned link: {}",
        private.download_url
    );
    assert!(
        !public.download_url.contains("X-Amz-Signature="),
        "a public link: {}",
        public.download_url
    );
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
            let (status, content_range, body) = get_range(&courier, &link.download_url, range).await;
            assert_eq!(status, StatusCode::PARTIAL_CONTENT, "{range} on {}", link.key);
            assert_eq!(content_range.as_deref(), Some(whole.as_str()), "{range}");
            assert_eq!(body, bytes, "{range}");
        }
        let (status, content_range, body) = get_range(&courier, &link.download_url, "bytes=-10").await;
        assert_eq!(status, StatusCode::PARTIAL_CONTENT);
        assert_eq!(content_range.as_deref(), Some("bytes 990-999/1000"));
        assert_eq!(body, &bytes[990..]);
        for range in [
            "bytes=1000-",
            "bytes=5000-6000",
            "bytes=-0",
            "bytes=9223372036854775807-",
        ] {
            let (status, _, body) = get_range(&courier, &link.download_url, range).await;
            let body = String::from_utf8_lossy(&body);
            assert_eq!(status, StatusCode::RANGE_NOT_SATISFIABLE, "{range}: {body}");
            assert!(body.contains("<Code>InvalidRange</Code>"), "{range}: {body}");
        }
    }
    // A Range that is not one byte range is ignored, as S3 ignores it: the
    // whole object (s3s refused such a request).
    for link in [&private, &public] {
        for range in ["bytes=abc", "bytes=5-2", "items=0-1", "bytes=0-1,3-4"] {
            let (status, content_range, body) = get_range(&courier, &link.download_url, range).await;
            assert_eq!(status, StatusCode::OK, "{range} on {}", link.key);
            assert_eq!(content_range, None, "{range}");
            assert_eq!(body, bytes, "{range}");
        }
    }
    // The store still serves, every link whole.
    courier.assert_serves(&[(&private, &bytes), (&public, &bytes)]).await;
    let again = courier.upload("c.bin", "application/octet-stream", &bytes).await;
    courier.assert_serves(&[(&again, &bytes)]).await;
}
