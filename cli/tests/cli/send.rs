//! `courier send` against the fake, then `courier get` of its link: the
//! bytes come back, through one POST or through parts.

use courier_cli::{GetOptions, SendOptions, get, send};

use crate::fake::{Fake, MULTIPART_THRESHOLD};

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
