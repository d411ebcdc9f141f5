//! The free space the embedded store keeps (`COURIER_MIN_FREE_BYTES`), and
//! the room multipart uploads in progress have reserved.
//!
//! A full disk refuses everyone, confirmations and the store's own metadata
//! included, so new writes stop short of it: a browser POST, a PutObject, a
//! part and a multipart start are refused (`507 XMinioStorageFull`) when
//! they would take the free space below the floor. What finishes an upload
//! already admitted (the confirmation's copy to `files/`, a completion) is
//! never refused by the floor: refusing it would lose the upload. It may use
//! the room the floor keeps, and only a disk that really cannot hold it
//! refuses it.
//!
//! A multipart upload declares its size when it starts (Courier sends it as
//! the metadata [`DECLARED_SIZE_METADATA`]); from then on its size counts
//! against free space, less what its parts already hold, until it is
//! completed, aborted or swept, but only while it is active: started or
//! sent a part within the last hour ([`IDLE_AFTER`]). Otherwise a few starts
//! that never send a byte would hold everyone's room for a day; an idle
//! upload's next part is checked as bytes no reservation covers, and once
//! stored makes it active again. That is read from the disk, where `s3s-fs`
//! keeps each upload in progress (its `.upload-<id>.json`), its metadata
//! (with the declared size) and its parts, whose times say when it was last
//! active, so a restart keeps it. Reading
//! the store's root lists every object's metadata files too, so what was
//! read is kept and followed through this store's own requests (a start, a
//! part, a completion, an abort), and read again at least every minute (the
//! sweep, or anything else, changes the disk too): an admission costs a
//! `statvfs`, not a directory read. The writes admitted and still on their
//! way are counted in memory.

use std::collections::HashMap;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use s3s::{S3Error, S3Result};
use signer::multipart::DECLARED_SIZE_METADATA;
use tokio::sync::{Mutex as AsyncMutex, MutexGuard};
use uuid::Uuid;

use crate::layout::{self, UploadFile};
use crate::refusal::Refusal;

/// The floor when none is set: room for the system, the log and the
/// store's own metadata, confirmations and completions (which the floor
/// lets through) ...
pub const DEFAULT_MIN_FREE_BYTES: u64 = 1 << 30;
/// ... or a twentieth of a disk smaller than 20 GiB, where a whole GiB
/// would keep back too much of it (a quarter of a 4 GiB volume).
const DEFAULT_SHARE_OF_DISK: u64 = 20;
/// How long the uploads in progress, as followed here, are trusted before
/// they are read from the disk again (the sweep removes some every ten
/// minutes).
const REREAD_AFTER: Duration = Duration::from_secs(60);
/// How long an upload that neither started nor stored a part keeps its
/// reservation: far longer than an honest client takes between two parts
/// (a part of Courier's is at most a few hundred MiB), and short enough
/// that starts never followed by a byte free their room the same hour.
pub const IDLE_AFTER: Duration = Duration::from_secs(60 * 60);

/// The floor and the writes admitted under it.
#[derive(Debug)]
pub struct StorageFloor {
    root: PathBuf,
    min_free: u64,
    /// One admission at a time, so that each sees the ones before it: a
    /// multipart start holds it until its upload is on disk.
    admitting: AsyncMutex<()>,
    /// Bytes admitted, not covered by a reservation, not yet written.
    in_flight: Arc<AtomicU64>,
    /// The uploads in progress, as read from the disk and followed since.
    uploads: Arc<Mutex<Uploads>>,
}

#[derive(Debug, Default)]
struct Uploads {
    /// When they were read from the disk; `None`: to be read again.
    read_at: Option<Instant>,
    /// Counts the uploads that ended: one that ends while the disk is read
    /// may still be in what was read, which is then read again.
    ended: u64,
    by_id: HashMap<Uuid, Upload>,
}

/// An upload in progress.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Upload {
    /// Its declared size (`None`: it declared none, and reserves nothing).
    declared: Option<u64>,
    /// Its parts' sizes, by part number.
    parts: HashMap<i32, u64>,
    /// When it last started or stored a part.
    active: SystemTime,
}

