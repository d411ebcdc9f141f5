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
//!
//! Incomplete multipart uploads go after a day too, as the lifecycle rule
//! `courier setup-bucket` sets aborts them elsewhere: a tab closed midway,
//! or a crash, would otherwise leave their parts forever. `s3s-fs` keeps an
//! upload at the store's root, next to the buckets: `.upload-<id>.json` from
//! its creation until it is completed or aborted, a part in each
//! `.upload_id-<id>.part-<n>` (and Courier its digests in
//! `.upload_id-<id>.digest-<n>`), and the object's metadata in a file whose
//! name holds `.upload-<id>`. An upload created more than a day ago goes
//! with all of these. A part with no upload is what a completion that failed
//! midway leaves (`s3s-fs` drops the upload before it reads the parts): it
//! goes once it is a day old. Only names with a canonical uuid are read;
//! nothing else at the root is touched. The record of a completed upload
//! (`.completed-<id>.json`, which answers a completion made again) goes once
//! it is a day old. (Every one of these names is [`super::layout`]'s.)

use std::io;
use std::path::{Component, Path, PathBuf};
use std::time::{Duration, SystemTime};

use signer::MAX_UPLOAD_TTL_SECS;
use signer::multipart::MULTIPART_TTL;
use signer::object_key::PUBLIC_UPLOADS;

use crate::guarded_fs::{StoreFiles, completed};
use crate::layout::{UploadFiles, regular_file_modified};

pub const UNCONFIRMED_TTL: Duration = Duration::from_secs(24 * 60 * 60);
/// An incomplete multipart upload is kept as long as its token lets the
/// page resume it, and no longer.
pub const INCOMPLETE_MULTIPART_TTL: Duration = MULTIPART_TTL;
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
    /// Incomplete multipart uploads created over a day ago, each with its
    /// parts and metadata file.
    pub multipart_uploads: usize,
    /// Parts a day old that belong to no upload in progress.
    pub orphan_parts: usize,
    /// Records of completed uploads a day old: a completion made again
    /// after that is answered `NoSuchUpload`.
    pub completions: usize,
}

/// Sweeps every area grants write to in the bucket at `bucket_dir` (a
/// directory under the store's root), and the multipart uploads at the
/// store's root, as of `now`.
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
    let mut swept = sweep.swept;
    let created_before = now
        .checked_sub(INCOMPLETE_MULTIPART_TTL)
        .unwrap_or(SystemTime::UNIX_EPOCH);
    (swept.multipart_uploads, swept.orphan_parts) = sweep_multipart_uploads(root, created_before)?;
    let completed_before = now.checked_sub(completed::KEPT_FOR).unwrap_or(SystemTime::UNIX_EPOCH);
    swept.completions = completed::sweep(root, completed_before)?;
    Ok(swept)
}

/// Removes, at the store's `root`, every multipart upload created before
/// `before` with its parts and metadata, and the parts last written before
/// `before` of no upload in progress; returns how many uploads and how many
/// such parts went.
fn sweep_multipart_uploads(root: &Path, before: SystemTime) -> io::Result<(usize, usize)> {
    let UploadFiles {
        uploads,
        mut parts,
        mut metadata,
    } = UploadFiles::at(root)?;
    let mut expired = 0;
    for (id, (upload, created)) in &uploads {
        if *created >= before {
            continue;
        }
        // First the upload itself, so that no part is taken for it any more.
        match std::fs::remove_file(upload) {
            Ok(()) => expired += 1,
            // Completed or aborted meanwhile: its parts are not the sweep's
            // (a completion that failed leaves them, swept as orphans later).
            Err(error) if error.kind() == io::ErrorKind::NotFound => continue,
            Err(error) => return Err(error),
        }
        let its_parts = parts.remove(id).into_iter().flatten().map(|(path, _)| path);
        for path in its_parts.chain(metadata.remove(id).into_iter().flatten()) {
            remove_file(&path)?;
        }
    }
    let mut orphans = 0;
    for (id, parts) in parts {
        if uploads.contains_key(&id) {
            continue;
        }
        for (path, modified) in parts {
            if modified < before && remove_file(&path)? {
                orphans += 1;
            }
        }
    }
    Ok((expired, orphans))
}

