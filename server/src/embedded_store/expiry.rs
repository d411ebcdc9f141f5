//! Unconfirmed uploads expire after a day, on the embedded store as on AWS
//! and Garage (where `courier setup-bucket` sets a lifecycle rule for it).
//! Grants write under `uploads/` and, for public links, `public/uploads/`;
//! confirmation copies an upload to `files/` or `public/files/`, where the
//! sweep never goes. Whatever stays where grants write was never confirmed,
//! so a grant cannot turn the store into storage.
//!
//! An expired object goes with its two metadata files, which `s3s-fs` keeps
//! next to the buckets (`.bucket-<b>.object-<k>.metadata.json` and
//! `….internal.json`), and nothing else goes with it. Directories it leaves
//! empty go too, except a grant's prefix (`[public/]uploads/<uuid>/`): that
//! directory is the record that its grant was used ([`super::grant_use`]),
//! so it stays until no grant that could write there is still valid: empty,
//! and unchanged for longer than the longest grant lives
//! (`COURIER_UPLOAD_TTL_SECS` at its maximum, a week).

use std::io;
use std::path::{Component, Path, PathBuf};
use std::time::{Duration, SystemTime};

use signer::object_key::PUBLIC_UPLOADS;

use super::guarded_fs::StoreFiles;
use crate::settings::MAX_UPLOAD_TTL_SECS;

pub const UNCONFIRMED_TTL: Duration = Duration::from_secs(24 * 60 * 60);
/// The longest a grant can write: an emptied prefix unchanged for this long
/// records nothing a grant could still use.
const LONGEST_GRANT: Duration = Duration::from_secs(MAX_UPLOAD_TTL_SECS);
const SWEEP_EVERY: Duration = Duration::from_secs(10 * 60);
/// Where grants write, relative to the bucket: nothing there is confirmed.
const UPLOAD_AREAS: [&str; 2] = ["uploads/", PUBLIC_UPLOADS];
/// How deep a grant's prefix is under its area: `uploads/<uuid>/`.
const PREFIX_DEPTH: usize = 1;

/// What one sweep removed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Swept {
    /// Expired uploads, each with its metadata files.
    pub objects: usize,
    /// Directories left empty (and grant prefixes no grant can use any more).
    pub directories: usize,
}

/// Sweeps every area grants write to in the bucket at `bucket_dir` (a
/// directory under the store's root), as of `now`.
pub fn sweep_bucket(bucket_dir: &Path, now: SystemTime) -> io::Result<Swept> {
    let (Some(root), Some(bucket)) = (bucket_dir.parent(), bucket_dir.file_name().and_then(|n| n.to_str())) else {
        return Ok(Swept::default());
    };
    let files = StoreFiles::new(root);
    let mut sweep = Sweep {
        files: &files,
        bucket_dir,
        bucket,
        uploads_before: now.checked_sub(UNCONFIRMED_TTL).unwrap_or(SystemTime::UNIX_EPOCH),
        grants_before: now.checked_sub(LONGEST_GRANT).unwrap_or(SystemTime::UNIX_EPOCH),
        swept: Swept::default(),
    };
    for area in UPLOAD_AREAS {
        sweep.dir(&bucket_dir.join(area), 0)?;
    }
    Ok(sweep.swept)
}

struct Sweep<'a> {
    files: &'a StoreFiles,
    bucket_dir: &'a Path,
    bucket: &'a str,
    /// Uploads last written before this have expired.
    uploads_before: SystemTime,
    /// Grant prefixes unchanged since before this record no usable grant.
    grants_before: SystemTime,
    swept: Swept,
}

impl Sweep<'_> {
    /// Sweeps `dir`, `depth` levels under its area; says whether it is empty now.
    fn dir(&mut self, dir: &Path, depth: usize) -> io::Result<bool> {
        let entries = match std::fs::read_dir(dir) {
            Ok(entries) => entries,
            Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(false),
            Err(error) => return Err(error),
        };
        let mut left = 0;
        for entry in entries {
            let entry = entry?;
            let kind = entry.file_type()?;
            let path = entry.path();
            let gone = if kind.is_dir() {
                self.dir(&path, depth + 1)? && self.remove_empty_dir(&path, depth + 1)?
            } else if kind.is_file() && entry.metadata()?.modified()? < self.uploads_before {
                self.remove_object(&path)?;
                true
            } else {
                false
            };
            left += usize::from(!gone);
        }
        Ok(left == 0)
    }

    /// Removes an expired upload, then its metadata files.
    fn remove_object(&mut self, path: &Path) -> io::Result<()> {
        std::fs::remove_file(path)?;
        self.swept.objects += 1;
        match key_of(path, self.bucket_dir) {
            Some(key) => self.files.forget(self.bucket, &key),
            None => {
                tracing::warn!(path = %path.display(), "an expired upload's name is no key: its metadata files stay")
            }
        }
        Ok(())
    }

    /// Removes `dir`, which was empty when swept, unless it is a grant's
    /// prefix some grant may still need; says whether it is gone.
    fn remove_empty_dir(&mut self, dir: &Path, depth: usize) -> io::Result<bool> {
        if depth == PREFIX_DEPTH && std::fs::metadata(dir)?.modified()? >= self.grants_before {
            return Ok(false);
        }
        match std::fs::remove_dir(dir) {
            Ok(()) => {
                self.swept.directories += 1;
                Ok(true)
            }
            // A write came meanwhile: it stays.
            Err(error) if error.kind() == io::ErrorKind::DirectoryNotEmpty => Ok(false),
            Err(error) if error.kind() == io::ErrorKind::NotFound => Ok(true),
            Err(error) => Err(error),
        }
    }
}

