//! `courier send` interrupted and run again (issue 30), on the real binary
//! against a real Courier and its embedded store: the second run asks the
//! store what it holds, sends only the missing parts, and the file comes
//! back whole. Parts are Courier's smallest (8 MiB) and go one at a time,
//! so a file of six parts is interrupted between two of them. And which
//! of encrypted and `--plain` a Courier takes, said before anything is sent.

use std::path::Path;
use std::process::{Child, Command, Output};
use std::time::Duration;

use reqwest::StatusCode;
use tokio::time::Instant;
use wire::{MultipartUpload, StoredPart, endpoint};

use courier_test_support::{
    TestCourier, courier_command, location, parts_listed, remembered_upload, resumed_send, resuming, run_to_end,
    sample_bytes, text,
};

const MIB: usize = 1024 * 1024;
/// Six parts of 8 MiB (encrypted, a little more) with the last one short.
const FILE_SIZE: usize = 44 * MIB + 7;
const PARTS: usize = 6;

/// A Courier that cuts parts at its smallest and takes them one at a time.
async fn courier() -> TestCourier {
    TestCourier::builder()
        .env("COURIER_MULTIPART_THRESHOLD", (8 * MIB).to_string())
        .env("COURIER_PARALLEL_PARTS", "1")
        .start()
        .await
}

fn courier_cli(args: &[&str], state: &Path) -> Command {
    courier_command(env!("CARGO_BIN_EXE_courier"), args, state)
}

async fn stored_parts(courier: &TestCourier, upload: &MultipartUpload) -> Vec<StoredPart> {
    let answer = courier.call(endpoint::list_parts(upload)).await;
    assert_eq!(answer.status(), StatusCode::OK);
    answer.json().await.expect("parts")
}

/// Starts `send` and stops it (`signal`) once the store holds `at_least`
/// parts; returns the upload, what the store holds of it, and the run's
/// output.
async fn interrupted_send(
    courier: &TestCourier,
    args: &[&str],
    state: &Path,
    signal: &str,
    at_least: usize,
) -> (MultipartUpload, Vec<StoredPart>, Output) {
    let mut child: Child = courier_cli(args, state).spawn().expect("courier starts");
    let deadline = Instant::now() + Duration::from_secs(60);
    let upload = loop {
        assert!(Instant::now() < deadline, "no part was stored within a minute");
        if let Some(status) = child.try_wait().expect("wait") {
            let output = child.wait_with_output().expect("output");
            panic!(
                "send ended ({status}) before it could be stopped: {}",
                String::from_utf8_lossy(&output.stderr)
            );
        }
        // Asked of the store itself: Courier's list_parts counts against
        // the address's allowance, which the command line needs.
        if let Some((_, upload)) = remembered_upload(state)
            && parts_listed(&courier.store_client(), &courier.bucket, &upload)
                .await
                .len()
                >= at_least
        {
            break upload;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    };
    let status = Command::new("kill")
        .args(["-s", signal, &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(status.success());
    let output = tokio::task::spawn_blocking(move || child.wait_with_output().expect("output"))
        .await
        .expect("joined");
    // A part the store was still writing lands now, or never.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let stored = stored_parts(courier, &upload).await;
    assert!(
        (at_least..PARTS).contains(&stored.len()),
        "{} of {PARTS} parts stored",
        stored.len()
    );
    (upload, stored, output)
}

/// Killed outright (SIGKILL) twice, an encrypted send goes on each time
/// from what the store holds: the parts stored before a run are there
/// untouched after it (the same ETag, written at the same time), and
/// `courier get` gives the file back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_encrypted_send_resumes_from_the_stored_parts() {
    let courier = courier().await;
    let dir = tempfile::tempdir().expect("a directory");
    let (state, file) = (dir.path().join("state"), dir.path().join("film.mkv"));
    let bytes = sample_bytes(FILE_SIZE);
    std::fs::write(&file, &bytes).expect("written");
    let file_arg = file.display().to_string();
    let args = ["send", file_arg.as_str(), "--url", courier.base.as_str()];

    let (upload, stored, killed) = interrupted_send(&courier, &args, &state, "KILL", 2).await;
    assert!(killed.stdout.is_empty(), "no link yet: {}", text(&killed.stdout));
    assert_eq!(upload.part_count() as usize, PARTS);
    let (state_file, _) = remembered_upload(&state).expect("the upload is remembered");
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(&state_file).expect("metadata").permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "it holds the file's key");
    }
    let first = parts_listed(&courier.store_client(), &courier.bucket, &upload).await;
    assert_eq!(first.len(), stored.len());

    // Killed again once it has stored one more part.
    let (again, stored, killed) = interrupted_send(&courier, &args, &state, "KILL", first.len() + 1).await;
    assert_eq!(again, upload, "the same upload goes on");
    assert_eq!(
        text(&killed.stderr).trim(),
        resuming(first.len(), PARTS),
        "said once, and nothing else in a pipe"
    );
    let second = parts_listed(&courier.store_client(), &courier.bucket, &upload).await;
    assert_eq!(second.len(), stored.len());
    assert_eq!(&second[..first.len()], first.as_slice(), "a stored part was sent again");

    let stdout = resumed_send(courier_cli(&args, &state), &state, second.len(), PARTS).await;
    assert!(!state_file.exists(), "done: nothing left to resume");
    let link = stdout.trim();
    assert_eq!(stdout.lines().count(), 1, "{stdout}");
    assert!(
        link.starts_with(&format!("{}/s/", courier.base)) && link.contains('#'),
        "{link}"
    );

    let got = dir.path().join("got");
    std::fs::create_dir(&got).expect("a directory");
    let got_arg = got.display().to_string();
    let fetched = run_to_end(courier_cli(&["get", link, "-o", got_arg.as_str()], &state)).await;
    assert!(fetched.status.success(), "{}", text(&fetched.stderr));
    let saved = got.join("film.mkv");
    assert_eq!(text(&fetched.stdout).trim(), saved.display().to_string());
    assert!(
        std::fs::read(&saved).expect("saved") == bytes,
        "the file came back different"
    );
}

