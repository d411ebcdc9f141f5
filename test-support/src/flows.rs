//! Flows every store must pass (the embedded store, Garage): shared by the
//! API tests and the Garage tests.

use app::model::{DownloadLink, UploadGrant};
use app::multipart::MultipartUpload;
use md5::{Digest as _, Md5};
use reqwest::{Response, StatusCode, header};

use crate::bytes::{MULTIPART_FILE, md5_hex, part_bytes, part_sha256, sample_bytes, tricky_bytes};
use crate::s3::{anonymous_get, disposition_of, object_exists, uploads_in_progress};
use crate::test_courier::TestCourier;

/// Public links on any store (`s3` signs with the store's credentials, to
/// look behind Courier): a public upload's plain URL serves its bytes to
/// anyone; private files, and public uploads not yet confirmed, are refused
/// to anonymous readers; each grant writes only under its own prefix; the
/// plain form uploads publicly when the page is asked for it.
pub async fn public_links_hold(courier: &TestCourier, s3: &aws_sdk_s3::Client) {
    let bytes = sample_bytes(3000);
    let public = courier.upload_public("photo.jpg", "image/jpeg", &bytes).await;
    assert_eq!(public.link, app::model::LinkKind::Public);
    assert_eq!(public.expires_at, None, "a public link never expires");
    assert!(public.key.starts_with("public/files/"), "{}", public.key);
    assert!(!public.download_url.contains("X-Amz-"), "{}", public.download_url);
    assert_eq!(
        anonymous_get(&public.download_url).await,
        (StatusCode::OK, bytes.clone())
    );
    // Saved, never opened as a page of the store's origin.
    assert_eq!(
        disposition_of(&public.download_url).await,
        "attachment; filename=\"photo.jpg\"; filename*=UTF-8''photo.jpg"
    );
    let base = public
        .download_url
        .strip_suffix(&public.key)
        .expect("the link ends with the key")
        .to_owned();

    let private = courier.upload("secret.txt", "text/plain", b"private bytes").await;
    assert_eq!(private.link, app::model::LinkKind::Expiring);
    assert!(private.expires_at.is_some());
    let store_url = |key: &str| format!("{}/{}/{key}", courier.store, courier.bucket);
    for url in [format!("{base}{}", private.key), store_url(&private.key)] {
        let (status, body) = anonymous_get(&url).await;
        assert!(!status.is_success(), "{url} served a private file: {status}");
        assert!(!body.windows(13).any(|w| w == b"private bytes"), "{url}");
    }

    // A public upload before it is confirmed: not for anonymous readers.
    let name = "pending.txt";
    let response = courier.sign_upload_for(name, "text/plain", 7, Some("public")).await;
    let pending: UploadGrant = response.json().await.expect("a grant");
    assert!(pending.key.starts_with("public/uploads/"), "{}", pending.key);
    let stored = courier
        .post_to_store(&pending.url, &pending.fields, name, "text/plain", b"pending")
        .await;
    assert_eq!(stored.status(), StatusCode::SEE_OTHER);
    assert!(object_exists(s3, &courier.bucket, &pending.key).await);
    for url in [format!("{base}{}", pending.key), store_url(&pending.key)] {
        assert!(!anonymous_get(&url).await.0.is_success(), "{url}");
    }

    // Each policy pins its own prefix: a public grant cannot write a private
    // key, nor a private grant a public one.
    let id = "6f1d1c52-3a55-4f4c-9a4e-1d7f25d1c0aa";
    let hex = "0123456789abcdef0123456789abcdef";
    for (link, forged) in [
        ("public", format!("uploads/{id}/x.txt")),
        ("public", format!("files/{hex}/x.txt")),
        ("expiring", format!("public/uploads/{id}/x.txt")),
        ("expiring", format!("public/files/{hex}/x.txt")),
    ] {
        let response = courier.sign_upload_for("x.txt", "text/plain", 5, Some(link)).await;
        let mut grant: UploadGrant = response.json().await.expect("a grant");
        grant.fields.insert("key".to_owned(), forged.clone());
        let stored = courier
            .post_to_store(&grant.url, &grant.fields, "x.txt", "text/plain", b"xxxxx")
            .await;
        // 403 from AWS and the embedded store, 400 from Garage.
        assert!(
            stored.status().is_client_error(),
            "a {link} grant wrote {forged}: {}",
            stored.status()
        );
        assert!(!object_exists(s3, &courier.bucket, &forged).await, "{forged}");
    }

    // Without JavaScript: `/?link=public` carries the public form's policy.
    let (action, fields) = courier.page_form_at("/?link=public").await;
    assert!(fields["key"].starts_with("public/uploads/"), "{fields:?}");
    let stored = courier
        .post_to_store(&action, &fields, "form.txt", "text/plain", b"from the plain form")
        .await;
    let link = courier.link_from(stored).await;
    assert_eq!(link.link, app::model::LinkKind::Public);
    assert_eq!(
        anonymous_get(&link.download_url).await,
        (StatusCode::OK, b"from the plain form".to_vec())
    );
    assert_eq!(disposition_of(&link.download_url).await, "attachment");
    let (_, fields) = courier.page_form().await;
    assert!(
        fields["key"].starts_with("uploads/"),
        "the default stays expiring: {fields:?}"
    );
}

