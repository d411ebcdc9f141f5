//! Unconfirmed uploads expire after a day, on the embedded store as on AWS
//! and Garage (where `courier setup-bucket` sets a lifecycle rule for it).
//! A confirmed file lives under `files/`; whatever stays under `uploads/`
//! was never confirmed, so a grant cannot turn the store into storage.
//! The prefix directories stay: they mark their grants as used.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

pub const UNCONFIRMED_TTL: Duration = Duration::from_secs(24 * 60 * 60);
const SWEEP_EVERY: Duration = Duration::from_secs(10 * 60);

/// Removes the files under `uploads_dir` last written before `cutoff`;
/// returns how many.
pub fn sweep(uploads_dir: &Path, cutoff: SystemTime) -> std::io::Result<usize> {
    let mut removed = 0;
    let mut pending = vec![uploads_dir.to_owned()];
    while let Some(dir) = pending.pop() {
        let entries = match std::fs::read_dir(&dir) {
            Ok(entries) => entries,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => continue,
            Err(error) => return Err(error),
        };
        for entry in entries {
            let entry = entry?;
            let kind = entry.file_type()?;
            if kind.is_dir() {
                pending.push(entry.path());
            } else if kind.is_file() && entry.metadata()?.modified()? < cutoff {
                std::fs::remove_file(entry.path())?;
                removed += 1;
            }
        }
    }
    Ok(removed)
}

/// Sweeps `uploads_dir` every ten minutes while the store runs.
pub fn spawn(uploads_dir: PathBuf) {
    tokio::spawn(async move {
        let mut every = tokio::time::interval(SWEEP_EVERY);
        loop {
            every.tick().await;
            let dir = uploads_dir.clone();
            let cutoff = SystemTime::now()
                .checked_sub(UNCONFIRMED_TTL)
                .unwrap_or(SystemTime::UNIX_EPOCH);
            match tokio::task::spawn_blocking(move || sweep(&dir, cutoff)).await {
                Ok(Ok(0)) => {}
                Ok(Ok(removed)) => tracing::info!(removed, "unconfirmed uploads expired"),
                Ok(Err(error)) => tracing::warn!(%error, "could not sweep unconfirmed uploads"),
                Err(error) => tracing::warn!(%error, "the sweep of unconfirmed uploads failed"),
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn old_unconfirmed_uploads_go_and_everything_else_stays() {
        let dir = tempfile::tempdir().expect("dir");
        let uploads = dir.path().join("uploads");
        let now = SystemTime::now();
        let file = |relative: &str, age: Duration| {
            let path = uploads.join(relative);
            std::fs::create_dir_all(path.parent().expect("a parent")).expect("mkdir");
            std::fs::write(&path, b"x").expect("write");
            std::fs::File::options()
                .write(true)
                .open(&path)
                .expect("open")
                .set_modified(now - age)
                .expect("mtime");
            path
        };
        let old = file("a/old.bin", UNCONFIRMED_TTL + Duration::from_secs(60));
        let nested = file("b/deep/old.bin", UNCONFIRMED_TTL * 2);
        let fresh = file("c/fresh.bin", Duration::from_secs(60));
        assert_eq!(sweep(&uploads, now - UNCONFIRMED_TTL).expect("sweeps"), 2);
        assert!(!old.exists() && !nested.exists() && fresh.exists());
        // The prefixes stay, marking their grants as used.
        assert!(uploads.join("a").is_dir());
        // No uploads directory yet: nothing to do.
        assert_eq!(sweep(&dir.path().join("none"), now).expect("sweeps"), 0);
    }
}
