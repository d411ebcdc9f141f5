//! What an operator polls: `/health`, `/ready` and `/metrics`, on the real
//! server; never rate limited, never cached.

use std::collections::HashMap;

use reqwest::{Response, StatusCode, header};

use courier_test_support::TestCourier;

/// Shares are kept in SQLite beside the store's data when no database is
/// named, created and migrated when Courier starts.
#[tokio::test]
async fn courier_starts_with_its_share_database_migrated() {
    let courier = TestCourier::start().await;
    let path = courier.store_dir.join("shares.db");
    assert!(path.is_file(), "{} was not created", path.display());
    let database = courier_shares::ShareDb::open(&courier_shares::DatabaseConfig::Sqlite { path })
        .await
        .expect("the database opens");
    let status = database.status().await.expect("a status");
    assert_eq!((status.backend, status.is_current()), ("sqlite", true), "{status:?}");
    assert!(status.known >= 1);
    database.close().await;
}

async fn get(courier: &TestCourier, path: &str) -> Response {
    courier
        .http
        .get(format!("{}{path}", courier.base))
        .send()
        .await
        .expect("Courier answers")
}

fn cache_control(response: &Response) -> &str {
    response
        .headers()
        .get(header::CACHE_CONTROL)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
}

/// Courier pointed at a bucket on a port where nothing listens.
async fn spawn_with_unreachable_store() -> TestCourier {
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("a port")
        .local_addr()
        .expect("addr");
    let vars = [
        ("COURIER_BUCKET", "courier"),
        ("COURIER_SECRET", "unreachable-store-test-secret-0123456789"),
        ("COURIER_S3_FORCE_PATH_STYLE", "true"),
        ("AWS_REGION", "garage"),
        ("AWS_ACCESS_KEY_ID", "GK0000"),
        ("AWS_SECRET_ACCESS_KEY", "nothing-listens-there"),
    ];
    TestCourier::builder()
        .configured_store()
        .envs(&vars)
        .env("AWS_ENDPOINT_URL_S3", format!("http://{closed}"))
        .start()
        .await
}

#[tokio::test]
async fn health_says_ok_and_is_never_cached() {
    let courier = TestCourier::start().await;
    let response = get(&courier, "/health").await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(cache_control(&response), "no-store");
    assert_eq!(response.text().await.expect("a body"), "ok");
}

#[tokio::test]
async fn ready_when_the_store_answers() {
    let courier = TestCourier::start().await;
    let response = get(&courier, "/ready").await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(cache_control(&response), "no-store");
    assert_eq!(response.text().await.expect("a body"), "ok");
}

#[tokio::test]
async fn not_ready_names_an_unreachable_store_in_a_sentence() {
    let courier = spawn_with_unreachable_store().await;
    let response = get(&courier, "/ready").await;
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(cache_control(&response), "no-store");
    assert_eq!(
        response.text().await.expect("a body"),
        "The storage could not be reached: the connection to it failed."
    );
    // Alive all the same: a restart would not bring the store back.
    assert_eq!(get(&courier, "/health").await.status(), StatusCode::OK);
}

#[tokio::test]
async fn probes_and_metrics_are_never_rate_limited() {
    let courier = TestCourier::builder().rate_limited(1).start().await;
    assert_eq!(
        courier.sign_upload("a.txt", "text/plain", 1).await.status(),
        StatusCode::OK
    );
    assert_eq!(
        courier.sign_upload("a.txt", "text/plain", 1).await.status(),
        StatusCode::TOO_MANY_REQUESTS
    );
    for _ in 0..5 {
        for path in ["/health", "/ready", "/metrics"] {
            assert_eq!(get(&courier, path).await.status(), StatusCode::OK, "{path}");
        }
    }
}

