//! The store's refusals in the log, at a pace a stranger cannot set. Every
//! request an anonymous scanner sends is refused, and `s3s` logged each at
//! ERROR (two or three lines a request): the error log filled with what is
//! the store working. Now a refusal is one line, at INFO (a 4xx: the client's
//! doing) or WARN (a 5xx: the store's), at most [`LINES_PER_MINUTE`] of each
//! a minute; the lines held back are counted on the next one written.

use std::sync::Mutex;
use std::sync::PoisonError;
use std::time::{Duration, Instant};

use http::{Method, StatusCode};

/// Lines of each level a minute, at most.
pub const LINES_PER_MINUTE: u32 = 20;
const MINUTE: Duration = Duration::from_secs(60);

#[derive(Debug, Default)]
pub struct RefusalLog {
    client: Mutex<Budget>,
    store: Mutex<Budget>,
}

#[derive(Debug, Default)]
struct Budget {
    since: Option<Instant>,
    written: u32,
    held_back: u64,
}

impl Budget {
    /// `Some(lines held back before this one)` when this line may be written.
    fn admit(&mut self, now: Instant) -> Option<u64> {
        if self.since.is_none_or(|since| now.duration_since(since) >= MINUTE) {
            self.since = Some(now);
            self.written = 0;
        }
        if self.written >= LINES_PER_MINUTE {
            self.held_back += 1;
            return None;
        }
        self.written += 1;
        Some(std::mem::take(&mut self.held_back))
    }
}

impl RefusalLog {
    /// Logs a refused request (status 400 and up); `path` without its query,
    /// which may carry a signature.
    pub fn refused(&self, status: StatusCode, method: &Method, path: &str) {
        if status.is_server_error() {
            let admitted = self
                .store
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .admit(Instant::now());
            if let Some(held_back) = admitted {
                if status == StatusCode::INSUFFICIENT_STORAGE {
                    tracing::warn!(%status, %method, path, held_back, "the store refused a write: its disk is at the storage floor, or full");
                } else {
                    tracing::warn!(%status, %method, path, held_back, "the store could not serve a request");
                }
            }
        } else if status.is_client_error() {
            let admitted = self
                .client
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .admit(Instant::now());
            if let Some(held_back) = admitted {
                tracing::info!(%status, %method, path, held_back, "the store refused a request");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_minute_holds_so_many_lines_and_counts_the_rest() {
        let mut budget = Budget::default();
        let start = Instant::now();
        for _ in 0..LINES_PER_MINUTE {
            assert_eq!(budget.admit(start), Some(0));
        }
        for _ in 0..500 {
            assert_eq!(budget.admit(start + Duration::from_secs(30)), None);
        }
        assert_eq!(
            budget.admit(start + MINUTE),
            Some(500),
            "the next minute says how many were held back"
        );
        assert_eq!(budget.admit(start + MINUTE), Some(0));
    }
}