/// Deleting, on any store: only the file's own token deletes it; afterwards
/// its links (signed or public) answer 404 and "new link" finds nothing.
pub async fn deleting_holds(courier: &TestCourier, s3: &aws_sdk_s3::Client) {
    let a = courier.upload("a.txt", "text/plain", b"file a").await;
    let b = courier.upload("b.txt", "text/plain", b"file b").await;
    let c = courier.upload_public("c.txt", "text/plain", b"file c").await;

    let mut forged = a.token.clone().into_bytes();
    let last = forged.len() - 1;
    forged[last] = if forged[last] == b'A' { b'B' } else { b'A' };
    let forged = String::from_utf8(forged).expect("ascii");
    for token in [b.token.as_str(), c.token.as_str(), forged.as_str(), "r.1.AAAA", ""] {
        let response = courier.delete_upload(&a.key, token).await;
        assert!(
            matches!(response.status(), StatusCode::FORBIDDEN | StatusCode::BAD_REQUEST),
            "{token}: {}",
            response.status()
        );
        assert!(object_exists(s3, &courier.bucket, &a.key).await, "{token} deleted it");
    }
    courier.assert_serves(&[(&a, b"file a")]).await;

    for link in [&a, &c] {
        let response = courier.delete_upload(&link.key, &link.token).await;
        assert_eq!(response.status(), StatusCode::OK, "{}", link.key);
        assert!(!object_exists(s3, &courier.bucket, &link.key).await);
        assert_eq!(
            courier.download(&link.download_url).await.status(),
            StatusCode::NOT_FOUND
        );
        let renewed = courier.sign_download(&link.key, &link.token).await;
        assert_eq!(renewed.status(), StatusCode::NOT_FOUND);
        // Deleting again changes nothing and says so calmly.
        assert_eq!(
            courier.delete_upload(&link.key, &link.token).await.status(),
            StatusCode::OK
        );
    }
    courier.assert_serves(&[(&b, b"file b")]).await;
}

/// With a token that has expired (Courier started with a renewal time of a
/// second), delete is refused and the file stays.
pub async fn an_expired_token_deletes_nothing(courier: &TestCourier, s3: &aws_sdk_s3::Client) {
    let link = courier.upload("old.txt", "text/plain", b"old file").await;
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    let response = courier.delete_upload(&link.key, &link.token).await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert!(object_exists(s3, &courier.bucket, &link.key).await);
}

