//! Files encrypted in the browser (FORMAT.md), as Courier sees them: a seal
//! it checks the shape of and keeps, an object stored under no name of its
//! own, and downloads only for a proof of the file's auth key. The keys are
//! made up here: Courier never holds one that opens a file, so these tests
//! need no encryption (the format's own tests, and the browser's, do).

use app::model::DownloadLink;
use app::share::RuleChange;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as BASE64URL;
use hmac::{Hmac, Mac as _};
use reqwest::StatusCode;
use sha2::Sha256;
use wire::endpoint;
use wire::seal::{SealedDownload, SealedShare, sealed_part_size};

use courier_test_support::{TestCourier, sample_bytes, share_ref};

const AUTH: [u8; 32] = [9; 32];

/// A seal as a browser makes one: `auth` the file's auth key.
fn seal_with(auth: &[u8; 32]) -> (String, String) {
    let meta = BASE64URL.encode(sample_bytes(12 + 16 + 256));
    let json = format!(
        r#"{{"v":1,"auth":"{}","meta":"{meta}","kdf":null}}"#,
        BASE64URL.encode(auth)
    );
    (BASE64URL.encode(json), meta)
}

fn prove(auth: &[u8], nonce: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(auth).expect("any key length");
    mac.update(nonce.as_bytes());
    BASE64URL.encode(mac.finalize().into_bytes())
}

/// Uploads `bytes` (ciphertext, as far as Courier knows) with `seal`.
async fn sealed_upload(courier: &TestCourier, seal: &str, bytes: &[u8]) -> DownloadLink {
    let signed = courier
        .call(endpoint::sign_upload("holiday.jpg", "image/jpeg", bytes.len() as u64, None).sealed(seal))
        .await;
    assert_eq!(signed.status(), StatusCode::OK);
    let grant: wire::UploadGrant = signed.json().await.expect("a grant");
    let stored = courier
        .post_to_store(
            &grant.url,
            &grant.fields,
            "encrypted",
            "application/octet-stream",
            bytes,
        )
        .await;
    courier.link_from(stored).await
}

async fn sealed_share(courier: &TestCourier, id: &str) -> SealedShare {
    let answer = courier.share_get(&format!("{id}/e2e")).await;
    assert_eq!(answer.status(), StatusCode::OK);
    answer.json().await.expect("a SealedShare")
}

async fn post_proof(courier: &TestCourier, id: &str, number: u32, nonce: &str, proof: &str) -> reqwest::Response {
    courier
        .http
        .post(format!("{}/s/{id}/{number}/e2e", courier.base))
        .json(&wire::seal::KeyProof {
            nonce: nonce.to_owned(),
            proof: proof.to_owned(),
        })
        .send()
        .await
        .expect("Courier answers")
}

