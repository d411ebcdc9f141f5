//! Every name the embedded store has on disk, and the parsers that read
//! them back: the one place that knows how `s3s-fs` (0.14, its `fs.rs`)
//! and Courier beside it name their files in the data directory (the store's
//! root, `objects`, and `credentials.json` beside it). The tests below pin each name to the string
//! `s3s-fs` writes, so an upgrade that renames one fails here first.
//!
//! At the root, next to the one bucket's directory (`courier/<key>`, the
//! objects themselves):
//! - `.bucket-<b>.object-<k>.metadata.json` and `….internal.json`: an
//!   object's metadata and its ETag and checksums (`<b>`, `<k>`: base64url,
//!   unpadded);
//! - `.upload-<id>.json`: a multipart upload in progress, and
//!   `.bucket-<b>.object-<k>.upload-<id>.metadata.json`, its object's
//!   metadata until it completes;
//! - `.upload_id-<id>.part-<n>`: its parts, and Courier's digests of them,
//!   `.upload_id-<id>.digest-<n>`;
//! - `.completed-<id>.json`: Courier's record of a completed upload;
//! - `.tmp.<n>.internal.part` (`s3s-fs`) and `.tmp.courier-<uuid>.internal.part`
//!   (Courier): files being written, renamed into place when whole;
//! - `.courier-writes/<b>.<k>.<n>`: the marks of writes in progress.
//!
//! Upload ids in names are canonical uuids (hyphenated, lowercase): only
//! those are read back.
//!
//! Dependencies, one way only: this module uses nothing else of the store.
//! `guarded_fs` (and its submodules, `upload_list` included) and `expiry`
//! use it; `expiry` uses `guarded_fs` (its files, its completion records),
//! never the other way.

use std::collections::HashMap;
use std::io;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use base64::Engine as _;

/// The one bucket the store serves: a directory under its root.
pub const BUCKET: &str = "courier";

/// In the data directory: the store's root (the objects and `s3s-fs`'s
/// files, named below) …
pub const OBJECTS_DIR: &str = "objects";
/// … and the store's credentials, beside it.
pub const CREDENTIALS_FILE: &str = "credentials.json";

/// Where the marks of writes in progress are kept, under the store's root.
const MARKS: &str = ".courier-writes";

const UPLOAD: &str = ".upload-";
const UPLOAD_ID: &str = ".upload_id-";
const PART: &str = ".part-";
const DIGEST: &str = ".digest-";
const JSON: &str = ".json";
const COMPLETED: &str = ".completed-";

/// The names of the files under the store's `root`.
#[derive(Clone, Copy, Debug)]
pub struct StoreLayout<'a> {
    root: &'a Path,
}

impl<'a> StoreLayout<'a> {
    pub fn at(root: &'a Path) -> Self {
        Self { root }
    }

    /// The object itself: `<bucket>/<key>`.
    pub fn object(self, bucket: &str, key: &str) -> PathBuf {
        self.root.join(bucket).join(key)
    }

    /// The object's `Content-Type`, `Content-Disposition` and user metadata.
    pub fn metadata(self, bucket: &str, key: &str) -> PathBuf {
        self.root.join(object_file_name(bucket, key, "", ".metadata.json"))
    }

    /// The object's ETag and checksums: the last file a write makes.
    pub fn internal_info(self, bucket: &str, key: &str) -> PathBuf {
        self.root.join(object_file_name(bucket, key, "", ".internal.json"))
    }

    /// The metadata of the object a multipart upload in progress writes.
    pub fn upload_metadata(self, bucket: &str, key: &str, upload_id: &str) -> PathBuf {
        let upload = format!("{UPLOAD}{upload_id}");
        self.root.join(object_file_name(bucket, key, &upload, ".metadata.json"))
    }

    /// A multipart upload in progress, from its creation until it is
    /// completed or aborted.
    pub fn upload(self, upload_id: &str) -> PathBuf {
        self.root.join(format!("{UPLOAD}{upload_id}{JSON}"))
    }

