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
//! it is a day old.

use std::collections::HashMap;
use std::io;
use std::path::{Component, Path, PathBuf};
use std::time::{Duration, SystemTime};

use base64::Engine as _;
use signer::multipart::MULTIPART_TTL;
use signer::object_key::PUBLIC_UPLOADS;

use super::guarded_fs::{StoreFiles, completed};
use crate::settings::MAX_UPLOAD_TTL_SECS;

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

/// A file `s3s-fs` keeps at its root for a multipart upload.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum UploadFile {
    /// `.upload-<id>.json`: the upload is in progress.
    Upload(uuid::Uuid),
    /// `.upload_id-<id>.part-<n>`, or the digests Courier keeps of that
    /// part, `.upload_id-<id>.digest-<n>` (they go together).
    Part(uuid::Uuid),
    /// Any other name holding `.upload-<id>`: the object's metadata
    /// (`.bucket-<b>.object-<k>.upload-<id>.metadata.json`).
    Metadata(uuid::Uuid),
}

impl UploadFile {
    pub(super) fn of(name: &str) -> Option<Self> {
        if let Some(rest) = name.strip_prefix(".upload_id-") {
            let (id, rest) = canonical_uuid(rest)?;
            let number = rest.strip_prefix(".part-").or_else(|| rest.strip_prefix(".digest-"))?;
            return (!number.is_empty() && number.bytes().all(|b| b.is_ascii_digit())).then_some(Self::Part(id));
        }
        // (Base64url has no dot: in a metadata file's name, the first
        // `.upload-` is the upload's.)
        let at = name.find(".upload-")?;
        let (id, rest) = canonical_uuid(&name[at + ".upload-".len()..])?;
        Some(if at == 0 && rest == ".json" {
            Self::Upload(id)
        } else {
            Self::Metadata(id)
        })
    }
}

