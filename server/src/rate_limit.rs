//! A token bucket per client address for the endpoints that sign
//! (`/`, whose form carries a policy, `/api/*`, `/confirm-upload`): signing is cheap, but an unthrottled signer
//! hands out write access to the bucket as fast as anyone can ask.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{ConnectInfo, Request, State};
use axum::middleware::Next;
use axum::response::Response;

use app::error::CourierError;

use crate::respond::refusal;
use crate::settings::RateLimitSettings;

/// Buckets idle this long are forgotten (they would be full again anyway).
const IDLE: Duration = Duration::from_secs(10 * 60);

#[derive(Debug)]
pub struct RateLimiter {
    settings: RateLimitSettings,
    state: Mutex<Buckets>,
}

#[derive(Debug)]
struct Buckets {
    by_client: HashMap<IpAddr, Bucket>,
    /// Idle buckets are swept at most once per `IDLE`, not on every request.
    swept: Instant,
}

#[derive(Clone, Copy, Debug)]
struct Bucket {
    tokens: f64,
    updated: Instant,
}

impl RateLimiter {
    pub fn new(settings: RateLimitSettings) -> Arc<Self> {
        Arc::new(Self {
            settings,
            state: Mutex::new(Buckets {
                by_client: HashMap::new(),
                swept: Instant::now(),
            }),
        })
    }

    /// Takes one token for `client`, or says how long until one is free.
    pub fn check(&self, client: IpAddr, now: Instant) -> Result<(), Duration> {
        if self.settings.per_minute == 0 {
            return Ok(());
        }
        let rate = f64::from(self.settings.per_minute) / 60.0;
        let capacity = f64::from(self.settings.burst);
        let mut state = self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if now.saturating_duration_since(state.swept) >= IDLE {
            state
                .by_client
                .retain(|_, b| now.saturating_duration_since(b.updated) < IDLE);
            state.swept = now;
        }
        let bucket = state.by_client.entry(client).or_insert(Bucket {
            tokens: capacity,
            updated: now,
        });
        let elapsed = now.saturating_duration_since(bucket.updated).as_secs_f64();
        bucket.tokens = (bucket.tokens + elapsed * rate).min(capacity);
        bucket.updated = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            Ok(())
        } else {
            Err(Duration::from_secs_f64((1.0 - bucket.tokens) / rate))
        }
    }
}

/// The endpoints that sign: `/` too, since the page carries a form policy.
fn is_limited(path: &str) -> bool {
    path == "/" || path.starts_with("/api/") || path == "/confirm-upload"
}

pub async fn limit(
    State(limiter): State<Arc<RateLimiter>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    request: Request,
    next: Next,
) -> Response {
    if !is_limited(request.uri().path()) {
        return next.run(request).await;
    }
    match limiter.check(peer.ip(), Instant::now()) {
        Ok(()) => next.run(request).await,
        Err(wait) => {
            let seconds = wait.as_secs() + 1;
            tracing::warn!(client = %peer.ip(), path = request.uri().path(), "rate limited");
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

    fn limiter(per_minute: u32, burst: u32) -> Arc<RateLimiter> {
        RateLimiter::new(RateLimitSettings { per_minute, burst })
    }

    #[test]
    fn a_burst_then_the_sustained_rate() {
        let limiter = limiter(60, 3);
        let (a, b): (IpAddr, IpAddr) = ("10.0.0.1".parse().expect("ip"), "10.0.0.2".parse().expect("ip"));
        let t0 = Instant::now();
        for _ in 0..3 {
            assert_eq!(limiter.check(a, t0), Ok(()));
        }
        let wait = limiter.check(a, t0).expect_err("the burst is spent");
        assert!(
            wait <= Duration::from_secs(1) && wait > Duration::from_millis(900),
            "{wait:?}"
        );
        // Others are not affected.
        assert_eq!(limiter.check(b, t0), Ok(()));
        // One per second comes back.
        assert_eq!(limiter.check(a, t0 + Duration::from_millis(1001)), Ok(()));
        assert!(limiter.check(a, t0 + Duration::from_millis(1002)).is_err());
    }

    #[test]
    fn idle_buckets_are_forgotten() {
        let limiter = limiter(60, 3);
        let t0 = Instant::now();
        for n in 0..100u8 {
            let _ = limiter.check(IpAddr::from([10, 0, 0, n]), t0);
        }
        assert_eq!(limiter.state.lock().expect("lock").by_client.len(), 100);
        let later = t0 + IDLE + Duration::from_secs(1);
        assert_eq!(limiter.check("10.0.1.1".parse().expect("ip"), later), Ok(()));
        assert_eq!(limiter.state.lock().expect("lock").by_client.len(), 1);
    }

    #[test]
    fn zero_turns_it_off() {
        let limiter = limiter(0, 1);
        let ip: IpAddr = "10.0.0.1".parse().expect("ip");
        for _ in 0..1000 {
            assert_eq!(limiter.check(ip, Instant::now()), Ok(()));
        }
    }

    #[test]
    fn only_the_signing_endpoints_are_limited() {
        assert!(is_limited("/api/sign_upload") && is_limited("/confirm-upload") && is_limited("/"));
        assert!(!is_limited("/pkg/courier.wasm") && !is_limited("/health"));
    }
}