    /// Part `number` of the upload `upload_id`.
    pub fn part(self, upload_id: &str, number: i32) -> PathBuf {
        self.root.join(format!("{UPLOAD_ID}{upload_id}{PART}{number}"))
    }

    /// The digests Courier keeps of that part. (Not `….part-<n>.…`:
    /// `s3s-fs` reads every name after `.part-` as a part number.)
    pub fn part_digest(self, upload_id: &str, number: i32) -> PathBuf {
        self.root.join(format!("{UPLOAD_ID}{upload_id}{DIGEST}{number}"))
    }

    /// The record of the completed upload `upload_id`.
    pub fn completion(self, upload_id: &str) -> PathBuf {
        self.root.join(format!("{COMPLETED}{upload_id}{JSON}"))
    }

    /// A new file to write whole before it is renamed into place: unique,
    /// and a name the expiry sweep leaves alone (as `s3s-fs`'s own).
    pub fn temporary(self) -> PathBuf {
        self.root
            .join(format!(".tmp.courier-{}.internal.part", uuid::Uuid::new_v4().simple()))
    }

    /// The directory of the marks of writes in progress.
    pub fn marks(self) -> PathBuf {
        self.root.join(MARKS)
    }

    /// The `n`th mark of a write under `key`: `<base64url bucket>.<base64url key>.<n>`.
    pub fn mark(self, bucket: &str, key: &str, n: u64) -> PathBuf {
        self.marks()
            .join(format!("{}.{}.{n}", base64url(bucket), base64url(key)))
    }
}

/// `.bucket-<b>.object-<k><upload><suffix>`, as `s3s-fs` names an object's
/// metadata files.
fn object_file_name(bucket: &str, key: &str, upload: &str, suffix: &str) -> String {
    format!(
        ".bucket-{}.object-{}{upload}{suffix}",
        base64url(bucket),
        base64url(key)
    )
}

/// The temporary file `s3s-fs` writes its `n`th file to (and removes when
/// it starts).
#[cfg(test)]
pub fn s3s_fs_temporary(n: u64) -> String {
    format!(".tmp.{n}.internal.part")
}

/// Whether the file `name` is a part of `upload_id`, or its digests.
pub fn is_part_of(name: &str, upload_id: &str) -> bool {
    name.strip_prefix(UPLOAD_ID)
        .and_then(|rest| rest.strip_prefix(upload_id))
        .is_some_and(|rest| rest.starts_with('.'))
}

/// The bucket and key a mark's `name` is of.
pub fn parse_mark(name: &str) -> Option<(String, String)> {
    let mut parts = name.split('.');
    let (bucket, key, _n) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    let decode = |s: &str| String::from_utf8(from_base64url(s)?).ok();
    Some((decode(bucket)?, decode(key)?))
}

/// The upload id a completion record's `name` is of (a canonical uuid only).
pub fn parse_completion(name: &str) -> Option<String> {
    let id = name.strip_prefix(COMPLETED)?.strip_suffix(JSON)?;
    let parsed = uuid::Uuid::try_parse(id).ok()?;
    (parsed.hyphenated().to_string() == id).then(|| id.to_owned())
}

/// Whether `upload_id` is a canonical uuid: only those name files, so
/// nothing else reaches the disk.
pub fn is_canonical_upload_id(upload_id: &str) -> bool {
    uuid::Uuid::try_parse(upload_id)
        .ok()
        .is_some_and(|id| id.hyphenated().to_string() == upload_id)
}

/// A file `s3s-fs` (or Courier) keeps at its root for a multipart upload.
#[derive(Debug, PartialEq, Eq)]
pub enum UploadFile {
    /// `.upload-<id>.json`: the upload is in progress.
    Upload(uuid::Uuid),
    /// `.upload_id-<id>.part-<n>`, with `n` if it is an `i32`.
    Part(uuid::Uuid, Option<i32>),
    /// `.upload_id-<id>.digest-<n>`: the digests Courier keeps of a part.
    PartDigest(uuid::Uuid),
    /// Any other name holding `.upload-<id>`: the object's metadata
    /// (`.bucket-<b>.object-<k>.upload-<id>.metadata.json`).
    Metadata(uuid::Uuid),
}