/// One upload, a renewal, a delete, one refused grant and one 429, counted.
#[tokio::test]
async fn metrics_count_what_happened() {
    // sign, confirm, renew, delete, the refused sign: then the limit.
    let courier = TestCourier::builder().rate_limited(5).start().await;
    let link = courier.upload("report.pdf", "application/pdf", b"%PDF-1.7").await;
    assert_eq!(
        courier.sign_download(&link.key, &link.token).await.status(),
        StatusCode::OK
    );
    assert_eq!(
        courier.delete_upload(&link.key, &link.token).await.status(),
        StatusCode::OK
    );
    assert_eq!(
        courier.sign_upload("empty.txt", "text/plain", 0).await.status(),
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        courier.sign_upload("late.txt", "text/plain", 1).await.status(),
        StatusCode::TOO_MANY_REQUESTS
    );
    // The probes are not timed, nor is /metrics itself.
    get(&courier, "/health").await;
    get(&courier, "/metrics").await;

    let response = get(&courier, "/metrics").await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response.headers()[header::CONTENT_TYPE],
        "text/plain; version=0.0.4; charset=utf-8"
    );
    assert_eq!(cache_control(&response), "no-store");
    let exposition = Exposition::parse(&response.text().await.expect("a body"));
    for (series, expected) in [
        ("courier_grants_signed_total{link=\"expiring\"}", 1.0),
        ("courier_grants_signed_total{link=\"public\"}", 0.0),
        ("courier_confirmations_total", 1.0),
        ("courier_links_renewed_total", 1.0),
        ("courier_deletes_total", 1.0),
        ("courier_refusals_total{reason=\"bad_request\"}", 1.0),
        ("courier_refusals_total{reason=\"too_many_requests\"}", 1.0),
        ("courier_refusals_total{reason=\"forbidden\"}", 0.0),
        ("courier_rate_limited_total", 1.0),
        ("courier_store_errors_total", 0.0),
        (
            "courier_request_duration_seconds_count{route=\"/api/sign_upload\"}",
            3.0,
        ),
        ("courier_request_duration_seconds_count{route=\"/confirm-upload\"}", 1.0),
        (
            "courier_request_duration_seconds_count{route=\"/api/sign_download\"}",
            1.0,
        ),
        (
            "courier_request_duration_seconds_count{route=\"/api/delete_upload\"}",
            1.0,
        ),
        ("courier_request_duration_seconds_count{route=\"/\"}", 0.0),
        ("courier_request_duration_seconds_count{route=\"/s/<id>\"}", 0.0),
        ("courier_request_duration_seconds_count{route=\"/s/<id>/<n>\"}", 0.0),
        ("courier_request_duration_seconds_count{route=\"/s/<id>/e2e\"}", 0.0),
        ("courier_request_duration_seconds_count{route=\"/s/<id>/<n>/e2e\"}", 0.0),
        (
            "courier_request_duration_seconds_count{route=\"/s/<id>/<n>/e2e/renew\"}",
            0.0,
        ),
        ("courier_request_duration_seconds_count{route=\"/sign-in\"}", 0.0),
        ("courier_request_duration_seconds_count{route=\"other\"}", 0.0),
    ] {
        assert_eq!(exposition.value(series), expected, "{series}");
    }
    exposition.assert_histograms_hold("courier_request_duration_seconds", 12);
    let signing = exposition.value("courier_request_duration_seconds_sum{route=\"/api/sign_upload\"}");
    assert!(signing > 0.0 && signing < 60.0, "{signing}");
}

#[tokio::test]
async fn an_unreachable_store_is_counted() {
    let courier = spawn_with_unreachable_store().await;
    let grant = courier.grant("a.txt", "text/plain", 1).await;
    let redirect = grant.fields["success_action_redirect"].clone();
    let url = format!("{redirect}&bucket=courier&key={}", grant.key);
    assert_eq!(
        courier.get_as(&url, "application/json").await.status(),
        StatusCode::BAD_GATEWAY
    );
    let exposition = Exposition::parse(&get(&courier, "/metrics").await.text().await.expect("a body"));
    assert_eq!(exposition.value("courier_store_errors_total"), 1.0);
    assert_eq!(
        exposition.value("courier_refusals_total{reason=\"store_unavailable\"}"),
        1.0
    );
    assert_eq!(exposition.value("courier_confirmations_total"), 0.0);
}

/// A parsed Prometheus text exposition: each family's `# HELP` and `# TYPE`,
/// and each sample line `name{labels} value`, checked as they are read.
struct Exposition {
    /// Family name → its type.
    types: HashMap<String, String>,
    /// `name{labels}` → value, in the order read.
    samples: Vec<(String, f64)>,
}