/// With `COURIER_PUBLIC_LINKS=false`: no public grant, no public form.
pub async fn public_links_stay_off(courier: &TestCourier) {
    let response = courier.sign_upload_for("x.txt", "text/plain", 5, Some("public")).await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let text = response.text().await.expect("a body");
    assert!(text.contains("Public links are turned off"), "{text}");
    let (_, fields) = courier.page_form_at("/?link=public").await;
    assert!(fields["key"].starts_with("uploads/"), "{fields:?}");
    let page = courier
        .get_as(&courier.base, "text/html")
        .await
        .text()
        .await
        .expect("HTML");
    assert!(!page.contains("Public link"), "the page offers no public link");
}

/// The whole multipart flow, parts sent out of order: the store lists them,
/// completing links the file, whose bytes come back whole; completing
/// again answers the same link; the upload's token opens no link itself.
pub async fn multipart_goes_through(courier: &TestCourier) {
    let bytes = tricky_bytes(MULTIPART_FILE);
    let upload = courier.multipart("big data.bin", bytes.len() as u64).await;
    assert_eq!((upload.part_size, upload.part_count()), (8 * 1024 * 1024, 3));
    courier.send_parts(&upload, &bytes, &[3, 1]).await;
    let listed = courier.list_parts(&upload).await;
    assert_eq!(listed.status(), StatusCode::OK);
    let listed: Vec<app::multipart::StoredPart> = listed.json().await.expect("parts");
    let sizes: Vec<(u32, u64)> = listed.iter().map(|p| (p.number, p.size)).collect();
    assert_eq!(sizes, [(1, 8 * 1024 * 1024), (3, 4 * 1024 * 1024 + 3)]);
    // Each with its ETag (its MD5) and the SHA-256 it was sent with, as S3 lists them.
    for part in &listed {
        let part_bytes = part_bytes(&upload, &bytes, part.number);
        assert_eq!(part.etag, md5_hex(part_bytes), "part {}", part.number);
        assert_eq!(
            part.sha256,
            Some(part_sha256(&upload, &bytes, part.number)),
            "part {}",
            part.number
        );
    }
    courier.send_parts(&upload, &bytes, &[2]).await;

    let completed = courier.complete_multipart(&upload).await;
    assert_eq!(completed.status(), StatusCode::OK);
    let link: DownloadLink = completed.json().await.expect("a link");
    assert_eq!(
        (link.key.as_str(), link.size, link.filename.as_str()),
        (upload.key.as_str(), bytes.len() as u64, "big data.bin")
    );
    // S3's multipart ETag: the MD5 of the parts' MD5s, and how many there were.
    let mut part_md5s = Vec::new();
    for number in 1..=3 {
        part_md5s.extend(Md5::digest(part_bytes(&upload, &bytes, number)));
    }
    assert_eq!(link.etag, format!("{}-3", md5_hex(&part_md5s)));
    assert!(
        courier.downloaded_bytes(&link.download_url).await == bytes,
        "the bytes differ"
    );
    // A large file's share downloads it too, straight from the store.
    let share = link.share.clone().expect("a completed upload gets its share");
    let redirect = courier.share_get(&format!("{}/1", share.id)).await;
    assert_eq!(redirect.status(), StatusCode::FOUND);
    assert!(
        courier.downloaded_bytes(&crate::browser::location(&redirect)).await == bytes,
        "the share's bytes differ"
    );
    let again = courier.complete_multipart(&upload).await;
    assert_eq!(again.status(), StatusCode::OK);
    let again: DownloadLink = again.json().await.expect("a link");
    assert_eq!(again.key, link.key);
    // Completed again (an answer lost), it keeps the share it got.
    assert_eq!(again.share.map(|again| again.id), Some(share.id));

    // The multipart token is not the owner's: the link's own token is.
    let refused = courier.sign_download(&upload.key, &upload.token).await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    let renewed = courier.sign_download(&link.key, &link.token).await;
    assert_eq!(renewed.status(), StatusCode::OK);
}