/// What the file `name` at the root is of a multipart upload, if anything.
pub fn parse_upload_file(name: &str) -> Option<UploadFile> {
    if let Some(rest) = name.strip_prefix(UPLOAD_ID) {
        let (id, rest) = canonical_uuid(rest)?;
        let (number, digest) = match rest.strip_prefix(PART) {
            Some(number) => (number, false),
            None => (rest.strip_prefix(DIGEST)?, true),
        };
        if number.is_empty() || !number.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        return Some(if digest {
            UploadFile::PartDigest(id)
        } else {
            UploadFile::Part(id, number.parse().ok())
        });
    }
    // (Base64url has no dot: in a metadata file's name, the first
    // `.upload-` is the upload's.)
    let at = name.find(UPLOAD)?;
    let (id, rest) = canonical_uuid(&name[at + UPLOAD.len()..])?;
    Some(if at == 0 && rest == JSON {
        UploadFile::Upload(id)
    } else {
        UploadFile::Metadata(id)
    })
}

/// The bucket and key an upload metadata file's `name` is of, if it is
/// `upload_id`'s (`.bucket-<b>.object-<k>.upload-<id>.metadata.json`).
pub fn parse_upload_metadata(name: &str, upload_id: &uuid::Uuid) -> Option<(String, String)> {
    let decode = |text: &str| {
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(text).ok()?;
        String::from_utf8(bytes).ok()
    };
    let named = name.strip_prefix(".bucket-")?;
    let (bucket, rest) = named.split_once(".object-")?;
    let (key, rest) = rest.split_once(UPLOAD)?;
    (rest == format!("{upload_id}.metadata.json")).then_some(())?;
    Some((decode(bucket)?, decode(key)?))
}

/// The canonical uuid (hyphenated, lowercase, as `s3s-fs` writes one) that
/// `text` starts with, and what follows it.
fn canonical_uuid(text: &str) -> Option<(uuid::Uuid, &str)> {
    let (id, rest) = (text.get(..36)?, text.get(36..)?);
    let parsed = uuid::Uuid::try_parse(id).ok()?;
    (parsed.hyphenated().to_string() == id).then_some((parsed, rest))
}

/// The files of the multipart uploads at the store's root, by upload.
pub struct UploadFiles {
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
            let Some(file) = entry.file_name().to_str().and_then(parse_upload_file) else {
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
                UploadFile::Part(id, _) | UploadFile::PartDigest(id) => {
                    files.parts.entry(id).or_default().push((path, modified))
                }
                UploadFile::Metadata(id) => files.metadata.entry(id).or_default().push(path),
            }
        }
        Ok(files)
    }

    /// The bucket and key an upload in progress writes to, from the name of
    /// its metadata file.
    pub fn object_of(&self, id: &uuid::Uuid) -> Option<(String, String)> {
        self.metadata
            .get(id)?
            .iter()
            .find_map(|path| parse_upload_metadata(path.file_name()?.to_str()?, id))
    }
}

/// When a directory entry was last written, if it is a regular file (no
/// directory and no symbolic link) still there: a file deleted while its
/// directory is read is no error, it is simply not there.
pub fn regular_file_modified(entry: &std::fs::DirEntry) -> io::Result<Option<SystemTime>> {
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

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// Base64 with the URL-safe alphabet and no padding, as `s3s-fs` names its
/// metadata files.
fn base64url(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, &b)| n | u32::from(b) << (16 - 8 * i));
        for i in 0..=chunk.len() {
            out.push(char::from(ALPHABET[(n >> (18 - 6 * i) & 63) as usize]));
        }
    }
    out
}

