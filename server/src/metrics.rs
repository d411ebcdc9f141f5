//! `/metrics`: counters and request durations in Prometheus' text exposition
//! format (0.0.4). Hand-rolled on atomics (no registry, no new dependency):
//! recording is a few relaxed increments, and every label takes its value
//! from a fixed set (routes, link kinds, refusal codes), so nothing a client
//! sends can add a series.
//!
//! What is counted is read from the response: its status, its route, and the
//! [`RefusalCode`] a refusal carries; a grant's link kind comes with
//! [`GrantedLink`].

use std::fmt::Write as _;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use signer::LinkKind;
use wire::endpoint::Endpoint;

use crate::respond::RefusalCode;

pub const CONTENT_TYPE: HeaderValue = HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8");

/// The link a successful `sign_upload` granted, as the function reported it
/// (`app::api::CallReport`), put on its response by the server-function
/// route: this layer reads no body.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GrantedLink(pub LinkKind);

/// Upper bounds of the duration buckets, 1 ms to 10 s, in nanoseconds
/// (compared without floats) and as they are printed.
const BUCKETS: [(u64, &str); 13] = [
    (1_000_000, "0.001"),
    (2_500_000, "0.0025"),
    (5_000_000, "0.005"),
    (10_000_000, "0.01"),
    (25_000_000, "0.025"),
    (50_000_000, "0.05"),
    (100_000_000, "0.1"),
    (250_000_000, "0.25"),
    (500_000_000, "0.5"),
    (1_000_000_000, "1"),
    (2_500_000_000, "2.5"),
    (5_000_000_000, "5"),
    (10_000_000_000, "10"),
];

/// The routes requests are timed under; anything else is `other`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Route {
    Page,
    SignUpload,
    SignDownload,
    DeleteUpload,
    Confirm,
    /// `/s/<id>`, the page and its password.
    SharePage,
    /// `/s/<id>/<n>`, a counted download's redirect.
    ShareDownload,
    /// `/s/<id>/e2e`, an encrypted share's sealed names and a nonce.
    SealedShare,
    /// `/s/<id>/<n>/e2e`, a key proved and a download counted.
    SealedDownload,
    /// `/s/<id>/<n>/e2e/renew`, a new URL for a download under way.
    SealedRenewal,
    /// `/sign-in`, the upload password (`COURIER_UPLOAD_ACCESS=password`).
    SignIn,
    Other,
}

impl Route {
    const ALL: [Self; 12] = [
        Self::Page,
        Self::SignUpload,
        Self::SignDownload,
        Self::DeleteUpload,
        Self::Confirm,
        Self::SharePage,
        Self::ShareDownload,
        Self::SealedShare,
        Self::SealedDownload,
        Self::SealedRenewal,
        Self::SignIn,
        Self::Other,
    ];

    fn of(path: &str) -> Self {
        match path {
            "/" => Self::Page,
            "/confirm-upload" => Self::Confirm,
            "/sign-in" => Self::SignIn,
            // One label for every share, never its id.
            _ if path.starts_with("/s/") => match path[3..].split_once('/') {
                None => Self::SharePage,
                Some((_, "qr.svg")) => Self::Other,
                Some((_, "e2e")) => Self::SealedShare,
                Some((_, rest)) if rest.ends_with("/e2e") => Self::SealedDownload,
                Some((_, rest)) if rest.ends_with("/e2e/renew") => Self::SealedRenewal,
                Some(_) => Self::ShareDownload,
            },
            _ => match Endpoint::of_path(path) {
                Some(Endpoint::SignUpload) => Self::SignUpload,
                Some(Endpoint::SignDownload) => Self::SignDownload,
                Some(Endpoint::DeleteUpload) => Self::DeleteUpload,
                _ => Self::Other,
            },
        }
    }

    fn label(self) -> &'static str {
        match self {
            Self::Page => "/",
            Self::SignUpload => Endpoint::SignUpload.path(),
            Self::SignDownload => Endpoint::SignDownload.path(),
            Self::DeleteUpload => Endpoint::DeleteUpload.path(),
            Self::Confirm => "/confirm-upload",
            Self::SharePage => "/s/<id>",
            Self::ShareDownload => "/s/<id>/<n>",
            Self::SealedShare => "/s/<id>/e2e",
            Self::SealedDownload => "/s/<id>/<n>/e2e",
            Self::SealedRenewal => "/s/<id>/<n>/e2e/renew",
            Self::SignIn => "/sign-in",
            Self::Other => "other",
        }
    }
}

/// Request durations of one route. Each bucket counts only its own range
/// (the last one: over 10 s); rendering adds them up, so the `+Inf` bucket
/// and `_count` are one sum and always agree.
#[derive(Default)]
struct Histogram {
    buckets: [AtomicU64; BUCKETS.len() + 1],
    sum_nanos: AtomicU64,
}