impl Default for Upload {
    fn default() -> Self {
        Self {
            declared: None,
            parts: HashMap::new(),
            active: SystemTime::UNIX_EPOCH,
        }
    }
}

impl Upload {
    /// What it still reserves at `now`: its declared size less its parts,
    /// part `replaced` (about to be written again) left out; nothing once
    /// it has been idle for [`IDLE_AFTER`].
    fn reserved(&self, replaced: Option<i32>, now: SystemTime) -> u64 {
        let Some(declared) = self.declared else { return 0 };
        // (A time ahead of `now`, from a clock set back, counts as active.)
        if now.duration_since(self.active).is_ok_and(|idle| idle >= IDLE_AFTER) {
            return 0;
        }
        let written: u64 = self
            .parts
            .iter()
            .filter(|(number, _)| Some(**number) != replaced)
            .map(|(_, len)| *len)
            .sum();
        declared.saturating_sub(written)
    }
}

/// A write the store is about to make.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Write<'a> {
    /// A new object (a browser POST, a PutObject) or a copied part: bytes
    /// no reservation covers.
    New { bytes: u64 },
    /// Part `number` of the upload `upload_id`: its upload's reservation
    /// covers it, up to what the upload declared.
    Part {
        upload_id: &'a str,
        number: i32,
        bytes: u64,
    },
}

/// A write admitted: counted against free space until it ends (dropped).
#[derive(Debug)]
pub struct Admitted {
    in_flight: Option<Arc<AtomicU64>>,
    bytes: u64,
}

impl Drop for Admitted {
    fn drop(&mut self) {
        if let Some(in_flight) = &self.in_flight {
            in_flight.fetch_sub(self.bytes, Ordering::SeqCst);
        }
    }
}

/// A multipart start admitted; the next admission waits until it is dropped
/// (once its upload is on disk, or failed).
#[derive(Debug)]
pub struct Starting<'a> {
    _admitting: MutexGuard<'a, ()>,
}

/// The store's disk as an admission sees it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Space {
    /// What new files may take (`statvfs`'s available blocks).
    free: u64,
    /// What uploads in progress still reserve (other than the one written to).
    reserved: u64,
    /// What the upload written to still reserves, its part being written left out.
    own: u64,
}

impl StorageFloor {
    /// The floor for the store at `root`: `min_free` bytes, or (`None`) the
    /// default for its disk.
    pub fn new(root: &Path, min_free: Option<u64>) -> Self {
        let min_free = min_free.unwrap_or_else(|| match disk_size(root) {
            Ok(size) => default_floor(size),
            Err(error) => {
                tracing::warn!(%error, root = %root.display(), "cannot read the store's disk size: it keeps the default floor");
                DEFAULT_MIN_FREE_BYTES
            }
        });
        Self {
            root: root.to_owned(),
            min_free,
            admitting: AsyncMutex::new(()),
            in_flight: Arc::new(AtomicU64::new(0)),
            uploads: Arc::new(Mutex::new(Uploads::default())),
        }
    }

    pub fn min_free(&self) -> u64 {
        self.min_free
    }

