//! Password tries: at most [`TRIES_PER_MINUTE`] a minute for one share from
//! one client (an address, or an IPv6 /64), counted before the password is
//! checked, so guessing gets 429 and `Retry-After` rather than answers.
//! Kept in memory: with several instances, each counts its own tries.

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use governor::clock::Clock;
use governor::{DefaultKeyedRateLimiter, Quota};

/// Tries of a share's password a client gets a minute.
pub const TRIES_PER_MINUTE: NonZeroU32 = NonZeroU32::new(10).expect("not zero");

/// How long a client out of tries waits: whole seconds, rounded up, for
/// `Retry-After` and the sentence.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Wait(pub u64);

impl Wait {
    pub fn of(wait: Duration) -> Self {
        Self(wait.as_secs() + 1)
    }

    /// "Too many {what} from your address. Wait 12 seconds and try again."
    pub fn sentence(self, what: &str) -> String {
        let Self(seconds) = self;
        format!(
            "Too many {what} from your address. Wait {seconds} second{} and try again.",
            if seconds == 1 { "" } else { "s" }
        )
    }

    /// Sets `Retry-After` on `response`.
    pub fn tell(self, mut response: axum::response::Response) -> axum::response::Response {
        if let Ok(value) = http::HeaderValue::from_str(&self.0.to_string()) {
            response.headers_mut().insert(http::header::RETRY_AFTER, value);
        }
        response
    }
}

pub struct PasswordAttempts {
    tries: DefaultKeyedRateLimiter<(String, IpAddr)>,
    /// Clients that used their tries of a share, until when: where only
    /// wrong tries are counted (keys, see [`Self::wrong_once`]), a right one
    /// must be refused too meanwhile, or its answer would tell a guess.
    held: std::sync::Mutex<std::collections::HashMap<(String, IpAddr), std::time::Instant>>,
}

impl Default for PasswordAttempts {
    fn default() -> Self {
        Self {
            tries: DefaultKeyedRateLimiter::keyed(Quota::per_minute(TRIES_PER_MINUTE).allow_burst(TRIES_PER_MINUTE)),
            held: std::sync::Mutex::default(),
        }
    }
}

impl PasswordAttempts {
    /// Counts one try of share `id`'s password by `client`; `Err` with how
    /// long to wait when it has used its tries.
    pub fn try_once(&self, id: &str, client: IpAddr) -> Result<(), Duration> {
        self.tries
            .check_key(&(id.to_owned(), courier_serve::allowance_of(client)))
            .map_err(|not_until| not_until.wait_time_from(self.tries.clock().now()))
    }

    /// How long `client` must still wait before trying share `id` again, if
    /// it used its tries; nothing counted.
    pub fn waiting(&self, id: &str, client: IpAddr) -> Option<Duration> {
        let key = (id.to_owned(), courier_serve::allowance_of(client));
        let held = self.held.lock().ok()?;
        let until = *held.get(&key)?;
        until.checked_duration_since(std::time::Instant::now())
    }

    /// Counts one wrong try (a key that did not prove itself): `Err` with
    /// how long to wait once the client has used its tries, during which
    /// [`Self::waiting`] refuses its right tries too.
    pub fn wrong_once(&self, id: &str, client: IpAddr) -> Result<(), Duration> {
        let counted = self.try_once(id, client);
        if let (Err(wait), Ok(mut held)) = (counted, self.held.lock()) {
            let key = (id.to_owned(), courier_serve::allowance_of(client));
            held.insert(key, std::time::Instant::now() + wait);
        }
        counted
    }

    /// Forgets, every minute, the clients whose tries are all back.
    pub fn forget_in_background(self: &Arc<Self>) {
        crate::rate_limit::every_minute_while_kept(self, |attempts| {
            attempts.tries.retain_recent();
            attempts.tries.shrink_to_fit();
            if let Ok(mut held) = attempts.held.lock() {
                let now = std::time::Instant::now();
                held.retain(|_, until| *until > now);
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_eleventh_try_in_a_minute_waits_and_others_do_not() {
        let attempts = PasswordAttempts::default();
        let client: IpAddr = [192, 0, 2, 1].into();
        for _ in 0..10 {
            assert!(attempts.try_once("share", client).is_ok());
        }
        let wait = attempts.try_once("share", client).expect_err("the 11th is refused");
        assert!(wait > Duration::ZERO && wait <= Duration::from_secs(6), "{wait:?}");
        // Another share, another client: their own tries.
        assert!(attempts.try_once("other", client).is_ok());
        assert!(attempts.try_once("share", [192, 0, 2, 2].into()).is_ok());
    }

    #[test]
    fn a_client_out_of_wrong_keys_waits_for_any_key() {
        let attempts = PasswordAttempts::default();
        let client: IpAddr = [192, 0, 2, 1].into();
        for _ in 0..10 {
            assert!(attempts.wrong_once("share", client).is_ok());
            assert_eq!(attempts.waiting("share", client), None);
        }
        assert!(attempts.wrong_once("share", client).is_err());
        assert!(
            attempts
                .waiting("share", client)
                .is_some_and(|wait| wait > Duration::ZERO)
        );
        assert_eq!(attempts.waiting("other", client), None);
    }
}
