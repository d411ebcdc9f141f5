//! A budget of bytes per client per day (`COURIER_CLIENT_BYTES_PER_DAY`):
//! every grant charges the size it declares (one POST, or a whole multipart
//! upload at its start) against its client's allowance for a rolling 24
//! hours, so one stranger cannot make the operator store more than that a
//! day. A charge is made before anything is signed or the store is called,
//! and given back only when the grant then fails; a grant that was handed
//! out stays charged, used or not (its client chose the size it declared).
//!
//! Each instance counts its own. Charges are kept in 10-minute slots, so a
//! client's ledger holds at most 145 entries however many grants it gets;
//! a slot is counted until 24 hours after it ends, so within any 24 hours a
//! client is granted at most its budget (a charge frees up to 10 minutes
//! late, never early).

use std::collections::{HashMap, VecDeque};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use wire::size::human_size;

use crate::access::Uploader;

/// How long a charge counts.
pub const WINDOW: Duration = Duration::from_secs(24 * 3600);

/// How finely charges are kept.
const SLOT: Duration = Duration::from_secs(10 * 60);

/// Every client's charges of the last 24 hours.
#[derive(Debug)]
pub struct UploadBudget {
    per_day: u64,
    /// Slot 0 starts here.
    epoch: Instant,
    ledgers: Mutex<HashMap<Uploader, Ledger>>,
    /// Multipart uploads in progress (by upload id), with their charge and
    /// when they started: an upload aborted gives its charge back.
    open_uploads: Mutex<HashMap<String, (Charge, Instant)>>,
}

/// One client's charges, oldest slot first.
#[derive(Debug, Default)]
struct Ledger {
    slots: VecDeque<(u64, u64)>,
    total: u64,
}

/// What one grant was charged, to give it back if the grant fails.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Charge {
    client: Uploader,
    slot: u64,
    bytes: u64,
}

/// Why a grant was refused; each a sentence for the person.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum OverBudget {
    /// The file alone is more than a day's budget: it never fits.
    #[error(
        "This file is {}, more than the {} this Courier accepts from {} in a day. Ask its operator.",
        human_size(*size),
        human_size(*per_day),
        who.one
    )]
    LargerThanADay { size: u64, per_day: u64, who: Who },
    /// What is left of the day's budget is less than the file.
    #[error("{}", spent_sentence(*size, *left, *per_day, *frees_in, *who))]
    Spent {
        who: Who,
        size: u64,
        left: u64,
        per_day: u64,
        /// When enough has freed up for this file.
        frees_in: Duration,
    },
}

/// How a budget's sentences name whose it is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Who {
    /// "this address"
    pub this: &'static str,
    /// "one address"
    pub one: &'static str,
}

impl Who {
    pub fn of(uploader: &Uploader) -> Self {
        let (this, one) = match uploader {
            Uploader::Anonymous(_) => ("this address", "one address"),
            Uploader::Session(_) => ("this browser", "one signed-in browser"),
            Uploader::Token(_) => ("this API token", "one API token"),
            Uploader::User(_) => ("you", "one person"),
        };
        Self { this, one }
    }
}

impl OverBudget {
    /// How long to wait before asking again; `None` when waiting will not help.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Self::LargerThanADay { .. } => None,
            Self::Spent { frees_in, .. } => Some(*frees_in),
        }
    }
}

impl UploadBudget {
    /// `per_day` bytes per client; `None` when it is 0 (no budget).
    pub fn new(per_day: u64, now: Instant) -> Option<Self> {
        (per_day > 0).then(|| Self {
            per_day,
            epoch: now,
            ledgers: Mutex::new(HashMap::new()),
            open_uploads: Mutex::new(HashMap::new()),
        })
    }

    pub fn per_day(&self) -> u64 {
        self.per_day
    }

    /// Charges `bytes` to `client`, or refuses, charging nothing, when that
    /// would take it past its budget for the last 24 hours.
    pub fn charge(&self, client: &Uploader, bytes: u64, now: Instant) -> Result<Charge, OverBudget> {
        let who = Who::of(client);
        if bytes > self.per_day {
            return Err(OverBudget::LargerThanADay {
                size: bytes,
                per_day: self.per_day,
                who,
            });
        }
        let slot = self.slot_of(now);
        let mut ledgers = self.ledgers();
        let ledger = ledgers.entry(client.clone()).or_default();
        self.forget_expired(ledger, now);
        let left = self.per_day.saturating_sub(ledger.total);
        if bytes > left {
            return Err(OverBudget::Spent {
                who,
                size: bytes,
                left,
                per_day: self.per_day,
                frees_in: self.frees_in(ledger, bytes - left, now),
            });
        }
        match ledger.slots.back_mut() {
            Some((last, charged)) if *last == slot => *charged += bytes,
            _ => ledger.slots.push_back((slot, bytes)),
        }
        ledger.total += bytes;
        Ok(Charge {
            client: client.clone(),
            slot,
            bytes,
        })
    }