    /// Admits `write`, or refuses it (507) when it would take free space
    /// below the floor: a part as far as its upload reserved it, anything
    /// else also past what uploads in progress reserved.
    pub async fn admit(&self, write: Write<'_>) -> S3Result<Admitted> {
        let _admitting = self.admitting.lock().await;
        let (bytes, part) = match write {
            Write::New { bytes } => (bytes, None),
            Write::Part {
                upload_id,
                number,
                bytes,
            } => (bytes, Uuid::try_parse(upload_id).ok().map(|id| (id, number))),
        };
        // Read before the disk: a write that ends meanwhile is counted twice, never not at all.
        let in_flight = self.in_flight.load(Ordering::SeqCst);
        let Some(space) = self.space(part).await else {
            return Ok(Admitted {
                in_flight: None,
                bytes: 0,
            });
        };
        let covered = bytes.min(space.own);
        let uncovered = bytes - covered;
        // What the disk must hold above the floor once this is written.
        let written = in_flight.saturating_add(bytes).saturating_add(self.min_free);
        let reserved_after = space.reserved.saturating_add(space.own - covered);
        if written > space.free || (uncovered > 0 && written.saturating_add(reserved_after) > space.free) {
            // Details at debug: the refusal itself is logged, at a bounded
            // pace, by the store's refusal log.
            tracing::debug!(
                bytes,
                free = space.free,
                reserved = space.reserved + space.own,
                in_flight,
                min_free = self.min_free,
                "the store is at its storage floor: a write was refused"
            );
            return Err(full(
                "The store's disk is nearly full (it keeps some space free, and room for the uploads in progress): this upload was refused and nothing of it was stored. Try again later.",
            ));
        }
        self.in_flight.fetch_add(uncovered, Ordering::SeqCst);
        Ok(Admitted {
            in_flight: Some(Arc::clone(&self.in_flight)),
            bytes: uncovered,
        })
    }

