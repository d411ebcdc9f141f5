//! The rate limit on the routes that sign (`/`, whose form carries a policy,
//! `/api/*` and `/confirm-upload`): `governor`'s GCRA, one allowance per
//! client address (see [`crate::client_addr`] for who the client is behind a
//! proxy). A refused request gets a sentence and `Retry-After`.

use std::net::{IpAddr, SocketAddr};
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{ConnectInfo, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota};

use app::error::CourierError;

use crate::client_addr::TrustedProxies;
use crate::respond::refusal;
use crate::settings::RateLimitSettings;

/// How often allowances that are full again are forgotten.
const SWEEP_EVERY: Duration = Duration::from_secs(60);

pub struct RateLimit {
    limiter: DefaultKeyedRateLimiter<IpAddr>,
    clock: DefaultClock,
    proxies: TrustedProxies,
}

impl RateLimit {
    /// `None` when the limit is off (`COURIER_RATE_LIMIT_PER_MINUTE=0`).
    pub fn new(settings: &RateLimitSettings) -> Option<Arc<Self>> {
        let per_minute = NonZeroU32::new(settings.per_minute)?;
        let burst = NonZeroU32::new(settings.burst).unwrap_or(NonZeroU32::MIN);
        Some(Arc::new(Self {
            limiter: DefaultKeyedRateLimiter::keyed(Quota::per_minute(per_minute).allow_burst(burst)),
            clock: DefaultClock::default(),
            proxies: settings.trusted_proxies.clone(),
        }))
    }

    /// `Err` with how long to wait when `client` has used its allowance.
    pub fn check(&self, client: IpAddr) -> Result<(), Duration> {
        self.limiter
            .check_key(&client)
            .map_err(|not_until| not_until.wait_time_from(self.clock.now()))
    }

    /// Forgets, every minute, the clients whose allowance is full again, so
    /// the table does not grow with every address ever seen.
    pub fn sweep_in_background(self: &Arc<Self>) {
        let weak = Arc::downgrade(self);
        tokio::spawn(async move {
            let mut every = tokio::time::interval(SWEEP_EVERY);
            loop {
                every.tick().await;
                let Some(limit) = weak.upgrade() else { return };
                limit.limiter.retain_recent();
                limit.limiter.shrink_to_fit();
            }
        });
    }
}

/// The middleware, on the signing routes only.
pub async fn limit(
    State(limit): State<Arc<RateLimit>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    request: Request,
    next: Next,
) -> Response {
    let client = limit.proxies.client_of(peer.ip(), request.headers());
    match limit.check(client) {
        Ok(()) => next.run(request).await,
        Err(wait) => {
            let seconds = wait.as_secs() + 1;
            tracing::warn!(%client, path = request.uri().path(), "rate limited");
            let error = CourierError::TooManyRequests(format!(
                "Too many requests from your address. Wait {seconds} second{} and try again.",
                if seconds == 1 { "" } else { "s" }
            ));
            let mut response = refusal(request.headers(), &error);
            if let Ok(value) = http::HeaderValue::from_str(&seconds.to_string()) {
                response.headers_mut().insert(http::header::RETRY_AFTER, value);
            }
            response
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limit(per_minute: u32, burst: u32) -> Option<Arc<RateLimit>> {
        RateLimit::new(&RateLimitSettings {
            per_minute,
            burst,
            trusted_proxies: TrustedProxies::default(),
        })
    }

    #[test]
    fn a_burst_then_a_wait_per_client() {
        let limit = limit(60, 3).expect("on");
        let (a, b): (IpAddr, IpAddr) = ("10.0.0.1".parse().expect("ip"), "10.0.0.2".parse().expect("ip"));
        for _ in 0..3 {
            assert_eq!(limit.check(a), Ok(()));
        }
        let wait = limit.check(a).expect_err("the burst is spent");
        // One request a second: the next one is at most a second away.
        assert!(
            wait <= Duration::from_secs(1) && wait > Duration::from_millis(500),
            "{wait:?}"
        );
        assert_eq!(limit.check(b), Ok(()), "another client has its own allowance");
    }

    #[test]
    fn zero_turns_it_off() {
        assert!(limit(0, 10).is_none());
    }
}
