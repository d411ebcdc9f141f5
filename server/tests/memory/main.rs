//! Memory under an anonymous flood: a POST without a policy must be refused
//! from its form fields, before its file is read. Alone in its own test
//! binary, so the process's peak memory is this test's.

use bytes::Bytes;
use futures::StreamExt as _;

const GIB: u64 = 1024 * 1024 * 1024;
const CHUNK: usize = 256 * 1024;

/// The process's peak resident memory since the last reset, in bytes.
fn peak_rss() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    let kib: u64 = status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmHWM");
    kib * 1024
}

fn reset_peak_rss() {
    // "5" resets the peak (VmHWM) to the current resident size.
    std::fs::write("/proc/self/clear_refs", "5").expect("clear_refs");
}

/// One anonymous multipart POST of `size` bytes, generated as it is sent.
async fn anonymous_post(url: String, size: u64, declare_length: bool) -> Option<reqwest::StatusCode> {
    let boundary = "----courierAnonymousFlood";
    let head = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"key\"\r\n\r\nuploads/6f1d1c52-3a55-4f4c-9a4e-1d7f25d1c0aa/flood.bin\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"flood.bin\"\r\n\r\n"
    );
    let tail = format!("\r\n--{boundary}--\r\n");
    let length = head.len() as u64 + size + tail.len() as u64;
    let chunk = Bytes::from(vec![b'x'; CHUNK]);
    let chunks = size.div_ceil(CHUNK as u64);
    let body = futures::stream::once(async move { Bytes::from(head) })
        .chain(futures::stream::iter(0..chunks).map(move |i| {
            let last = (size - i * CHUNK as u64).min(CHUNK as u64) as usize;
            chunk.slice(..last)
        }))
        .chain(futures::stream::once(async move { Bytes::from(tail) }))
        .map(Ok::<_, std::io::Error>);
    let mut request = reqwest::Client::new()
        .post(url)
        .header("content-type", format!("multipart/form-data; boundary={boundary}"));
    if declare_length {
        request = request.header("content-length", length);
    }
    request
        .body(reqwest::Body::wrap_stream(body))
        .send()
        .await
        .ok()
        .map(|r| r.status())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn anonymous_gigabyte_posts_leave_memory_where_it_was() {
    // A POST limit above the POSTs' size, so the body cap does not refuse them first.
    let courier = courier_test_support::TestCourier::builder()
        .envs(&[
            ("COURIER_MAX_UPLOAD_BYTES", "4294967296"),
            ("COURIER_MULTIPART_THRESHOLD", "4294967296"),
        ])
        .start()
        .await;
    let url = format!("{}/{}", courier.store, courier.bucket);
    // Warm up: the first requests allocate the runtime's and client's buffers.
    anonymous_post(url.clone(), 1024, true).await;
    reset_peak_rss();
    let before = peak_rss();
    // Two with their length declared, one chunked (no length at all).
    let posts: Vec<_> = [true, true, false]
        .into_iter()
        .map(|declared| tokio::spawn(anonymous_post(url.clone(), GIB, declared)))
        .collect();
    for post in posts {
        let status = post.await.expect("a task");
        // Refused from the fields (or cut off while still sending): never stored.
        assert!(status.is_none_or(|s| s == reqwest::StatusCode::FORBIDDEN), "{status:?}");
    }
    let grown = peak_rss().saturating_sub(before);
    eprintln!("three anonymous 1 GiB POSTs: peak memory grew by {} KiB", grown / 1024);
    assert!(grown < 16 * 1024 * 1024, "peak memory grew by {} MiB", grown >> 20);
    assert_eq!(courier.stored_keys(), Vec::<String>::new());
}
