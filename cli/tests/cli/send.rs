//! `courier send` against the fake, then `courier get` of its link: the
//! bytes come back, through one POST or through parts.

use courier_cli::{ApiToken, CliError, GetOptions, Refusal, SendOptions, SendSettings, get, send, send_with};

use crate::fake::{Fake, MULTIPART_THRESHOLD, TOKEN_REFUSAL};

fn file(size: usize) -> Vec<u8> {
    (0..size).map(|i| (i * 13 % 251) as u8).collect()
}

async fn round_trip(size: usize, password: Option<&str>) -> (Fake, Vec<u8>) {
    let fake = Fake::start().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("holiday photo.jpg");
    let plaintext = file(size);
    std::fs::write(&path, &plaintext).expect("writes");
    let links = send(&SendOptions {
        files: vec![path],
        url: format!("{}/", fake.base),
        password: password.map(str::to_owned),
    })
    .await
    .expect("sends");
    let [link] = links.as_slice() else {
        panic!("one link: {links:?}")
    };
    assert!(link.starts_with(&format!("{}/s/", fake.base)), "{link}");
    assert_eq!(link.split_once('#').map(|(_, key)| key.len()), Some(22));

    let out = tempfile::tempdir().expect("temp dir");
    let saved = get(&GetOptions {
        link: link.clone(),
        output: Some(out.path().to_owned()),
        password: password.map(str::to_owned),
    })
    .await
    .expect("downloads");
    assert_eq!(saved, [out.path().join("holiday photo.jpg")]);
    (fake, std::fs::read(&saved[0]).expect("reads"))
}

#[tokio::test]
async fn a_small_file_goes_in_one_post_and_comes_back() {
    let (fake, back) = round_trip(100_000, None).await;
    assert!(back == file(100_000));
    assert_eq!(fake.counts(), (1, 0, 0));
}

#[tokio::test]
async fn an_empty_file_comes_back_empty() {
    let (_fake, back) = round_trip(0, None).await;
    assert!(back.is_empty());
}

#[tokio::test]
async fn a_large_file_goes_in_parts_and_comes_back_with_its_password() {
    // 130 records: two parts of whole records (8,390,656 bytes and the rest).
    let size = 129 * 65_536 + 1000;
    assert!(size as u64 > MULTIPART_THRESHOLD);
    let (fake, back) = round_trip(size, Some("correct horse")).await;
    assert!(back == file(size));
    assert_eq!(fake.counts(), (0, 2, 0));
}

/// Every server function call carries the token (a large file's too); a
/// Courier that refuses the token is said once, in its own sentence.
#[tokio::test]
async fn the_api_token_goes_with_every_call_and_a_refusal_is_said() {
    let fake = Fake::start_with_token("s3cret-token");
    let fake = fake.await;
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("big.bin");
    std::fs::write(&path, file(129 * 65_536 + 1000)).expect("writes");
    let options = SendOptions {
        files: vec![path],
        url: fake.base.clone(),
        password: None,
    };
    let settings = |token: &str| SendSettings {
        token: ApiToken::new(token),
        state_dir: Some(dir.path().join("state")),
        quiet: true,
        ..SendSettings::default()
    };
    let mut links = Vec::new();
    send_with(&options, &settings("s3cret-token"), |link| links.push(link.to_owned()))
        .await
        .expect("sends");
    assert_eq!(links.len(), 1);
    let (calls, with_token) = fake.api_calls();
    // sign_upload_form, start_multipart, two sign_parts, complete_multipart.
    assert_eq!((calls, with_token), (5, 5));
    // Done: nothing left to resume.
    assert_eq!(std::fs::read_dir(dir.path().join("state")).expect("listed").count(), 0);

    let refused = send_with(&options, &settings("revoked"), |_| panic!("no link"))
        .await
        .expect_err("refused");
    assert!(
        matches!(&refused, CliError::Refused(Refusal::Other { status: 401, .. })),
        "{refused:?}"
    );
    let said = refused.to_string();
    assert_eq!(said.matches(TOKEN_REFUSAL).count(), 1, "{said}");
    assert!(!said.contains("revoked") && !format!("{refused:?}").contains("revoked"));
}
