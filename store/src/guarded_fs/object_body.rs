//! A GET's body, read from the object's file in 256 KiB pieces.
//!
//! `s3s-fs` 0.14.1 streams a GET 4 KiB at a time through `tokio::fs`, one
//! blocking-pool hop per piece: serving 1 GiB to `curl` cost the store
//! 6.5-8.7 s of CPU at 117-168 MB/s, its core saturated. So the store opens
//! the object itself before `s3s-fs` does and, when the key still names that
//! same file after `s3s-fs` has answered, sends these pieces instead of
//! `s3s-fs`'s (whose headers stay as they are): 0.6-0.7 s of CPU per GiB, at
//! 1.7-2.2 GB/s. One read at a time: reading the next piece ahead did not
//! serve faster (the kernel reads ahead sequential reads).
//!
//! A large piece stays in memory until hyper has written it, so a client
//! that reads slowly would hold two or three of them: 200 connections
//! reading 2 KB/s each held 146-150 MB of the store, against 27 MB with
//! 4 KiB pieces, and the store takes 1,024 connections. So a body starts in
//! `s3s-fs`' 4 KiB pieces and earns large ones by its reader's pace
//! ([`Pace`]: the last MiB taken within half a second), loses them when the
//! reader slows, and takes each from a budget shared by every GET
//! ([`PieceBudget`], 32 MiB, 8 MiB of it for one client; past it, small
//! pieces again). The same 200 slow readers then held 27 MB, as before,
//! while a fast GET beside them cost 0.8 s of CPU per GiB (9.5 s before).
//!
//! A reader that takes its first MiBs fast and then trickles keeps the
//! large pieces it was given: 150 such connections from one address held
//! 48 MB and, before the budget had a share per client, spent all of it, so
//! a fast GET beside them got 4 KiB pieces (7.5 s of CPU per GiB). Now one
//! client spends at most its 8 MiB (the same 150 held 28 MB, and a GET from
//! another address cost 0.72 s per GiB); it takes four clients to spend the
//! budget, and then GETs cost what they cost with `s3s-fs`, memory still
//! bounded.
//!
//! Objects are only ever replaced by a rename (`s3s-fs` writes a temporary
//! file and renames it over the key), which gives the key a new file. If the
//! key names our file both before and after `s3s-fs` opened it, `s3s-fs`
//! opened that same file: its length and range hold for ours.

