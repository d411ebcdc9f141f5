//! The per-uploader upload budget (`COURIER_CLIENT_BYTES_PER_DAY`, see
//! [`signer::upload_budget`]) in the app: the server functions that grant
//! uploads charge the ledger they get through Leptos context to the
//! uploader the request was admitted as (`super::Access`). Each instance
//! keeps its own ledger.

use std::sync::Arc;
use std::time::{Duration, Instant};

use signer::upload_budget::UploadBudget;

/// How often charges older than the window are forgotten.
const SWEEP_EVERY: Duration = Duration::from_secs(10 * 60);

/// The ledger.
#[derive(Clone)]
pub struct ClientBudget {
    ledger: Arc<UploadBudget>,
}

impl ClientBudget {
    /// `None` when there is no budget (`COURIER_CLIENT_BYTES_PER_DAY=0`).
    pub fn new(per_day: u64) -> Option<Self> {
        let ledger = UploadBudget::new(per_day, Instant::now())?;
        Some(Self {
            ledger: Arc::new(ledger),
        })
    }

    /// What the server functions charge, through Leptos context.
    pub fn ledger(&self) -> Arc<UploadBudget> {
        Arc::clone(&self.ledger)
    }

    /// Forgets, every ten minutes, the charges older than the window (and
    /// clients left with none), so the ledger does not grow with every
    /// address seen in a day.
    pub fn sweep_in_background(&self) {
        let weak = Arc::downgrade(&self.ledger);
        tokio::spawn(async move {
            let mut every = tokio::time::interval(SWEEP_EVERY);
            loop {
                every.tick().await;
                let Some(ledger) = weak.upgrade() else { return };
                ledger.sweep(Instant::now());
            }
        });
    }
}