/// A part URL writes its own part of its own upload, exactly the bytes it
/// was signed for; Courier signs only for the upload its token names.
pub async fn part_urls_write_their_part_only(courier: &TestCourier) {
    let bytes = sample_bytes(MULTIPART_FILE);
    let mine = courier.multipart("mine.bin", bytes.len() as u64).await;
    let theirs = courier.multipart("theirs.bin", bytes.len() as u64).await;
    let url = courier.part_urls(&mine, &bytes, &[1]).await.remove(0).url;
    let body = part_bytes(&mine, &bytes, 1).to_vec();
    let sha256 = part_sha256(&mine, &bytes, 1);
    let status = |response: Response| response.status();

    let other_part = url.replace("partNumber=1", "partNumber=2");
    courier
        .assert_put_refused(&other_part, body.clone(), &sha256, "another part number")
        .await;
    let other_upload = url.replace(&mine.upload_id, &theirs.upload_id);
    courier
        .assert_put_refused(&other_upload, body.clone(), &sha256, "another upload")
        .await;
    let other_sha256 = part_sha256(&mine, &bytes, 2);
    courier
        .assert_put_refused(&url, body.clone(), &other_sha256, "another checksum")
        .await;
    let unchecked = courier
        .http
        .put(&url)
        .header(header::ORIGIN, &courier.base)
        .body(body.clone())
        .send()
        .await;
    // Refused (the embedded store: 403 SignatureDoesNotMatch; Garage: 400, the
    // signed header missing), or the connection closed under it; nothing is
    // stored either way (the parts are listed below).
    if let Ok(answer) = unchecked {
        let status = answer.status();
        let said = answer.text().await.unwrap_or_default();
        assert!(
            status == StatusCode::FORBIDDEN || status == StatusCode::BAD_REQUEST,
            "the checksum left off: {status} {said}"
        );
    }
    courier
        .assert_put_refused(&url, body[1..].to_vec(), &sha256, "a byte short")
        .await;
    // Damaged on the way: the signed checksum no longer matches, and nothing is kept.
    let mut damaged = body.clone();
    damaged[12345] ^= 1;
    let refused = courier.put_part(&url, damaged, &sha256).await;
    assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
    // S3 says `BadDigest`; Garage says `InvalidDigest` for the same.
    let said = refused.text().await.unwrap_or_default();
    assert!(said.contains("BadDigest") || said.contains("InvalidDigest"), "{said}");
    for upload in [&mine, &theirs] {
        let listed: Vec<app::multipart::StoredPart> = courier.list_parts(upload).await.json().await.expect("parts");
        assert!(listed.is_empty(), "{listed:?}");
    }
    assert_eq!(status(courier.put_part(&url, body, &sha256).await), StatusCode::OK);

    // Courier signs only what the token covers.
    let checksums = vec![(1, sha256.clone())];
    let foreign = MultipartUpload {
        token: theirs.token.clone(),
        ..mine.clone()
    };
    let bigger = MultipartUpload {
        size: mine.size + 1,
        ..mine.clone()
    };
    for forged in [&foreign, &bigger] {
        let refused = courier.sign_parts(forged, &checksums).await;
        assert_eq!(refused.status(), StatusCode::FORBIDDEN);
        let body: serde_json::Value = refused.json().await.expect("JSON");
        assert_eq!(body["error"], "This token is not for that upload.");
        assert_eq!(status(courier.complete_multipart(forged).await), StatusCode::FORBIDDEN);
        assert_eq!(status(courier.abort_multipart(forged).await), StatusCode::FORBIDDEN);
    }
    // Out of range, not base64, or an MD5's 16 bytes rather than a SHA-256's 32.
    let an_md5 = "XrY7u+Ae7tCTyyK7j1rNww==".to_owned();
    for (number, checksum) in [
        (0, sha256.clone()),
        (4, sha256.clone()),
        (1, "abc".to_owned()),
        (1, an_md5),
    ] {
        assert_eq!(
            status(courier.sign_parts(&mine, &[(number, checksum)]).await),
            StatusCode::BAD_REQUEST
        );
    }
    let too_many: Vec<(u32, String)> = (0..101).map(|_| (1, sha256.clone())).collect();
    assert_eq!(
        status(courier.sign_parts(&mine, &too_many).await),
        StatusCode::BAD_REQUEST
    );
}

