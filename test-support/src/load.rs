//! Many uploads at once, each through the whole flow, and what they came to.

use app::model::{DownloadLink, UploadGrant};
use reqwest::multipart::{Form, Part};
use reqwest::{StatusCode, header};
use wire::endpoint::{self, FORM_CONTENT_TYPE};

use crate::browser::location;
use crate::bytes::{md5_hex, tricky_bytes};
use crate::test_courier::IDLE_CONNECTION_LIFETIME;
use crate::test_courier::TestCourier;

/// What one run of many uploads at once came to.
#[derive(Debug)]
pub struct LoadReport {
    pub uploads: usize,
    pub clients: usize,
    pub bytes: u64,
    pub elapsed: std::time::Duration,
    /// How long each `sign_upload` and each `/confirm-upload` took, as the
    /// clients saw them during the run (answered calls only).
    pub signing: Vec<std::time::Duration>,
    pub confirming: Vec<std::time::Duration>,
    /// One line per upload that did not end in a working link.
    pub failures: Vec<String>,
}

/// What one client saw of its uploads.
#[derive(Default)]
struct ClientRun {
    signing: Vec<std::time::Duration>,
    confirming: Vec<std::time::Duration>,
    failures: Vec<String>,
}

/// `uploads` uploads from `clients` clients at once (each its own
/// connections), each through the whole flow as the browser runs it: sign,
/// POST to the store, follow the 303 to `/confirm-upload` as fetch does,
/// download the link; bytes and ETag must match what was sent. Sizes run
/// from 1 byte to 1 MB, names are not all ASCII.
pub async fn upload_many(courier: &TestCourier, clients: usize, uploads: usize) -> LoadReport {
    let started = std::time::Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    let mut total = 0u64;
    for client in 0..clients {
        let mine: Vec<usize> = (client..uploads).step_by(clients).collect();
        total += mine.iter().map(|&i| load_size(i) as u64).sum::<u64>();
        let base = courier.base.clone();
        tasks.spawn(async move {
            let http = reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .pool_idle_timeout(IDLE_CONNECTION_LIFETIME)
                // Each client from an address of its own, as clients are:
                // the store and the app give each address its share.
                .local_address(client_address(client))
                .build()
                .expect("client");
            let mut run = ClientRun::default();
            for i in mine {
                if let Err(error) = upload_once(&http, &base, i, &mut run).await {
                    run.failures
                        .push(format!("upload {i} ({} bytes): {error}", load_size(i)));
                }
            }
            run
        });
    }
    let mut report = LoadReport {
        uploads,
        clients,
        bytes: total,
        elapsed: std::time::Duration::ZERO,
        signing: Vec::new(),
        confirming: Vec::new(),
        failures: Vec::new(),
    };
    while let Some(result) = tasks.join_next().await {
        let run = result.expect("a client task");
        report.signing.extend(run.signing);
        report.confirming.extend(run.confirming);
        report.failures.extend(run.failures);
    }
    report.elapsed = started.elapsed();
    report
}

/// A loopback address of client `n`'s own (127.0.1.1, 127.0.1.2 …): Linux
/// routes all of 127.0.0.0/8 to the loopback interface, so a test can play
/// many clients on one machine.
pub fn client_address(n: usize) -> std::net::IpAddr {
    let n = u16::try_from(n % 65_000).unwrap_or(0) + 1;
    let [high, low] = n.to_be_bytes();
    std::net::IpAddr::from([127, 1 + high / 128, high % 128, low])
}

impl LoadReport {
    /// Prints the run's figures (for SECURITY.md) and fails on any lost upload.
    pub fn assert_every_upload_landed(&self, store: &str) {
        eprintln!(
            "{store}: {} uploads ({} MB) from {} clients in {:.1} s ({:.0} uploads/s), {} failed; \
             sign_upload p50 {} / p99 {}, /confirm-upload p50 {} / p99 {}",
            self.uploads,
            self.bytes / 1_000_000,
            self.clients,
            self.elapsed.as_secs_f64(),
            self.uploads as f64 / self.elapsed.as_secs_f64(),
            self.failures.len(),
            millis(percentile(&self.signing, 50)),
            millis(percentile(&self.signing, 99)),
            millis(percentile(&self.confirming, 50)),
            millis(percentile(&self.confirming, 99)),
        );
        assert!(
            self.failures.is_empty(),
            "{} of {} uploads failed:\n{}",
            self.failures.len(),
            self.uploads,
            self.failures.join("\n")
        );
        // Every upload was signed and confirmed once, and each call was timed.
        assert_eq!(
            (self.signing.len(), self.confirming.len()),
            (self.uploads, self.uploads)
        );
    }
}