impl Exposition {
    fn parse(text: &str) -> Self {
        let mut helped = Vec::new();
        let mut types = HashMap::new();
        let mut samples: Vec<(String, f64)> = Vec::new();
        for line in text.lines() {
            if let Some(rest) = line.strip_prefix("# HELP ") {
                let (name, help) = rest.split_once(' ').expect("# HELP name text");
                assert!(!help.trim().is_empty(), "{line}");
                helped.push(name.to_owned());
            } else if let Some(rest) = line.strip_prefix("# TYPE ") {
                let (name, kind) = rest.split_once(' ').expect("# TYPE name type");
                assert!(helped.iter().any(|h| h == name), "TYPE without HELP: {line}");
                assert!(matches!(kind, "counter" | "gauge" | "histogram"), "{line}");
                assert!(types.insert(name.to_owned(), kind.to_owned()).is_none(), "{line}");
            } else {
                assert!(!line.starts_with('#') && !line.trim().is_empty(), "{line:?}");
                let (series, value) = line.rsplit_once(' ').expect("name{labels} value");
                let value: f64 = value.parse().unwrap_or_else(|_| panic!("not a number: {line}"));
                let name = series.split('{').next().expect("a name");
                assert!(
                    !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'),
                    "{line}"
                );
                if let Some(labels) = series.strip_prefix(name).filter(|l| !l.is_empty()) {
                    let labels = labels
                        .strip_prefix('{')
                        .and_then(|l| l.strip_suffix('}'))
                        .expect("{labels}");
                    for label in labels.split(',') {
                        let (key, quoted) = label.split_once('=').expect("key=\"value\"");
                        assert!(!key.is_empty() && key.chars().all(|c| c.is_ascii_lowercase()), "{line}");
                        assert!(
                            quoted.len() >= 2 && quoted.starts_with('"') && quoted.ends_with('"'),
                            "{line}"
                        );
                    }
                }
                let family = ["_bucket", "_sum", "_count"]
                    .iter()
                    .find_map(|suffix| {
                        name.strip_suffix(suffix)
                            .filter(|f| types.get(*f).is_some_and(|t| t == "histogram"))
                    })
                    .unwrap_or(name);
                assert!(types.contains_key(family), "a sample before its TYPE: {line}");
                assert!(samples.iter().all(|(s, _)| s != series), "twice: {line}");
                samples.push((series.to_owned(), value));
            }
        }
        Self { types, samples }
    }

    fn value(&self, series: &str) -> f64 {
        self.samples
            .iter()
            .find(|(s, _)| s == series)
            .map(|(_, v)| *v)
            .unwrap_or_else(|| panic!("no {series}"))
    }

    /// Per label set: buckets in ascending `le`, counts never decreasing,
    /// the last bucket `+Inf` and equal to `_count`; a `_sum` present.
    fn assert_histograms_hold(&self, name: &str, label_sets: usize) {
        assert_eq!(self.types.get(name).map(String::as_str), Some("histogram"));
        let mut buckets: Vec<(String, Vec<(f64, f64)>)> = Vec::new();
        let prefix = format!("{name}_bucket{{");
        for (series, value) in &self.samples {
            let Some(labels) = series.strip_prefix(&prefix).and_then(|l| l.strip_suffix('}')) else {
                continue;
            };
            let (others, le) = labels.rsplit_once(",le=").expect("le last");
            let le = match le.trim_matches('"') {
                "+Inf" => f64::INFINITY,
                bound => bound.parse().expect("a bound"),
            };
            match buckets.iter_mut().find(|(o, _)| o == others) {
                Some((_, list)) => list.push((le, *value)),
                None => buckets.push((others.to_owned(), vec![(le, *value)])),
            }
        }
        assert_eq!(buckets.len(), label_sets, "{buckets:?}");
        for (labels, list) in &buckets {
            assert!(list.len() >= 2, "{labels}");
            for pair in list.windows(2) {
                assert!(pair[0].0 < pair[1].0, "{labels}: bounds ascend");
                assert!(pair[0].1 <= pair[1].1, "{labels}: counts never decrease");
            }
            let (last_le, last) = list[list.len() - 1];
            assert_eq!(last_le, f64::INFINITY, "{labels}: +Inf last");
            assert_eq!(last, self.value(&format!("{name}_count{{{labels}}}")), "{labels}");
            self.value(&format!("{name}_sum{{{labels}}}"));
        }
    }
}
