//! Where the embedded store answered otherwise than S3 does, and S3 tools
//! noticed (issue 26, against a third-party conformance suite): each case
//! as an S3 client sees it.

use reqwest::StatusCode;
use sha2::{Digest as _, Sha256};

use crate::support::{TestStore, code, location, md5_hex, part_sha256, query, sample_bytes, status};

/// A presigned GET for `key`, valid for `expires_secs` from now, signed with
/// the store's own credentials (SigV4 by hand: the SDKs refuse to sign for
/// more than a week, as the store must refuse to honour it).
fn presigned_get(store: &TestStore, key: &str, expires_secs: u64) -> String {
    let credentials = &store.credentials;
    let host = store.addr();
    let now = signer::OffsetDateTime::now_utc();
    let amz_date = format!(
        "{:04}{:02}{:02}T{:02}{:02}{:02}Z",
        now.year(),
        u8::from(now.month()),
        now.day(),
        now.hour(),
        now.minute(),
        now.second()
    );
    let day = &amz_date[..8];
    let scope = format!("{day}/us-east-1/s3/aws4_request");
    let query = format!(
        "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential={}%2F{}&X-Amz-Date={amz_date}&X-Amz-Expires={expires_secs}&X-Amz-SignedHeaders=host",
        credentials.access_key_id,
        scope.replace('/', "%2F"),
    );
    let path = format!("/{}/{key}", store.bucket);
    let canonical = format!("GET\n{path}\n{query}\nhost:{host}\n\nhost\nUNSIGNED-PAYLOAD");
    let to_sign = format!(
        "AWS4-HMAC-SHA256\n{amz_date}\n{scope}\n{}",
        hex::encode(Sha256::digest(canonical.as_bytes()))
    );
    let signature = signer::sigv4::signature(&credentials.secret_access_key, now, "us-east-1", &to_sign);
    format!("{}{path}?{query}&X-Amz-Signature={signature}", store.endpoint)
}

#[tokio::test]
async fn a_presigned_url_lives_a_week_at_most() {
    let store = TestStore::start().await;
    let key = "files/0123456789abcdef0123456789abcdef/week.txt";
    store.put(key, "text/plain", b"seven days").await;
    let week = presigned_get(&store, key, 7 * 24 * 3600);
    let answer = store.http.get(&week).send().await.expect("answers");
    assert_eq!(answer.status(), StatusCode::OK, "a week, signed by hand, is honoured");
    assert_eq!(answer.bytes().await.expect("bytes").as_ref(), b"seven days");

    let longer = presigned_get(&store, key, 7 * 24 * 3600 + 1);
    let answer = store.http.get(&longer).send().await.expect("answers");
    assert_eq!(answer.status(), StatusCode::BAD_REQUEST);
    let text = answer.text().await.expect("text");
    assert!(
        text.contains("<Code>AuthorizationQueryParametersError</Code>"),
        "{text}"
    );
}

#[tokio::test]
async fn errors_carry_a_request_id_as_s3_does() {
    let store = TestStore::start().await;
    let s3 = store.store_client();
    let missing = s3
        .get_object()
        .bucket(&store.bucket)
        .key("files/0/none.txt")
        .send()
        .await
        .expect_err("no such key");
    let service = missing.into_service_error();
    assert!(service.is_no_such_key(), "{service:?}");
    let id = aws_sdk_s3::operation::RequestId::request_id(&service).map(str::to_owned);
    assert!(id.as_ref().is_some_and(|id| id.len() == 16), "{id:?}");

    let answer = store
        .http
        .get(format!("{}/{}/files/0/none.txt", store.endpoint, store.bucket))
        .send()
        .await
        .expect("answers");
    let header = answer.headers()["x-amz-request-id"].to_str().expect("text").to_owned();
    let text = answer.text().await.expect("text");
    assert!(
        text.contains(&format!("<RequestId>{header}</RequestId></Error>")),
        "{text}"
    );
}