/// The `p`th percentile (nearest rank) of `times`.
fn percentile(times: &[std::time::Duration], p: usize) -> Option<std::time::Duration> {
    let mut sorted = times.to_vec();
    sorted.sort();
    let rank = (sorted.len() * p).div_ceil(100);
    sorted.get(rank.saturating_sub(1)).copied()
}

fn millis(time: Option<std::time::Duration>) -> String {
    time.map_or_else(|| "-".to_owned(), |t| format!("{:.1} ms", t.as_secs_f64() * 1000.0))
}

/// A multipart threshold that lets the 72 MiB file below go up in one POST.
pub const BIG_FILE_IN_ONE_POST: (&str, &str) = ("COURIER_MULTIPART_THRESHOLD", "134217728");

/// 72 MiB with near-boundaries every 64 KiB, POSTed in 4 MiB writes as
/// `curl -F file=@big.bin` sends it; the link must serve it back whole.
pub async fn upload_big_file_in_large_writes(courier: &TestCourier) {
    let bytes = bytes::Bytes::from(tricky_bytes(72 * 1024 * 1024));
    let grant = courier
        .grant("big data set.bin", "application/octet-stream", bytes.len() as u64)
        .await;
    let stored = courier
        .post_in_large_writes(&grant, "big data set.bin", bytes.clone(), 4 * 1024 * 1024)
        .await;
    let link = courier.link_from(stored).await;
    assert_eq!(
        (link.size, link.etag.as_str()),
        (bytes.len() as u64, md5_hex(&bytes).as_str())
    );
    assert!(
        courier.downloaded_bytes(&link.download_url).await == bytes,
        "the bytes differ"
    );
}

fn load_size(i: usize) -> usize {
    match i % 10 {
        0 => 1,
        1 => 1_000_000,
        _ => 1 + i * 7919 % 1_000_000,
    }
}

/// An error and every cause under it: reqwest's own message names only the URL.
fn with_causes(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut cause = error.source();
    while let Some(inner) = cause {
        text.push_str(&format!(": {inner}"));
        cause = inner.source();
    }
    text
}

async fn upload_once(http: &reqwest::Client, base: &str, i: usize, run: &mut ClientRun) -> Result<(), String> {
    let name = format!("файл {i} ✓.bin");
    let bytes = tricky_bytes(load_size(i));
    let call = endpoint::sign_upload(&name, "application/octet-stream", bytes.len() as u64, None);
    let asked = std::time::Instant::now();
    let signed = http
        .post(format!("{base}{}", call.path()))
        .header(header::CONTENT_TYPE, FORM_CONTENT_TYPE)
        .body(call.body())
        .send()
        .await
        .map_err(|e| format!("sign_upload: {}", with_causes(&e)))?;
    run.signing.push(asked.elapsed());
    if signed.status() != StatusCode::OK {
        return Err(format!("sign_upload answered {}", signed.status()));
    }
    let grant: UploadGrant = signed.json().await.map_err(|e| format!("grant: {e}"))?;
    let mut form = Form::new();
    for (field, value) in &grant.fields {
        form = form.text(field.to_owned(), value.to_owned());
    }
    let part = Part::bytes(bytes.clone())
        .file_name(name.clone())
        .mime_str("application/octet-stream")
        .map_err(|e| e.to_string())?;
    let stored = http
        .post(&grant.url)
        .header(header::ORIGIN, base)
        .multipart(form.part("file", part))
        .send()
        .await
        .map_err(|e| format!("store POST: {}", with_causes(&e)))?;
    if stored.status() != StatusCode::SEE_OTHER {
        let status = stored.status();
        return Err(format!(
            "store answered {status}: {}",
            stored.text().await.unwrap_or_default()
        ));
    }
    let asked = std::time::Instant::now();
    let confirmed = http
        .get(location(&stored))
        .header(header::ACCEPT, "application/json")
        .header(header::ORIGIN, "null")
        .send()
        .await
        .map_err(|e| format!("confirm: {}", with_causes(&e)))?;
    run.confirming.push(asked.elapsed());
    if confirmed.status() != StatusCode::OK {
        return Err(format!("confirm answered {}", confirmed.status()));
    }
    let link: DownloadLink = confirmed.json().await.map_err(|e| format!("link: {e}"))?;
    if link.etag != md5_hex(&bytes) || link.size != bytes.len() as u64 || link.filename != name {
        return Err(format!("the link describes another file: {link:?}"));
    }
    let downloaded = http
        .get(&link.download_url)
        .send()
        .await
        .map_err(|e| format!("download: {}", with_causes(&e)))?;
    if downloaded.status() != StatusCode::OK {
        return Err(format!("download answered {}", downloaded.status()));
    }
    let got = downloaded
        .bytes()
        .await
        .map_err(|e| format!("download body: {}", with_causes(&e)))?;
    if got.as_ref() != bytes.as_slice() {
        return Err(format!("the link served {} other bytes", got.len()));
    }
    Ok(())
}