impl Histogram {
    fn observe(&self, elapsed: Duration) {
        let nanos = u64::try_from(elapsed.as_nanos()).unwrap_or(u64::MAX);
        let bucket = BUCKETS
            .iter()
            .position(|(bound, _)| nanos <= *bound)
            .unwrap_or(BUCKETS.len());
        self.buckets[bucket].fetch_add(1, Ordering::Relaxed);
        self.sum_nanos.fetch_add(nanos, Ordering::Relaxed);
    }
}

/// Everything `/metrics` reports, since this server started.
#[derive(Default)]
pub struct Metrics {
    /// By [`LinkKind`]: expiring, public.
    grants_signed: [AtomicU64; 2],
    confirmations: AtomicU64,
    links_renewed: AtomicU64,
    deletes: AtomicU64,
    /// By [`RefusalCode::ALL`].
    refusals: [AtomicU64; RefusalCode::ALL.len()],
    rate_limited: AtomicU64,
    store_errors: AtomicU64,
    /// By [`Route::ALL`].
    durations: [Histogram; Route::ALL.len()],
}

fn add(counter: &AtomicU64) {
    counter.fetch_add(1, Ordering::Relaxed);
}

impl Metrics {
    pub fn new() -> Arc<Self> {
        Arc::new(Self::default())
    }

    /// One answered request: its duration, and what its response says happened.
    fn record(&self, route: Route, method: &Method, response: &Response, elapsed: Duration) {
        self.durations[route as usize].observe(elapsed);
        if let Some(RefusalCode(code)) = response.extensions().get::<RefusalCode>() {
            if let Some(index) = RefusalCode::ALL.iter().position(|c| c == code) {
                add(&self.refusals[index]);
            }
            match *code {
                "too_many_requests" => add(&self.rate_limited),
                "store_unavailable" => add(&self.store_errors),
                _ => {}
            }
            return;
        }
        // A CORS preflight answers 200 too, and does nothing.
        if response.status() != StatusCode::OK || method == Method::OPTIONS {
            return;
        }
        match route {
            Route::SignUpload => {
                if let Some(GrantedLink(link)) = response.extensions().get::<GrantedLink>() {
                    add(&self.grants_signed[link_index(*link)]);
                }
            }
            Route::Confirm => add(&self.confirmations),
            Route::SignDownload => add(&self.links_renewed),
            Route::DeleteUpload => add(&self.deletes),
            Route::Page
            | Route::SharePage
            | Route::ShareDownload
            | Route::SealedShare
            | Route::SealedDownload
            | Route::SealedRenewal
            | Route::SignIn
            | Route::Other => {}
        }
    }

    /// The text exposition format: `# HELP` and `# TYPE` for each family,
    /// then one `name{labels} value` line per series. Every series is
    /// listed from the start, at 0, so a rate over it never starts blank.
    pub fn render(&self) -> String {
        let mut out = String::with_capacity(8 * 1024);
        let read = |counter: &AtomicU64| counter.load(Ordering::Relaxed);
        // Writing to a String cannot fail.
        let name = "courier_grants_signed_total";
        family(
            &mut out,
            name,
            "Upload grants signed by sign_upload, by the link the file gets.",
            "counter",
        );
        for link in [LinkKind::Expiring, LinkKind::Public] {
            let count = read(&self.grants_signed[link_index(link)]);
            let _ = writeln!(out, "{name}{{link=\"{}\"}} {count}", link.as_str());
        }
        for (name, help, counter) in [
            (
                "courier_confirmations_total",
                "Uploads confirmed at /confirm-upload, each answered with a link.",
                &self.confirmations,
            ),
            (
                "courier_links_renewed_total",
                "New links signed by sign_download.",
                &self.links_renewed,
            ),
            (
                "courier_deletes_total",
                "Files deleted by delete_upload.",
                &self.deletes,
            ),
            (
                "courier_rate_limited_total",
                "Requests refused by the rate limit (429).",
                &self.rate_limited,
            ),
            (
                "courier_store_errors_total",
                "Requests refused because the storage could not be reached or failed.",
                &self.store_errors,
            ),
        ] {
            family(&mut out, name, help, "counter");
            let _ = writeln!(out, "{name} {}", read(counter));
        }
        let name = "courier_refusals_total";
        family(
            &mut out,
            name,
            "Requests refused, by the refusal's wire code.",
            "counter",
        );
        for (code, counter) in RefusalCode::ALL.iter().zip(&self.refusals) {
            let _ = writeln!(out, "{name}{{reason=\"{code}\"}} {}", read(counter));
        }

        let name = "courier_request_duration_seconds";
        family(
            &mut out,
            name,
            "Time to answer a request (until its response head), by route.",
            "histogram",
        );
        for route in Route::ALL {
            let histogram = &self.durations[route as usize];
            let label = route.label();
            let mut cumulative = 0;
            for ((_, bound), bucket) in BUCKETS.iter().zip(&histogram.buckets) {
                cumulative += read(bucket);
                let _ = writeln!(out, "{name}_bucket{{route=\"{label}\",le=\"{bound}\"}} {cumulative}");
            }
            cumulative += read(&histogram.buckets[BUCKETS.len()]);
            let sum = read(&histogram.sum_nanos) as f64 / 1e9;
            let _ = writeln!(out, "{name}_bucket{{route=\"{label}\",le=\"+Inf\"}} {cumulative}");
            let _ = writeln!(out, "{name}_sum{{route=\"{label}\"}} {sum}");
            let _ = writeln!(out, "{name}_count{{route=\"{label}\"}} {cumulative}");
        }
        out
    }
}

