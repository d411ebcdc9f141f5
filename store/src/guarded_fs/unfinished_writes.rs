//! Whole or nothing, for every write `s3s-fs` makes under a key.
//!
//! `s3s-fs` writes an object to a temporary file and renames it into place,
//! then writes its two metadata files next to the buckets
//! (`.bucket-<b>.object-<k>.metadata.json`, then `….internal.json`, with the
//! ETag, always last). So a write that fails after the rename (its metadata
//! found the disk full, or its checksum did not match) leaves the object
//! under its key without its metadata. A server-side copy is worse: `s3s-fs`
//! writes it straight to the destination, so a copy cut short (a full disk,
//! a killed process) leaves the first part of the file under the new key,
//! and a confirmation retried after that finds the copy there, links it and
//! removes the upload: the file is lost.
//!
//! So a write first leaves a mark in `.courier-writes/` (an empty file
//! named after its key: it takes no room for data) and takes it away
//! once `s3s-fs` has answered. A write that fails, or is dropped before it
//! ends (its client went away), is undone there and then; one the process
//! did not live to finish (SIGKILL, a power cut) is undone at the next
//! start. Undoing a write removes whatever of the key's object and metadata
//! files changed since its mark, unless the internal metadata file did (the
//! write had finished), and the key's directory if that leaves it empty, so
//! the grant that wrote there may try again. (`s3s-fs` removes its own
//! temporary files when it starts.)

use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use crate::layout::{self, StoreLayout};

/// The files `s3s-fs` keeps under its root (the `objects` directory), named
/// by [`StoreLayout`].
#[derive(Debug)]
pub struct StoreFiles {
    root: PathBuf,
    /// Makes each mark's name unique, with the key in it.
    next_mark: AtomicU64,
}

/// What undoing a write found.
#[derive(Debug, PartialEq, Eq)]
pub enum Undone {
    /// The internal metadata file was written: the write had finished.
    Finished,
    /// These files had been written (and are gone now).
    Removed(Vec<PathBuf>),
}

impl StoreFiles {
    pub fn new(root: &Path) -> Self {
        let since_epoch = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
        Self {
            root: root.to_owned(),
            next_mark: AtomicU64::new(since_epoch.as_nanos() as u64),
        }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The names of the files under the root.
    pub fn layout(&self) -> StoreLayout<'_> {
        StoreLayout::at(&self.root)
    }

    /// Whether `s3s-fs` holds a multipart upload of this id (its
    /// `.upload-<id>.json`), which it does from creation until completed or
    /// aborted.
    pub fn upload_in_progress(&self, upload_id: &str) -> bool {
        // Only a canonical uuid names a file: nothing else reaches the disk.
        layout::is_canonical_upload_id(upload_id) && self.layout().upload(upload_id).is_file()
    }