/// The canonical uuid (hyphenated, lowercase, as `s3s-fs` writes one) that
/// `text` starts with, and what follows it.
fn canonical_uuid(text: &str) -> Option<(uuid::Uuid, &str)> {
    let (id, rest) = (text.get(..36)?, text.get(36..)?);
    let parsed = uuid::Uuid::try_parse(id).ok()?;
    (parsed.hyphenated().to_string() == id).then_some((parsed, rest))
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

/// The files of the multipart uploads at the store's root, by upload.
pub(super) struct UploadFiles {
    /// Every upload in progress, however young, and when it was created.
    pub uploads: HashMap<uuid::Uuid, (PathBuf, SystemTime)>,
    /// Parts (and their digests), with when each was last written, whether
    /// or not their upload is in progress.
    pub parts: HashMap<uuid::Uuid, Vec<(PathBuf, SystemTime)>>,
    /// Each upload's object metadata (one file, which names the object).
    pub metadata: HashMap<uuid::Uuid, Vec<PathBuf>>,
}

impl UploadFiles {
    pub fn at(root: &Path) -> io::Result<Self> {
        let mut files = Self {
            uploads: HashMap::new(),
            parts: HashMap::new(),
            metadata: HashMap::new(),
        };
        for entry in std::fs::read_dir(root)? {
            let entry = entry?;
            let Some(file) = entry.file_name().to_str().and_then(UploadFile::of) else {
                continue;
            };
            // An upload completed or aborted while the directory is read
            // takes its files with it: what is gone is not in progress.
            let Some(modified) = regular_file_modified(&entry)? else {
                continue;
            };
            let path = entry.path();
            match file {
                UploadFile::Upload(id) => {
                    files.uploads.insert(id, (path, modified));
                }
                UploadFile::Part(id) => files.parts.entry(id).or_default().push((path, modified)),
                UploadFile::Metadata(id) => files.metadata.entry(id).or_default().push(path),
            }
        }
        Ok(files)
    }

    /// The bucket and key an upload in progress writes to, from the name of
    /// its metadata file (`.bucket-<b>.object-<k>.upload-<id>.metadata.json`,
    /// both base64url).
    pub fn object_of(&self, id: &uuid::Uuid) -> Option<(String, String)> {
        let decode = |text: &str| {
            let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(text).ok()?;
            String::from_utf8(bytes).ok()
        };
        self.metadata.get(id)?.iter().find_map(|path| {
            let name = path.file_name()?.to_str()?;
            let named = name.strip_prefix(".bucket-")?;
            let (bucket, rest) = named.split_once(".object-")?;
            let (key, rest) = rest.split_once(".upload-")?;
            (rest == format!("{id}.metadata.json")).then_some(())?;
            Some((decode(bucket)?, decode(key)?))
        })
    }
}

/// When a directory entry was last written, if it is a regular file (no
/// directory and no symbolic link) still there: a file deleted while its
/// directory is read is no error, it is simply not there.
fn regular_file_modified(entry: &std::fs::DirEntry) -> io::Result<Option<SystemTime>> {
    let modified = entry.file_type().and_then(|kind| {
        if kind.is_file() {
            entry.metadata()?.modified().map(Some)
        } else {
            Ok(None)
        }
    });
    match modified {
        Err(error) if error.kind() == io::ErrorKind::NotFound => Ok(None),
        other => other,
    }
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

/// Sweeps the bucket's unconfirmed uploads, and the store's incomplete
/// multipart uploads, every ten minutes while the store runs.
pub fn spawn(bucket_dir: PathBuf) {
    tokio::spawn(async move {
        let mut every = tokio::time::interval(SWEEP_EVERY);
        loop {
            every.tick().await;
            let dir = bucket_dir.clone();
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

    const UPLOAD: &str = "3f6c7a9e-2b1d-4c8e-9f0a-5b6c7d8e9f01";
    const YOUNG_UPLOAD: &str = "a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d";
    const OLD: Duration = Duration::from_secs(2 * 24 * 3600);
    const RECENT: Duration = Duration::from_secs(60);

    /// A multipart upload of `key` as s3s-fs keeps it at the root: the
    /// upload and its metadata file, created `age` ago, and its `parts`
    /// (number, written how long ago); returns the paths in that order.
    fn multipart(files: &StoreFiles, id: &str, key: &str, age: Duration, parts: &[(u32, Duration)]) -> Vec<PathBuf> {
        let root = files.root();
        let metadata = files.metadata(BUCKET, key);
        let name = metadata.file_name().and_then(|n| n.to_str()).expect("a name");
        let mut paths = vec![
            root.join(format!(".upload-{id}.json")),
            root.join(name.replace(".metadata.json", &format!(".upload-{id}.metadata.json"))),
        ];
        for path in &paths {
            write(path, age);
        }
        for (number, part_age) in parts {
            let part = root.join(format!(".upload_id-{id}.part-{number}"));
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
    fn only_canonical_upload_names_are_read() {
        let id = uuid::Uuid::parse_str(UPLOAD).expect("a uuid");
        for (name, file) in [
            (format!(".upload-{UPLOAD}.json"), Some(UploadFile::Upload(id))),
            (format!(".upload_id-{UPLOAD}.part-1"), Some(UploadFile::Part(id))),
            (format!(".upload_id-{UPLOAD}.part-10000"), Some(UploadFile::Part(id))),
            (format!(".upload_id-{UPLOAD}.digest-7"), Some(UploadFile::Part(id))),
            (
                format!(".bucket-Y291cmllcg.object-ZmlsZXMvYQ.upload-{UPLOAD}.metadata.json"),
                Some(UploadFile::Metadata(id)),
            ),
            (format!(".upload-{}.json", UPLOAD.to_uppercase()), None),
            (format!(".upload-{}.json", id.simple()), None),
            (format!(".upload-{{{UPLOAD}}}.json"), None),
            (format!(".upload_id-{UPLOAD}.part-"), None),
            (format!(".upload_id-{UPLOAD}.part-1x"), None),
            (format!(".upload_id-{UPLOAD}.part--1"), None),
            (format!(".upload_id-{UPLOAD}.digest-"), None),
            (format!(".upload_id-{UPLOAD}.digest-1.json"), None),
            (format!(".upload_id-{UPLOAD}"), None),
            (format!(".upload-{}", &UPLOAD[..35]), None),
            (".bucket-Y291cmllcg.object-ZmlsZXMvYQ.metadata.json".to_owned(), None),
            (".bucket-Y291cmllcg.object-ZmlsZXMvYQ.internal.json".to_owned(), None),
            (".tmp.3.internal.part".to_owned(), None),
            ("ĉ.upload-".to_owned(), None),
        ] {
            assert_eq!(UploadFile::of(&name), file, "{name}");
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
        let orphan = |id: &str, number: u32, age_: Duration| {
            let path = root.join(format!(".upload_id-{id}.part-{number}"));
            write(&path, age_);
            path
        };
        let digests = root.join(format!(".upload_id-{UPLOAD}.digest-1"));
        write(&digests, OLD);
        let old = [orphan(UPLOAD, 1, OLD), orphan(UPLOAD, 2, OLD), digests];
        // A completion in progress right now has dropped its upload too:
        // its parts are young, and stay.
        let completing = [orphan(YOUNG_UPLOAD, 1, RECENT), orphan(YOUNG_UPLOAD, 2, RECENT)];
        // The upload's metadata without its upload: not the sweep's.
        let key = format!("files/{CONFIRMED}/a.bin");
        let metadata = multipart(&files, UPLOAD, &key, OLD, &[]).remove(1);
        std::fs::remove_file(root.join(format!(".upload-{UPLOAD}.json"))).expect("rm");

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
        let (dir, files, bucket_dir) = store();
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
        let strangers: Vec<PathBuf> = [
            format!(".upload-{upper}.json"),
            format!(".upload_id-{upper}.part-1"),
            format!(".upload-{simple}.json"),
            format!(".upload_id-{simple}.part-1"),
            format!(".upload_id-{YOUNG_UPLOAD}.part-x"),
            format!(".upload_id-{YOUNG_UPLOAD}.part-"),
            ".tmp.7.internal.part".to_owned(),
            "credentials.json".to_owned(),
        ]
        .iter()
        .map(|name| root.join(name))
        .collect();
        for path in &strangers {
            write(path, OLD);
        }
        let mark = dir.path().join(".courier-writes/mark");
        write(&mark, OLD);
        // A directory named as an upload is not one, nor what is in it.
        let directory = root.join(format!(".upload-{YOUNG_UPLOAD}.json"));
        let inside = directory.join(format!(".upload_id-{YOUNG_UPLOAD}.part-1"));
        write(&inside, OLD);
        // A link to a part elsewhere is not followed, nor removed.
        #[cfg(unix)]
        let link = {
            let outside = tempfile::tempdir().expect("dir");
            let target = outside.path().join("part");
            write(&target, OLD);
            let link = root.join(format!(".upload_id-{YOUNG_UPLOAD}.part-2"));
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
        let old = files.root().join(format!(".completed-{UPLOAD}.json"));
        let young = files.root().join(format!(".completed-{YOUNG_UPLOAD}.json"));
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
