//! The whole Courier's storage budget (`COURIER_STORAGE_BUDGET_BYTES`): a
//! grant is refused, before anything is signed or started at the store,
//! when what the bucket holds plus what is granted and not yet there would
//! pass it.
//!
//! The store is the one owner of what is stored: the bucket is listed (its
//! objects' sizes summed) at most once a minute, in the background after
//! the first time. What the listing cannot see yet is kept here: each
//! multipart upload's declared size from its start until it is completed
//! (then it is an object) or aborted, and each POST's size until its policy
//! expires (by then it is an object, or never will be). A POST that landed
//! counts twice until then: the budget errs on the side of refusing.
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

/// How old a listing may be before the next grant starts another.
pub const LISTING_MAX_AGE: Duration = Duration::from_secs(60);

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

/// The budget, what the last listing found, and the grants since.
pub struct StorageBudget {
    budget: u64,
    signer: Signer,
    listed: Mutex<Listed>,
    /// Serialises listings: one at a time, the others wait for it.
    listing: tokio::sync::Mutex<()>,
    granted: Mutex<Granted>,
}

#[derive(Default)]
struct Listed {
    bytes: Option<u64>,
    at: Option<Instant>,
}

#[derive(Default)]
struct Granted {
    next: u64,
    /// Each grant not yet visible as an object: its bytes, until when it
    /// counts, and the multipart upload it is (to end it early).
    open: HashMap<u64, (u64, Instant, Option<String>)>,
}

impl Granted {
    fn bytes(&self, now: Instant) -> u64 {
        self.open
            .values()
            .filter(|(_, until, _)| *until > now)
            .fold(0u64, |sum, (bytes, _, _)| sum.saturating_add(*bytes))
    }
}

impl StorageBudget {
    /// `None` when there is no budget (0).
    pub fn new(budget: u64, signer: Signer) -> Option<Arc<Self>> {
        (budget > 0).then(|| {
            Arc::new(Self {
                budget,
                signer,
                listed: Mutex::default(),
                listing: tokio::sync::Mutex::new(()),
                granted: Mutex::default(),
            })
        })
    }

    pub fn budget(&self) -> u64 {
        self.budget
    }

    /// Reserves `size` bytes for `counts_for` (a POST's policy lifetime, or
    /// a multipart upload's), or refuses. The bucket is listed first when it
    /// never was; when its listing is older than a minute, a new one starts
    /// in the background.
    pub async fn reserve(
        self: &Arc<Self>,
        size: u64,
        counts_for: Duration,
    ) -> Result<Result<Reservation, OverStorage>, SignError> {
        if size > self.budget {
            return Ok(Err(OverStorage::LargerThanTheBudget {
                size,
                budget: self.budget,
            }));
        }
        let listed = match self.listed_bytes() {
            Some((bytes, at)) => {
                if at.elapsed() >= LISTING_MAX_AGE {
                    let this = Arc::clone(self);
                    tokio::spawn(async move {
                        let _ = this.list().await;
                    });
                }
                bytes
            }
            None => self.list().await?,
        };
        let now = Instant::now();
        let mut granted = self.granted();
        granted.open.retain(|_, (_, until, _)| *until > now);
        let used = listed.saturating_add(granted.bytes(now));
        let left = self.budget.saturating_sub(used);
        if size > left {
            return Ok(Err(OverStorage::Full {
                size,
                left,
                budget: self.budget,
            }));
        }
        let id = granted.next;
        granted.next += 1;
        granted.open.insert(id, (size, now + counts_for, None));
        Ok(Ok(Reservation(id)))
    }

    /// A reservation's grant failed: nothing was handed out.
    pub fn release(&self, reservation: Reservation) {
        self.granted().open.remove(&reservation.0);
    }

    /// Names the multipart upload a reservation is for, so that its
    /// completion or abort ends it.
    pub fn name_upload(&self, reservation: Reservation, upload_id: &str) {
        if let Some(open) = self.granted().open.get_mut(&reservation.0) {
            open.2 = Some(upload_id.to_owned());
        }
    }

    /// A multipart upload completed (it is an object now: the next listing
    /// counts it, and until then it is counted as listed) or aborted
    /// (nothing of it is stored).
    pub fn upload_ended(&self, upload_id: &str, completed_bytes: Option<u64>) {
        let mut granted = self.granted();
        granted
            .open
            .retain(|_, (_, _, upload)| upload.as_deref() != Some(upload_id));
        drop(granted);
        if let Some(bytes) = completed_bytes
            && let Ok(mut listed) = self.listed.lock()
            && let Some(listed) = listed.bytes.as_mut()
        {
            *listed = listed.saturating_add(bytes);
        }
    }

    /// What the bucket held at the last listing, and when.
    fn listed_bytes(&self) -> Option<(u64, Instant)> {
        let listed = self.listed.lock().unwrap_or_else(PoisonError::into_inner);
        listed.bytes.zip(listed.at)
    }

    /// Lists the bucket (one listing at a time; a caller that waited for
    /// another's takes its result).
    async fn list(&self) -> Result<u64, SignError> {
        let started = Instant::now();
        let _one_at_a_time = self.listing.lock().await;
        if let Some((bytes, at)) = self.listed_bytes()
            && at >= started
        {
            return Ok(bytes);
        }
        let bytes = self.signer.stored_bytes().await?;
        let mut listed = self.listed.lock().unwrap_or_else(PoisonError::into_inner);
        *listed = Listed {
            bytes: Some(bytes),
            at: Some(Instant::now()),
        };
        tracing::debug!(
            bytes,
            elapsed_ms = started.elapsed().as_millis(),
            "storage budget: the bucket listed"
        );
        Ok(bytes)
    }

    fn granted(&self) -> MutexGuard<'_, Granted> {
        // Each change is a map insert or remove: a poisoned lock's data is sound.
        self.granted.lock().unwrap_or_else(PoisonError::into_inner)
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