    /// Marks a write under `key` as begun; it is undone unless
    /// [`UnfinishedWrite::finish`] says it succeeded.
    pub fn begin(&self, bucket: &str, key: &str) -> io::Result<UnfinishedWrite<'_>> {
        std::fs::create_dir_all(self.layout().marks())?;
        let n = self.next_mark.fetch_add(1, Ordering::Relaxed);
        let mark = self.layout().mark(bucket, key, n);
        std::fs::File::options().write(true).create_new(true).open(&mark)?;
        // Compared with the files' times, which come from the same clock.
        let since = std::fs::metadata(&mark)?.modified()?;
        Ok(UnfinishedWrite {
            files: self,
            bucket: bucket.to_owned(),
            key: key.to_owned(),
            mark,
            since,
            open: true,
        })
    }

    /// Undoes the writes a stopped process left marked; returns their keys.
    pub fn undo_interrupted_writes(&self, is_store_key: impl Fn(&str, &str) -> bool) -> io::Result<Vec<String>> {
        let entries = match std::fs::read_dir(self.layout().marks()) {
            Ok(entries) => entries,
            Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(error) => return Err(error),
        };
        let mut undone = Vec::new();
        for entry in entries {
            let entry = entry?;
            let mark = entry.path();
            let named = entry.file_name().to_str().and_then(layout::parse_mark);
            if let Some((bucket, key)) = named.filter(|(bucket, key)| is_store_key(bucket, key)) {
                let since = entry.metadata()?.modified()?;
                if let Undone::Removed(files) = self.undo(&bucket, &key, since)
                    && !files.is_empty()
                {
                    undone.push(key);
                }
            }
            std::fs::remove_file(&mark)?;
        }
        Ok(undone)
    }

    /// Removes the metadata files of a deleted object (`s3s-fs` leaves them).
    pub fn forget(&self, bucket: &str, key: &str) {
        for path in [
            self.layout().metadata(bucket, key),
            self.layout().internal_info(bucket, key),
        ] {
            remove(&path);
        }
    }

    fn undo(&self, bucket: &str, key: &str, since: SystemTime) -> Undone {
        let written = |path: &Path| {
            std::fs::symlink_metadata(path)
                .is_ok_and(|m| m.is_file() && m.modified().is_ok_and(|modified| modified >= since))
        };
        let internal_info = self.layout().internal_info(bucket, key);
        if written(&internal_info) {
            return Undone::Finished;
        }
        let object = self.layout().object(bucket, key);
        let removed: Vec<PathBuf> = [object.clone(), self.layout().metadata(bucket, key), internal_info]
            .into_iter()
            .filter(|path| written(path) && remove(path))
            .collect();
        if removed.first() == Some(&object) {
            // The key's directory (`uploads/<id>/`), if nothing else is there:
            // its grant may write again. Never the bucket itself.
            let bucket_dir = self.root.join(bucket);
            if let Some(dir) = object
                .parent()
                .filter(|dir| dir.starts_with(&bucket_dir) && *dir != bucket_dir)
            {
                let _ = std::fs::remove_dir(dir);
            }
        }
        Undone::Removed(removed)
    }
}

/// A write under one key, marked on disk until it ends.
#[derive(Debug)]
pub struct UnfinishedWrite<'a> {
    files: &'a StoreFiles,
    bucket: String,
    key: String,
    mark: PathBuf,
    since: SystemTime,
    open: bool,
}

impl UnfinishedWrite<'_> {
    /// Ends the write: kept if it `succeeded`, undone otherwise.
    pub fn finish(mut self, succeeded: bool) {
        self.end(succeeded);
    }

    fn end(&mut self, succeeded: bool) {
        self.open = false;
        if !succeeded
            && let Undone::Removed(files) = self.files.undo(&self.bucket, &self.key, self.since)
            && !files.is_empty()
        {
            tracing::warn!(key = %self.key, files = files.len(), "a failed write was undone: nothing of it stays under its key");
        }
        if let Err(error) = std::fs::remove_file(&self.mark) {
            // Left behind, it is read at the next start: a finished write stays.
            tracing::warn!(mark = %self.mark.display(), %error, "could not remove a write's mark");
        }
    }
}

impl Drop for UnfinishedWrite<'_> {
    /// Dropped before it ended: the request was cancelled mid-write.
    fn drop(&mut self) {
        if self.open {
            self.end(false);
        }
    }
}

