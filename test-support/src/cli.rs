//! What the tests of `courier send` share: the command run as a person
//! runs it, the upload it remembers for a resume, and the parts the store
//! holds of it, as the store lists them.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use wire::MultipartUpload;

/// `courier <args>` (the test binary's own `binary`, `CARGO_BIN_EXE_courier`)
/// with only these settings from the environment: the state directory
/// `state`, and none of the test's own COURIER_* variables.
pub fn courier_command(binary: &str, args: &[&str], state: &Path) -> Command {
    let mut command = Command::new(binary);
    command
        .args(args)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("COURIER_STATE_DIR", state)
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    command
}

/// Runs `command` to its end, off the runtime the test's Courier serves on.
pub async fn run_to_end(mut command: Command) -> Output {
    tokio::task::spawn_blocking(move || command.output().expect("courier runs"))
        .await
        .expect("joined")
}

/// The one upload `send` remembers in its state directory `state`, once it
/// has written it: the state file and the upload.
pub fn remembered_upload(state: &Path) -> Option<(PathBuf, MultipartUpload)> {
    let path = std::fs::read_dir(state).ok()?.next()?.ok()?.path();
    let json: serde_json::Value = serde_json::from_slice(&std::fs::read(&path).ok()?).ok()?;
    Some((path, serde_json::from_value(json["upload"].clone()).ok()?))
}

/// Each stored part's number, ETag and time of writing, as the store itself
/// lists them (S3 `ListParts` with its own credentials, not through Courier).
pub async fn parts_listed(
    s3: &aws_sdk_s3::Client,
    bucket: &str,
    upload: &MultipartUpload,
) -> Vec<(i32, String, String)> {
    let listed = s3
        .list_parts()
        .bucket(bucket)
        .key(&upload.key)
        .upload_id(&upload.upload_id)
        .send()
        .await
        .expect("the store lists the parts");
    listed
        .parts()
        .iter()
        .map(|part| {
            (
                part.part_number().unwrap_or_default(),
                part.e_tag().unwrap_or_default().to_owned(),
                part.last_modified().map(|time| time.to_string()).unwrap_or_default(),
            )
        })
        .collect()
}

/// What a run wrote (its stdout or stderr), as text.
pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// What `courier send` says when it goes on with `stored` of `parts` parts
/// already in the store.
pub fn resuming(stored: usize, parts: usize) -> String {
    format!("Resuming: {stored} of {parts} parts were already stored.")
}

/// Runs `command`, a `courier send` stopped before, to its end: it must
/// succeed, say that it goes on with `stored` of `parts` parts (and nothing
/// else), and remember no upload in `state` afterwards. What it printed.
pub async fn resumed_send(command: Command, state: &Path, stored: usize, parts: usize) -> String {
    let resumed = run_to_end(command).await;
    assert!(resumed.status.success(), "{}", text(&resumed.stderr));
    assert_eq!(text(&resumed.stderr).trim(), resuming(stored, parts));
    assert!(remembered_upload(state).is_none(), "done: nothing left to resume");
    text(&resumed.stdout)
}
