//! Cuts a request body into pieces `s3s`' POST parser accepts, and joins
//! tiny ones.
//!
//! `s3s` 0.14.1 refuses a body chunk that arrives while it holds a possible
//! boundary prefix once the two together pass 64 KiB
//! (`BoundaryBufferTooLarge`), and hyper hands over ~400 KB at once when a
//! fast client fills the socket: every large `curl -F` upload failed, and
//! 1-2 % of browser uploads under load. Keep this adapter until a released
//! `s3s` accepts chunks of any size (its `FileStream` state 3 would have to
//! search the new chunk instead of buffering it whole).
//!
//! `s3s` also keeps a POSTed file as one `Bytes` per piece: a file sent as
//! millions of 1-byte chunks would cost far more memory than its size. So
//! pieces under `min` are joined (the only bytes ever copied, once); larger
//! chunks are cut with `Bytes::split_to`, without copying. Nothing is lost
//! or reordered.

use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::{Bytes, BytesMut};
use futures::Stream;

/// Well under `s3s`' 64 KiB limit, with room for the boundary (at most 70
/// bytes plus `\r\n--`) it may already hold.
pub const MAX_PIECE: usize = 32 * 1024;
/// Pieces smaller than this (but the last) are joined.
pub const MIN_PIECE: usize = 8 * 1024;

/// A stream of `Bytes` whose items are at most `max` long; chunks under
/// `min` are joined until they reach it.
pub struct Rechunk<S, E> {
    inner: S,
    /// Ready to hand out, in pieces of at most `max`.
    ready: Bytes,
    /// Small chunks being joined.
    small: BytesMut,
    /// An error to hand out once what came before it is out.
    error: Option<E>,
    done: bool,
    min: usize,
    max: usize,
}

impl<S, E> Rechunk<S, E> {
    pub fn new(inner: S, min: usize, max: usize) -> Self {
        assert!(0 < min && min <= max, "pieces must hold at least one byte");
        Self {
            inner,
            ready: Bytes::new(),
            small: BytesMut::new(),
            error: None,
            done: false,
            min,
            max,
        }
    }
}

impl<S, E> Stream for Rechunk<S, E>
where
    S: Stream<Item = Result<Bytes, E>> + Unpin,
    E: Unpin,
{
    type Item = Result<Bytes, E>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        loop {
            if !this.ready.is_empty() {
                let take = this.ready.len().min(this.max);
                return Poll::Ready(Some(Ok(this.ready.split_to(take))));
            }
            if let Some(error) = this.error.take() {
                return Poll::Ready(Some(Err(error)));
            }
            if this.done {
                return Poll::Ready(None);
            }
            match Pin::new(&mut this.inner).poll_next(cx) {
                Poll::Ready(Some(Ok(chunk))) if this.small.is_empty() && chunk.len() >= this.min => this.ready = chunk,
                Poll::Ready(Some(Ok(chunk))) => {
                    this.small.extend_from_slice(&chunk);
                    if this.small.len() >= this.min {
                        this.ready = this.small.split().freeze();
                    }
                }
                Poll::Ready(Some(Err(error))) => {
                    this.ready = this.small.split().freeze();
                    this.error = Some(error);
                }
                Poll::Ready(None) => {
                    this.ready = this.small.split().freeze();
                    this.done = true;
                }
                Poll::Pending => return Poll::Pending,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use futures::{StreamExt, TryStreamExt, stream};

    use super::*;

    async fn pieces(chunks: Vec<Bytes>) -> Vec<Bytes> {
        Rechunk::new(stream::iter(chunks.into_iter().map(Ok::<_, ()>)), MIN_PIECE, MAX_PIECE)
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
            MIN_PIECE - 1,
            MAX_PIECE - 1,
            MAX_PIECE,
            MAX_PIECE + 1,
            417_793,
            4 * 1024 * 1024,
        ] {
            let chunks: Vec<Bytes> = body.chunks(chunk).map(Bytes::copy_from_slice).collect();
            let out = pieces(chunks).await;
            assert!(
                out.iter().all(|p| !p.is_empty() && p.len() <= MAX_PIECE),
                "chunk {chunk}"
            );
            // Tiny chunks are joined; a large one may leave one short tail.
            assert!(
                out.len() <= 2 * body.len() / MIN_PIECE + 1,
                "chunk {chunk}: {} pieces",
                out.len()
            );
            assert_eq!(out.concat(), body, "chunk {chunk}");
        }
    }

    #[tokio::test]
    async fn a_million_one_byte_chunks_become_a_few_pieces() {
        let out = pieces(vec![Bytes::from_static(b"x"); 1_000_000]).await;
        assert_eq!(out.iter().map(Bytes::len).sum::<usize>(), 1_000_000);
        assert!(out.len() <= 1_000_000 / MIN_PIECE + 1, "{} pieces", out.len());
    }

    #[tokio::test]
    async fn what_came_before_an_error_comes_out_first() {
        let items = vec![
            Ok(Bytes::from_static(b"abc")),
            Ok(Bytes::new()),
            Err("cut"),
            Ok(Bytes::from_static(b"d")),
        ];
        let out: Vec<Result<Bytes, &str>> = Rechunk::new(stream::iter(items), 2, 2).collect().await;
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
    async fn large_chunks_are_cut_without_copying() {
        let chunk = Bytes::from(data(100_000));
        let start = chunk.as_ptr() as usize;
        let out = pieces(vec![chunk]).await;
        // Slices of the same allocation, in order: nothing was copied.
        let mut offset = 0;
        for piece in &out {
            assert_eq!(piece.as_ptr() as usize, start + offset);
            offset += piece.len();
        }
    }
}
