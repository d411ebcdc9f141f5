//! Deletes the files of shares that are over, every [`SWEEP_EVERY`]: a
//! share revoked (its files go at once when the sender revokes through the
//! app; this catches what failed then), expired, or with every download
//! used, after `app::api::sharing::SWEEP_GRACE`. Several instances sweep
//! the same database safely: each share is claimed by one.

use std::time::Duration;

use courier_shares::ShareDb;
use signer::Signer;
use time::OffsetDateTime;
use tokio::task::JoinHandle;

/// How often shares that are over are looked for.
pub const SWEEP_EVERY: Duration = Duration::from_secs(30);

/// Sweeps every `every` until the task is aborted.
pub fn sweep_in_background(db: ShareDb, signer: Signer, every: Duration) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(every);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticks.tick().await;
            match app::api::sharing::sweep(&db, &signer, OffsetDateTime::now_utc()).await {
                Ok(0) => {}
                Ok(swept) => tracing::info!(swept, "shares that are over: their files are deleted"),
                Err(error) => tracing::warn!(%error, "the share sweep could not read the database; it tries again"),
            }
        }
    })
}