fn family(out: &mut String, name: &str, help: &str, kind: &str) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
}

/// Where a link kind is counted: a new kind must be given its place.
fn link_index(link: LinkKind) -> usize {
    match link {
        LinkKind::Expiring => 0,
        LinkKind::Public => 1,
    }
}

/// The middleware: times every request it wraps and counts what happened.
pub async fn record(State(metrics): State<Arc<Metrics>>, request: Request, next: Next) -> Response {
    let route = Route::of(request.uri().path());
    let method = request.method().clone();
    let started = Instant::now();
    let response = next.run(request).await;
    metrics.record(route, &method, &response, started.elapsed());
    response
}

/// `GET /metrics`: what happened since this server started, never cached.
pub async fn expose(State(metrics): State<Arc<Metrics>>) -> Response {
    let headers = [
        (header::CONTENT_TYPE, CONTENT_TYPE),
        (header::CACHE_CONTROL, crate::cache_control::NO_STORE),
    ];
    (headers, metrics.render()).into_response()
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    #[test]
    fn a_share_is_timed_under_its_route_never_its_id() {
        assert_eq!(Route::of("/s/bh7HlS0IKnZsn82ewm52zg"), Route::SharePage);
        assert_eq!(Route::of("/s/bh7HlS0IKnZsn82ewm52zg/2"), Route::ShareDownload);
        assert_eq!(Route::of("/s/bh7HlS0IKnZsn82ewm52zg/qr.svg"), Route::Other);
        assert_eq!(Route::of("/s/bh7HlS0IKnZsn82ewm52zg/e2e"), Route::SealedShare);
        assert_eq!(Route::of("/s/bh7HlS0IKnZsn82ewm52zg/2/e2e"), Route::SealedDownload);
        assert_eq!(Route::of("/s/bh7HlS0IKnZsn82ewm52zg/2/e2e/renew"), Route::SealedRenewal);
        assert_eq!(Route::SharePage.label(), "/s/<id>");
        assert_eq!(Route::ShareDownload.label(), "/s/<id>/<n>");
        assert_eq!(Route::of("/sign-in"), Route::SignIn);
        assert_eq!(Route::of("/sign-out"), Route::Other);
    }

    fn response(status: StatusCode, extension: Option<RefusalCode>) -> Response {
        let mut response = status.into_response();
        if let Some(code) = extension {
            response.extensions_mut().insert(code);
        }
        response
    }

    /// The value of the one sample line for `series` (`name{labels}`).
    fn value(text: &str, series: &str) -> f64 {
        let mut found = text
            .lines()
            .filter_map(|line| line.strip_prefix(series)?.strip_prefix(' '));
        let value = found.next().unwrap_or_else(|| panic!("no {series} in\n{text}"));
        assert!(found.next().is_none(), "{series} twice");
        value.parse().expect("a number")
    }

    #[test]
    fn durations_fall_in_their_buckets_cumulatively() {
        let metrics = Metrics::new();
        let histogram = &metrics.durations[Route::SignUpload as usize];
        histogram.observe(Duration::from_millis(3));
        histogram.observe(Duration::from_millis(5));
        histogram.observe(Duration::from_secs(20));
        let text = metrics.render();
        let bucket = |le: &str| {
            value(
                &text,
                &format!("courier_request_duration_seconds_bucket{{route=\"/api/sign_upload\",le=\"{le}\"}}"),
            )
        };
        assert_eq!(bucket("0.0025"), 0.0);
        assert_eq!(bucket("0.005"), 2.0, "a bound is inclusive");
        assert_eq!(bucket("10"), 2.0);
        assert_eq!(bucket("+Inf"), 3.0);
        let count = "courier_request_duration_seconds_count{route=\"/api/sign_upload\"}";
        assert_eq!(value(&text, count), 3.0);
        let sum = value(
            &text,
            "courier_request_duration_seconds_sum{route=\"/api/sign_upload\"}",
        );
        assert!((sum - 20.008).abs() < 1e-9, "{sum}");
        assert_eq!(
            value(&text, "courier_request_duration_seconds_count{route=\"other\"}"),
            0.0
        );
    }

    #[test]
    fn responses_are_counted_by_what_they_say() {
        let metrics = Metrics::new();
        let mut granted = response(StatusCode::OK, None);
        granted.extensions_mut().insert(GrantedLink(LinkKind::Public));
        let elapsed = Duration::from_millis(1);
        metrics.record(Route::SignUpload, &Method::POST, &granted, elapsed);
        metrics.record(
            Route::Confirm,
            &Method::OPTIONS,
            &response(StatusCode::OK, None),
            elapsed,
        );
        metrics.record(Route::Confirm, &Method::GET, &response(StatusCode::OK, None), elapsed);
        metrics.record(Route::Page, &Method::GET, &response(StatusCode::OK, None), elapsed);
        let limited = response(StatusCode::TOO_MANY_REQUESTS, Some(RefusalCode("too_many_requests")));
        metrics.record(Route::SignUpload, &Method::POST, &limited, elapsed);
        let unreachable = response(StatusCode::BAD_GATEWAY, Some(RefusalCode("store_unavailable")));
        metrics.record(Route::Confirm, &Method::GET, &unreachable, elapsed);
        let text = metrics.render();
        for (series, expected) in [
            ("courier_grants_signed_total{link=\"public\"}", 1.0),
            ("courier_grants_signed_total{link=\"expiring\"}", 0.0),
            ("courier_confirmations_total", 1.0),
            ("courier_refusals_total{reason=\"too_many_requests\"}", 1.0),
            ("courier_refusals_total{reason=\"store_unavailable\"}", 1.0),
            ("courier_refusals_total{reason=\"bad_request\"}", 0.0),
            ("courier_rate_limited_total", 1.0),
            ("courier_store_errors_total", 1.0),
            ("courier_request_duration_seconds_count{route=\"/confirm-upload\"}", 3.0),
            ("courier_request_duration_seconds_count{route=\"/\"}", 1.0),
        ] {
            assert_eq!(value(&text, series), expected, "{series}");
        }
    }

    /// Each line is a `# HELP`, a `# TYPE` or a sample of the family the
    /// last `# TYPE` named; no series twice; every value a number.
    #[test]
    fn the_text_format_is_well_formed() {
        let text = Metrics::new().render();
        assert!(text.ends_with('\n'));
        let mut family: Option<(String, String)> = None;
        let mut series = HashSet::new();
        let mut families = HashSet::new();
        for line in text.lines() {
            if let Some(help) = line.strip_prefix("# HELP ") {
                let (name, text) = help.split_once(' ').expect("a name and a text");
                assert!(!text.is_empty() && families.insert(name.to_owned()), "{line}");
                continue;
            }
            if let Some(kind) = line.strip_prefix("# TYPE ") {
                let (name, kind) = kind.split_once(' ').expect("a name and a type");
                assert!(families.contains(name), "HELP before TYPE: {line}");
                assert!(matches!(kind, "counter" | "histogram"), "{line}");
                family = Some((name.to_owned(), kind.to_owned()));
                continue;
            }
            let (name_and_labels, value) = line.rsplit_once(' ').expect("a value");
            value.parse::<f64>().unwrap_or_else(|_| panic!("{line}"));
            let name = name_and_labels.split('{').next().expect("a name");
            assert!(name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'), "{line}");
            if let Some(labels) = name_and_labels.strip_prefix(name).filter(|l| !l.is_empty()) {
                let labels = labels
                    .strip_prefix('{')
                    .and_then(|l| l.strip_suffix('}'))
                    .expect("braces");
                for label in labels.split(',') {
                    let (key, quoted) = label.split_once('=').expect("key=value");
                    assert!(key.chars().all(|c| c.is_ascii_lowercase()), "{line}");
                    assert!(
                        quoted.len() >= 2 && quoted.starts_with('"') && quoted.ends_with('"'),
                        "{line}"
                    );
                }
            }
            let (family, kind) = family.as_ref().expect("a TYPE first");
            let belongs = match kind.as_str() {
                "histogram" => ["_bucket", "_sum", "_count"]
                    .iter()
                    .any(|s| name == format!("{family}{s}")),
                _ => name == family,
            };
            assert!(belongs, "{line} under {family}");
            assert!(series.insert(name_and_labels.to_owned()), "twice: {line}");
        }
        assert_eq!(families.len(), 8, "{families:?}");
    }
}
