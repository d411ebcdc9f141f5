//! Unconfirmed uploads expire after a day, on the embedded store as on AWS
//! and Garage (where `courier setup-bucket` sets a lifecycle rule for it).
//! Grants write under `uploads/` and, for public links, `public/uploads/`;
//! confirmation copies an upload to `files/` or `public/files/`, where the
//! sweep never goes. Whatever stays where grants write was never confirmed,
//! so a grant cannot turn the store into storage.
//! The prefix directories stay: they mark their grants as used.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use signer::object_key::PUBLIC_UPLOADS;

pub const UNCONFIRMED_TTL: Duration = Duration::from_secs(24 * 60 * 60);
const SWEEP_EVERY: Duration = Duration::from_secs(10 * 60);
/// Where grants write, relative to the bucket: nothing there is confirmed.
const UPLOAD_AREAS: [&str; 2] = ["uploads/", PUBLIC_UPLOADS];

/// Removes the files under `dir` last written before `cutoff`; returns how
/// many.
pub fn sweep(dir: &Path, cutoff: SystemTime) -> std::io::Result<usize> {
    let mut removed = 0;
    let mut pending = vec![dir.to_owned()];
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

/// Sweeps every area grants write to in the bucket at `bucket_dir`.
fn sweep_bucket(bucket_dir: &Path, cutoff: SystemTime) -> std::io::Result<usize> {
    let mut removed = 0;
    for area in UPLOAD_AREAS {
        removed += sweep(&bucket_dir.join(area), cutoff)?;
    }
    Ok(removed)
}

/// Sweeps the bucket's unconfirmed uploads every ten minutes while the store runs.
pub fn spawn(bucket_dir: PathBuf) {
    tokio::spawn(async move {
        let mut every = tokio::time::interval(SWEEP_EVERY);
        loop {
            every.tick().await;
            let dir = bucket_dir.clone();
            let cutoff = SystemTime::now()
                .checked_sub(UNCONFIRMED_TTL)
                .unwrap_or(SystemTime::UNIX_EPOCH);
            match tokio::task::spawn_blocking(move || sweep_bucket(&dir, cutoff)).await {
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

    const GRANT: &str = "6f1d1c52-3a55-4f4c-9a4e-1d7f25d1c0aa";
    const CONFIRMED: &str = "0123456789abcdef0123456789abcdef";

    /// Writes `relative` under `root`, last modified `age` ago.
    fn file(root: &Path, relative: &str, age: Duration) -> PathBuf {
        let path = root.join(relative);
        std::fs::create_dir_all(path.parent().expect("a parent")).expect("mkdir");
        std::fs::write(&path, b"x").expect("write");
        std::fs::File::options()
            .write(true)
            .open(&path)
            .expect("open")
            .set_modified(SystemTime::now() - age)
            .expect("mtime");
        path
    }

    #[test]
    fn old_unconfirmed_uploads_go_and_everything_else_stays() {
        let dir = tempfile::tempdir().expect("dir");
        let uploads = dir.path().join("uploads");
        let now = SystemTime::now();
        let old = file(&uploads, "a/old.bin", UNCONFIRMED_TTL + Duration::from_secs(60));
        let nested = file(&uploads, "b/deep/old.bin", UNCONFIRMED_TTL * 2);
        let fresh = file(&uploads, "c/fresh.bin", Duration::from_secs(60));
        assert_eq!(sweep(&uploads, now - UNCONFIRMED_TTL).expect("sweeps"), 2);
        assert!(!old.exists() && !nested.exists() && fresh.exists());
        // The prefixes stay, marking their grants as used.
        assert!(uploads.join("a").is_dir());
        // No uploads directory yet: nothing to do.
        assert_eq!(sweep(&dir.path().join("none"), now).expect("sweeps"), 0);
    }

    #[test]
    fn unconfirmed_public_uploads_go_and_confirmed_public_files_never_do() {
        let bucket = tempfile::tempdir().expect("dir");
        let root = bucket.path();
        let old = UNCONFIRMED_TTL * 3;
        let swept = [
            file(root, &format!("uploads/{GRANT}/a.txt"), old),
            file(root, &format!("public/uploads/{GRANT}/photo.jpg"), old),
            file(root, &format!("public/uploads/{GRANT}/deep/photo.jpg"), old),
        ];
        let kept = [
            // A fresh upload waits for its day.
            file(
                root,
                &format!("public/uploads/{GRANT}/fresh.jpg"),
                Duration::from_secs(60),
            ),
            // Confirmed files, however old.
            file(root, &format!("public/files/{CONFIRMED}/photo.jpg"), old),
            file(root, &format!("files/{CONFIRMED}/a.txt"), old),
            // Nothing else under `public/` is a grant's either.
            file(root, &format!("public/{GRANT}/photo.jpg"), old),
            file(root, &format!("public/{CONFIRMED}/photo.jpg"), old),
        ];
        let cutoff = SystemTime::now() - UNCONFIRMED_TTL;
        assert_eq!(sweep_bucket(root, cutoff).expect("sweeps"), swept.len());
        for path in &swept {
            assert!(!path.exists(), "{} stayed", path.display());
        }
        for path in &kept {
            assert!(path.exists(), "{} went", path.display());
        }
        // The grant's prefix stays, marking it as used.
        assert!(root.join(PUBLIC_UPLOADS).join(GRANT).is_dir());
        // An empty bucket has nothing to sweep.
        let empty = tempfile::tempdir().expect("dir");
        assert_eq!(sweep_bucket(empty.path(), cutoff).expect("sweeps"), 0);
    }
}
