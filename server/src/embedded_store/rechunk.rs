//! Cuts a request body into pieces `s3s`' POST parser accepts.
//!
//! `s3s` 0.14.1 refuses a body chunk that arrives while it holds a possible
//! boundary prefix once the two together pass 64 KiB
//! (`BoundaryBufferTooLarge`), and hyper hands over ~400 KB at once when a
//! fast client fills the socket: every large `curl -F` upload failed, and
//! 1-2 % of browser uploads under load. Keep this adapter until a released
//! `s3s` accepts chunks of any size (its `FileStream` state 3 would have to
//! search the new chunk instead of buffering it whole).
//!
//! The pieces are `Bytes::split_to` slices of the chunks hyper read: no byte
//! is copied, dropped or reordered.

use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use futures::Stream;

/// Well under `s3s`' 64 KiB limit, with room for the boundary (at most 70
/// bytes plus `\r\n--`) it may already hold.
pub const MAX_PIECE: usize = 32 * 1024;

/// A stream of `Bytes` whose items are never longer than `max`.
pub struct Rechunk<S> {
    inner: S,
    pending: Bytes,
    max: usize,
}

impl<S> Rechunk<S> {
    pub fn new(inner: S, max: usize) -> Self {
        assert!(max > 0, "pieces must hold at least one byte");
        Self {
            inner,
            pending: Bytes::new(),
            max,
        }
    }
}

impl<S, E> Stream for Rechunk<S>
where
    S: Stream<Item = Result<Bytes, E>> + Unpin,
{
    type Item = Result<Bytes, E>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        loop {
            if !this.pending.is_empty() {
                let take = this.pending.len().min(this.max);
                return Poll::Ready(Some(Ok(this.pending.split_to(take))));
            }
            match Pin::new(&mut this.inner).poll_next(cx) {
                Poll::Ready(Some(Ok(chunk))) => this.pending = chunk,
                other => return other,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use futures::{StreamExt, TryStreamExt, stream};

    use super::*;

    async fn pieces(chunks: Vec<Bytes>, max: usize) -> Vec<Bytes> {
        Rechunk::new(stream::iter(chunks.into_iter().map(Ok::<_, ()>)), max)
            .try_collect()
            .await
            .expect("no errors")
    }

    fn data(len: usize) -> Vec<u8> {
        (0..len).map(|i| (i * 7 % 253) as u8).collect()
    }

    #[tokio::test]
    async fn every_piece_fits_and_nothing_moves() {
        let body = data(5 * 1024 * 1024 + 17);
        for chunk in [
            1,
            3,
            1000,
            MAX_PIECE - 1,
            MAX_PIECE,
            MAX_PIECE + 1,
            417_793,
            4 * 1024 * 1024,
        ] {
            let chunks: Vec<Bytes> = body.chunks(chunk).map(Bytes::copy_from_slice).collect();
            let out = pieces(chunks, MAX_PIECE).await;
            assert!(
                out.iter().all(|p| !p.is_empty() && p.len() <= MAX_PIECE),
                "chunk {chunk}"
            );
            assert_eq!(out.concat(), body, "chunk {chunk}");
        }
    }

    #[tokio::test]
    async fn empty_chunks_vanish_and_errors_keep_their_place() {
        let items = vec![
            Ok(Bytes::from_static(b"abc")),
            Ok(Bytes::new()),
            Err("cut"),
            Ok(Bytes::from_static(b"d")),
        ];
        let out: Vec<Result<Bytes, &str>> = Rechunk::new(stream::iter(items), 2).collect().await;
        assert_eq!(
            out,
            vec![
                Ok(Bytes::from_static(b"ab")),
                Ok(Bytes::from_static(b"c")),
                Err("cut"),
                Ok(Bytes::from_static(b"d"))
            ]
        );
    }

    #[tokio::test]
    async fn pieces_share_the_chunk_they_came_from() {
        let chunk = Bytes::from(data(100_000));
        let start = chunk.as_ptr() as usize;
        let out = pieces(vec![chunk], MAX_PIECE).await;
        // Slices of the same allocation, in order: nothing was copied.
        let mut offset = 0;
        for piece in &out {
            assert_eq!(piece.as_ptr() as usize, start + offset);
            offset += piece.len();
        }
    }
}
