//! `courier send` killed halfway and run again, on Garage: the rerun sends
//! only the parts Garage does not hold (those it held keep their ETag and
//! time of writing), and `courier get` gives the file back. The same story
//! as `tests/api/cli_resume.rs` tells on the embedded store.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use tokio::time::Instant;
use wire::MultipartUpload;

use courier_test_support::{
    TestCourier, courier_command, parts_listed, remembered_upload, resumed_send, resuming, run_to_end, sample_bytes,
    text,
};

use crate::{s3, spawn_on_garage};

const MIB: usize = 1024 * 1024;
/// Six parts of Courier's smallest size, the last one short.
const FILE_SIZE: usize = 44 * MIB + 7;
const PARTS: usize = 6;

fn courier_cli(args: &[&str], state: &Path) -> Command {
    courier_command(env!("CARGO_BIN_EXE_courier"), args, state)
}

/// Starts `send`, kills it once Garage holds `at_least` parts, and returns
/// the upload, the parts as Garage lists them, and what the run said.
async fn killed_send(
    courier: &TestCourier,
    args: &[&str],
    state: &Path,
    at_least: usize,
) -> (MultipartUpload, Vec<(i32, String, String)>, String) {
    let mut child = courier_cli(args, state).spawn().expect("courier starts");
    let deadline = Instant::now() + Duration::from_secs(120);
    let upload = loop {
        assert!(Instant::now() < deadline, "no part was stored within two minutes");
        assert!(
            child.try_wait().expect("wait").is_none(),
            "send ended before it was killed"
        );
        // Asked of Garage itself: Courier's list_parts counts against the
        // address's allowance, which the command line needs.
        if let Some(upload) = remembered_upload(state).map(|(_, upload)| upload)
            && parts_listed(&s3(), &courier.bucket, &upload).await.len() >= at_least
        {
            break upload;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    };
    child.kill().expect("killed");
    let output = tokio::task::spawn_blocking(move || child.wait_with_output().expect("output"))
        .await
        .expect("joined");
    // A part Garage was still writing lands now, or never.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let parts = parts_listed(&s3(), &courier.bucket, &upload).await;
    assert!(
        (at_least..PARTS).contains(&parts.len()),
        "{} of {PARTS} parts",
        parts.len()
    );
    (upload, parts, text(&output.stderr))
}

/// Killed twice, an encrypted send goes on each time from what Garage
/// holds, and `courier get` gives the file back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_encrypted_send_resumes_on_garage() {
    let courier = spawn_on_garage(&[
        ("COURIER_MULTIPART_THRESHOLD", "8388608"),
        ("COURIER_PARALLEL_PARTS", "1"),
    ])
    .await;
    let dir = tempfile::tempdir().expect("a directory");
    let (state, file) = (dir.path().join("state"), dir.path().join("film.mkv"));
    let bytes = sample_bytes(FILE_SIZE);
    std::fs::write(&file, &bytes).expect("written");
    let file_arg = file.display().to_string();
    let args = ["send", file_arg.as_str(), "--url", courier.base.as_str()];

    let (upload, first, _) = killed_send(&courier, &args, &state, 2).await;
    // Killed again once Garage holds one more part: those it held are untouched.
    let (again, before, said) = killed_send(&courier, &args, &state, first.len() + 1).await;
    assert_eq!(again, upload, "the same upload goes on");
    assert_eq!(said.trim(), resuming(first.len(), PARTS));
    assert_eq!(&before[..first.len()], first.as_slice(), "a stored part was sent again");

    let stdout = resumed_send(courier_cli(&args, &state), &state, before.len(), PARTS).await;
    let link = stdout.trim();

    let got = dir.path().join("got");
    std::fs::create_dir(&got).expect("a directory");
    let got_arg = got.display().to_string();
    let fetched = run_to_end(courier_cli(&["get", link, "-o", got_arg.as_str()], &state)).await;
    assert!(fetched.status.success(), "{}", text(&fetched.stderr));
    assert!(
        std::fs::read(got.join("film.mkv")).expect("saved") == bytes,
        "the file came back different"
    );
}
