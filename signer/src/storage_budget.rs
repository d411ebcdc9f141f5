//! The whole Courier's storage budget (`COURIER_STORAGE_BUDGET_BYTES`): a
//! grant is refused, before anything is signed or started at the store,
//! when what the bucket holds plus what is granted and not yet there would
//! pass it.
//!
//! The store is the one owner of what is stored: the bucket is listed (its
//! objects' sizes summed) at most once a minute, in the background after
//! the first time, and a grant waits for a fresh listing when the last is
//! ten minutes old (a bucket that cannot be listed then refuses grants,
//! 502, rather than granting blind). What the listing may not have seen is
//! kept here: each multipart upload's declared size from its start until a
//! listing that started after its completion (or abort), and each POST's
//! size until a listing that started after its policy expired (by then it
//! is an object, or never will be). Until then a file that landed counts
//! twice: the budget errs on the side of refusing.
//!
//! Each instance keeps its own grants: with several, each sees the others'
//! uploads once they are objects, so together they can pass the budget by
//! at most what they granted within one listing's age.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use wire::size::human_size;

use crate::Signer;
use crate::error::SignError;

/// How old a listing may be before the next grant starts another, in the
/// background.
pub const LISTING_MAX_AGE: Duration = Duration::from_secs(60);

/// How old a listing may be before a grant waits for a fresh one.
pub const LISTING_STALE: Duration = Duration::from_secs(10 * 60);

/// How long after a failed listing the next one is tried in the background.
const RETRY_LISTING_AFTER: Duration = Duration::from_secs(30);

/// Why a grant was refused; each a sentence that names the budget.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum OverStorage {
    /// The file alone is more than the whole budget: it never fits (413).
    #[error(
        "This file is {}, more than this Courier's whole storage budget of {}. Nothing was stored. Ask its operator.",
        human_size(*size),
        human_size(*budget)
    )]
    LargerThanTheBudget { size: u64, budget: u64 },
    /// What is left is less than the file (507).
    #[error(
        "This Courier's storage budget of {} has {} left, less than this file's {}. Nothing was stored. Try again when files have expired or been deleted, or ask its operator.",
        human_size(*budget),
        human_size(*left),
        human_size(*size)
    )]
    Full { size: u64, left: u64, budget: u64 },
}

/// What one grant reserved, to give it back if the grant fails.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Reservation(u64);

/// The budget, what the last listing found, and the grants it may not have seen.
pub struct StorageBudget {
    budget: u64,
    signer: Signer,
    state: Mutex<State>,
    /// Serialises listings: one at a time.
    listing: tokio::sync::Mutex<()>,
}

#[derive(Default)]
struct State {
    /// The last listing that finished: what it found, when it started
    /// (what it saw is what was there then) and when it finished.
    listed: Option<Listed>,
    /// When the last listing failed.
    failed_at: Option<Instant>,
    next: u64,
    grants: HashMap<u64, Grant>,
}

#[derive(Clone, Copy)]
struct Listed {
    bytes: u64,
    started: Instant,
    finished: Instant,
}

/// A grant counted on top of the listing until a listing sees its object.
struct Grant {
    bytes: u64,
    /// A POST's policy expiry: by then its object is there or never will be.
    /// A multipart upload's longest life.
    until: Instant,
    /// The multipart upload, to end it early.
    upload: Option<String>,
    /// When it became an object (completed) or nothing (aborted).
    settled_at: Option<Instant>,
}

impl Grant {
    /// Whether a listing that started at `listed` has seen what became of it.
    fn seen_by(&self, listed: Instant, now: Instant) -> bool {
        let settled = self.settled_at.or((self.until <= now).then_some(self.until));
        settled.is_some_and(|at| listed > at)
    }
}

impl State {
    /// Drops the grants the last listing has seen (their bytes are in it).
    fn forget_seen(&mut self, now: Instant) {
        if let Some(listed) = self.listed {
            self.grants.retain(|_, grant| !grant.seen_by(listed.started, now));
        }
    }

    fn granted_bytes(&self) -> u64 {
        self.grants
            .values()
            .fold(0u64, |sum, grant| sum.saturating_add(grant.bytes))
    }
}

impl StorageBudget {
    /// `None` when there is no budget (0).
    pub fn new(budget: u64, signer: Signer) -> Option<Arc<Self>> {
        (budget > 0).then(|| {
            Arc::new(Self {
                budget,
                signer,
                state: Mutex::default(),
                listing: tokio::sync::Mutex::new(()),
            })
        })
    }

    pub fn budget(&self) -> u64 {
        self.budget
    }