    /// Gives back a charge whose grant failed (nothing was handed out).
    pub fn refund(&self, charge: Charge) {
        let mut ledgers = self.ledgers();
        let Some(ledger) = ledgers.get_mut(&charge.client) else {
            return;
        };
        if let Some(at) = ledger.slots.iter().position(|(slot, _)| *slot == charge.slot) {
            let charged = &mut ledger.slots[at].1;
            let given_back = charge.bytes.min(*charged);
            *charged -= given_back;
            ledger.total -= given_back;
            if *charged == 0 {
                ledger.slots.remove(at);
            }
        }
        if ledger.slots.is_empty() {
            ledgers.remove(&charge.client);
        }
    }

    /// Keeps a multipart upload's charge until it is completed or aborted.
    pub fn hold(&self, upload_id: &str, charge: Charge, now: Instant) {
        self.open_uploads().insert(upload_id.to_owned(), (charge, now));
    }

    /// A multipart upload aborted: its charge given back (nothing of it is
    /// stored any more).
    pub fn give_back(&self, upload_id: &str) {
        let held = self.open_uploads().remove(upload_id);
        if let Some((charge, _)) = held {
            self.refund(charge);
        }
    }

    /// A multipart upload completed: its charge stays.
    pub fn settle(&self, upload_id: &str) {
        self.open_uploads().remove(upload_id);
    }

    /// Forgets charges older than the window, and clients left with none,
    /// so the table does not grow with every address seen; and uploads
    /// started longer ago than that (their charges are over anyway).
    pub fn sweep(&self, now: Instant) {
        self.open_uploads()
            .retain(|_, (_, started)| now.saturating_duration_since(*started) < WINDOW + SLOT);
        let mut ledgers = self.ledgers();
        ledgers.retain(|_, ledger| {
            self.forget_expired(ledger, now);
            !ledger.slots.is_empty()
        });
        ledgers.shrink_to_fit();
    }

    /// How many clients have charges kept.
    pub fn clients(&self) -> usize {
        self.ledgers().len()
    }

    /// What `client` has been charged in the window.
    pub fn used(&self, client: &Uploader, now: Instant) -> u64 {
        let mut ledgers = self.ledgers();
        ledgers.get_mut(client).map_or(0, |ledger| {
            self.forget_expired(ledger, now);
            ledger.total
        })
    }

    fn open_uploads(&self) -> MutexGuard<'_, HashMap<String, (Charge, Instant)>> {
        self.open_uploads.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn ledgers(&self) -> MutexGuard<'_, HashMap<Uploader, Ledger>> {
        // A panic elsewhere never leaves a ledger half written (each change
        // is a few integer updates), so a poisoned lock's data is sound.
        self.ledgers.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Time since the epoch: slots and their ends are counted from it.
    fn since_epoch(&self, now: Instant) -> Duration {
        now.saturating_duration_since(self.epoch)
    }

    fn slot_of(&self, now: Instant) -> u64 {
        self.since_epoch(now).as_secs() / SLOT.as_secs()
    }

    fn forget_expired(&self, ledger: &mut Ledger, now: Instant) {
        let now = self.since_epoch(now);
        while let Some(&(slot, bytes)) = ledger.slots.front() {
            if frees_at(slot) > now {
                break;
            }
            ledger.slots.pop_front();
            ledger.total -= bytes;
        }
    }

    /// How long until at least `needed` more bytes have freed up.
    fn frees_in(&self, ledger: &Ledger, needed: u64, now: Instant) -> Duration {
        let now = self.since_epoch(now);
        let mut freed = 0u64;
        for &(slot, bytes) in &ledger.slots {
            freed = freed.saturating_add(bytes);
            if freed >= needed {
                return frees_at(slot).saturating_sub(now);
            }
        }
        WINDOW
    }
}

/// When a slot's charges stop counting, from the epoch: 24 hours after the
/// slot ends.
fn frees_at(slot: u64) -> Duration {
    Duration::from_secs(
        slot.saturating_add(1)
            .saturating_mul(SLOT.as_secs())
            .saturating_add(WINDOW.as_secs()),
    )
}

fn spent_sentence(size: u64, left: u64, per_day: u64, frees_in: Duration, who: Who) -> String {
    let wait = in_words(frees_in);
    let Who { this, one } = who;
    if left == 0 {
        let mut this = this.to_owned();
        if let Some(first) = this.get_mut(..1) {
            first.make_ascii_uppercase();
        }
        let have = if who.this == "you" { "have" } else { "has" };
        format!(
            "{this} {have} been granted {} of uploads in the last 24 hours, the most this Courier accepts from {one} in a day. Try again in {wait}, or ask its operator.",
            human_size(per_day)
        )
    } else {
        let have = if who.this == "you" { "have" } else { "has" };
        format!(
            "This file is {}, but {this} {have} only {} left of the {} this Courier accepts from {one} in a day. Enough frees up in {wait}: try again then, or ask its operator.",
            human_size(size),
            human_size(left),
            human_size(per_day)
        )
    }
}

