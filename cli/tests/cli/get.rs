//! `courier get` against the fake: files saved whole or not at all.

use std::path::{Path, PathBuf};

use base64::Engine;
use courier_cli::{CliError, GetOptions, Refusal, get};
use courier_format::link::with_secrets;
use courier_format::{OpenError, Secret};

use crate::fake::{Fake, sealed_file};

const ID: &str = "AbCdEfGhIjKlMnOpQrStUv";

fn file(size: usize) -> Vec<u8> {
    (0..size).map(|i| (i * 7 % 251) as u8).collect()
}

fn options(link: String, output: &Path, password: Option<&str>) -> GetOptions {
    GetOptions {
        link,
        output: Some(output.to_owned()),
        password: password.map(str::to_owned),
    }
}

fn listing(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .expect("lists")
        .map(|entry| entry.expect("an entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// A fake with one share of `files` (plaintext, name) and its link.
async fn share(files: &[(&[u8], &str)], password: Option<&str>) -> (Fake, String) {
    let fake = Fake::start().await;
    let (secrets, stored): (Vec<Secret>, Vec<_>) = files
        .iter()
        .map(|(plaintext, name)| sealed_file(plaintext, name, password))
        .unzip();
    fake.add_share(ID, stored);
    let link = with_secrets(&format!("{}/s/{ID}", fake.base), &secrets);
    (fake, link)
}

#[tokio::test]
async fn a_file_is_saved_under_its_name_and_nothing_else_is_left() {
    let plaintext = file(3 * 65_536 + 5);
    let (_fake, link) = share(&[(&plaintext, "report.pdf")], None).await;
    let dir = tempfile::tempdir().expect("temp dir");
    let saved = get(&options(link.clone(), dir.path(), None)).await.expect("downloads");
    assert_eq!(saved, [dir.path().join("report.pdf")]);
    assert!(std::fs::read(&saved[0]).expect("reads") == plaintext);
    // Again: the first one is kept, the second is numbered.
    let again = get(&options(link, dir.path(), None)).await.expect("downloads");
    assert_eq!(again, [dir.path().join("report (2).pdf")]);
    assert_eq!(listing(dir.path()), ["report (2).pdf", "report.pdf"]);
}

#[tokio::test]
async fn an_empty_file_and_a_file_path_as_output() {
    let (_fake, link) = share(&[(b"", "empty.txt")], None).await;
    let dir = tempfile::tempdir().expect("temp dir");
    let target = dir.path().join("chosen.bin");
    std::fs::write(&target, b"old").expect("writes");
    let saved = get(&options(link, &target, None)).await.expect("downloads");
    assert_eq!(saved, std::slice::from_ref(&target));
    assert_eq!(std::fs::read(&target).expect("reads"), b"");
}

#[tokio::test]
async fn a_hostile_name_stays_in_the_directory() {
    let (_fake, link) = share(&[(b"x", "../../etc/passwd"), (b"y", "..")], None).await;
    let dir = tempfile::tempdir().expect("temp dir");
    let saved = get(&options(link, dir.path(), None)).await.expect("downloads");
    assert_eq!(
        saved,
        [dir.path().join("_.._etc_passwd"), dir.path().join("courier-file-2")]
    );
    assert_eq!(listing(dir.path()), ["_.._etc_passwd", "courier-file-2"]);
}

#[tokio::test]
async fn a_password_is_needed_and_checked() {
    let plaintext = file(70_000);
    let (_fake, link) = share(&[(&plaintext, "plans.txt")], Some("hunter2")).await;
    let dir = tempfile::tempdir().expect("temp dir");
    let none = get(&options(link.clone(), dir.path(), None)).await;
    assert!(matches!(none, Err(CliError::PasswordNeeded(1))), "{none:?}");
    let wrong = get(&options(link.clone(), dir.path(), Some("hunter3"))).await;
    assert!(matches!(wrong, Err(CliError::WrongPassword(1))), "{wrong:?}");
    assert!(listing(dir.path()).is_empty());
    let saved = get(&options(link, dir.path(), Some("hunter2")))
        .await
        .expect("downloads");
    assert!(std::fs::read(&saved[0]).expect("reads") == plaintext);
}

/// A share whose object was changed in the store: `change` gets it.
async fn refused_after(change: impl FnOnce(&mut Vec<u8>)) -> (CliError, PathBuf, tempfile::TempDir) {
    let (fake, link) = share(&[(&file(3 * 65_536 + 5), "a.bin")], None).await;
    let mut files = fake.share(ID).expect("the share");
    let mut served = files[0].object.clone();
    change(&mut served);
    files[0].served = Some(served);
    fake.add_share(ID, files);
    let dir = tempfile::tempdir().expect("temp dir");
    let error = get(&options(link, dir.path(), None)).await.expect_err("refused");
    (error, dir.path().to_owned(), dir)
}

#[tokio::test]
async fn a_damaged_object_leaves_no_file() {
    let (error, dir, _keep) = refused_after(|object| object[70_000] ^= 1).await;
    assert!(
        matches!(error, CliError::Open(OpenError::Damaged { record: 1 })),
        "{error:?}"
    );
    assert!(listing(&dir).is_empty(), "{:?}", listing(&dir));
}

#[tokio::test]
async fn a_truncated_object_leaves_no_file() {
    // The store serves an object cut at a record boundary: only decryption
    // can tell.
    let (error, dir, _keep) = refused_after(|object| object.truncate(3 * 65_552)).await;
    assert!(matches!(error, CliError::Open(OpenError::Truncated)), "{error:?}");
    assert!(listing(&dir).is_empty());
}

#[tokio::test]
async fn an_object_of_another_size_than_its_metadata_is_refused_before_downloading() {
    let plaintext = file(3 * 65_536 + 5);
    let (fake, link) = share(&[(&plaintext, "a.bin")], None).await;
    let dir = tempfile::tempdir().expect("temp dir");
    let mut files = fake.share(ID).expect("the share");
    let whole = files[0].object.clone();
    files[0].object.truncate(2 * 65_552);
    fake.add_share(ID, files);
    // Courier reports the cut object's size: the metadata disagrees...
    let error = get(&options(link.clone(), dir.path(), None))
        .await
        .expect_err("refused");
    assert!(matches!(error, CliError::SizeDisagrees { number: 1, .. }), "{error:?}");
    assert!(listing(dir.path()).is_empty());
    // ...and a whole object still downloads afterwards.
    let mut files = fake.share(ID).expect("the share");
    files[0].object = whole;
    fake.add_share(ID, files);
    get(&options(link, dir.path(), None)).await.expect("downloads");
}

#[tokio::test]
async fn courier_refusing_the_proof_is_a_wrong_key() {
    let (fake, link) = share(&[(b"hello", "a.txt")], None).await;
    // Courier keeps another key's auth: it refuses the proof (401).
    let mut files = fake.share(ID).expect("the share");
    files[0].seal.auth = [0; 32];
    fake.add_share(ID, files);
    let dir = tempfile::tempdir().expect("temp dir");
    let error = get(&options(link, dir.path(), None)).await.expect_err("refused");
    assert!(matches!(error, CliError::Refused(Refusal::WrongKey)), "{error:?}");
    assert!(listing(dir.path()).is_empty());
}

#[tokio::test]
async fn a_wrong_key_unknown_and_finished_shares_are_sentences() {
    let (fake, link) = share(&[(b"hello", "a.txt")], None).await;
    let dir = tempfile::tempdir().expect("temp dir");
    let other = with_secrets(&format!("{}/s/{ID}", fake.base), &[Secret::from_bytes([1; 16])]);
    let error = get(&options(other, dir.path(), None)).await.expect_err("refused");
    assert!(matches!(error, CliError::WrongKey(1)), "{error:?}");

    let unknown = link.replace(ID, "NoSuchShareNoSuchShare");
    let error = get(&options(unknown, dir.path(), None)).await.expect_err("refused");
    assert!(matches!(error, CliError::Refused(Refusal::NotFound(_))), "{error:?}");

    let gone = link.replace(ID, "GoneGoneGoneGoneGoneGo");
    let error = get(&options(gone, dir.path(), None)).await.expect_err("refused");
    assert_eq!(error.to_string(), "This share is over: The sender took this link back.");

    let no_key = link.split_once('#').map(|(url, _)| url.to_owned()).expect("a fragment");
    let error = get(&options(no_key, dir.path(), None)).await.expect_err("refused");
    assert_eq!(
        error.to_string(),
        "The link has no key: the part after # is missing. Ask the sender for the whole link."
    );
    assert!(listing(dir.path()).is_empty());
}

#[tokio::test]
async fn several_files_need_every_secret_and_a_directory() {
    let (_fake, link) = share(&[(b"one", "1.txt"), (b"two", "2.txt")], None).await;
    let dir = tempfile::tempdir().expect("temp dir");
    let saved = get(&options(link.clone(), dir.path(), None)).await.expect("downloads");
    assert_eq!(saved.len(), 2);
    assert_eq!(std::fs::read(dir.path().join("2.txt")).expect("reads"), b"two");

    // The link cut to its first secret: the second file has no key.
    let (url, key) = link.split_once('#').expect("a fragment");
    let key = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(key)
        .expect("b64u");
    let first: [u8; 16] = key[..16].try_into().expect("16 bytes");
    let first_only = with_secrets(url, &[Secret::from_bytes(first)]);
    let empty = tempfile::tempdir().expect("temp dir");
    let error = get(&options(first_only, empty.path(), None))
        .await
        .expect_err("refused");
    assert!(matches!(error, CliError::NoSecretFor(2)), "{error:?}");
    assert!(
        listing(empty.path()).is_empty(),
        "every key is checked before any download"
    );

    let error = get(&options(link, &dir.path().join("one-file.txt"), None))
        .await
        .expect_err("refused");
    assert!(matches!(error, CliError::OutputNotDirectory(_)), "{error:?}");
}
