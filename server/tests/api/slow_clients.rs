//! Slow and idle clients (issue 13): on the app's port, connections that
//! send nothing, half a request line, or half a body keep nobody out, and are
//! closed after the header-read time (or the body's idle time); past the
//! connection cap, new connections wait for a free slot instead of failing.
//! A body that stops arriving is answered as such: 408 and a sentence from
//! the app, S3's `400 RequestTimeout` from the embedded store.

use std::time::Duration;

use courier::serve::{Limits, S3_REQUEST_TIMEOUT, Serving};
use reqwest::StatusCode;
use tokio::io::AsyncWriteExt as _;
use tokio::net::TcpStream;
use tokio::time::Instant;

use crate::raw_http::{closed_by, host_of, path_of, read_response, start_request, still_open, upload_form};
use courier_test_support::{TestCourier, sample_bytes};

/// The app's limits, shortened so a test takes seconds.
async fn spawn_with_app_limits(app: Limits) -> TestCourier {
    spawn_serving(Serving {
        app,
        ..Serving::default()
    })
    .await
}

/// Courier on the embedded store, served with `serving`'s limits.
pub async fn spawn_serving(serving: Serving) -> TestCourier {
    TestCourier::builder().serving(serving).start().await
}

async fn connect_many(addr: &str, count: usize) -> Vec<TcpStream> {
    let mut streams = Vec::with_capacity(count);
    for _ in 0..count {
        streams.push(TcpStream::connect(addr).await.expect("connect"));
    }
    streams
}

#[tokio::test]
async fn idle_and_half_sent_connections_keep_nobody_out_and_are_closed() {
    let limits = Limits {
        header_read: Duration::from_secs(3),
        body_idle: Duration::from_secs(3),
        // 555 connections from this one address: this test is about the
        // port's limits; a client's own share is `hostile_clients.rs`'.
        max_connections_per_client: Limits::APP.max_connections,
        ..Limits::APP
    };
    let courier = spawn_with_app_limits(limits).await;
    let app = host_of(&courier.base).to_owned();

    let opened = Instant::now();
    let mut idle = connect_many(&app, 500).await;
    let mut half_lines = connect_many(&app, 50).await;
    for stream in &mut half_lines {
        stream
            .write_all(b"POST /api/sign_up")
            .await
            .expect("half a request line");
    }
    // Half a body, in a handler already (100 Continue): the body's idle time ends it.
    let body = "filename=a.txt&content_type=text%2Fplain&size=5";
    let mut half_bodies = Vec::new();
    for _ in 0..5 {
        let headers = [("Content-Type", "application/x-www-form-urlencoded".to_owned())];
        let mut stream = start_request(&app, "POST", "/api/sign_upload", &headers, body.len()).await;
        stream.write_all(&body.as_bytes()[..10]).await.expect("half the body");
        half_bodies.push(stream);
    }

    // Meanwhile, a person signs, uploads and confirms as usual.
    let bytes = sample_bytes(200_000);
    let link = tokio::time::timeout(
        Duration::from_secs(20),
        courier.upload("quarterly report.pdf", "application/pdf", &bytes),
    )
    .await
    .expect("an upload within normal time despite 555 idle connections");
    assert_eq!(link.size, bytes.len() as u64);
    assert_eq!(courier.downloaded_bytes(&link.download_url).await, bytes);
    let upload_took = opened.elapsed();
    if upload_took < limits.header_read {
        // Held open, not refused: they were simply no obstacle.
        assert!(idle.iter().all(still_open), "idle connections closed early");
    }

    // Each idle connection is closed once its header time is over: not
    // before, and not long after.
    let early = opened + limits.header_read - Duration::from_millis(500);
    assert!(!closed_by(&mut idle[0], early).await, "closed before its header time");
    let deadline = Instant::now() + limits.header_read + Duration::from_secs(5);
    for (i, stream) in idle.iter_mut().chain(half_lines.iter_mut()).enumerate() {
        assert!(closed_by(stream, deadline).await, "connection {i} is still open");
    }
    // The stalled bodies: answered 408, with a sentence, once their body
    // sent nothing for a while; their connections closed.
    let mut refusals = Vec::new();
    for stream in &mut half_bodies {
        let response = tokio::time::timeout(limits.body_idle + Duration::from_secs(10), read_response(stream))
            .await
            .expect("an answer to a stalled body");
        assert_eq!(response.status, 408, "{}", response.head);
        assert_eq!(response.header("connection"), Some("close"), "{}", response.head);
        let refusal: serde_json::Value = serde_json::from_slice(&response.body).expect("a JSON refusal");
        assert_eq!(
            refusal["error"],
            "The request stopped arriving: nothing came for 3 seconds. Check your connection and send it again."
        );
        refusals.push(response.status);
        assert!(closed_by(stream, Instant::now() + Duration::from_secs(5)).await);
    }
    eprintln!(
        "555 idle connections: an upload took {upload_took:?}; all closed {:?} after opening; stalled bodies answered {refusals:?}",
        opened.elapsed()
    );
}