#[tokio::test]
async fn an_encrypted_file_downloads_only_for_a_proof_of_its_key() {
    let courier = TestCourier::start().await;
    let (seal, meta) = seal_with(&AUTH);
    let ciphertext = sample_bytes(70_000);
    let link = sealed_upload(&courier, &seal, &ciphertext).await;
    // Stored under no name of its own; the seal travels with it.
    assert!(link.key.ends_with("/encrypted"), "{}", link.key);
    assert_eq!(
        (link.filename.as_str(), link.content_type.as_str()),
        ("encrypted", "application/octet-stream")
    );
    assert_eq!(link.seal.as_deref(), Some(seal.as_str()));
    let share = link.share.clone().expect("a share");
    assert!(share.encrypted);
    let id = share.id.clone();

    // The page builds itself from the fragment; the plain route refuses.
    let page = courier.share_get(&id).await;
    assert_eq!(page.status(), StatusCode::OK);
    assert!(page.text().await.expect("a page").contains("id=\"e2e\""));
    assert_eq!(
        courier.share_get(&format!("{id}/1")).await.status(),
        StatusCode::FORBIDDEN
    );

    // The sealed names, never the auth key.
    let answer = courier.share_get(&format!("{id}/e2e")).await;
    let body = answer.text().await.expect("JSON");
    assert!(!body.contains(&BASE64URL.encode(AUTH)), "{body}");
    let sealed: SealedShare = serde_json::from_str(&body).expect("a SealedShare");
    assert_eq!(sealed.files.len(), 1);
    assert_eq!((sealed.files[0].number, sealed.files[0].size), (1, 70_000));
    assert_eq!(sealed.files[0].meta, meta);

    // A wrong key: 401, nothing counted. A nonce for another share: 401.
    let wrong = post_proof(&courier, &id, 1, &sealed.nonce, &prove(&[1; 32], &sealed.nonce)).await;
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    let other = sealed_upload(&courier, &seal, b"another").await;
    let other_id = other.share.expect("a share").id;
    let foreign = sealed_share(&courier, &other_id).await.nonce;
    let replayed = post_proof(&courier, &id, 1, &foreign, &prove(&AUTH, &foreign)).await;
    assert_eq!(replayed.status(), StatusCode::UNAUTHORIZED);

    // The right proof: a one-minute GET of the bytes, counted.
    let right = post_proof(&courier, &id, 1, &sealed.nonce, &prove(&AUTH, &sealed.nonce)).await;
    assert_eq!(right.status(), StatusCode::OK);
    let download: SealedDownload = right.json().await.expect("a SealedDownload");
    // Answered no-store (signed into the URL): Chromium then reads the body
    // only as fast as the page decrypts it, not ahead into the tab's memory.
    let got = courier.download(&download.url).await;
    assert_eq!(got.status(), StatusCode::OK);
    assert_eq!(got.headers()[reqwest::header::CACHE_CONTROL], "no-store");
    assert_eq!(got.bytes().await.expect("the body").as_ref(), ciphertext.as_slice());
    let status = courier.share_status(&[share_ref(&link)]).await;
    let status: Vec<app::share::ShareLink> = status.json().await.expect("statuses");
    assert_eq!(status[0].files[0].downloads, 1);

    // No file 2; and wrong keys are limited as passwords are.
    let missing = post_proof(&courier, &id, 2, &sealed.nonce, &prove(&AUTH, &sealed.nonce)).await;
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    let mut statuses = Vec::new();
    for _ in 0..10 {
        let answer = post_proof(&courier, &id, 1, &sealed.nonce, &prove(&[2; 32], &sealed.nonce)).await;
        statuses.push(answer.status().as_u16());
    }
    assert_eq!(statuses.iter().filter(|&&s| s == 429).count(), 1, "{statuses:?}");
    // And meanwhile the right key waits too: its answer must not tell a guess.
    let held = post_proof(&courier, &id, 1, &sealed.nonce, &prove(&AUTH, &sealed.nonce)).await;
    assert_eq!(held.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(held.headers().contains_key(reqwest::header::RETRY_AFTER));
}

async fn post_renewal(courier: &TestCourier, id: &str, number: u32, token: &str) -> reqwest::Response {
    courier
        .http
        .post(format!("{}/s/{id}/{number}/e2e/renew", courier.base))
        .json(&wire::seal::DownloadRenewal {
            renew: token.to_owned(),
        })
        .send()
        .await
        .expect("Courier answers")
}

/// The share page fetches an encrypted object in ranges, and a URL lasts a
/// minute: a counted download renews its URL without counting again, even
/// once it used the share's last download, until the sender revokes it.
#[tokio::test]
async fn a_download_under_way_renews_its_url_until_the_share_is_revoked() {
    let courier = TestCourier::start().await;
    let (seal, _) = seal_with(&AUTH);
    let ciphertext = sample_bytes(70_000);
    let link = sealed_upload(&courier, &seal, &ciphertext).await;
    let id = link.share.clone().expect("a share").id;
    let one = RuleChange {
        max_downloads: Some(1),
        ..RuleChange::default()
    };
    assert_eq!(
        courier.update_share(&share_ref(&link), &one).await.status(),
        StatusCode::OK
    );

    let nonce = sealed_share(&courier, &id).await.nonce;
    let right = post_proof(&courier, &id, 1, &nonce, &prove(&AUTH, &nonce)).await;
    assert_eq!(right.status(), StatusCode::OK);
    let download: SealedDownload = right.json().await.expect("a SealedDownload");
    assert!(download.renew.starts_with("d."), "{}", download.renew);
    // A range, as the page asks for it.
    let ranged = courier
        .http
        .get(&download.url)
        .header(reqwest::header::RANGE, "bytes=65536-69999")
        .send()
        .await
        .expect("the store answers");
    assert_eq!(ranged.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(ranged.bytes().await.expect("the range").as_ref(), &ciphertext[65_536..]);

    // That was the last download: another is refused, this one goes on.
    assert_eq!(courier.share_get(&format!("{id}/e2e")).await.status(), StatusCode::GONE);
    let another = post_proof(&courier, &id, 1, &nonce, &prove(&AUTH, &nonce)).await;
    assert_eq!(another.status(), StatusCode::GONE);
    let renewed = post_renewal(&courier, &id, 1, &download.renew).await;
    assert_eq!(renewed.status(), StatusCode::OK);
    assert_eq!(renewed.headers()[reqwest::header::CACHE_CONTROL], "no-store");
    let renewed: SealedDownload = renewed.json().await.expect("a SealedDownload");
    assert_eq!(renewed.renew, download.renew);
    let got = courier.download(&renewed.url).await;
    assert_eq!(got.status(), StatusCode::OK);
    assert_eq!(got.bytes().await.expect("the body").as_ref(), ciphertext.as_slice());
    let status = courier.share_status(&[share_ref(&link)]).await;
    let status: Vec<app::share::ShareLink> = status.json().await.expect("statuses");
    assert_eq!(status[0].files[0].downloads, 1, "a renewal counts nothing");

    // Only with its own token, for its own file.
    let other = sealed_upload(&courier, &seal, b"another").await;
    let other_id = other.share.expect("a share").id;
    for (share, number, token) in [
        (id.as_str(), 2, download.renew.as_str()),
        (other_id.as_str(), 1, download.renew.as_str()),
        (id.as_str(), 1, "d.9999999999.AAAA"),
        (id.as_str(), 1, ""),
    ] {
        let refused = post_renewal(&courier, share, number, token).await;
        assert_eq!(
            refused.status(),
            StatusCode::UNAUTHORIZED,
            "{share}/{number} with {token:?}"
        );
    }
    let malformed = courier
        .http
        .post(format!("{}/s/{id}/1/e2e/renew", courier.base))
        .body("renew")
        .send()
        .await
        .expect("Courier answers");
    assert_eq!(malformed.status(), StatusCode::BAD_REQUEST);

    // Revoked: the download stops at its next renewal, with the reason.
    assert_eq!(courier.revoke_share(&share_ref(&link)).await.status(), StatusCode::OK);
    let revoked = post_renewal(&courier, &id, 1, &download.renew).await;
    assert_eq!(revoked.status(), StatusCode::GONE);
    let refusal: wire::seal::E2eRefusal = revoked.json().await.expect("a refusal");
    assert!(refusal.error.contains("took this link back"), "{}", refusal.error);
}

#[tokio::test]
async fn seals_are_checked_and_an_encrypted_link_keeps_its_password_in_its_key() {
    let courier = TestCourier::start().await;
    let refused = courier
        .call(endpoint::sign_upload("a.txt", "text/plain", 10, None).sealed("bm90IGEgc2VhbA"))
        .await;
    assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
    let (seal, _) = seal_with(&AUTH);
    let public = courier
        .call(endpoint::sign_upload("a.txt", "text/plain", 10, Some(wire::LinkKind::Public)).sealed(&seal))
        .await;
    assert_eq!(public.status(), StatusCode::FORBIDDEN);

    let link = sealed_upload(&courier, &seal, b"ciphertext").await;
    let change = RuleChange {
        password: Some("hunter2".to_owned()),
        ..RuleChange::default()
    };
    let answer = courier.update_share(&share_ref(&link), &change).await;
    assert_eq!(answer.status(), StatusCode::BAD_REQUEST);
    // Encrypted and plain files never share a link.
    let plain = courier.upload("plain.txt", "text/plain", b"plain").await;
    let combined = courier
        .combine_shares(&[share_ref(&link), share_ref(&plain)], &RuleChange::default())
        .await;
    assert_eq!(combined.status(), StatusCode::BAD_REQUEST);

    // A large file's parts hold whole records.
    let size = 20 * 1024 * 1024;
    let started = courier
        .call(endpoint::start_multipart("big.bin", "", size, None).sealed(&seal))
        .await;
    assert_eq!(started.status(), StatusCode::OK);
    let grant: wire::MultipartGrant = started.json().await.expect("a grant");
    assert_eq!(grant.upload.part_size, sealed_part_size(size));
    assert!(grant.upload.key.ends_with("/encrypted"), "{}", grant.upload.key);
}

#[tokio::test]
async fn the_operator_decides_whether_files_are_encrypted() {
    let always = TestCourier::builder().env("COURIER_ENCRYPTION", "always").start().await;
    assert_eq!(
        always.sign_upload("a.txt", "text/plain", 3).await.status(),
        StatusCode::FORBIDDEN
    );
    let (seal, _) = seal_with(&AUTH);
    sealed_upload(&always, &seal, b"sealed").await;
    assert_eq!(always.page_settings().await["encryption"], "always");

    let off = TestCourier::builder().env("COURIER_ENCRYPTION", "off").start().await;
    let refused = off
        .call(endpoint::sign_upload("a.txt", "text/plain", 6, None).sealed(&seal))
        .await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    assert_eq!(off.upload("a.txt", "text/plain", b"plain!").await.filename, "a.txt");
}

/// The command line's implementation of the format (`courier-format`, which
/// shares no code with the browser's) against a real Courier: a small file
/// in one POST and a large one in parts (with a password), each sent,
/// listed by its share, and got back whole under its own name.
#[tokio::test]
async fn the_command_line_client_sends_and_gets_encrypted_files() {
    const MIB: usize = 1024 * 1024;
    let courier = TestCourier::builder()
        .env("COURIER_MULTIPART_THRESHOLD", "8388608")
        .start()
        .await;
    let sent = tempfile::tempdir().expect("a directory");
    for (name, size, password) in [
        ("notes é.txt", 1_000, None),
        ("film.mkv", 20 * MIB + 7, Some("wide river")),
    ] {
        let got = tempfile::tempdir().expect("a directory");
        let bytes = sample_bytes(size);
        let file = sent.path().join(name);
        std::fs::write(&file, &bytes).expect("written");
        let links = courier_cli::send(&courier_cli::SendOptions {
            files: vec![file],
            url: courier.base.clone(),
            password: password.map(str::to_owned),
        })
        .await
        .expect("sent");
        let link = links.first().expect("a link").clone();
        assert!(
            link.starts_with(&format!("{}/s/", courier.base)) && link.contains('#'),
            "{link}"
        );

        // Without the password (where there is one), nothing is saved.
        if password.is_some() {
            let refused = courier_cli::get(&courier_cli::GetOptions {
                link: link.clone(),
                output: Some(got.path().to_owned()),
                password: Some("narrow river".to_owned()),
            })
            .await;
            assert!(refused.is_err(), "a wrong password opened the file");
            assert_eq!(std::fs::read_dir(got.path()).expect("listed").count(), 0);
        }
        let saved = courier_cli::get(&courier_cli::GetOptions {
            link,
            output: Some(got.path().to_owned()),
            password: password.map(str::to_owned),
        })
        .await
        .expect("got");
        assert_eq!(saved, [got.path().join(name)]);
        assert!(
            std::fs::read(&saved[0]).expect("read") == bytes,
            "{name} came back different"
        );
    }
}