/// Removes a file; whether it was there to remove.
fn remove_file(path: &Path) -> io::Result<bool> {
    match std::fs::remove_file(path) {
        Ok(()) => Ok(true),
        Err(error) if error.kind() == io::ErrorKind::NotFound => Ok(false),
        Err(error) => Err(error),
    }
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
            } else if regular_file_modified(&entry)?.is_some_and(|modified| modified < self.uploads_before) {
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
        // Deleted meanwhile, with its metadata files, by whoever deleted it.
        if !remove_file(path)? {
            return Ok(());
        }
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

/// The store's sweeper: it sweeps the bucket's unconfirmed uploads, and the
/// store's incomplete multipart uploads, every ten minutes while it runs.
/// Built with the store (`EmbeddedStore::build`); whoever serves
/// the store runs it.
#[derive(Debug)]
pub struct Sweeper {
    bucket_dir: PathBuf,
}

impl Sweeper {
    pub(crate) fn new(bucket_dir: PathBuf) -> Self {
        Self { bucket_dir }
    }

    /// Sweeps now, then every ten minutes, for ever.
    pub async fn run(self) {
        let mut every = tokio::time::interval(SWEEP_EVERY);
        loop {
            every.tick().await;
            let dir = self.bucket_dir.clone();
            match tokio::task::spawn_blocking(move || sweep_bucket(&dir, SystemTime::now())).await {
                Ok(Ok(swept)) if swept == Swept::default() => {}
                Ok(Ok(swept)) => tracing::info!(
                    removed = swept.objects,
                    directories = swept.directories,
                    multipart_uploads = swept.multipart_uploads,
                    orphan_parts = swept.orphan_parts,
                    completions = swept.completions,
                    "unconfirmed uploads expired"
                ),
                Ok(Err(error)) => tracing::warn!(%error, "could not sweep unconfirmed uploads"),
                Err(error) => tracing::warn!(%error, "the sweep of unconfirmed uploads failed"),
            }
        }
    }

    /// Runs on a task of its own until the task is aborted.
    pub fn spawn(self) -> tokio::task::JoinHandle<()> {
        tokio::spawn(self.run())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GRANT: &str = "6f1d1c52-3a55-4f4c-9a4e-1d7f25d1c0aa";
    const CONFIRMED: &str = "0123456789abcdef0123456789abcdef";
    use crate::layout::{BUCKET, StoreLayout, s3s_fs_temporary};

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
            files.layout().object(BUCKET, key),
            files.layout().metadata(BUCKET, key),
            files.layout().internal_info(BUCKET, key),
        ];
        for path in &paths {
            write(path, age);
        }
        paths
    }

    #[test]
    fn old_unconfirmed_uploads_go_and_everything_else_stays() {
        let (_dir, files, bucket_dir) = store();
        let old = files.layout().object(BUCKET, "uploads/a/old.bin");
        write(&old, UNCONFIRMED_TTL + Duration::from_secs(60));
        let nested = files.layout().object(BUCKET, "uploads/b/deep/old.bin");
        write(&nested, UNCONFIRMED_TTL * 2);
        let fresh = files.layout().object(BUCKET, "uploads/c/fresh.bin");
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
        let (_dir, files, bucket_dir) = store();
        let old = UNCONFIRMED_TTL * 2;
        let expired = object(&files, &format!("uploads/{GRANT}/report 1 ✓.pdf"), old);
        // A confirmed file's metadata, as old: it stays.
        let confirmed = object(&files, &format!("files/{CONFIRMED}/report 1 ✓.pdf"), old);
        // An upload written again since (its metadata older than it): it waits.
        let younger = format!("public/uploads/{GRANT}/photo.jpg");
        let rewritten = object(&files, &younger, old);
        age(&files.layout().object(BUCKET, &younger), Duration::from_secs(60));
        // Metadata whose object is already gone, and what else lies at the
        // root (a write's mark): not the sweep's.
        let [gone, orphan_metadata, orphan_info] = object(&files, &format!("uploads/{CONFIRMED}/gone.txt"), old);
        std::fs::remove_file(&gone).expect("rm");
        let mark = files.layout().marks().join("mark");
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

    const UPLOAD: &str = "3f6c7a9e-2b1d-4c8e-9f0a-5b6c7d8e9f01";
    const YOUNG_UPLOAD: &str = "a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d";
    const OLD: Duration = Duration::from_secs(2 * 24 * 3600);
    const RECENT: Duration = Duration::from_secs(60);

    /// A multipart upload of `key` as s3s-fs keeps it at the root: the
    /// upload and its metadata file, created `age` ago, and its `parts`
    /// (number, written how long ago); returns the paths in that order.
    fn multipart(files: &StoreFiles, id: &str, key: &str, age: Duration, parts: &[(i32, Duration)]) -> Vec<PathBuf> {
        let layout = files.layout();
        let mut paths = vec![layout.upload(id), layout.upload_metadata(BUCKET, key, id)];
        for path in &paths {
            write(path, age);
        }
        for (number, part_age) in parts {
            let part = layout.part(id, *number);
            write(&part, *part_age);
            paths.push(part);
        }
        paths
    }

    fn assert_gone(paths: &[PathBuf]) {
        for path in paths {
            assert!(!path.exists(), "{} stayed", path.display());
        }
    }

    fn assert_kept(paths: &[PathBuf]) {
        for path in paths {
            assert!(path.exists(), "{} went", path.display());
        }
    }

    #[test]
    fn an_old_multipart_upload_goes_whole() {
        let (_dir, files, bucket_dir) = store();
        // Created two days ago; one part sent just now is part of it too.
        let key = format!("files/{CONFIRMED}/big data.bin");
        let upload = multipart(&files, UPLOAD, &key, OLD, &[(1, OLD), (2, RECENT), (10, OLD)]);
        let swept = sweep_bucket(&bucket_dir, SystemTime::now()).expect("sweeps");
        assert_eq!(
            swept,
            Swept {
                multipart_uploads: 1,
                ..Swept::default()
            }
        );
        assert_gone(&upload);
        // The store's root and the bucket stay, and nothing else was there.
        assert!(bucket_dir.is_dir());
        let left: Vec<_> = std::fs::read_dir(files.root())
            .expect("the root")
            .map(|entry| entry.expect("an entry").file_name())
            .collect();
        assert_eq!(left, [BUCKET]);
    }

    #[test]
    fn a_young_multipart_upload_stays_with_its_parts() {
        let (_dir, files, bucket_dir) = store();
        // Created almost a day ago: the page may still resume it.
        let young = multipart(
            &files,
            YOUNG_UPLOAD,
            &format!("public/files/{CONFIRMED}/photo.jpg"),
            UNCONFIRMED_TTL - Duration::from_secs(600),
            &[(1, UNCONFIRMED_TTL - Duration::from_secs(600)), (3, RECENT)],
        );
        let old = multipart(&files, UPLOAD, &format!("files/{CONFIRMED}/a.bin"), OLD, &[(1, OLD)]);
        let swept = sweep_bucket(&bucket_dir, SystemTime::now()).expect("sweeps");
        assert_eq!((swept.multipart_uploads, swept.orphan_parts), (1, 0));
        assert_kept(&young);
        assert_gone(&old);
        // Nothing to do the second time.
        assert_eq!(
            sweep_bucket(&bucket_dir, SystemTime::now()).expect("sweeps"),
            Swept::default()
        );
        assert_kept(&young);
        // A day later, the young one has its turn.
        let tomorrow = SystemTime::now() + UNCONFIRMED_TTL;
        let swept = sweep_bucket(&bucket_dir, tomorrow).expect("sweeps");
        assert_eq!((swept.multipart_uploads, swept.orphan_parts), (1, 0));
        assert_gone(&young);
    }

    #[test]
    fn orphan_parts_go_once_a_day_old() {
        let (_dir, files, _bucket_dir) = store();
        let root = files.root();
        // Left by a completion that failed midway: the upload is gone.
        let orphan = |id: &str, number: i32, age_: Duration| {
            let path = files.layout().part(id, number);
            write(&path, age_);
            path
        };
        let digests = files.layout().part_digest(UPLOAD, 1);
        write(&digests, OLD);
        let old = [orphan(UPLOAD, 1, OLD), orphan(UPLOAD, 2, OLD), digests];
        // A completion in progress right now has dropped its upload too:
        // its parts are young, and stay.
        let completing = [orphan(YOUNG_UPLOAD, 1, RECENT), orphan(YOUNG_UPLOAD, 2, RECENT)];
        // The upload's metadata without its upload: not the sweep's.
        let key = format!("files/{CONFIRMED}/a.bin");
        let metadata = multipart(&files, UPLOAD, &key, OLD, &[]).remove(1);
        std::fs::remove_file(files.layout().upload(UPLOAD)).expect("rm");

        let swept = sweep_multipart_uploads(root, SystemTime::now() - UNCONFIRMED_TTL).expect("sweeps");
        assert_eq!(swept, (0, 3));
        assert_gone(&old);
        assert_kept(&completing);
        assert_kept(&[metadata]);
    }

    /// An upload aborted (or completed) between reading the directory and
    /// looking at its files is simply not there, not a failed scan: the
    /// store's list of uploads answered 500 now and then under aborts.
    #[test]
    fn a_file_gone_since_the_directory_was_read_is_skipped() {
        let (_dir, files, _bucket_dir) = store();
        let kept = multipart(&files, UPLOAD, "files/kept.bin", OLD, &[(1, OLD)]);
        let gone = multipart(&files, YOUNG_UPLOAD, "files/gone.bin", OLD, &[(1, OLD)]);
        let entries: Vec<_> = std::fs::read_dir(files.root())
            .expect("read")
            .collect::<Result<_, _>>()
            .expect("entries");
        for path in &gone {
            std::fs::remove_file(path).expect("removed");
        }
        let seen: Vec<_> = entries
            .iter()
            .filter_map(|entry| regular_file_modified(entry).expect("no error").map(|_| entry.path()))
            .collect();
        assert_eq!(seen.len(), kept.len(), "{seen:?}");
        assert!(kept.iter().all(|path| seen.contains(path)), "{seen:?}");
    }

    #[test]
    fn the_multipart_sweep_leaves_objects_and_everything_else_alone() {
        let (_dir, files, bucket_dir) = store();
        let root = files.root();
        // A completed multipart upload: its object and metadata, however old.
        let key = format!("files/{CONFIRMED}/big.bin");
        let completed = object(&files, &key, OLD);
        let public = object(&files, &format!("public/files/{CONFIRMED}/big.bin"), OLD);
        // The upload it came from, expired: only its own files go.
        let expired = multipart(&files, UPLOAD, &key, OLD, &[(1, OLD)]);
        // Names that are no canonical upload's, however old.
        let upper = UPLOAD.to_uppercase();
        let simple = UPLOAD.replace('-', "");
        let layout = files.layout();
        // A part's name with another number.
        let young_part = |number: &str| {
            let part_1 = layout.part(YOUNG_UPLOAD, 1).to_string_lossy().into_owned();
            PathBuf::from(format!("{}{number}", part_1.strip_suffix('1').expect("part 1")))
        };
        let strangers: Vec<PathBuf> = vec![
            layout.upload(&upper),
            layout.part(&upper, 1),
            layout.upload(&simple),
            layout.part(&simple, 1),
            young_part("x"),
            young_part(""),
            root.join(s3s_fs_temporary(7)),
            root.join("credentials.json"),
        ];
        for path in &strangers {
            write(path, OLD);
        }
        let mark = files.layout().marks().join("mark");
        write(&mark, OLD);
        // A directory named as an upload is not one, nor what is in it.
        let directory = layout.upload(YOUNG_UPLOAD);
        let inside = StoreLayout::at(&directory).part(YOUNG_UPLOAD, 1);
        write(&inside, OLD);
        // A link to a part elsewhere is not followed, nor removed.
        #[cfg(unix)]
        let link = {
            let outside = tempfile::tempdir().expect("dir");
            let target = outside.path().join("part");
            write(&target, OLD);
            let link = layout.part(YOUNG_UPLOAD, 2);
            std::os::unix::fs::symlink(&target, &link).expect("a link");
            (outside, target, link)
        };

        let swept = sweep_bucket(&bucket_dir, SystemTime::now()).expect("sweeps");
        assert_eq!(
            swept,
            Swept {
                multipart_uploads: 1,
                ..Swept::default()
            }
        );
        assert_gone(&expired);
        assert_kept(&completed);
        assert_kept(&public);
        assert_kept(&strangers);
        assert_kept(&[mark, directory, inside]);
        #[cfg(unix)]
        {
            let (_outside, target, link) = link;
            assert!(target.exists() && link.symlink_metadata().is_ok());
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
                directories: 1,
                ..Swept::default()
            }
        );
        assert!(!expired.exists());
        assert!(!prefix(long_ago).exists());
        assert!(prefix(recent).is_dir() && prefix(GRANT).is_dir());
        // The area itself stays.
        assert!(bucket_dir.join("uploads").is_dir());
    }

    #[test]
    fn a_completed_upload_s_record_goes_once_a_day_old() {
        let (_dir, files, bucket_dir) = store();
        let old = files.layout().completion(UPLOAD);
        let young = files.layout().completion(YOUNG_UPLOAD);
        write(&old, OLD);
        write(&young, RECENT);
        let swept = sweep_bucket(&bucket_dir, SystemTime::now()).expect("sweeps");
        assert_eq!(
            swept,
            Swept {
                completions: 1,
                ..Swept::default()
            }
        );
        assert_gone(&[old]);
        assert_kept(&[young]);
    }
}