fn from_base64url(text: &str) -> Option<Vec<u8>> {
    if text.len() % 4 == 1 {
        return None;
    }
    let mut out = Vec::with_capacity(text.len() * 3 / 4);
    for chunk in text.as_bytes().chunks(4) {
        let mut n = 0u32;
        for (i, &c) in chunk.iter().enumerate() {
            let value = ALPHABET.iter().position(|&a| a == c)? as u32;
            n |= value << (18 - 6 * i);
        }
        for i in 0..chunk.len() - 1 {
            out.push((n >> (16 - 8 * i)) as u8);
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "3f6c7a9e-2b1d-4c8e-9f0a-5b6c7d8e9f01";
    const KEY: &str = "uploads/6f1d1c52-3a55-4f4c-9a4e-1d7f25d1c0aa/a.txt";

    fn name(path: PathBuf) -> String {
        path.file_name().and_then(|n| n.to_str()).expect("a name").to_owned()
    }

    /// Each name, byte for byte as `s3s-fs` 0.14.1 writes it (`fs.rs`:
    /// `get_object_path`, `get_metadata_path`, `get_internal_info_path`,
    /// `get_upload_info_path`, `resolve_upload_part_path`, `prepare_file_write`).
    #[test]
    fn the_names_are_those_s3s_fs_writes() {
        let root = Path::new("/store/objects");
        let layout = StoreLayout::at(root);
        assert_eq!(BUCKET, "courier");
        assert_eq!(
            layout.object("courier", "files/a.bin"),
            root.join("courier/files/a.bin")
        );
        assert_eq!(
            name(layout.metadata("courier", "files/a")),
            ".bucket-Y291cmllcg.object-ZmlsZXMvYQ.metadata.json"
        );
        assert_eq!(
            name(layout.internal_info("courier", "files/a")),
            ".bucket-Y291cmllcg.object-ZmlsZXMvYQ.internal.json"
        );
        assert_eq!(
            name(layout.upload_metadata("courier", "files/a", ID)),
            ".bucket-Y291cmllcg.object-ZmlsZXMvYQ.upload-3f6c7a9e-2b1d-4c8e-9f0a-5b6c7d8e9f01.metadata.json"
        );
        assert_eq!(
            name(layout.upload(ID)),
            ".upload-3f6c7a9e-2b1d-4c8e-9f0a-5b6c7d8e9f01.json"
        );
        assert_eq!(
            name(layout.part(ID, 10000)),
            ".upload_id-3f6c7a9e-2b1d-4c8e-9f0a-5b6c7d8e9f01.part-10000"
        );
        assert_eq!(s3s_fs_temporary(7), ".tmp.7.internal.part");
        for path in [layout.metadata("courier", KEY), layout.upload(ID), layout.part(ID, 1)] {
            assert_eq!(path.parent(), Some(root));
        }
    }

    /// Courier's own names, beside `s3s-fs`'s.
    #[test]
    fn courier_s_own_names() {
        let root = Path::new("/store/objects");
        let layout = StoreLayout::at(root);
        assert_eq!(
            name(layout.part_digest(ID, 2)),
            ".upload_id-3f6c7a9e-2b1d-4c8e-9f0a-5b6c7d8e9f01.digest-2"
        );
        assert_eq!(
            name(layout.completion(ID)),
            ".completed-3f6c7a9e-2b1d-4c8e-9f0a-5b6c7d8e9f01.json"
        );
        let temporary = name(layout.temporary());
        assert!(temporary.starts_with(".tmp.courier-") && temporary.ends_with(".internal.part"));
        assert_eq!(temporary.len(), ".tmp.courier-".len() + 32 + ".internal.part".len());
        assert_ne!(layout.temporary(), layout.temporary());
        assert_eq!(layout.marks(), root.join(".courier-writes"));
        assert_eq!(
            layout.mark("courier", "files/a", 7),
            root.join(".courier-writes/Y291cmllcg.ZmlsZXMvYQ.7")
        );
    }

    #[test]
    fn base64url_round_trips_like_s3s_fs_names_files() {
        for (text, encoded) in [
            ("", ""),
            ("f", "Zg"),
            ("fo", "Zm8"),
            ("foo", "Zm9v"),
            ("courier", "Y291cmllcg"),
            ("a/b?c>~", "YS9iP2M-fg"),
        ] {
            assert_eq!(base64url(text), encoded);
            assert_eq!(from_base64url(encoded).as_deref(), Some(text.as_bytes()));
        }
        assert_eq!(from_base64url("a"), None);
        assert_eq!(from_base64url("a+b="), None);
    }

    #[test]
    fn the_parsers_read_back_what_the_layout_names() {
        let layout = StoreLayout::at(Path::new("/store/objects"));
        let id = uuid::Uuid::parse_str(ID).expect("a uuid");
        assert_eq!(
            parse_upload_file(&name(layout.upload(ID))),
            Some(UploadFile::Upload(id))
        );
        for number in [1, 7, 10000] {
            assert_eq!(
                parse_upload_file(&name(layout.part(ID, number))),
                Some(UploadFile::Part(id, Some(number)))
            );
            assert_eq!(
                parse_upload_file(&name(layout.part_digest(ID, number))),
                Some(UploadFile::PartDigest(id))
            );
            assert!(is_part_of(&name(layout.part(ID, number)), ID));
            assert!(is_part_of(&name(layout.part_digest(ID, number)), ID));
        }
        let metadata = name(layout.upload_metadata(BUCKET, KEY, ID));
        assert_eq!(parse_upload_file(&metadata), Some(UploadFile::Metadata(id)));
        assert_eq!(
            parse_upload_metadata(&metadata, &id),
            Some((BUCKET.to_owned(), KEY.to_owned()))
        );
        let other = uuid::Uuid::parse_str("a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d").expect("a uuid");
        assert_eq!(parse_upload_metadata(&metadata, &other), None);
        assert_eq!(parse_upload_metadata(&name(layout.metadata(BUCKET, KEY)), &id), None);
        assert_eq!(parse_completion(&name(layout.completion(ID))), Some(ID.to_owned()));
        assert_eq!(parse_completion(&name(layout.completion(&ID.to_uppercase()))), None);
        assert_eq!(parse_completion(&name(layout.upload(ID))), None);
        assert_eq!(
            parse_mark(&name(layout.mark(BUCKET, KEY, 7))),
            Some((BUCKET.to_owned(), KEY.to_owned()))
        );
        assert_eq!(parse_mark("Y291cmllcg.7"), None);
        assert!(!is_part_of(&name(layout.part(ID, 1)), &ID[..35]));
        assert!(!is_part_of(&name(layout.upload(ID)), ID));
        assert!(is_canonical_upload_id(ID));
        for not in [
            ID.to_uppercase(),
            ID.replace('-', ""),
            format!("{{{ID}}}"),
            "../x".to_owned(),
        ] {
            assert!(!is_canonical_upload_id(&not), "{not}");
        }
    }

    #[test]
    fn only_canonical_upload_names_are_read() {
        let layout = StoreLayout::at(Path::new("/store/objects"));
        let id = uuid::Uuid::parse_str(ID).expect("a uuid");
        let part_1 = name(layout.part(ID, 1));
        let part = |number: &str| format!("{}{number}", part_1.strip_suffix('1').expect("part 1"));
        let digest_1 = name(layout.part_digest(ID, 1));
        let digest = |tail: &str| format!("{}{tail}", digest_1.strip_suffix('1').expect("digest 1"));
        let upload = name(layout.upload(ID));
        for (name, file) in [
            (part("99999999999"), Some(UploadFile::Part(id, None))),
            (name(layout.upload(&ID.to_uppercase())), None),
            (name(layout.upload(&id.simple().to_string())), None),
            (name(layout.upload(&format!("{{{ID}}}"))), None),
            (part(""), None),
            (part("1x"), None),
            (part("-1"), None),
            (digest(""), None),
            (digest("1.json"), None),
            (part_1[..part_1.len() - ".part-1".len()].to_owned(), None),
            (upload[..upload.len() - 6].to_owned(), None),
            (name(layout.metadata(BUCKET, "files/a")), None),
            (name(layout.internal_info(BUCKET, "files/a")), None),
            (name(layout.completion(ID)), None),
            (s3s_fs_temporary(3), None),
            ("ĉ.upload-".to_owned(), None),
        ] {
            assert_eq!(parse_upload_file(&name), file, "{name}");
        }
    }
}