/// Stopped with Ctrl-C (SIGINT), a `--plain` send says so and goes on the
/// same way; its link downloads the file under its own name.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_interrupted_plain_send_resumes_and_its_link_downloads_the_file() {
    let courier = courier().await;
    let dir = tempfile::tempdir().expect("a directory");
    let (state, file) = (dir.path().join("state"), dir.path().join("data.csv"));
    let bytes = sample_bytes(FILE_SIZE);
    std::fs::write(&file, &bytes).expect("written");
    let file_arg = file.display().to_string();
    let args = ["send", "--plain", file_arg.as_str(), "--url", courier.base.as_str()];

    let (upload, stored, stopped) = interrupted_send(&courier, &args, &state, "INT", 2).await;
    assert_eq!(stopped.status.code(), Some(1));
    assert!(
        text(&stopped.stderr).contains("Stopped. A large file's upload goes on"),
        "{}",
        text(&stopped.stderr)
    );
    assert!(upload.key.ends_with("/data.csv"), "its own name: {}", upload.key);

    let stdout = resumed_send(courier_cli(&args, &state), &state, stored.len(), PARTS).await;

    let link = stdout.trim();
    let id = link
        .strip_prefix(&format!("{}/s/", courier.base))
        .unwrap_or_else(|| panic!("a share link: {link}"));
    assert!(!link.contains('#'), "no key: {link}");
    let redirect = courier.share_get(&format!("{id}/1")).await;
    assert_eq!(redirect.status(), StatusCode::FOUND);
    let download = courier.download(&location(&redirect)).await;
    assert!(
        download.headers()[reqwest::header::CONTENT_DISPOSITION]
            .to_str()
            .expect("ascii")
            .contains("data.csv")
    );
    assert!(
        download.bytes().await.expect("the body") == bytes,
        "the file came back different"
    );
}

/// A file changed since its send was interrupted is sent afresh (its old
/// parts are not mixed in), and says so.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_changed_since_is_sent_afresh() {
    let courier = courier().await;
    let dir = tempfile::tempdir().expect("a directory");
    let (state, file) = (dir.path().join("state"), dir.path().join("log.txt"));
    std::fs::write(&file, sample_bytes(FILE_SIZE)).expect("written");
    let file_arg = file.display().to_string();
    let args = ["send", "--plain", file_arg.as_str(), "--url", courier.base.as_str()];
    let (old, _, _) = interrupted_send(&courier, &args, &state, "KILL", 2).await;

    let mut changed = sample_bytes(FILE_SIZE);
    changed[0] ^= 1;
    changed.extend_from_slice(b"one more line\n");
    std::fs::write(&file, &changed).expect("written");
    let sent = run_to_end(courier_cli(&args, &state)).await;
    assert!(sent.status.success(), "{}", text(&sent.stderr));
    assert_eq!(
        text(&sent.stderr).trim(),
        format!(
            "{} changed since its upload was interrupted: sending it afresh.",
            file.display()
        )
    );
    assert!(remembered_upload(&state).is_none());
    // The old upload was let go of.
    let answer = courier.call(endpoint::list_parts(&old)).await;
    assert_ne!(answer.status(), StatusCode::OK);
}

/// An upload Courier no longer takes (here aborted; an expired grant is
/// refused the same way) is not a failure: the file is sent afresh, with
/// a sentence, and its link works.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upload_courier_no_longer_takes_is_sent_afresh() {
    let courier = courier().await;
    let dir = tempfile::tempdir().expect("a directory");
    let (state, file) = (dir.path().join("state"), dir.path().join("notes.txt"));
    std::fs::write(&file, sample_bytes(FILE_SIZE)).expect("written");
    let file_arg = file.display().to_string();
    let args = ["send", "--plain", file_arg.as_str(), "--url", courier.base.as_str()];
    let (old, _, _) = interrupted_send(&courier, &args, &state, "KILL", 2).await;
    let aborted = courier.call(endpoint::abort_multipart(&old)).await;
    assert_eq!(aborted.status(), StatusCode::OK);

    let sent = run_to_end(courier_cli(&args, &state)).await;
    assert!(sent.status.success(), "{}", text(&sent.stderr));
    let stderr = text(&sent.stderr);
    assert!(
        stderr.starts_with(&format!(
            "Courier no longer takes the interrupted upload of {}",
            file.display()
        )) && stderr.trim_end().ends_with(": sending it afresh."),
        "{stderr}"
    );
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(text(&sent.stdout).starts_with(&format!("{}/s/", courier.base)));
    assert!(remembered_upload(&state).is_none());
}