/// Removes a file; whether it was there to remove.
fn remove(path: &Path) -> bool {
    match std::fs::remove_file(path) {
        Ok(()) => true,
        Err(error) => {
            if error.kind() != io::ErrorKind::NotFound {
                tracing::warn!(path = %path.display(), %error, "could not remove a file");
            }
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "uploads/6f1d1c52-3a55-4f4c-9a4e-1d7f25d1c0aa/a.txt";

    fn store() -> (tempfile::TempDir, StoreFiles) {
        let dir = tempfile::tempdir().expect("dir");
        std::fs::create_dir_all(dir.path().join("courier")).expect("bucket");
        let files = StoreFiles::new(dir.path());
        (dir, files)
    }

    fn write(path: &Path, bytes: &[u8]) {
        std::fs::create_dir_all(path.parent().expect("a parent")).expect("mkdir");
        std::fs::write(path, bytes).expect("write");
    }

    fn any_key(_: &str, _: &str) -> bool {
        true
    }

    #[test]
    fn a_failed_write_leaves_nothing_and_frees_its_prefix() {
        let (_dir, files) = store();
        let write_started = files.begin("courier", KEY).expect("begin");
        // As s3s-fs leaves a PUT whose internal metadata did not fit.
        write(&files.layout().object("courier", KEY), b"the whole file");
        write(&files.layout().metadata("courier", KEY), b"{}");
        write_started.finish(false);
        assert!(!files.layout().object("courier", KEY).exists());
        assert!(!files.layout().metadata("courier", KEY).exists());
        assert!(
            !files
                .root()
                .join("courier/uploads/6f1d1c52-3a55-4f4c-9a4e-1d7f25d1c0aa")
                .exists()
        );
        assert!(files.root().join("courier/uploads").is_dir());
        assert_eq!(std::fs::read_dir(files.layout().marks()).expect("marks").count(), 0);
    }

    #[test]
    fn a_write_dropped_midway_is_undone_and_a_finished_one_stays() {
        let (_dir, files) = store();
        {
            let _cancelled = files.begin("courier", KEY).expect("begin");
            write(&files.layout().object("courier", KEY), b"the first half");
        }
        assert!(!files.layout().object("courier", KEY).exists());

        let other = "files/0123456789abcdef0123456789abcdef/b.txt";
        let done = files.begin("courier", other).expect("begin");
        write(&files.layout().object("courier", other), b"whole");
        write(&files.layout().metadata("courier", other), b"{}");
        write(&files.layout().internal_info("courier", other), b"{}");
        done.finish(true);
        assert!(files.layout().object("courier", other).exists());
        assert_eq!(std::fs::read_dir(files.layout().marks()).expect("marks").count(), 0);
    }

    #[test]
    fn a_killed_process_leaves_marks_that_the_next_start_undoes() {
        let (_dir, files) = store();
        let older = "files/0123456789abcdef0123456789abcdef/old.txt";
        write(&files.layout().object("courier", older), b"stored before");
        std::fs::File::options()
            .write(true)
            .open(files.layout().object("courier", older))
            .expect("open")
            .set_modified(SystemTime::now() - std::time::Duration::from_secs(3600))
            .expect("an hour ago");
        let copy = "files/fedcba9876543210fedcba9876543210/copy.bin";
        let finished = "uploads/0b6e2cf0-9d7e-4d8e-8f7a-3a3e0e8f9b11/done.txt";
        for key in [older, copy, finished] {
            // `forget` keeps the marks, as a killed process does.
            std::mem::forget(files.begin("courier", key).expect("begin"));
        }
        // A copy cut short, a finished write whose answer never left.
        write(&files.layout().object("courier", copy), b"the first par");
        write(&files.layout().object("courier", finished), b"whole");
        write(&files.layout().internal_info("courier", finished), b"{}");

        let restarted = StoreFiles::new(files.root());
        let undone = restarted.undo_interrupted_writes(any_key).expect("undo");
        assert_eq!(undone, vec![copy.to_owned()]);
        assert!(!files.layout().object("courier", copy).exists());
        assert!(
            files.layout().object("courier", older).exists(),
            "an object the write never reached stays"
        );
        assert!(files.layout().object("courier", finished).exists());
        assert_eq!(std::fs::read_dir(files.layout().marks()).expect("marks").count(), 0);
        // Nothing marked: nothing to do.
        assert_eq!(
            restarted.undo_interrupted_writes(any_key).expect("undo"),
            Vec::<String>::new()
        );
    }

    #[test]
    fn marks_naming_no_store_key_are_dropped_untouched() {
        let (dir, files) = store();
        let outside = dir.path().join("courier/../credentials.json");
        write(&outside, b"secret");
        std::mem::forget(files.begin("courier", "../credentials.json").expect("begin"));
        std::fs::write(files.layout().marks().join("not a mark"), b"").expect("write");
        let undone = files
            .undo_interrupted_writes(|bucket, key| bucket == "courier" && !key.contains(".."))
            .expect("undo");
        assert_eq!(undone, Vec::<String>::new());
        assert!(outside.exists());
        assert_eq!(std::fs::read_dir(files.layout().marks()).expect("marks").count(), 0);
    }
}