/// `40 minutes`, `3 hours`, `18 hours and 10 minutes`: rounded up (past
/// 90 minutes, to ten minutes), so waiting that long is enough.
fn in_words(wait: Duration) -> String {
    let plural = |count: u64, unit: &str| format!("{count} {unit}{}", if count == 1 { "" } else { "s" });
    let minutes = wait.as_secs().div_ceil(60).max(1);
    if minutes <= 90 {
        return plural(minutes, "minute");
    }
    let minutes = minutes.div_ceil(10) * 10;
    match (minutes / 60, minutes % 60) {
        (hours, 0) => plural(hours, "hour"),
        (hours, rest) => format!("{} and {rest} minutes", plural(hours, "hour")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GIB: u64 = 1024 * 1024 * 1024;
    const HOUR: Duration = Duration::from_secs(3600);

    fn client(n: u8) -> Uploader {
        Uploader::Anonymous(std::net::IpAddr::from([203, 0, 113, n]))
    }

    fn budget(per_day: u64) -> (UploadBudget, Instant) {
        let start = Instant::now();
        (UploadBudget::new(per_day, start).expect("on"), start)
    }

    #[test]
    fn zero_turns_it_off() {
        assert!(UploadBudget::new(0, Instant::now()).is_none());
    }

    #[test]
    fn a_client_is_granted_its_budget_and_no_more() {
        let (budget, start) = budget(100 * GIB);
        assert!(budget.charge(&client(1), 60 * GIB, start).is_ok());
        assert!(
            budget.charge(&client(1), 40 * GIB, start + HOUR).is_ok(),
            "exactly the budget"
        );
        let refused = budget
            .charge(&client(1), 1, start + 2 * HOUR)
            .expect_err("the budget is spent");
        assert_eq!(
            refused.to_string(),
            "This address has been granted 100 GiB of uploads in the last 24 hours, the most this Courier accepts from one address in a day. Try again in 22 hours and 10 minutes, or ask its operator."
        );
        assert_eq!(
            budget.used(&client(1), start + 2 * HOUR),
            100 * GIB,
            "a refusal charges nothing"
        );
        assert!(
            budget.charge(&client(2), 100 * GIB, start).is_ok(),
            "another client has its own"
        );
    }

    #[test]
    fn the_refusal_says_what_is_left_and_when_enough_frees_up() {
        let (budget, start) = budget(100 * GIB);
        assert!(budget.charge(&client(1), 30 * GIB, start).is_ok());
        assert!(budget.charge(&client(1), 58 * GIB, start + 5 * HOUR).is_ok());
        let refused = budget
            .charge(&client(1), 40 * GIB, start + 6 * HOUR)
            .expect_err("12 GiB left");
        // The first 30 GiB free 24 h after their slot ends: 18 h 10 min on.
        assert_eq!(
            refused,
            OverBudget::Spent {
                who: Who::of(&client(1)),
                size: 40 * GIB,
                left: 12 * GIB,
                per_day: 100 * GIB,
                frees_in: 18 * HOUR + SLOT,
            }
        );
        assert_eq!(
            refused.to_string(),
            "This file is 40 GiB, but this address has only 12 GiB left of the 100 GiB this Courier accepts from one address in a day. Enough frees up in 18 hours and 10 minutes: try again then, or ask its operator."
        );
        assert_eq!(refused.retry_after(), Some(18 * HOUR + SLOT));
        // Needing the second charge too: until that one frees.
        let refused = budget
            .charge(&client(1), 50 * GIB, start + 6 * HOUR)
            .expect_err("spent");
        assert_eq!(refused.retry_after(), Some(23 * HOUR + SLOT));
    }

    #[test]
    fn the_window_rolls() {
        let (budget, start) = budget(100 * GIB);
        assert!(budget.charge(&client(1), 70 * GIB, start).is_ok());
        assert!(budget.charge(&client(1), 30 * GIB, start + 12 * HOUR).is_ok());
        // Still inside the first charge's window (it counts until 24 h after its slot ends).
        assert!(budget.charge(&client(1), GIB, start + WINDOW).is_err());
        assert!(
            budget
                .charge(&client(1), GIB, start + WINDOW + SLOT - Duration::from_secs(1))
                .is_err()
        );
        // Then its 70 GiB are free again; the later 30 GiB still count.
        let later = start + WINDOW + SLOT;
        assert_eq!(budget.used(&client(1), later), 30 * GIB);
        assert!(budget.charge(&client(1), 70 * GIB, later).is_ok());
        assert!(budget.charge(&client(1), 1, later).is_err());
        // Within any 24 hours, never more than the budget.
        assert!(budget.charge(&client(1), 30 * GIB, start + 36 * HOUR).is_err());
        assert!(budget.charge(&client(1), 30 * GIB, start + 36 * HOUR + SLOT).is_ok());
    }

    #[test]
    fn a_file_larger_than_a_day_never_fits() {
        let (budget, start) = budget(100 * GIB);
        let refused = budget.charge(&client(1), 150 * GIB, start).expect_err("too large");
        assert_eq!(
            refused.to_string(),
            "This file is 150 GiB, more than the 100 GiB this Courier accepts from one address in a day. Ask its operator."
        );
        assert_eq!(refused.retry_after(), None);
        assert_eq!(budget.clients(), 0, "and nothing is kept for it");
    }

    #[test]
    fn a_failed_grant_is_given_back() {
        let (budget, start) = budget(100 * GIB);
        let kept = budget.charge(&client(1), 40 * GIB, start).expect("fits");
        let failed = budget.charge(&client(1), 60 * GIB, start).expect("fits");
        budget.refund(failed);
        assert_eq!(budget.used(&client(1), start), 40 * GIB);
        budget.refund(kept.clone());
        assert_eq!(budget.clients(), 0, "a client with nothing charged is forgotten");
        budget.refund(kept);
        assert_eq!(
            budget.used(&client(1), start),
            0,
            "giving back twice gives back nothing more"
        );
    }

    #[test]
    fn an_aborted_upload_gives_its_charge_back_and_a_completed_one_keeps_it() {
        let (budget, start) = budget(100 * GIB);
        let aborted = budget.charge(&client(1), 60 * GIB, start).expect("fits");
        budget.hold("aborted", aborted, start);
        let completed = budget.charge(&client(1), 30 * GIB, start).expect("fits");
        budget.hold("completed", completed, start);
        budget.give_back("aborted");
        assert_eq!(budget.used(&client(1), start), 30 * GIB);
        budget.give_back("aborted");
        assert_eq!(budget.used(&client(1), start), 30 * GIB, "once only");
        budget.settle("completed");
        budget.give_back("completed");
        assert_eq!(
            budget.used(&client(1), start),
            30 * GIB,
            "a completed upload keeps its charge"
        );
        // Uploads started a window ago are forgotten by the sweep.
        let old = budget.charge(&client(2), GIB, start).expect("fits");
        budget.hold("old", old, start);
        budget.sweep(start + WINDOW + SLOT);
        assert!(budget.open_uploads().is_empty());
    }

    #[test]
    fn clients_whose_charges_expired_are_swept() {
        let (budget, start) = budget(100 * GIB);
        for n in 0..100 {
            assert!(
                budget
                    .charge(&client(n), GIB, start + Duration::from_secs(u64::from(n)))
                    .is_ok()
            );
        }
        assert!(budget.charge(&client(200), GIB, start + 6 * HOUR).is_ok());
        assert_eq!(budget.clients(), 101);
        budget.sweep(start + 12 * HOUR);
        assert_eq!(budget.clients(), 101, "nothing has expired yet");
        budget.sweep(start + WINDOW + SLOT);
        assert_eq!(budget.clients(), 1, "only the later client is kept");
        budget.sweep(start + 6 * HOUR + WINDOW + SLOT);
        assert_eq!(budget.clients(), 0);
    }

    #[test]
    fn a_busy_client_keeps_one_entry_per_slot() {
        let (budget, start) = budget(u64::MAX);
        for second in 0..(2 * 3600) {
            assert!(
                budget
                    .charge(&client(1), 1, start + Duration::from_secs(second))
                    .is_ok()
            );
        }
        let ledgers = budget.ledgers();
        assert_eq!(ledgers[&client(1)].slots.len(), 12, "two hours, twelve slots");
    }

    #[test]
    fn waits_read_as_minutes_then_hours() {
        assert_eq!(in_words(Duration::from_secs(1)), "1 minute");
        assert_eq!(in_words(Duration::from_secs(61)), "2 minutes");
        assert_eq!(in_words(90 * Duration::from_secs(60)), "90 minutes");
        assert_eq!(in_words(91 * Duration::from_secs(60)), "1 hour and 40 minutes");
        assert_eq!(in_words(2 * HOUR - Duration::from_secs(1)), "2 hours");
        assert_eq!(in_words(WINDOW + SLOT), "24 hours and 10 minutes");
        assert_eq!(
            in_words(WINDOW + SLOT - Duration::from_secs(61)),
            "24 hours and 10 minutes"
        );
    }
}
