//! A share of something for each client: at most `per_client` of it held by
//! one client at once (its IPv4 address, or its IPv6 /64, as the rate limit
//! counts them), so no single client can take a pool away from everyone.
//! Used for the connections of both ports and the embedded store's request
//! slots. A client with nothing held is forgotten, so the table stays as
//! small as what is in use.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, PoisonError};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::client_addr::allowance_of;

#[derive(Debug)]
pub struct ClientSlots {
    per_client: usize,
    held: Mutex<HashMap<IpAddr, Arc<Semaphore>>>,
}

/// One slot, held by one client until dropped.
#[derive(Debug)]
pub struct ClientSlot {
    permit: Option<OwnedSemaphorePermit>,
    client: IpAddr,
    slots: Arc<ClientSlots>,
}

impl ClientSlots {
    pub fn new(per_client: usize) -> Arc<Self> {
        Arc::new(Self {
            per_client,
            held: Mutex::new(HashMap::new()),
        })
    }

    pub fn per_client(&self) -> usize {
        self.per_client
    }

    /// A slot for `client` now, or `None` when it holds all of its share.
    pub fn try_take(self: &Arc<Self>, client: IpAddr) -> Option<ClientSlot> {
        let client = allowance_of(client);
        let permit = self.share_of(client).try_acquire_owned().ok();
        self.slot(client, permit)
    }

    /// A slot for `client`, once one of its own is free.
    pub async fn take(self: &Arc<Self>, client: IpAddr) -> Option<ClientSlot> {
        let client = allowance_of(client);
        let permit = self.share_of(client).acquire_owned().await.ok();
        self.slot(client, permit)
    }

    /// Clients holding at least one slot.
    pub fn clients(&self) -> usize {
        self.held.lock().unwrap_or_else(PoisonError::into_inner).len()
    }

    fn share_of(&self, client: IpAddr) -> Arc<Semaphore> {
        let mut held = self.held.lock().unwrap_or_else(PoisonError::into_inner);
        Arc::clone(
            held.entry(client)
                .or_insert_with(|| Arc::new(Semaphore::new(self.per_client))),
        )
    }

    fn slot(self: &Arc<Self>, client: IpAddr, permit: Option<OwnedSemaphorePermit>) -> Option<ClientSlot> {
        let slot = ClientSlot {
            permit,
            client,
            slots: Arc::clone(self),
        };
        // Dropped without a permit, it still forgets an unused entry.
        slot.permit.is_some().then_some(slot)
    }
}

impl Drop for ClientSlot {
    fn drop(&mut self) {
        drop(self.permit.take());
        let mut held = self.slots.held.lock().unwrap_or_else(PoisonError::into_inner);
        // Only the table refers to it and nothing is held: forget the client.
        // (A task waiting for a slot holds its own reference.)
        if let Some(share) = held.get(&self.client)
            && Arc::strong_count(share) == 1
            && share.available_permits() == self.slots.per_client
        {
            held.remove(&self.client);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().expect("an address")
    }

    #[tokio::test]
    async fn each_client_holds_its_share_and_no_more() {
        let slots = ClientSlots::new(2);
        let a = [slots.try_take(ip("10.0.0.1")), slots.try_take(ip("10.0.0.1"))];
        assert!(a.iter().all(Option::is_some));
        assert!(slots.try_take(ip("10.0.0.1")).is_none(), "a's share is taken");
        assert!(slots.try_take(ip("10.0.0.2")).is_some(), "b has its own");
        // One IPv6 network is one client.
        let _v6 = slots.try_take(ip("2001:db8::1"));
        let _v6b = slots.try_take(ip("2001:db8::2"));
        assert!(slots.try_take(ip("2001:db8::3")).is_none());

        // A waiter gets a slot as soon as one of the client's own is given back.
        let waiter = tokio::spawn({
            let slots = Arc::clone(&slots);
            async move { slots.take(ip("10.0.0.1")).await.is_some() }
        });
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        assert!(!waiter.is_finished());
        drop(a);
        assert!(waiter.await.expect("joined"));
    }

    #[tokio::test]
    async fn a_client_with_nothing_held_is_forgotten() {
        let slots = ClientSlots::new(3);
        for n in 0..100u8 {
            let slot = slots.try_take(IpAddr::from([10, 0, 1, n]));
            assert!(slot.is_some());
        }
        assert_eq!(slots.clients(), 0);
        let held = slots.try_take(ip("10.0.0.1"));
        assert_eq!(slots.clients(), 1);
        drop(held);
        assert_eq!(slots.clients(), 0);
    }
}
