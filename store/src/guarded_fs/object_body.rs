//! A GET's body, read from the object's file in 256 KiB pieces.
//!
//! `s3s-fs` 0.14.1 streams a GET 4 KiB at a time through `tokio::fs`, one
//! blocking-pool hop per piece: serving 1 GiB to `curl` cost the store
//! 6.5-8.7 s of CPU at 117-168 MB/s, its core saturated. So the store opens
//! the object itself before `s3s-fs` does and, when the key still names that
//! same file after `s3s-fs` has answered, sends these pieces instead of
//! `s3s-fs`'s (whose headers stay as they are): 0.6-0.7 s of CPU per GiB, at
//! 1.7-2.2 GB/s. One read at a time: reading the next piece ahead did not
//! serve faster (the kernel reads ahead sequential reads). A reader that
//! takes 2 KB/s holds about 0.75 MiB of the store (a piece, and hyper's
//! write buffer of pieces), 0.13 MiB with 4 KiB pieces; the store's 256 read
//! slots bound that to about 200 MiB.
//!
//! Objects are only ever replaced by a rename (`s3s-fs` writes a temporary
//! file and renames it over the key), which gives the key a new file. If the
//! key names our file both before and after `s3s-fs` opened it, `s3s-fs`
//! opened that same file: its length and range hold for ours.

use std::fs::File;
use std::io;
use std::os::unix::fs::{FileExt as _, MetadataExt as _};
use std::path::PathBuf;
use std::sync::Arc;

use bytes::{Bytes, BytesMut};
use futures::{Stream, StreamExt as _, stream};

/// The most one read takes from the file.
pub const PIECE: u64 = 256 * 1024;

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

    /// `len` bytes from `start`, in pieces of at most [`PIECE`]. A file
    /// shorter than that ends the body with an error, never short and clean.
    pub fn body(self, start: u64, len: u64) -> impl Stream<Item = io::Result<Bytes>> + Send + 'static {
        let file = self.file;
        let end = start.saturating_add(len);
        let pieces = (start..end)
            .step_by(PIECE as usize)
            .map(move |at| (at, PIECE.min(end - at)));
        stream::iter(pieces).then(move |(at, len)| {
            let file = Arc::clone(&file);
            async move {
                tokio::task::spawn_blocking(move || read_piece(&file, at, len))
                    .await
                    .unwrap_or_else(|joined| Err(io::Error::other(joined)))
            }
        })
    }
}

fn read_piece(file: &File, at: u64, len: u64) -> io::Result<Bytes> {
    let len = usize::try_from(len).map_err(io::Error::other)?;
    let mut piece = BytesMut::zeroed(len);
    file.read_exact_at(&mut piece, at)?;
    Ok(piece.freeze())
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
    use super::*;

    fn write(path: &std::path::Path, bytes: &[u8]) {
        std::fs::write(path, bytes).expect("write the object");
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
    async fn a_body_is_the_asked_bytes_in_whole_pieces() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("object");
        let content = bytes(3 * PIECE as usize + 1000);
        write(&path, &content);
        for (start, len) in [
            (0, content.len() as u64),
            (5, 2 * PIECE),
            (PIECE - 1, 2),
            (0, 0),
            (1000, PIECE + 1),
        ] {
            let file = ObjectFile::open(path.clone()).await.expect("opened");
            let pieces = collect(file.body(start, len)).await.expect("read");
            let joined: Vec<u8> = pieces.iter().flat_map(|piece| piece.iter().copied()).collect();
            let (from, to) = (start as usize, (start + len) as usize);
            assert_eq!(joined, content[from..to], "{start}+{len}");
            // Every piece but the last is whole: 1 GiB is 4,096 reads, not 262,144.
            let sizes: Vec<u64> = pieces.iter().map(|piece| piece.len() as u64).collect();
            assert!(sizes.iter().rev().skip(1).all(|&size| size == PIECE), "{sizes:?}");
            assert_eq!(sizes.len() as u64, len.div_ceil(PIECE), "{sizes:?}");
        }
    }

    #[tokio::test]
    async fn a_file_shorter_than_asked_ends_in_an_error() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("object");
        write(&path, &bytes(PIECE as usize + 10));
        let file = ObjectFile::open(path).await.expect("opened");
        let error = collect(file.body(0, 2 * PIECE)).await.expect_err("cut short");
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
