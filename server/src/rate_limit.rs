//! The rate limit on the routes that sign (`/`, whose form carries a policy,
//! `/api/*` and `/confirm-upload`): `governor`'s GCRA, one allowance per
//! client address (see [`courier_serve::client_addr`] for who the client is behind a
//! proxy). A refused request gets a sentence and `Retry-After`.

use std::net::{IpAddr, SocketAddr};
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{ConnectInfo, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use governor::clock::Clock;
use governor::{DefaultKeyedRateLimiter, Quota};

use app::error::CourierError;
use wire::endpoint::Endpoint;

use crate::respond::refusal;
use crate::settings::RateLimitSettings;
use courier_serve::{TrustedProxies, allowance_of};

/// How often allowances that are full again are forgotten.
const SWEEP_EVERY: Duration = Duration::from_secs(60);

pub struct RateLimit {
    limiter: DefaultKeyedRateLimiter<IpAddr>,
    /// `sign_parts`' own, larger allowance (see [`PARTS_PER_MINUTE`]).
    parts: DefaultKeyedRateLimiter<IpAddr>,
    proxies: TrustedProxies,
}

/// `sign_parts` signs one part a call: a page sending at 1 GB/s in 8 MiB
/// parts asks about 125 times a second, far past what any other call needs,
/// and each costs microseconds with no call to the store. So it has an
/// allowance of its own that an honest uploader never meets (200 a second,
/// 1000 at once), which still bounds a flood from one client.
const PARTS_PER_MINUTE: NonZeroU32 = NonZeroU32::new(12_000).expect("not zero");
const PARTS_BURST: NonZeroU32 = NonZeroU32::new(1_000).expect("not zero");

impl RateLimit {
    /// `None` when the limit is off (`COURIER_RATE_LIMIT_PER_MINUTE=0`).
    pub fn new(settings: &RateLimitSettings) -> Option<Arc<Self>> {
        let per_minute = NonZeroU32::new(settings.per_minute)?;
        let burst = NonZeroU32::new(settings.burst).unwrap_or(NonZeroU32::MIN);
        Some(Arc::new(Self {
            limiter: DefaultKeyedRateLimiter::keyed(Quota::per_minute(per_minute).allow_burst(burst)),
            parts: DefaultKeyedRateLimiter::keyed(Quota::per_minute(PARTS_PER_MINUTE).allow_burst(PARTS_BURST)),
            proxies: settings.trusted_proxies.clone(),
        }))
    }

    /// `Err` with how long to wait when `client` has used its allowance.
    pub fn check(&self, client: IpAddr) -> Result<(), Duration> {
        Self::check_in(&self.limiter, client)
    }

    /// The same for `sign_parts`, from its own allowance.
    pub fn check_parts(&self, client: IpAddr) -> Result<(), Duration> {
        Self::check_in(&self.parts, client)
    }

    fn check_in(limiter: &DefaultKeyedRateLimiter<IpAddr>, client: IpAddr) -> Result<(), Duration> {
        limiter
            .check_key(&allowance_of(client))
            .map_err(|not_until| not_until.wait_time_from(limiter.clock().now()))
    }

    /// Forgets the clients whose allowance is full again.
    fn sweep(&self) {
        for limiter in [&self.limiter, &self.parts] {
            limiter.retain_recent();
            limiter.shrink_to_fit();
        }
    }

    /// Forgets, every minute, the clients whose allowance is full again, so
    /// the table does not grow with every address ever seen.
    pub fn sweep_in_background(self: &Arc<Self>) {
        every_minute_while_kept(self, Self::sweep);
    }
}

/// Runs `forget` on `owner` every minute, for as long as anything else keeps
/// it: how the per-client tables in memory drop the clients that stopped.
pub fn every_minute_while_kept<T: Send + Sync + 'static>(owner: &Arc<T>, forget: fn(&T)) {
    let weak = Arc::downgrade(owner);
    tokio::spawn(async move {
        let mut every = tokio::time::interval(SWEEP_EVERY);
        loop {
            every.tick().await;
            let Some(owner) = weak.upgrade() else { return };
            forget(&owner);
        }
    });
}

/// Calls that only sign what a multipart token already allows (the parts
/// of one upload that was started, and rate limited, like any grant): they
/// use [`RateLimit::check_parts`].
const PARTS_WITH_A_TOKEN: &[Endpoint] = &[Endpoint::SignParts];

/// The middleware, on the signing routes only.
pub async fn limit(
    State(limit): State<Arc<RateLimit>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    request: Request,
    next: Next,
) -> Response {
    let client = limit.proxies.client_of(peer.ip(), request.headers());
    let endpoint = Endpoint::of_path(request.uri().path());
    let checked = if endpoint.is_some_and(|endpoint| PARTS_WITH_A_TOKEN.contains(&endpoint)) {
        limit.check_parts(client)
    } else {
        limit.check(client)
    };
    match checked {
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
        // One request a second: the next one is a second away.
        assert!(
            wait <= Duration::from_secs(1) && wait > Duration::from_millis(900),
            "{wait:?}"
        );
        assert_eq!(limit.check(b), Ok(()), "another client has its own allowance");
        std::thread::sleep(Duration::from_millis(1050));
        assert_eq!(limit.check(a), Ok(()), "one request came back after a second");
        assert!(limit.check(a).is_err(), "and only one");
    }

    #[test]
    fn an_ipv6_network_shares_one_allowance() {
        let limit = limit(60, 1).expect("on");
        assert_eq!(limit.check("2001:db8:1:2::1".parse().expect("ip")), Ok(()));
        assert!(
            limit.check("2001:db8:1:2:ffff::9".parse().expect("ip")).is_err(),
            "same /64"
        );
        assert_eq!(
            limit.check("2001:db8:1:3::1".parse().expect("ip")),
            Ok(()),
            "another /64"
        );
    }

    #[test]
    fn clients_with_a_full_allowance_are_forgotten() {
        // 1000 a second: a client's allowance is full again after a millisecond.
        let limit = limit(60_000, 1).expect("on");
        for n in 0..100u8 {
            assert_eq!(limit.check(IpAddr::from([10, 0, 0, n])), Ok(()));
        }
        assert_eq!(limit.limiter.len(), 100);
        std::thread::sleep(Duration::from_millis(20));
        limit.sweep();
        assert_eq!(limit.limiter.len(), 0);
    }

    #[test]
    fn parts_have_their_own_larger_allowance() {
        let limit = limit(60, 2).expect("on");
        let client: IpAddr = "10.0.0.1".parse().expect("ip");
        assert!(limit.check(client).is_ok() && limit.check(client).is_ok());
        assert!(limit.check(client).is_err(), "grants are spent");
        for n in 0..PARTS_BURST.get() {
            assert_eq!(limit.check_parts(client), Ok(()), "part {n}");
        }
        assert!(limit.check_parts(client).is_err(), "and parts are bounded too");
    }

    #[test]
    fn zero_turns_it_off() {
        assert!(limit(0, 10).is_none());
    }
}
