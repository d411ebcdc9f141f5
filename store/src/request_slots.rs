//! Who may be served by the store at once. Every request takes a slot from
//! one of two pools, reads (`GET`, `HEAD`) or writes (everything else), so
//! uploads, however many and however slow, never starve downloads; and no
//! client (an address, an IPv6 /64; behind a trusted proxy, the address it
//! reports) holds more than its share of either, so one stranger with many
//! connections cannot take the store away from everyone (one client on 530
//! trickling connections did, when all requests shared one pool of 512).
//! Browser POST uploads take one more slot, from a small pool of their own
//! (`s3s` holds each file in memory until it is stored).

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use courier_serve::{ClientSlot, ClientSlots};
use http::{Method, StatusCode};
use s3s::S3ErrorCode;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::refusal::Refusal;

/// How many of each, in all and for one client.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SlotLimits {
    pub reads: usize,
    pub writes: usize,
    /// Of each pool, for one client.
    pub per_client: usize,
    pub forms: usize,
    pub forms_per_client: usize,
    /// How long a request waits for a slot before it is told the store is busy.
    pub wait: Duration,
}

impl SlotLimits {
    /// 256 reads and 256 writes (512 in all, as before they were split);
    /// 64 of each for one client: a browser opens at most 6 connections to
    /// a host, so that is a crowd behind one address, and 4 clients are
    /// needed to fill a pool. 32 POST uploads (memory: 32 times the largest
    /// POST), 8 for one client: a page sends 3 files at once by default.
    pub const STORE: Self = Self {
        reads: 256,
        writes: 256,
        per_client: 64,
        forms: 32,
        forms_per_client: 8,
        wait: Duration::from_secs(30),
    };
}

pub struct RequestSlots {
    reads: Pool,
    writes: Pool,
    forms: Pool,
    wait: Duration,
}

struct Pool {
    all: Arc<Semaphore>,
    per_client: Arc<ClientSlots>,
}

/// A slot, held until the request is answered.
#[derive(Debug)]
pub struct Slot {
    _client: ClientSlot,
    _pool: OwnedSemaphorePermit,
}

/// No slot came in time: the store, or this client's share of it, is busy.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
#[error("The store is busy. Try again in a moment.")]
pub struct Busy;

/// What S3 answers when it wants a client to slow down.
impl From<Busy> for Refusal {
    fn from(busy: Busy) -> Self {
        Refusal::new(StatusCode::SERVICE_UNAVAILABLE, S3ErrorCode::SlowDown, busy.to_string())
    }
}

impl Pool {
    fn new(all: usize, per_client: usize) -> Self {
        Self {
            all: Arc::new(Semaphore::new(all)),
            per_client: ClientSlots::new(per_client),
        }
    }

    /// The client's share first, then the pool: a client at its share
    /// waits without taking a pool slot from anyone else.
    async fn take(&self, client: IpAddr) -> Option<Slot> {
        let own = self.per_client.take(client).await?;
        let pool = Arc::clone(&self.all).acquire_owned().await.ok()?;
        Some(Slot {
            _client: own,
            _pool: pool,
        })
    }
}

impl RequestSlots {
    pub fn new(limits: SlotLimits) -> Self {
        Self {
            reads: Pool::new(limits.reads, limits.per_client),
            writes: Pool::new(limits.writes, limits.per_client),
            forms: Pool::new(limits.forms, limits.forms_per_client),
            wait: limits.wait,
        }
    }

    /// A slot for a request of `method` from `client`.
    pub async fn request(&self, method: &Method, client: IpAddr) -> Result<Slot, Busy> {
        let pool = if method == Method::GET || method == Method::HEAD {
            &self.reads
        } else {
            &self.writes
        };
        self.within_wait(pool.take(client)).await
    }

    /// A browser POST upload's slot, once its signed fields were read.
    pub async fn form(&self, client: IpAddr) -> Result<Slot, Busy> {
        self.within_wait(self.forms.take(client)).await
    }

    async fn within_wait(&self, slot: impl Future<Output = Option<Slot>>) -> Result<Slot, Busy> {
        match tokio::time::timeout(self.wait, slot).await {
            Ok(Some(slot)) => Ok(slot),
            _ => Err(Busy),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits() -> SlotLimits {
        SlotLimits {
            reads: 4,
            writes: 4,
            per_client: 2,
            forms: 2,
            forms_per_client: 1,
            wait: Duration::from_millis(50),
        }
    }

    fn ip(last: u8) -> IpAddr {
        IpAddr::from([10, 0, 0, last])
    }

    #[tokio::test]
    async fn a_client_holds_its_share_of_a_pool_and_no_more() {
        let slots = RequestSlots::new(limits());
        let held = [
            slots.request(&Method::PUT, ip(1)).await,
            slots.request(&Method::PUT, ip(1)).await,
        ];
        assert!(held.iter().all(Result::is_ok));
        assert_eq!(slots.request(&Method::PUT, ip(1)).await.err(), Some(Busy));
        // Another client still writes, and the first still reads.
        assert!(slots.request(&Method::PUT, ip(2)).await.is_ok());
        assert!(slots.request(&Method::GET, ip(1)).await.is_ok());
    }

    #[tokio::test]
    async fn writes_never_take_the_reads_pool() {
        let slots = RequestSlots::new(limits());
        let mut writers = Vec::new();
        for client in 1..=2 {
            for _ in 0..2 {
                writers.push(slots.request(&Method::PUT, ip(client)).await.expect("a write slot"));
            }
        }
        assert_eq!(
            slots.request(&Method::POST, ip(3)).await.err(),
            Some(Busy),
            "the writes are full"
        );
        for method in [Method::GET, Method::HEAD] {
            assert!(slots.request(&method, ip(3)).await.is_ok(), "{method} has its own pool");
        }
    }

    #[tokio::test]
    async fn forms_have_a_small_pool_of_their_own() {
        let slots = RequestSlots::new(limits());
        let _form = slots.form(ip(1)).await.expect("a form slot");
        assert_eq!(slots.form(ip(1)).await.err(), Some(Busy), "one per client");
        let _other = slots.form(ip(2)).await.expect("another client's");
        assert_eq!(slots.form(ip(3)).await.err(), Some(Busy), "two in all");
    }
}