    /// Admits a multipart upload that declares `declared` bytes (`None`: it
    /// declares none, and reserves nothing), or refuses it (507) when free
    /// space less every reservation and this one would fall below the floor.
    pub async fn start(&self, declared: Option<u64>) -> S3Result<Starting<'_>> {
        let admitting = self.admitting.lock().await;
        let in_flight = self.in_flight.load(Ordering::SeqCst);
        let declared_bytes = declared.unwrap_or(0);
        if let Some(space) = self.space(None).await {
            let needed = in_flight
                .saturating_add(space.reserved)
                .saturating_add(declared_bytes)
                .saturating_add(self.min_free);
            if needed > space.free {
                tracing::debug!(
                    declared = declared_bytes,
                    free = space.free,
                    reserved = space.reserved,
                    in_flight,
                    min_free = self.min_free,
                    "the store has no room for a multipart upload: it was not started"
                );
                return Err(full(format!(
                    "The store has no room for an upload of {declared_bytes} bytes (it keeps some space free, and room for the uploads in progress): the upload was not started. Try again later."
                )));
            }
        }
        Ok(Starting { _admitting: admitting })
    }

    /// An upload began, declaring `declared` bytes.
    pub fn started(&self, upload_id: &str, declared: Option<u64>) {
        self.follow(upload_id, |uploads, id| {
            uploads.by_id.insert(
                id,
                Upload {
                    declared,
                    parts: HashMap::new(),
                    active: SystemTime::now(),
                },
            );
        });
    }

    /// Part `number` of an upload now holds `len` bytes.
    pub fn part_stored(&self, upload_id: &str, number: i32, len: u64) {
        self.follow(upload_id, |uploads, id| {
            if let Some(upload) = uploads.by_id.get_mut(&id) {
                upload.parts.insert(number, len);
                upload.active = SystemTime::now();
            }
        });
    }

    /// An upload ended (completed or aborted): it reserves nothing any more.
    pub fn ended(&self, upload_id: &str) {
        self.follow(upload_id, |uploads, id| {
            uploads.by_id.remove(&id);
            uploads.ended += 1;
        });
    }

    /// The uploads changed in a way not followed here: read them again.
    pub fn reread(&self) {
        self.lock().read_at = None;
    }

    fn follow(&self, upload_id: &str, change: impl FnOnce(&mut Uploads, Uuid)) {
        let mut uploads = self.lock();
        match Uuid::try_parse(upload_id) {
            Ok(id) => change(&mut uploads, id),
            Err(_) => uploads.read_at = None,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Uploads> {
        self.uploads.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Free space and reservations, or `None` (admit) when the disk cannot
    /// be read: the full disk itself still refuses what does not fit.
    async fn space(&self, part: Option<(Uuid, i32)>) -> Option<Space> {
        let (stale, ended, known) = {
            let uploads = self.lock();
            let stale = uploads.read_at.is_none_or(|at| at.elapsed() >= REREAD_AFTER);
            // A declared size never changes: read once.
            let known: HashMap<Uuid, Option<u64>> = if stale {
                uploads
                    .by_id
                    .iter()
                    .map(|(id, upload)| (*id, upload.declared))
                    .collect()
            } else {
                HashMap::new()
            };
            (stale, uploads.ended, known)
        };
        if stale {
            let root = self.root.clone();
            let read = tokio::task::spawn_blocking(move || uploads_in_progress(&root, &known))
                .await
                .map_err(io::Error::other)
                .and_then(|read| read);
            match read {
                Ok(by_id) => {
                    let mut uploads = self.lock();
                    uploads.by_id = by_id;
                    uploads.read_at = (uploads.ended == ended).then(Instant::now);
                }
                Err(error) => {
                    tracing::warn!(%error, "cannot read the store's uploads in progress: a write is admitted unchecked");
                    return None;
                }
            }
        }
        let mut space = Space::default();
        let now = SystemTime::now();
        for (id, upload) in &self.lock().by_id {
            match part {
                Some((part_of, number)) if part_of == *id => space.own = upload.reserved(Some(number), now),
                _ => space.reserved = space.reserved.saturating_add(upload.reserved(None, now)),
            }
        }
        // Read last: what a write took meanwhile is counted, its part too.
        match free_bytes(&self.root) {
            Ok(free) => space.free = free,
            Err(error) => {
                tracing::warn!(%error, "cannot read the store's free space: a write is admitted unchecked");
                return None;
            }
        }
        Some(space)
    }
}

/// The default floor for a disk of `size` bytes.
pub fn default_floor(size: u64) -> u64 {
    DEFAULT_MIN_FREE_BYTES.min(size / DEFAULT_SHARE_OF_DISK)
}

/// The 507 the store answers a full disk with, saying why.
fn full(message: impl Into<String>) -> S3Error {
    Refusal::storage_full(message.into()).into()
}

fn disk_size(root: &Path) -> io::Result<u64> {
    let stat = rustix::fs::statvfs(root)?;
    Ok(stat.f_blocks.saturating_mul(stat.f_frsize))
}

/// What new files may take on the disk holding `root`.
pub fn free_bytes(root: &Path) -> io::Result<u64> {
    let stat = rustix::fs::statvfs(root)?;
    Ok(stat.f_bavail.saturating_mul(stat.f_frsize))
}

/// The uploads in progress at the store's `root`, with their parts' sizes
/// and declared sizes (those `known` are not read again).
fn uploads_in_progress(root: &Path, known: &HashMap<Uuid, Option<u64>>) -> io::Result<HashMap<Uuid, Upload>> {
    // Each upload started, and when.
    let mut started: HashMap<Uuid, SystemTime> = HashMap::new();
    let mut metadata: HashMap<Uuid, PathBuf> = HashMap::new();
    let mut uploads: HashMap<Uuid, Upload> = HashMap::new();
    for entry in std::fs::read_dir(root)? {
        let entry = entry?;
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        let Some(file) = layout::parse_upload_file(name) else {
            continue;
        };
        match file {
            UploadFile::Upload(id) => {
                let created = match entry.metadata().and_then(|file| file.modified()) {
                    Ok(created) => created,
                    // Ended meanwhile: not in progress.
                    Err(error) if error.kind() == io::ErrorKind::NotFound => continue,
                    Err(error) => return Err(error),
                };
                started.insert(id, created);
            }
            UploadFile::Metadata(id) => {
                metadata.insert(id, entry.path());
            }
            // (A part's digests are Courier's and tiny.)
            UploadFile::PartDigest(_) | UploadFile::Part(_, None) => continue,
            UploadFile::Part(id, Some(number)) => {
                let (len, written) = match entry.metadata() {
                    Ok(file) if file.is_file() => (file.len(), file.modified()?),
                    Ok(_) => continue,
                    // Ended meanwhile (completed, aborted): not in progress.
                    Err(error) if error.kind() == io::ErrorKind::NotFound => continue,
                    Err(error) => return Err(error),
                };
                let upload = uploads.entry(id).or_default();
                upload.parts.insert(number, len);
                upload.active = upload.active.max(written);
            }
        }
    }
    uploads.retain(|id, _| started.contains_key(id));
    for (id, created) in started {
        let declared = match known.get(&id) {
            Some(declared) => *declared,
            // Not written yet, or gone meanwhile: nothing declared.
            None => metadata.get(&id).and_then(|path| declared_size(path).ok()).flatten(),
        };
        let upload = uploads.entry(id).or_default();
        upload.declared = declared;
        upload.active = upload.active.max(created);
    }
    Ok(uploads)
}

/// The size an upload declared, from its metadata file (`None`: it declared none).
fn declared_size(metadata: &Path) -> io::Result<Option<u64>> {
    #[derive(serde::Deserialize)]
    struct Attributes {
        #[serde(default)]
        user_metadata: Option<HashMap<String, String>>,
    }
    let json = std::fs::read(metadata)?;
    let attributes: Attributes = serde_json::from_slice(&json).map_err(io::Error::other)?;
    Ok(attributes
        .user_metadata
        .and_then(|metadata| metadata.get(DECLARED_SIZE_METADATA)?.trim().parse().ok()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::refusal::STORAGE_FULL;
    use http::StatusCode;

    const UPLOAD: &str = "3f6c7a9e-2b1d-4c8e-9f0a-5b6c7d8e9f01";
    const OTHER: &str = "a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d";
    const MIB: u64 = 1024 * 1024;

    /// An upload in progress as `s3s-fs` keeps it, declaring `declared`
    /// bytes (or none), with `parts` (number, bytes) written.
    fn upload(root: &Path, id: &str, declared: Option<u64>, parts: &[(i32, usize)]) {
        let layout = layout::StoreLayout::at(root);
        std::fs::write(layout.upload(id), "null").expect("upload");
        let mut metadata = serde_json::json!({ "filename": "a.bin" });
        if let Some(size) = declared {
            metadata[DECLARED_SIZE_METADATA] = size.to_string().into();
        }
        let attributes = serde_json::json!({ "user_metadata": metadata, "content_type": "application/octet-stream" });
        std::fs::write(layout.upload_metadata("courier", "files/a", id), attributes.to_string()).expect("metadata");
        for (number, len) in parts {
            std::fs::write(layout.part(id, *number), vec![1u8; *len]).expect("part");
            std::fs::write(layout.part_digest(id, *number), "{}").expect("digest");
        }
    }

    /// What the uploads in progress at `root` reserve, as read from it:
    /// all but `part`'s upload, and that one without that part.
    fn reserved(root: &Path, part: Option<(&str, i32)>) -> (u64, u64) {
        let part = part.map(|(id, n)| (Uuid::try_parse(id).expect("uuid"), n));
        reserved_at(root, part, SystemTime::now())
    }

    fn reserved_at(root: &Path, part: Option<(Uuid, i32)>, now: SystemTime) -> (u64, u64) {
        let uploads = uploads_in_progress(root, &HashMap::new()).expect("read");
        let mut reserved = (0, 0);
        for (id, upload) in &uploads {
            match part {
                Some((part_of, number)) if part_of == *id => reserved.1 = upload.reserved(Some(number), now),
                _ => reserved.0 += upload.reserved(None, now),
            }
        }
        reserved
    }

    /// Sets when `path` was last written.
    fn written(path: &Path, at: SystemTime) {
        std::fs::File::options()
            .write(true)
            .open(path)
            .and_then(|file| file.set_modified(at))
            .expect("mtime");
    }

    #[test]
    fn a_reservation_lapses_once_its_upload_is_idle_for_an_hour() {
        let dir = tempfile::tempdir().expect("dir");
        let root = dir.path();
        let id = Uuid::try_parse(UPLOAD).expect("uuid");
        upload(root, UPLOAD, Some(20 * MIB), &[(1, MIB as usize)]);
        let started = SystemTime::now();
        let part = layout::StoreLayout::at(root).part(UPLOAD, 1);
        let upload_file = layout::StoreLayout::at(root).upload(UPLOAD);
        written(&upload_file, started);
        written(&part, started);
        // Active: started (or a part stored) within the hour.
        let later = |secs: u64| started + Duration::from_secs(secs);
        assert_eq!(reserved_at(root, None, later(59 * 60)), (19 * MIB, 0));
        // Idle an hour: it reserves nothing, its next part included.
        assert_eq!(reserved_at(root, None, later(60 * 60)), (0, 0));
        assert_eq!(reserved_at(root, Some((id, 2)), later(60 * 60)), (0, 0));
        // A part stored since makes it active again, from that part on.
        written(&part, later(50 * 60));
        assert_eq!(reserved_at(root, None, later(100 * 60)), (19 * MIB, 0));
        assert_eq!(reserved_at(root, None, later(110 * 60)), (0, 0));
        // A start never followed by a part lapses an hour after it.
        let (other, other_id) = (OTHER, Uuid::try_parse(OTHER).expect("uuid"));
        upload(root, other, Some(5 * MIB), &[]);
        written(&layout::StoreLayout::at(root).upload(other), started);
        assert_eq!(reserved_at(root, Some((other_id, 1)), later(30 * 60)).1, 5 * MIB);
        assert_eq!(reserved_at(root, Some((other_id, 1)), later(60 * 60)).1, 0);
    }

    #[tokio::test]
    async fn starts_that_never_send_a_byte_stop_blocking_uploads_after_an_hour() {
        let dir = tempfile::tempdir().expect("dir");
        let root = dir.path();
        let floor = floor_under_free(root, 1024 * MIB);
        {
            let _starting = floor.start(Some(900 * MIB)).await.expect("started");
            upload(root, UPLOAD, Some(900 * MIB), &[]);
            floor.started(UPLOAD, Some(900 * MIB));
        }
        assert!(floor.admit(Write::New { bytes: 512 * MIB }).await.is_err());
        // An hour and a minute later, read from the disk (after a restart,
        // or once what the store followed is read again).
        let idle = SystemTime::now() - IDLE_AFTER - Duration::from_secs(60);
        written(&layout::StoreLayout::at(root).upload(UPLOAD), idle);
        let restarted = StorageFloor::new(root, Some(floor.min_free()));
        assert!(restarted.admit(Write::New { bytes: 512 * MIB }).await.is_ok());
        floor.reread();
        assert!(floor.admit(Write::New { bytes: 512 * MIB }).await.is_ok());
        // Its next part is checked as bytes no reservation covers.
        let part = |bytes| Write::Part {
            upload_id: UPLOAD,
            number: 1,
            bytes,
        };
        assert!(floor.admit(part(512 * MIB)).await.is_ok());
        assert!(floor.admit(part(2048 * MIB)).await.is_err());
    }

    #[test]
    fn an_upload_reserves_its_declared_size_less_its_parts() {
        let dir = tempfile::tempdir().expect("dir");
        let root = dir.path();
        assert_eq!(reserved(root, None), (0, 0));
        upload(root, UPLOAD, Some(20 * MIB), &[(1, 8 * MIB as usize)]);
        assert_eq!(reserved(root, None), (12 * MIB, 0));
        // Another that declared nothing (not Courier's) reserves nothing;
        // one that wrote more than it declared, nothing either.
        upload(root, OTHER, None, &[(1, 1000)]);
        assert_eq!(reserved(root, None), (12 * MIB, 0));
        std::fs::remove_file(layout::StoreLayout::at(root).upload(OTHER)).expect("ended");
        upload(root, OTHER, Some(10), &[(1, 1000)]);
        assert_eq!(reserved(root, None), (12 * MIB, 0));
        // The upload a part is written to apart, that part left out (it is replaced).
        assert_eq!(reserved(root, Some((UPLOAD, 1))), (0, 20 * MIB));
        assert_eq!(reserved(root, Some((UPLOAD, 2))), (0, 12 * MIB));
        // Ended (completed or aborted: its `.upload-<id>.json` goes), it reserves nothing.
        std::fs::remove_file(layout::StoreLayout::at(root).upload(UPLOAD)).expect("ended");
        assert_eq!(reserved(root, None), (0, 0));
    }

    #[test]
    fn the_default_floor_is_a_gib_or_a_twentieth_of_a_small_disk() {
        assert_eq!(default_floor(1 << 40), 1 << 30);
        assert_eq!(default_floor(20 << 30), 1 << 30);
        assert_eq!(default_floor(4 << 30), (4 << 30) / 20);
        assert_eq!(default_floor(3 * MIB), 3 * MIB / 20);
    }

    /// A floor `margin` bytes under the disk's free space now.
    fn floor_under_free(root: &Path, margin: u64) -> StorageFloor {
        let free = free_bytes(root).expect("statvfs");
        StorageFloor::new(root, Some(free.saturating_sub(margin)))
    }

    #[tokio::test]
    async fn writes_stop_at_the_floor_and_starts_count_their_declared_size() {
        let dir = tempfile::tempdir().expect("dir");
        let root = dir.path();
        // (The real disk: other writers may take some of it meanwhile, so
        // the margins are wide.)
        let floor = floor_under_free(root, 1024 * MIB);
        assert!(floor.admit(Write::New { bytes: 512 * MIB }).await.is_ok());
        let refused = floor
            .admit(Write::New { bytes: 2048 * MIB })
            .await
            .expect_err("refused");
        assert_eq!(refused.code().as_str(), STORAGE_FULL);
        assert_eq!(refused.status_code(), Some(StatusCode::INSUFFICIENT_STORAGE));
        // Admitted and not yet written, a write counts until it ends.
        let first = floor.admit(Write::New { bytes: 600 * MIB }).await.expect("admitted");
        assert!(floor.admit(Write::New { bytes: 600 * MIB }).await.is_err());
        drop(first);
        assert!(floor.admit(Write::New { bytes: 600 * MIB }).await.is_ok());

        // A start reserves its size: then new writes have that much less room.
        assert!(floor.start(Some(2048 * MIB)).await.is_err());
        {
            let _starting = floor.start(Some(700 * MIB)).await.expect("started");
            // As `s3s-fs` creates it, and the store follows it.
            upload(root, UPLOAD, Some(700 * MIB), &[]);
            floor.started(UPLOAD, Some(700 * MIB));
        }
        assert!(floor.start(Some(700 * MIB)).await.is_err());
        // A store started again reads it from the disk.
        let restarted = StorageFloor::new(root, Some(floor.min_free()));
        assert!(restarted.start(Some(700 * MIB)).await.is_err());
        assert!(floor.admit(Write::New { bytes: 600 * MIB }).await.is_err());
        // Its own parts use what it reserved.
        let part = Write::Part {
            upload_id: UPLOAD,
            number: 1,
            bytes: 600 * MIB,
        };
        assert!(floor.admit(part).await.is_ok());
        // Ended, it reserves nothing: aborted through the store, at once;
        // swept (the disk changed behind the store), once read again.
        std::fs::remove_file(layout::StoreLayout::at(root).upload(UPLOAD)).expect("aborted");
        floor.ended(UPLOAD);
        assert!(floor.start(Some(700 * MIB)).await.is_ok());
        assert!(restarted.start(Some(700 * MIB)).await.is_err(), "not read again yet");
        restarted.reread();
        assert!(restarted.start(Some(700 * MIB)).await.is_ok());
    }

    #[tokio::test]
    async fn a_floor_of_zero_still_counts_reservations() {
        let dir = tempfile::tempdir().expect("dir");
        let root = dir.path();
        let floor = StorageFloor::new(root, Some(0));
        let free = free_bytes(root).expect("statvfs");
        assert!(floor.start(Some(free.saturating_mul(2))).await.is_err());
        assert!(floor.start(Some(MIB)).await.is_ok());
        assert!(floor.admit(Write::New { bytes: MIB }).await.is_ok());
    }
}