#[tokio::test]
async fn at_the_connection_cap_a_new_client_waits_for_a_free_slot() {
    let limits = Limits {
        header_read: Duration::from_secs(2),
        max_connections: 20,
        ..Limits::APP
    };
    let courier = spawn_with_app_limits(limits).await;
    let app = host_of(&courier.base).to_owned();
    let _idle = connect_many(&app, limits.max_connections).await;

    let started = Instant::now();
    let response = tokio::time::timeout(
        Duration::from_secs(20),
        courier.sign_upload("holiday.jpg", "image/jpeg", 3_500_000),
    )
    .await
    .expect("served once an idle connection is closed");
    assert_eq!(response.status(), StatusCode::OK);
    let waited = started.elapsed();
    // It waited in the listen queue until the idle ones' header time ran
    // out: the cap held, and nothing failed.
    assert!(
        waited >= limits.header_read - Duration::from_millis(500),
        "served at once: the cap did not hold ({waited:?})"
    );
    eprintln!(
        "at the cap of {}: a new client was served after {waited:?}",
        limits.max_connections
    );
}

/// With the real limits, once: an idle connection, and a keep-alive one
/// after its answer, are closed after 10 s.
#[tokio::test]
async fn idle_connections_to_the_app_are_closed_after_ten_seconds() {
    let courier = TestCourier::start().await;
    let app = host_of(&courier.base).to_owned();
    let header_read = Limits::APP.header_read;
    assert_eq!(header_read, Duration::from_secs(10));

    let opened = Instant::now();
    let mut silent = TcpStream::connect(&app).await.expect("connect");
    let mut kept_alive = TcpStream::connect(&app).await.expect("connect");
    kept_alive
        .write_all(format!("GET /health HTTP/1.1\r\nHost: {app}\r\n\r\n").as_bytes())
        .await
        .expect("a request");
    let answer = read_response(&mut kept_alive).await;
    assert_eq!(answer.status, 200);
    assert_ne!(answer.header("connection"), Some("close"), "keep-alive");
    let answered = Instant::now();

    assert!(!closed_by(&mut silent, opened + header_read - Duration::from_millis(500)).await);
    assert!(closed_by(&mut silent, opened + header_read + Duration::from_secs(3)).await);
    assert!(closed_by(&mut kept_alive, answered + header_read + Duration::from_secs(3)).await);
    assert!(answered.elapsed() >= header_read - Duration::from_millis(500));
}

#[tokio::test]
async fn an_upload_that_stops_arriving_is_answered_as_s3_answers_it() {
    let store = Limits {
        body_idle: Duration::from_secs(2),
        ..Limits::STORE
    };
    let courier = spawn_serving(Serving {
        store,
        ..Serving::default()
    })
    .await;
    let bytes = sample_bytes(100_000);
    let grant = courier
        .grant("stalled.bin", "application/octet-stream", bytes.len() as u64)
        .await;
    let (content_type, first, rest) = upload_form(&grant, "stalled.bin", &bytes);
    let headers = [("Content-Type", content_type), ("Origin", courier.base.clone())];
    let length = first.len() + rest.len();
    let mut stream = start_request(host_of(&grant.url), "POST", &path_of(&grant.url), &headers, length).await;
    // The fields and half the file, then nothing.
    stream.write_all(&first).await.expect("the first half");
    let response = tokio::time::timeout(store.body_idle + Duration::from_secs(10), read_response(&mut stream))
        .await
        .expect("an answer to a stalled upload");
    assert_eq!(response.status, 400, "{}", response.head);
    assert_eq!(response.header("connection"), Some("close"), "{}", response.head);
    // The page reads the refusal, across origins.
    assert_eq!(
        response.header("access-control-allow-origin"),
        Some(courier.base.as_str())
    );
    let error = String::from_utf8_lossy(&response.body);
    assert!(
        error.contains(&format!(
            "<Code>RequestTimeout</Code><Message>{S3_REQUEST_TIMEOUT}</Message>"
        )),
        "{error}"
    );
    assert!(closed_by(&mut stream, Instant::now() + Duration::from_secs(5)).await);
    // Nothing of it was kept, and its grant may try again.
    assert!(!courier.object_path(&grant.key).exists(), "half a file was stored");
    let stored = courier
        .post_to_store(
            &grant.url,
            &grant.fields,
            "stalled.bin",
            "application/octet-stream",
            &bytes,
        )
        .await;
    let link = courier.link_from(stored).await;
    assert_eq!(courier.downloaded_bytes(&link.download_url).await, bytes);
}