/// The key of the object at `path` in the bucket at `bucket_dir`.
fn key_of(path: &Path, bucket_dir: &Path) -> Option<String> {
    let segments = path
        .strip_prefix(bucket_dir)
        .ok()?
        .components()
        .map(|component| match component {
            Component::Normal(segment) => segment.to_str(),
            _ => None,
        })
        .collect::<Option<Vec<_>>>()?;
    Some(segments.join("/"))
}

/// Sweeps the bucket's unconfirmed uploads every ten minutes while the store runs.
pub fn spawn(bucket_dir: PathBuf) {
    tokio::spawn(async move {
        let mut every = tokio::time::interval(SWEEP_EVERY);
        loop {
            every.tick().await;
            let dir = bucket_dir.clone();
            match tokio::task::spawn_blocking(move || sweep_bucket(&dir, SystemTime::now())).await {
                Ok(Ok(Swept {
                    objects: 0,
                    directories: 0,
                })) => {}
                Ok(Ok(swept)) => tracing::info!(
                    removed = swept.objects,
                    directories = swept.directories,
                    "unconfirmed uploads expired"
                ),
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
    const BUCKET: &str = "courier";

    /// A store's root with its bucket, as `mod.rs` lays them out.
    fn store() -> (tempfile::TempDir, StoreFiles, PathBuf) {
        let dir = tempfile::tempdir().expect("dir");
        let bucket_dir = dir.path().join(BUCKET);
        std::fs::create_dir_all(&bucket_dir).expect("bucket");
        let files = StoreFiles::new(dir.path());
        (dir, files, bucket_dir)
    }

    fn age(path: &Path, age: Duration) {
        std::fs::File::open(path)
            .expect("open")
            .set_modified(SystemTime::now() - age)
            .expect("mtime");
    }

    /// Writes `path`, last modified `age` ago.
    fn write(path: &Path, age_: Duration) {
        std::fs::create_dir_all(path.parent().expect("a parent")).expect("mkdir");
        std::fs::write(path, b"x").expect("write");
        age(path, age_);
    }

    /// Stores `key` as s3s-fs does (the object, then its two metadata
    /// files), each last modified `age` ago; returns the three paths.
    fn object(files: &StoreFiles, key: &str, age: Duration) -> [PathBuf; 3] {
        let paths = [
            files.object(BUCKET, key),
            files.metadata(BUCKET, key),
            files.internal_info(BUCKET, key),
        ];
        for path in &paths {
            write(path, age);
        }
        paths
    }

    #[test]
    fn old_unconfirmed_uploads_go_and_everything_else_stays() {
        let (_dir, files, bucket_dir) = store();
        let old = files.object(BUCKET, "uploads/a/old.bin");
        write(&old, UNCONFIRMED_TTL + Duration::from_secs(60));
        let nested = files.object(BUCKET, "uploads/b/deep/old.bin");
        write(&nested, UNCONFIRMED_TTL * 2);
        let fresh = files.object(BUCKET, "uploads/c/fresh.bin");
        write(&fresh, Duration::from_secs(60));
        let swept = sweep_bucket(&bucket_dir, SystemTime::now()).expect("sweeps");
        assert_eq!(swept.objects, 2);
        assert!(!old.exists() && !nested.exists() && fresh.exists());
        // The prefixes stay, marking their grants as used; what was below
        // one and is empty now goes.
        assert!(bucket_dir.join("uploads/a").is_dir() && bucket_dir.join("uploads/b").is_dir());
        assert!(!bucket_dir.join("uploads/b/deep").exists());
        assert_eq!(swept.directories, 1);
        // No uploads directory yet: nothing to do.
        let (_empty, _, empty_bucket) = store();
        assert_eq!(
            sweep_bucket(&empty_bucket, SystemTime::now()).expect("sweeps"),
            Swept::default()
        );
    }

    #[test]
    fn unconfirmed_public_uploads_go_and_confirmed_public_files_never_do() {
        let (_dir, files, bucket_dir) = store();
        let old = UNCONFIRMED_TTL * 3;
        let swept = [
            format!("uploads/{GRANT}/a.txt"),
            format!("public/uploads/{GRANT}/photo.jpg"),
            format!("public/uploads/{GRANT}/deep/photo.jpg"),
        ]
        .map(|key| object(&files, &key, old));
        let kept = [
            // A fresh upload waits for its day.
            object(
                &files,
                &format!("public/uploads/{GRANT}/fresh.jpg"),
                Duration::from_secs(60),
            ),
            // Confirmed files, however old.
            object(&files, &format!("public/files/{CONFIRMED}/photo.jpg"), old),
            object(&files, &format!("files/{CONFIRMED}/a.txt"), old),
            // Nothing else under `public/` is a grant's either.
            object(&files, &format!("public/{GRANT}/photo.jpg"), old),
            object(&files, &format!("public/{CONFIRMED}/photo.jpg"), old),
        ];
        let done = sweep_bucket(&bucket_dir, SystemTime::now()).expect("sweeps");
        assert_eq!(done.objects, swept.len());
        for path in swept.iter().flatten() {
            assert!(!path.exists(), "{} stayed", path.display());
        }
        for path in kept.iter().flatten() {
            assert!(path.exists(), "{} went", path.display());
        }
        // The grant's prefix stays, marking it as used.
        assert!(bucket_dir.join(PUBLIC_UPLOADS).join(GRANT).is_dir());
    }

    #[test]
    fn an_expired_upload_takes_its_metadata_files_and_nothing_else() {
        let (dir, files, bucket_dir) = store();
        let old = UNCONFIRMED_TTL * 2;
        let expired = object(&files, &format!("uploads/{GRANT}/report 1 ✓.pdf"), old);
        // A confirmed file's metadata, as old: it stays.
        let confirmed = object(&files, &format!("files/{CONFIRMED}/report 1 ✓.pdf"), old);
        // An upload written again since (its metadata older than it): it waits.
        let younger = format!("public/uploads/{GRANT}/photo.jpg");
        let rewritten = object(&files, &younger, old);
        age(&files.object(BUCKET, &younger), Duration::from_secs(60));
        // Metadata whose object is already gone, and what else lies at the
        // root (a write's mark): not the sweep's.
        let [gone, orphan_metadata, orphan_info] = object(&files, &format!("uploads/{CONFIRMED}/gone.txt"), old);
        std::fs::remove_file(&gone).expect("rm");
        let mark = dir.path().join(".courier-writes/mark");
        write(&mark, old);

        let swept = sweep_bucket(&bucket_dir, SystemTime::now()).expect("sweeps");
        assert_eq!(swept.objects, 1);
        for path in &expired {
            assert!(!path.exists(), "{} stayed", path.display());
        }
        for path in confirmed
            .iter()
            .chain(&rewritten)
            .chain([&orphan_metadata, &orphan_info, &mark])
        {
            assert!(path.exists(), "{} went", path.display());
        }
    }

    #[test]
    fn a_used_prefix_stays_until_no_grant_could_write_there() {
        let (_dir, files, bucket_dir) = store();
        let prefix = |id: &str| bucket_dir.join("uploads").join(id);
        // Emptied by its confirmation, more than a week ago: no grant can
        // use it, and the record goes.
        let long_ago = "0b6e2cf0-9d7e-4d8e-8f7a-3a3e0e8f9b11";
        std::fs::create_dir_all(prefix(long_ago)).expect("mkdir");
        age(&prefix(long_ago), LONGEST_GRANT + Duration::from_secs(60));
        // Emptied six days ago: a grant that lives a week may still try it.
        let recent = "1c2d3e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f";
        std::fs::create_dir_all(prefix(recent)).expect("mkdir");
        age(&prefix(recent), Duration::from_secs(6 * 24 * 3600));
        // Emptied by this very sweep: it stays, marking its grant as used.
        let [expired, ..] = object(&files, &format!("uploads/{GRANT}/a.txt"), LONGEST_GRANT * 2);
        age(&prefix(GRANT), LONGEST_GRANT * 2);

        let swept = sweep_bucket(&bucket_dir, SystemTime::now()).expect("sweeps");
        assert_eq!(
            swept,
            Swept {
                objects: 1,
                directories: 1
            }
        );
        assert!(!expired.exists());
        assert!(!prefix(long_ago).exists());
        assert!(prefix(recent).is_dir() && prefix(GRANT).is_dir());
        // The area itself stays.
        assert!(bucket_dir.join("uploads").is_dir());
    }
}
