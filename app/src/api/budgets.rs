//! What a grant holds of the budgets: its declared size charged to its
//! uploader's day (`COURIER_CLIENT_BYTES_PER_DAY`) and reserved of the
//! whole Courier's storage (`COURIER_STORAGE_BUDGET_BYTES`), both before
//! anything is signed or the store is called. [`Held`] gives both back when
//! it is dropped without being kept: a grant that failed, or a call the
//! client left in the middle. A multipart upload keeps them until it is
//! completed (the charge stays, the storage is counted by the bucket's
//! listing) or aborted (both come back).

use std::sync::Arc;
use std::time::{Duration, Instant};

use leptos::prelude::*;
use signer::access::Uploader;
use signer::storage_budget::{OverStorage, Reservation, StorageBudget};
use signer::upload_budget::{Charge, UploadBudget};

use super::answer::{answered, logged};
use crate::error::CourierError;

/// A grant's charge and reservation, given back on drop unless kept.
pub(super) struct Held {
    charge: Option<(Arc<UploadBudget>, Charge)>,
    reservation: Option<(Arc<StorageBudget>, Reservation)>,
}

impl Held {
    /// Charges `request`'s size to `uploader` and reserves it of the
    /// storage for `counts_for`; refused with the budget's sentence.
    pub(super) async fn for_grant(
        signer: &signer::Signer,
        uploader: Option<&Uploader>,
        request: &signer::UploadRequest,
        counts_for: Duration,
    ) -> Result<Self, CourierError> {
        let mut held = Self {
            charge: None,
            reservation: None,
        };
        let budget = use_context::<Arc<UploadBudget>>();
        let storage = use_context::<Arc<StorageBudget>>();
        if (budget.is_some() && uploader.is_some()) || storage.is_some() {
            // A file the rules refuse gets their sentence, not a budget's.
            logged(
                signer
                    .page_settings()
                    .rules
                    .check(request.size, &request.content_type)
                    .map_err(signer::SignError::from),
            )?;
        }
        // A file request's upload is bounded by the request (whose room was
        // charged to its maker), not by a budget of its own.
        if let Some((budget, uploader)) = budget.zip(uploader) {
            let charge = charge(&budget, uploader, request.size)?;
            held.charge = Some((budget, charge));
        }
        if let Some(storage) = storage {
            // On a refusal, `held` drops and gives the charge back.
            let reservation = reserve(&storage, request.size, Instant::now() + counts_for).await?;
            held.reservation = Some((storage, reservation));
        }
        Ok(held)
    }

    /// A POST was granted: its charge stays, its reservation counts until
    /// the bucket's listing sees what became of it.
    pub(super) fn keep(mut self) {
        self.charge = None;
        self.reservation = None;
    }

    /// A multipart upload was started: both are held until it ends.
    pub(super) fn keep_for_upload(mut self, upload_id: &str) {
        if let Some((budget, charge)) = self.charge.take() {
            budget.hold(upload_id, charge, Instant::now());
        }
        if let Some((storage, reservation)) = self.reservation.take() {
            storage.name_upload(reservation, upload_id);
        }
    }
}

impl Drop for Held {
    fn drop(&mut self) {
        if let Some((budget, charge)) = self.charge.take() {
            budget.refund(charge);
        }
        if let Some((storage, reservation)) = self.reservation.take() {
            storage.release(reservation);
        }
    }
}

/// A new file request: all it may take is charged to its maker's day, as
/// one upload of that size would be.
pub(super) fn charge_request(uploader: &Uploader, bytes: u64) -> Result<(), CourierError> {
    use crate::size::human_size;
    use signer::upload_budget::OverBudget;
    let Some(budget) = use_context::<Arc<UploadBudget>>() else {
        return Ok(());
    };
    // Said of the request, not of a file.
    budget.charge(uploader, bytes, Instant::now()).map(drop).map_err(|over| {
        let error = match over {
            OverBudget::LargerThanADay { per_day, who, .. } => CourierError::TooLarge(format!(
                "A request can take at most {} in all here, what this Courier accepts from {} in a day: ask for less.",
                human_size(per_day),
                who.one
            )),
            OverBudget::Spent { left, who, .. } => CourierError::TooManyRequests(format!(
                "A request for {} in all is more than {} may still send today ({} left): ask for less, or later.",
                human_size(bytes),
                who.this,
                human_size(left)
            )),
        };
        tracing::info!(uploader = %uploader.describe(), error = %error, status = error.status_code(), "refused: upload budget");
        answered(error)
    })
}

/// A multipart upload completed, or found gone by an abort (completed or
/// aborted by an earlier call, perhaps on another instance): its charge
/// stays, and the listing counts what is stored.
pub(super) fn upload_settled(upload_id: &str) {
    if let Some(budget) = use_context::<Arc<UploadBudget>>() {
        budget.settle(upload_id);
    }
    if let Some(storage) = use_context::<Arc<StorageBudget>>() {
        storage.upload_settled(upload_id);
    }
}

/// A multipart upload aborted by this call (nothing of it is stored): both
/// come back, on the instance that started it.
pub(super) fn upload_aborted(upload_id: &str) {
    if let Some(budget) = use_context::<Arc<UploadBudget>>() {
        budget.give_back(upload_id);
    }
    if let Some(storage) = use_context::<Arc<StorageBudget>>() {
        storage.upload_aborted(upload_id);
    }
}

fn charge(budget: &UploadBudget, uploader: &Uploader, size: u64) -> Result<Charge, CourierError> {
    budget.charge(uploader, size, Instant::now()).map_err(|over| {
        if let Some(wait) = over.retry_after()
            && let Some(response) = use_context::<leptos_axum::ResponseOptions>()
            && let Ok(seconds) = http::HeaderValue::from_str(&(wait.as_secs() + 1).to_string())
        {
            response.insert_header(http::header::RETRY_AFTER, seconds);
        }
        let error = CourierError::from(over);
        tracing::info!(uploader = %uploader.describe(), error = %error, status = error.status_code(), "refused: upload budget");
        answered(error)
    })
}

async fn reserve(storage: &Arc<StorageBudget>, size: u64, until: Instant) -> Result<Reservation, CourierError> {
    logged(storage.reserve(size, until).await)?.map_err(|over| {
        let sentence = over.to_string();
        let error = match over {
            OverStorage::LargerThanTheBudget { .. } => CourierError::TooLarge(sentence),
            OverStorage::Full { .. } => CourierError::StorageFull(sentence),
        };
        tracing::info!(error = %error, status = error.status_code(), "refused: storage budget");
        answered(error)
    })
}