use std::fs::File;
use std::io;
use std::net::IpAddr;
use std::os::unix::fs::{FileExt as _, MetadataExt as _};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use courier_serve::{ClientSlot, ClientSlots};
use futures::{Stream, stream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// A large piece: the most one read takes from the file.
pub const PIECE: u64 = 256 * 1024;
/// A piece for a reader that has not earned large ones (or when the budget
/// is spent): `s3s-fs`' size.
pub const SMALL_PIECE: u64 = 4 * 1024;

/// A reader earns large pieces by taking this much…
const PACE_WINDOW: u64 = 1024 * 1024;
/// …within this long (2 MiB/s). Slower, the store's CPU per piece hardly
/// matters: at 2 MiB/s, 4 KiB pieces cost it about 1.5% of a core.
const PACE_WINDOW_TIME: Duration = Duration::from_millis(500);

/// How fast one body's reader takes what it is given, a MiB at a time.
#[derive(Debug)]
struct Pace {
    large: bool,
    window_start: Instant,
    window_bytes: u64,
}

impl Pace {
    fn new(now: Instant) -> Self {
        Self {
            large: false,
            window_start: now,
            window_bytes: 0,
        }
    }

    /// The reader asks for more at `now`: whether it gets a large piece.
    fn asks(&mut self, now: Instant) -> bool {
        if self.window_bytes >= PACE_WINDOW {
            self.large = now.duration_since(self.window_start) <= PACE_WINDOW_TIME;
            self.window_start = now;
            self.window_bytes = 0;
        }
        self.large
    }

    fn gave(&mut self, len: u64) {
        self.window_bytes += len;
    }
}

/// The large pieces every GET body holds at once: in all, and for one
/// client (an address, an IPv6 /64), so no one client spends them all.
#[derive(Clone, Debug)]
pub struct PieceBudget {
    all: Arc<Semaphore>,
    each: Arc<ClientSlots>,
}

/// One large piece's room, in all and in its client's share.
#[derive(Debug)]
struct Room {
    _own: ClientSlot,
    _all: OwnedSemaphorePermit,
}

impl PieceBudget {
    /// 128 pieces (32 MiB) in all, 32 (8 MiB) for one client: a browser's
    /// 6 connections reading fast hold about 18.
    pub const STORE: (usize, usize) = (128, 32);

    pub fn new((all, per_client): (usize, usize)) -> Self {
        Self {
            all: Arc::new(Semaphore::new(all)),
            each: ClientSlots::new(per_client),
        }
    }

    /// Room for a large piece read by `client`, if there is any now (a body
    /// never waits for it).
    fn take(&self, client: IpAddr) -> Option<Room> {
        let own = self.each.try_take(client)?;
        let all = Arc::clone(&self.all).try_acquire_owned().ok()?;
        Some(Room { _own: own, _all: all })
    }

    #[cfg(test)]
    fn left(&self) -> usize {
        self.all.available_permits()
    }
}

/// A large piece's bytes, holding its room in the budget until hyper drops them.
struct Piece {
    bytes: Vec<u8>,
    _room: Option<Room>,
}

impl AsRef<[u8]> for Piece {
    fn as_ref(&self) -> &[u8] {
        &self.bytes
    }
}

/// An object's file, opened for one GET.
#[derive(Debug)]
pub struct ObjectFile {
    file: Arc<File>,
    path: PathBuf,
    dev: u64,
    ino: u64,
    len: u64,
}

impl ObjectFile {
    /// `None` when there is no regular file to open (`s3s-fs` then answers
    /// as it does).
    pub async fn open(path: PathBuf) -> Option<Self> {
        tokio::task::spawn_blocking(move || {
            let file = File::open(&path).ok()?;
            let metadata = file.metadata().ok().filter(std::fs::Metadata::is_file)?;
            Some(Self {
                file: Arc::new(file),
                path,
                dev: metadata.dev(),
                ino: metadata.ino(),
                len: metadata.len(),
            })
        })
        .await
        .ok()
        .flatten()
    }

    /// Whether the key still names this file, `len` bytes long.
    pub async fn still_there(&self, len: u64) -> bool {
        if len != self.len {
            return false;
        }
        let path = self.path.clone();
        let now = tokio::task::spawn_blocking(move || std::fs::metadata(path)).await;
        matches!(now, Ok(Ok(now)) if now.dev() == self.dev && now.ino() == self.ino)
    }

    /// `len` bytes from `start` for `client`, in pieces of [`PIECE`] while
    /// the reader keeps pace and `budget` has room, else of [`SMALL_PIECE`].
    /// A file shorter than that ends the body with an error, never short and
    /// clean.
    pub fn body(
        self,
        start: u64,
        len: u64,
        budget: PieceBudget,
        client: IpAddr,
    ) -> impl Stream<Item = io::Result<Bytes>> + Send + 'static {
        let file = self.file;
        let end = start.saturating_add(len);
        stream::try_unfold((start, Pace::new(Instant::now())), move |(at, mut pace)| {
            let file = Arc::clone(&file);
            // (Asked every time: a window closes when the reader asks.)
            let large = pace.asks(Instant::now()) && end.saturating_sub(at) > SMALL_PIECE;
            let room = if large { budget.take(client) } else { None };
            async move {
                if at >= end {
                    return Ok(None);
                }
                let len = if room.is_some() { PIECE } else { SMALL_PIECE }.min(end - at);
                let piece = tokio::task::spawn_blocking(move || read_piece(&file, at, len, room))
                    .await
                    .unwrap_or_else(|joined| Err(io::Error::other(joined)))?;
                pace.gave(len);
                Ok(Some((piece, (at + len, pace))))
            }
        })
    }
}

fn read_piece(file: &File, at: u64, len: u64, room: Option<Room>) -> io::Result<Bytes> {
    let len = usize::try_from(len).map_err(io::Error::other)?;
    let mut bytes = vec![0; len];
    file.read_exact_at(&mut bytes, at)?;
    Ok(Bytes::from_owner(Piece { bytes, _room: room }))
}