#[tokio::test]
async fn a_posts_redirect_quotes_its_etag_as_s3_does() {
    let store = TestStore::start().await;
    let bytes = sample_bytes(1000);
    let grant = store.grant("quoted.bin", "application/octet-stream", bytes.len() as u64);
    let stored = store
        .post_form(
            &grant.url,
            &grant.fields,
            "quoted.bin",
            "application/octet-stream",
            &bytes,
        )
        .await;
    assert_eq!(stored.status(), StatusCode::SEE_OTHER);
    let params = query(&location(&stored));
    assert_eq!(params["etag"], format!("\"{}\"", md5_hex(&bytes)));
    // (The app's confirmation takes it as it comes: every upload in the
    // app's tests confirms a quoted ETag.)
}

fn completed_parts(parts: &[(i32, &str)]) -> aws_sdk_s3::types::CompletedMultipartUpload {
    use aws_sdk_s3::types::{CompletedMultipartUpload, CompletedPart};

    CompletedMultipartUpload::builder()
        .set_parts(Some(
            parts
                .iter()
                .map(|(number, e_tag)| CompletedPart::builder().part_number(*number).e_tag(*e_tag).build())
                .collect(),
        ))
        .build()
}

/// Starts an upload of `key` and sends `parts`, each with its SHA-256;
/// its id and each part's (number, ETag, binary SHA-256).
async fn upload_parts(
    s3: &aws_sdk_s3::Client,
    bucket: &str,
    key: &str,
    parts: &[Vec<u8>],
) -> (String, Vec<(i32, String, Vec<u8>)>) {
    use base64::Engine as _;

    let created = s3
        .create_multipart_upload()
        .bucket(bucket)
        .key(key)
        .checksum_algorithm(aws_sdk_s3::types::ChecksumAlgorithm::Sha256)
        .send()
        .await
        .expect("an upload starts");
    assert_eq!(
        created.checksum_algorithm(),
        Some(&aws_sdk_s3::types::ChecksumAlgorithm::Sha256),
        "the checksum asked for is echoed"
    );
    let upload_id = created.upload_id().expect("an upload id").to_owned();
    let mut sent = Vec::new();
    for (index, bytes) in parts.iter().enumerate() {
        let number = index as i32 + 1;
        let sha256 = Sha256::digest(bytes).to_vec();
        let stored = s3
            .upload_part()
            .bucket(bucket)
            .key(key)
            .upload_id(&upload_id)
            .part_number(number)
            .checksum_sha256(base64::engine::general_purpose::STANDARD.encode(&sha256))
            .body(bytes.clone().into())
            .send()
            .await
            .expect("a part is stored");
        sent.push((number, stored.e_tag().expect("an ETag").to_owned(), sha256));
    }
    (upload_id, sent)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn completing_a_completed_upload_again_answers_the_same_result() {
    let store = TestStore::start().await;
    let s3 = store.store_client();
    let key = "files/0123456789abcdef0123456789abcdef/again.bin";
    let bytes = sample_bytes(5 * 1024 * 1024 + 10);
    let (first_part, last_part) = bytes.split_at(5 * 1024 * 1024);
    let (upload_id, sent) = upload_parts(&s3, &store.bucket, key, &[first_part.to_vec(), last_part.to_vec()]).await;
    let named: Vec<(i32, &str)> = sent.iter().map(|(n, e_tag, _)| (*n, e_tag.as_str())).collect();
    let complete = |key: &str, parts: &[(i32, &str)]| {
        s3.complete_multipart_upload()
            .bucket(&store.bucket)
            .key(key)
            .upload_id(&upload_id)
            .multipart_upload(completed_parts(parts))
            .send()
    };
    let first = complete(key, &named).await.expect("completed");
    let again = complete(key, &named)
        .await
        .expect("completed again: 200, as S3 answers a retry");
    assert_eq!(again.e_tag(), first.e_tag());
    assert!(first.e_tag().is_some_and(|e_tag| e_tag.ends_with("-2\"")), "{first:?}");
    assert_eq!(again.key(), Some(key));

    // Another key: that upload is not there; other parts: those are not there.
    let other_key = complete("files/0123456789abcdef0123456789abcdef/other.bin", &named).await;
    assert_eq!(code(&other_key).as_deref(), Some("NoSuchUpload"));
    let other_parts = complete(key, &named[..1]).await;
    assert_eq!(code(&other_parts).as_deref(), Some("InvalidPart"));

    // The object is the one the first completion made.
    let got = s3
        .get_object()
        .bucket(&store.bucket)
        .key(key)
        .send()
        .await
        .expect("the object");
    assert_eq!(got.e_tag(), first.e_tag());
    assert_eq!(
        got.body.collect().await.expect("bytes").into_bytes().as_ref(),
        bytes.as_slice()
    );
    // Completed without a whole-object checksum, it still has the composite
    // of its parts' SHA-256s, as S3 gives it.
    let head = s3
        .head_object()
        .bucket(&store.bucket)
        .key(key)
        .checksum_mode(aws_sdk_s3::types::ChecksumMode::Enabled)
        .send()
        .await
        .expect("head");
    assert!(
        head.checksum_sha256().is_some_and(|sum| sum.ends_with("-2")),
        "{head:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_completion_s_whole_object_sha256_is_checked_and_kept() {
    use aws_sdk_s3::types::ChecksumMode;
    use base64::Engine as _;

    let store = TestStore::start().await;
    let s3 = store.store_client();
    let key = "files/0123456789abcdef0123456789abcdef/checked.bin";
    let bytes = sample_bytes(5 * 1024 * 1024 + 1000);
    let (first_part, last_part) = bytes.split_at(5 * 1024 * 1024);
    let (upload_id, sent) = upload_parts(&s3, &store.bucket, key, &[first_part.to_vec(), last_part.to_vec()]).await;
    let named: Vec<(i32, &str)> = sent.iter().map(|(n, e_tag, _)| (*n, e_tag.as_str())).collect();
    let mut joined = Sha256::new();
    for (_, _, sha256) in &sent {
        joined.update(sha256);
    }
    let composite = format!(
        "{}-2",
        base64::engine::general_purpose::STANDARD.encode(joined.finalize())
    );
    let complete = |checksum: String| {
        s3.complete_multipart_upload()
            .bucket(&store.bucket)
            .key(key)
            .upload_id(&upload_id)
            .checksum_sha256(checksum)
            .multipart_upload(completed_parts(&named))
            .send()
    };

    let wrong = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(b"other bytes"));
    let refused = complete(format!("{wrong}-2")).await;
    assert_eq!(code(&refused).as_deref(), Some("BadDigest"));
    // Nothing assembled; the upload stays, to be completed right.
    let head = s3.head_object().bucket(&store.bucket).key(key).send().await;
    assert!(head.is_err(), "{head:?}");
    let listed = s3
        .list_parts()
        .bucket(&store.bucket)
        .key(key)
        .upload_id(&upload_id)
        .send()
        .await
        .expect("still in progress");
    assert_eq!(listed.parts().len(), 2);

    let done = complete(composite.clone()).await.expect("completed");
    assert_eq!(done.checksum_sha256(), Some(composite.as_str()));
    let head = s3
        .head_object()
        .bucket(&store.bucket)
        .key(key)
        .checksum_mode(ChecksumMode::Enabled)
        .send()
        .await
        .expect("head");
    assert_eq!(head.checksum_sha256(), Some(composite.as_str()));
    let got = s3
        .get_object()
        .bucket(&store.bucket)
        .key(key)
        .checksum_mode(ChecksumMode::Enabled)
        .send()
        .await
        .expect("get");
    assert_eq!(got.checksum_sha256(), Some(composite.as_str()));
    assert_eq!(
        got.body.collect().await.expect("bytes").into_bytes().as_ref(),
        bytes.as_slice()
    );
}

#[tokio::test]
async fn deleting_more_than_a_thousand_keys_at_once_is_malformed() {
    use aws_sdk_s3::types::{Delete, ObjectIdentifier};

    let store = TestStore::start().await;
    let s3 = store.store_client();
    let kept = "files/0123456789abcdef0123456789abcdef/kept.txt";
    store.put(kept, "text/plain", b"kept").await;
    let delete = |count: usize| {
        let objects = (0..count)
            .map(|n| {
                let key = if n == 0 {
                    kept.to_owned()
                } else {
                    format!("files/0/{n}.txt")
                };
                ObjectIdentifier::builder().key(key).build().expect("an identifier")
            })
            .collect();
        s3.delete_objects()
            .bucket(&store.bucket)
            .delete(Delete::builder().set_objects(Some(objects)).build().expect("a delete"))
            .send()
    };
    let refused = delete(1001).await;
    assert_eq!(code(&refused).as_deref(), Some("MalformedXML"));
    assert!(
        refused
            .as_ref()
            .err()
            .and_then(|error| error.raw_response())
            .is_some_and(|raw| raw.status().as_u16() == 400)
    );
    // Nothing of it was deleted.
    let head = s3.head_object().bucket(&store.bucket).key(kept).send().await;
    assert!(head.is_ok(), "{head:?}");
    // A thousand is fine.
    assert!(delete(1000).await.is_ok());
}

#[tokio::test]
async fn conditional_reads_answer_412_and_304_as_s3_does() {
    use aws_sdk_s3::primitives::DateTime;

    let store = TestStore::start().await;
    let s3 = store.store_client();
    let key = "files/0123456789abcdef0123456789abcdef/conditional.txt";
    store.put(key, "text/plain", b"0123456789").await;
    let head = s3
        .head_object()
        .bucket(&store.bucket)
        .key(key)
        .send()
        .await
        .expect("head");
    let e_tag = head.e_tag().expect("an ETag").to_owned();
    let modified = *head.last_modified().expect("a date");
    let hour_before = DateTime::from_secs(modified.secs() - 3600);
    let hour_after = DateTime::from_secs(modified.secs() + 3600);
    let other = "\"ffffffffffffffffffffffffffffffff\"";

    #[derive(Clone, Default)]
    struct Conditions {
        if_match: Option<String>,
        if_none_match: Option<String>,
        if_modified_since: Option<DateTime>,
        if_unmodified_since: Option<DateTime>,
    }
    let cases = [
        (
            "If-Match",
            200,
            Conditions {
                if_match: Some(e_tag.clone()),
                ..Default::default()
            },
        ),
        (
            "If-Match *",
            200,
            Conditions {
                if_match: Some("*".into()),
                ..Default::default()
            },
        ),
        (
            "If-Match other",
            412,
            Conditions {
                if_match: Some(other.into()),
                ..Default::default()
            },
        ),
        (
            "If-None-Match",
            304,
            Conditions {
                if_none_match: Some(e_tag.clone()),
                ..Default::default()
            },
        ),
        (
            "If-None-Match other",
            200,
            Conditions {
                if_none_match: Some(other.into()),
                ..Default::default()
            },
        ),
        (
            "If-Modified-Since then",
            304,
            Conditions {
                if_modified_since: Some(modified),
                ..Default::default()
            },
        ),
        (
            "If-Modified-Since before",
            200,
            Conditions {
                if_modified_since: Some(hour_before),
                ..Default::default()
            },
        ),
        (
            "If-Unmodified-Since before",
            412,
            Conditions {
                if_unmodified_since: Some(hour_before),
                ..Default::default()
            },
        ),
        (
            "If-Unmodified-Since after",
            200,
            Conditions {
                if_unmodified_since: Some(hour_after),
                ..Default::default()
            },
        ),
        (
            "If-Match holds, If-Unmodified-Since fails",
            200,
            Conditions {
                if_match: Some(e_tag.clone()),
                if_unmodified_since: Some(hour_before),
                ..Default::default()
            },
        ),
        (
            "If-None-Match fails, If-Modified-Since holds",
            304,
            Conditions {
                if_none_match: Some(e_tag.clone()),
                if_modified_since: Some(hour_before),
                ..Default::default()
            },
        ),
    ];
    for (what, expected, conditions) in cases {
        let got = s3
            .get_object()
            .bucket(&store.bucket)
            .key(key)
            .set_if_match(conditions.if_match.clone())
            .set_if_none_match(conditions.if_none_match.clone())
            .set_if_modified_since(conditions.if_modified_since)
            .set_if_unmodified_since(conditions.if_unmodified_since)
            .send()
            .await;
        assert_eq!(status(&got), expected, "GET {what}");
        if let Ok(got) = got {
            assert_eq!(
                got.body.collect().await.expect("bytes").into_bytes().as_ref(),
                b"0123456789"
            );
        }
        let headed = s3
            .head_object()
            .bucket(&store.bucket)
            .key(key)
            .set_if_match(conditions.if_match)
            .set_if_none_match(conditions.if_none_match)
            .set_if_modified_since(conditions.if_modified_since)
            .set_if_unmodified_since(conditions.if_unmodified_since)
            .send()
            .await;
        assert_eq!(status(&headed), expected, "HEAD {what}");
    }

    // A resumed download: the rest of the same object, or all of a changed one.
    let resumed = |if_range: String| {
        s3.get_object()
            .bucket(&store.bucket)
            .key(key)
            .range("bytes=4-")
            .customize()
            .mutate_request(move |request| {
                request.headers_mut().insert("if-range", if_range.clone());
            })
            .send()
    };
    let same = resumed(e_tag.clone()).await.expect("the rest");
    assert_eq!(same.content_range(), Some("bytes 4-9/10"));
    assert_eq!(
        same.body.collect().await.expect("bytes").into_bytes().as_ref(),
        b"456789"
    );
    let changed = resumed(other.to_owned()).await.expect("the whole");
    assert_eq!(changed.content_range(), None);
    assert_eq!(
        changed.body.collect().await.expect("bytes").into_bytes().as_ref(),
        b"0123456789"
    );

    // A 304 tells a cache what it may keep: the object's ETag and date.
    let public_get = s3
        .get_object()
        .bucket(&store.bucket)
        .key(key)
        .presigned(
            aws_sdk_s3::presigning::PresigningConfig::expires_in(std::time::Duration::from_secs(60))
                .expect("a presigning config"),
        )
        .await
        .expect("presigned");
    let not_modified = store
        .http
        .get(public_get.uri())
        .header("if-none-match", &e_tag)
        .send()
        .await
        .expect("answers");
    assert_eq!(not_modified.status(), StatusCode::NOT_MODIFIED);
    assert_eq!(not_modified.headers()["etag"], e_tag.as_str());
    assert!(not_modified.headers().contains_key("last-modified"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_part_of_an_object_made_of_parts_is_served_by_its_number() {
    let store = TestStore::start().await;
    let s3 = store.store_client();
    let key = "files/0123456789abcdef0123456789abcdef/parts.bin";
    let bytes = sample_bytes(5 * 1024 * 1024 + 10);
    let (first_part, last_part) = bytes.split_at(5 * 1024 * 1024);
    let (upload_id, sent) = upload_parts(&s3, &store.bucket, key, &[first_part.to_vec(), last_part.to_vec()]).await;
    let named: Vec<(i32, &str)> = sent.iter().map(|(n, e_tag, _)| (*n, e_tag.as_str())).collect();
    s3.complete_multipart_upload()
        .bucket(&store.bucket)
        .key(key)
        .upload_id(&upload_id)
        .multipart_upload(completed_parts(&named))
        .send()
        .await
        .expect("completed");

    let part = |number: i32| {
        s3.get_object()
            .bucket(&store.bucket)
            .key(key)
            .part_number(number)
            .send()
    };
    let second = part(2).await.expect("part 2");
    assert_eq!(second.parts_count(), Some(2));
    assert_eq!(second.content_range(), Some("bytes 5242880-5242889/5242890"));
    assert_eq!(second.content_length(), Some(10));
    assert_eq!(
        second.body.collect().await.expect("bytes").into_bytes().as_ref(),
        last_part
    );
    let first = part(1).await.expect("part 1");
    assert_eq!(first.parts_count(), Some(2));
    assert_eq!(first.content_range(), Some("bytes 0-5242879/5242890"));
    assert_eq!(
        first.body.collect().await.expect("bytes").into_bytes().as_ref(),
        first_part
    );
    let none = part(3).await;
    assert_eq!(
        (status(&none), code(&none).as_deref()),
        (416, Some("InvalidPartNumber"))
    );

    let head = s3
        .head_object()
        .bucket(&store.bucket)
        .key(key)
        .part_number(2)
        .send()
        .await
        .expect("head of part 2");
    assert_eq!((head.content_length(), head.parts_count()), (Some(10), Some(2)));
    // A range and a part number together are refused.
    let both = s3
        .get_object()
        .bucket(&store.bucket)
        .key(key)
        .part_number(1)
        .range("bytes=0-1")
        .send()
        .await;
    assert_eq!(status(&both), 400);
}

#[tokio::test]
async fn a_post_policy_that_does_not_expire_in_iso_8601_is_refused() {
    use base64::Engine as _;

    let store = TestStore::start().await;
    let bytes = sample_bytes(100);
    let grant = store.grant("policy.bin", "application/octet-stream", bytes.len() as u64);
    let policy = base64::engine::general_purpose::STANDARD
        .decode(grant.fields.get("policy").expect("a policy"))
        .expect("base64");
    let mut document: serde_json::Value = serde_json::from_slice(&policy).expect("JSON");
    document["expiration"] = "12/31/2099 23:59:59".into();
    let fields: Vec<(String, String)> = grant
        .fields
        .iter()
        .map(|(name, value)| {
            let value = if name == "policy" {
                base64::engine::general_purpose::STANDARD.encode(document.to_string())
            } else {
                value.to_owned()
            };
            (name.to_owned(), value)
        })
        .collect();
    let refused = store
        .post_form(&grant.url, fields, "policy.bin", "application/octet-stream", &bytes)
        .await;
    assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
    let text = refused.text().await.expect("text");
    assert!(text.contains("<Code>InvalidPolicyDocument</Code>"), "{text}");
    assert_eq!(store.stored_keys(), Vec::<String>::new());
}

/// A part whose `x-amz-content-sha256` is not its bytes' is refused as S3
/// refuses it (it was `500 InternalError`), and nothing of it is kept; the
/// same part with its own digest goes in.
#[tokio::test]
async fn a_body_that_is_not_the_sha256_it_declares_is_refused() {
    let store = TestStore::start().await;
    // The first 8 MiB part of a 20 MiB file.
    let key = TestStore::multipart_key("declared.bin");
    let upload_id = store.start_multipart(&key, 20 << 20).await.expect("started");
    let body = sample_bytes(8 << 20);
    let part_url = store.part_url(&key, &upload_id, 1, &body);
    let put = |declared: String| {
        store
            .http
            .put(&part_url)
            .header("x-amz-checksum-sha256", part_sha256(&body))
            .header("x-amz-content-sha256", declared)
            .body(body.clone())
            .send()
    };
    let refused = put("0".repeat(64)).await.expect("answers");
    assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
    let text = refused.text().await.expect("text");
    assert!(text.contains("<Code>XAmzContentSHA256Mismatch</Code>"), "{text}");
    assert_eq!(store.listed_parts(&key, &upload_id).await, 0);

    let stored = put(hex::encode(Sha256::digest(&body))).await.expect("answers");
    assert_eq!(stored.status(), StatusCode::OK);
}