    /// Reserves `size` bytes until `until` (a POST's policy expiry, or a
    /// multipart upload's longest life), or refuses. The bucket is listed
    /// first when it never was, or not for ten minutes; past a minute, a new
    /// listing starts in the background.
    pub async fn reserve(
        self: &Arc<Self>,
        size: u64,
        until: Instant,
    ) -> Result<Result<Reservation, OverStorage>, SignError> {
        if size > self.budget {
            return Ok(Err(OverStorage::LargerThanTheBudget {
                size,
                budget: self.budget,
            }));
        }
        let now = Instant::now();
        let (listed, failed_at) = {
            let state = self.state();
            (state.listed, state.failed_at)
        };
        match listed {
            Some(listed) if now.saturating_duration_since(listed.finished) < LISTING_STALE => {
                let retry = failed_at.is_none_or(|at| now.saturating_duration_since(at) >= RETRY_LISTING_AFTER);
                if now.saturating_duration_since(listed.finished) >= LISTING_MAX_AGE && retry {
                    let this = Arc::clone(self);
                    tokio::spawn(async move { this.list_unless_listing().await });
                }
            }
            // None yet, or too old to trust: this grant waits for one.
            _ => self.list().await?,
        }
        let mut state = self.state();
        state.forget_seen(now);
        let listed = state.listed.map_or(0, |listed| listed.bytes);
        let used = listed.saturating_add(state.granted_bytes());
        let left = self.budget.saturating_sub(used);
        if size > left {
            return Ok(Err(OverStorage::Full {
                size,
                left,
                budget: self.budget,
            }));
        }
        let id = state.next;
        state.next += 1;
        state.grants.insert(
            id,
            Grant {
                bytes: size,
                until,
                upload: None,
                settled_at: None,
            },
        );
        Ok(Ok(Reservation(id)))
    }

    /// A reservation's grant failed: nothing was handed out.
    pub fn release(&self, reservation: Reservation) {
        self.state().grants.remove(&reservation.0);
    }

    /// Names the multipart upload a reservation is for, so that its
    /// completion or abort ends it.
    pub fn name_upload(&self, reservation: Reservation, upload_id: &str) {
        if let Some(grant) = self.state().grants.get_mut(&reservation.0) {
            grant.upload = Some(upload_id.to_owned());
        }
    }

    /// A multipart upload completed (its object is in the bucket now) or is
    /// gone: counted until a listing that starts from now has seen it. A
    /// completion asked for again changes nothing.
    pub fn upload_settled(&self, upload_id: &str) {
        let now = Instant::now();
        for grant in self.state().grants.values_mut() {
            if grant.upload.as_deref() == Some(upload_id) && grant.settled_at.is_none() {
                grant.settled_at = Some(now);
            }
        }
    }

    /// A multipart upload aborted by this call: nothing of it is stored.
    pub fn upload_aborted(&self, upload_id: &str) {
        self.state()
            .grants
            .retain(|_, grant| grant.upload.as_deref() != Some(upload_id));
    }

    /// Lists the bucket, unless a listing is under way (the background's).
    async fn list_unless_listing(&self) {
        let Ok(_one_at_a_time) = self.listing.try_lock() else {
            return;
        };
        // Its failure is logged; the next grant past the retry time tries again.
        let _ = self.list_now().await;
    }

    /// Lists the bucket (one listing at a time; a caller that waited for
    /// another's takes its result).
    async fn list(&self) -> Result<(), SignError> {
        let asked = Instant::now();
        let _one_at_a_time = self.listing.lock().await;
        if self.state().listed.is_some_and(|listed| listed.started >= asked) {
            return Ok(());
        }
        self.list_now().await
    }

    async fn list_now(&self) -> Result<(), SignError> {
        let started = Instant::now();
        match self.signer.stored_bytes().await {
            Ok(bytes) => {
                let finished = Instant::now();
                let mut state = self.state();
                state.listed = Some(Listed {
                    bytes,
                    started,
                    finished,
                });
                state.failed_at = None;
                state.forget_seen(finished);
                tracing::debug!(
                    bytes,
                    elapsed_ms = (finished - started).as_millis(),
                    "storage budget: the bucket listed"
                );
                Ok(())
            }
            Err(error) => {
                self.state().failed_at = Some(Instant::now());
                Err(error)
            }
        }
    }

    fn state(&self) -> MutexGuard<'_, State> {
        // Each change is a few map and field updates: a poisoned lock's data is sound.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sentences_name_the_budget_and_what_is_left() {
        const MIB: u64 = 1 << 20;
        assert_eq!(
            OverStorage::Full {
                size: 30 * MIB,
                left: 12 * MIB,
                budget: 100 * MIB
            }
            .to_string(),
            "This Courier's storage budget of 100 MiB has 12 MiB left, less than this file's 30 MiB. Nothing was stored. Try again when files have expired or been deleted, or ask its operator."
        );
        assert!(
            OverStorage::LargerThanTheBudget {
                size: 200 * MIB,
                budget: 100 * MIB
            }
            .to_string()
            .starts_with("This file is 200 MiB, more than this Courier's whole storage budget of 100 MiB.")
        );
    }
}