/// Where a body that `s3s-fs` answered starts, and the whole object's length:
/// from its `Content-Range` (`bytes a-b/total`, as `s3s-fs` writes it), or
/// the object from its start when there is none.
pub fn served_range(content_range: Option<&str>, content_length: u64) -> Option<(u64, u64)> {
    let Some(range) = content_range else {
        return Some((0, content_length));
    };
    let (span, total) = range.strip_prefix("bytes ")?.split_once('/')?;
    let (first, last) = span.split_once('-')?;
    let (first, last, total): (u64, u64, u64) = (first.parse().ok()?, last.parse().ok()?, total.parse().ok()?);
    (last.checked_sub(first)?.checked_add(1)? == content_length && last < total).then_some((first, total))
}

#[cfg(test)]
mod tests {
    use futures::StreamExt as _;

    use super::*;

    const CLIENT: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(192, 0, 2, 1));

    fn write(path: &std::path::Path, bytes: &[u8]) {
        std::fs::write(path, bytes).expect("write the object");
    }

    /// An object of `len` test bytes in `dir`: its path and its bytes.
    fn object(dir: &tempfile::TempDir, len: usize) -> (PathBuf, Vec<u8>) {
        let path = dir.path().join("object");
        let content = bytes(len);
        write(&path, &content);
        (path, content)
    }

    fn joined(pieces: &[Bytes]) -> Vec<u8> {
        pieces.iter().flat_map(|piece| piece.iter().copied()).collect()
    }

    fn bytes(len: usize) -> Vec<u8> {
        (0..len).map(|i| (i * 31 % 251) as u8).collect()
    }

    async fn collect(body: impl Stream<Item = io::Result<Bytes>>) -> io::Result<Vec<Bytes>> {
        futures::pin_mut!(body);
        let mut pieces = Vec::new();
        while let Some(piece) = body.next().await {
            pieces.push(piece?);
        }
        Ok(pieces)
    }

    #[tokio::test]
    async fn a_body_is_the_asked_bytes() {
        let dir = tempfile::tempdir().expect("dir");
        let (path, content) = object(&dir, 5 * PIECE as usize + 1000);
        let whole = content.len() as u64;
        for (start, len) in [(0, whole), (5, 2 * PIECE), (PIECE - 1, 2), (0, 0), (1000, whole - 1000)] {
            let budget = PieceBudget::new((8, 8));
            let file = ObjectFile::open(path.clone()).await.expect("opened");
            let pieces = collect(file.body(start, len, budget.clone(), CLIENT))
                .await
                .expect("read");
            let (from, to) = (start as usize, (start + len) as usize);
            assert_eq!(joined(&pieces), content[from..to], "{start}+{len}");
            let large = pieces.iter().filter(|piece| piece.len() as u64 > SMALL_PIECE).count();
            let sizes: Vec<u64> = pieces.iter().map(|piece| piece.len() as u64).collect();
            assert!(
                sizes
                    .iter()
                    .rev()
                    .skip(1)
                    .all(|size| [SMALL_PIECE, PIECE].contains(size)),
                "{sizes:?}"
            );
            assert_eq!(budget.left(), 8 - large, "each large piece holds its room");
            drop(pieces);
            assert_eq!(budget.left(), 8, "a piece gives its room back once written");
        }
    }

    #[tokio::test]
    async fn past_the_budget_pieces_are_small() {
        let dir = tempfile::tempdir().expect("dir");
        let (path, content) = object(&dir, 6 * PIECE as usize + 1000);
        for room in [0, 1] {
            let budget = PieceBudget::new((room, room));
            let file = ObjectFile::open(path.clone()).await.expect("opened");
            // Every piece kept, as hyper keeps what a slow reader has not taken.
            let pieces = collect(file.body(0, content.len() as u64, budget.clone(), CLIENT))
                .await
                .expect("read");
            assert_eq!(joined(&pieces), content);
            let large = pieces.iter().filter(|piece| piece.len() as u64 > SMALL_PIECE).count();
            assert!(large <= room, "{large} large pieces with room for {room}");
            drop(pieces);
            assert_eq!(budget.left(), room);
        }
    }

    #[test]
    fn one_client_spends_only_its_share() {
        let budget = PieceBudget::new((4, 2));
        let ip = |s: &str| -> IpAddr { s.parse().expect("an address") };
        let first = budget.take(CLIENT).expect("room");
        let _second = budget.take(CLIENT).expect("room");
        assert!(budget.take(CLIENT).is_none(), "its share is spent");
        // An IPv6 /64 is one client.
        let _a = budget.take(ip("2001:db8::1")).expect("room");
        let _b = budget.take(ip("2001:db8::2")).expect("room");
        assert_eq!(budget.left(), 0);
        assert!(budget.take(ip("198.51.100.7")).is_none(), "all of it is spent");
        drop(first);
        assert!(
            budget.take(ip("198.51.100.7")).is_some(),
            "a piece written gives its room back"
        );
    }

    #[test]
    fn a_reader_earns_large_pieces_by_its_pace() {
        let t0 = Instant::now();
        let ms = |n| t0 + Duration::from_millis(n);
        let mut pace = Pace::new(t0);
        // A body starts small, and a MiB given out quickly is not yet a pace.
        assert!(!pace.asks(t0));
        for _ in 0..255 {
            pace.gave(SMALL_PIECE);
            assert!(!pace.asks(ms(10)));
        }
        pace.gave(SMALL_PIECE);
        // The MiB was taken within half a second: large pieces.
        assert!(pace.asks(ms(400)));
        pace.gave(PACE_WINDOW);
        assert!(pace.asks(ms(800)), "the next MiB within 400 ms");
        // The reader slows: the next MiB took 2 s.
        pace.gave(PACE_WINDOW);
        assert!(!pace.asks(ms(2800)));
        // Within a window, the decision stands.
        pace.gave(PACE_WINDOW / 2);
        assert!(!pace.asks(ms(2810)));
        pace.gave(PACE_WINDOW / 2);
        assert!(pace.asks(ms(2900)), "fast again");
    }

    #[tokio::test]
    async fn a_file_shorter_than_asked_ends_in_an_error() {
        let dir = tempfile::tempdir().expect("dir");
        let (path, _) = object(&dir, PIECE as usize + 10);
        let file = ObjectFile::open(path).await.expect("opened");
        let error = collect(file.body(0, 2 * PIECE, PieceBudget::new((8, 8)), CLIENT))
            .await
            .expect_err("cut short");
        assert_eq!(error.kind(), io::ErrorKind::UnexpectedEof);
    }

    #[tokio::test]
    async fn a_key_renamed_over_is_not_the_same_file() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("object");
        write(&path, b"first");
        let file = ObjectFile::open(path.clone()).await.expect("opened");
        assert!(file.still_there(5).await);
        assert!(!file.still_there(6).await, "another length");
        // As s3s-fs replaces an object: a new file renamed over the key.
        let next = dir.path().join(".tmp.1.internal.part");
        write(&next, b"later");
        std::fs::rename(&next, &path).expect("rename");
        assert!(!file.still_there(5).await);
        std::fs::remove_file(&path).expect("remove");
        assert!(!file.still_there(5).await, "gone");
        assert!(ObjectFile::open(path).await.is_none());
        assert!(
            ObjectFile::open(dir.path().to_path_buf()).await.is_none(),
            "a directory"
        );
    }

    #[test]
    fn the_served_range_is_read_from_content_range() {
        assert_eq!(served_range(None, 10), Some((0, 10)));
        assert_eq!(served_range(Some("bytes 0-9/10"), 10), Some((0, 10)));
        assert_eq!(served_range(Some("bytes 5-9/10"), 5), Some((5, 10)));
        assert_eq!(served_range(Some("bytes 5-9/10"), 4), None, "a length that disagrees");
        assert_eq!(served_range(Some("bytes 5-10/10"), 6), None, "past the end");
        assert_eq!(served_range(Some("bytes 9-5/10"), 5), None);
        assert_eq!(served_range(Some("bytes */10"), 0), None);
        assert_eq!(served_range(Some("items 0-9/10"), 10), None);
    }
}