/// A Courier with `COURIER_ENCRYPTION=off` takes `--plain` files, and an
/// encrypted send is told to use it (once, before any byte goes); one
/// with `always` says the opposite.
#[tokio::test]
async fn plain_is_for_a_courier_that_does_not_encrypt() {
    let dir = tempfile::tempdir().expect("a directory");
    let (state, file) = (dir.path().join("state"), dir.path().join("menu.txt"));
    std::fs::write(&file, b"soup, bread\n").expect("written");
    let file_arg = file.display().to_string();

    let off = TestCourier::builder().env("COURIER_ENCRYPTION", "off").start().await;
    let refused = run_to_end(courier_cli(
        &["send", file_arg.as_str(), "--url", off.base.as_str()],
        &state,
    ))
    .await;
    assert_eq!(refused.status.code(), Some(1));
    assert!(refused.stdout.is_empty());
    assert_eq!(
        text(&refused.stderr).trim(),
        "courier: This Courier does not take encrypted files: send them with --plain (stored as they are, not encrypted)."
    );
    let sent = run_to_end(courier_cli(
        &["send", "--plain", file_arg.as_str(), "--url", off.base.as_str()],
        &state,
    ))
    .await;
    assert!(sent.status.success(), "{}", text(&sent.stderr));
    assert!(sent.stderr.is_empty(), "{}", text(&sent.stderr));
    let stdout = text(&sent.stdout);
    let id = stdout
        .trim()
        .strip_prefix(&format!("{}/s/", off.base))
        .unwrap_or_else(|| panic!("a share link: {stdout}"));
    let redirect = off.share_get(&format!("{id}/1")).await;
    assert_eq!(redirect.status(), StatusCode::FOUND);
    assert_eq!(off.downloaded_bytes(&location(&redirect)).await, b"soup, bread\n");

    let always = TestCourier::builder().env("COURIER_ENCRYPTION", "always").start().await;
    let refused = run_to_end(courier_cli(
        &["send", "--plain", file_arg.as_str(), "--url", always.base.as_str()],
        &state,
    ))
    .await;
    assert_eq!(refused.status.code(), Some(1));
    assert!(text(&refused.stderr).contains("takes encrypted files only"));
}

/// A stored part that is not what the file gives for it (written over
/// here through Courier, as anyone holding the grant could) is not taken
/// on trust: it is checked against the store's SHA-256 and sent again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stored_part_that_does_not_match_the_file_is_sent_again() {
    let courier = courier().await;
    let dir = tempfile::tempdir().expect("a directory");
    let (state, file) = (dir.path().join("state"), dir.path().join("table.csv"));
    let bytes = sample_bytes(FILE_SIZE);
    std::fs::write(&file, &bytes).expect("written");
    let file_arg = file.display().to_string();
    let args = ["send", "--plain", file_arg.as_str(), "--url", courier.base.as_str()];
    let (upload, stored, _) = interrupted_send(&courier, &args, &state, "KILL", 2).await;

    let other = vec![b'x'; usize::try_from(upload.part_len(1).expect("part 1")).expect("fits")];
    let sha256 = {
        use base64::Engine as _;
        use sha2::Digest as _;
        base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(&other))
    };
    let signed = courier
        .call(endpoint::sign_parts(
            &upload,
            &[wire::PartToSign {
                number: 1,
                sha256: Some(sha256.clone()),
            }],
        ))
        .await;
    assert_eq!(signed.status(), StatusCode::OK);
    let urls: Vec<wire::PartUrl> = signed.json().await.expect("URLs");
    let put = courier
        .http
        .put(&urls[0].url)
        .header("x-amz-checksum-sha256", sha256)
        .body(other)
        .send()
        .await
        .expect("the store answers");
    assert!(put.status().is_success(), "{}", put.status());

    let resumed = run_to_end(courier_cli(&args, &state)).await;
    assert!(resumed.status.success(), "{}", text(&resumed.stderr));
    assert_eq!(
        text(&resumed.stderr).trim(),
        format!(
            "Resuming: {} of {PARTS} parts were already stored (1 stored part did not match the file and is sent again).",
            stored.len() - 1
        )
    );
    let stdout = text(&resumed.stdout);
    let id = stdout
        .trim()
        .strip_prefix(&format!("{}/s/", courier.base))
        .unwrap_or_else(|| panic!("a share link: {stdout}"));
    let redirect = courier.share_get(&format!("{id}/1")).await;
    assert!(
        courier.downloaded_bytes(&location(&redirect)).await == bytes,
        "the file came back different"
    );
}