/// Completing parts that do not add up to the declared file (one missing,
/// one extra, one of another size, the last two sent with the store's own
/// credentials) is refused with the reason, and the upload is aborted.
pub async fn completing_what_does_not_add_up_aborts(courier: &TestCourier, s3: &aws_sdk_s3::Client) {
    let bytes = sample_bytes(MULTIPART_FILE);
    let upload_part = |upload: &MultipartUpload, number: i32, body: Vec<u8>| {
        s3.upload_part()
            .bucket(&courier.bucket)
            .key(&upload.key)
            .upload_id(&upload.upload_id)
            .part_number(number)
            .body(aws_sdk_s3::primitives::ByteStream::from(body))
            .send()
    };
    let missing = courier.multipart("missing.bin", bytes.len() as u64).await;
    courier.send_parts(&missing, &bytes, &[1, 2]).await;
    let extra = courier.multipart("extra.bin", bytes.len() as u64).await;
    courier.send_parts(&extra, &bytes, &[1, 2, 3]).await;
    upload_part(&extra, 4, vec![1; 10]).await.expect("part 4");
    let resized = courier.multipart("resized.bin", bytes.len() as u64).await;
    courier.send_parts(&resized, &bytes, &[1, 2]).await;
    upload_part(&resized, 3, vec![1; 4 * 1024 * 1024 + 4])
        .await
        .expect("part 3");

    for (upload, reason) in [
        (&missing, "part 3 of 3 is missing"),
        (&extra, "part 4 is beyond the 3 parts of 20971523 bytes"),
        (&resized, "part 3 holds 4194308 bytes, not 4194307"),
    ] {
        let refused = courier.complete_multipart(upload).await;
        assert_eq!(refused.status(), StatusCode::BAD_REQUEST, "{reason}");
        let body: serde_json::Value = refused.json().await.expect("JSON");
        assert_eq!(
            body["error"],
            format!("The upload was not complete ({reason}), so it was cancelled. Upload the file again.")
        );
        assert_upload_is_gone(courier, s3, upload).await;
    }
}

/// Aborting drops every part and the upload itself; aborting again is fine.
pub async fn aborting_leaves_nothing(courier: &TestCourier, s3: &aws_sdk_s3::Client) {
    let bytes = sample_bytes(MULTIPART_FILE);
    let upload = courier.multipart("cancelled.bin", bytes.len() as u64).await;
    courier.send_parts(&upload, &bytes, &[2]).await;
    let this_one = (upload.key.clone(), upload.upload_id.clone());
    assert!(uploads_in_progress(s3, &courier.bucket).await.contains(&this_one));
    assert_eq!(courier.abort_multipart(&upload).await.status(), StatusCode::OK);
    assert_upload_is_gone(courier, s3, &upload).await;
    assert!(!uploads_in_progress(s3, &courier.bucket).await.contains(&this_one));
    assert_eq!(courier.abort_multipart(&upload).await.status(), StatusCode::OK);
    let completed = courier.complete_multipart(&upload).await;
    assert_eq!(completed.status(), StatusCode::NOT_FOUND);
}

/// No parts, no upload, no object: as the store itself sees it.
async fn assert_upload_is_gone(courier: &TestCourier, s3: &aws_sdk_s3::Client, upload: &MultipartUpload) {
    assert_eq!(courier.list_parts(upload).await.status(), StatusCode::NOT_FOUND);
    let listed = s3
        .list_parts()
        .bucket(&courier.bucket)
        .key(&upload.key)
        .upload_id(&upload.upload_id)
        .send()
        .await;
    assert!(listed.is_err(), "the store still lists parts: {listed:?}");
    assert!(!object_exists(s3, &courier.bucket, &upload.key).await);
}
