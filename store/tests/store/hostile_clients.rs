//! One stranger against everyone else (issue 26), on the store's port: a
//! client that trickles bodies a byte at a time on hundreds of connections,
//! as an attacker would, from an address of its own (127.0.0.2; the honest
//! client is 127.0.0.1). Before, 530 trickled part uploads took every one
//! of the store's 512 slots (every download and upload answered `503
//! SlowDown`). Now each client has its share of the slots, reads and writes
//! have pools of their own, and a body slower than the floor is cut.

use std::time::Duration;

use courier_serve::Limits;
use courier_store::S3_REQUEST_TIMEOUT;
use tokio::io::AsyncWriteExt as _;
use tokio::net::TcpStream;

use courier_test_support::{FLOOR, Trickle, answer_on, one_trickle};

use crate::support::{TestStore, part_sha256, sample_bytes};

/// A 16 MiB multipart upload started as the app starts it, the head of a
/// raw `PUT` of its first part (its URL signs an exact 8 MiB length and the
/// part's SHA-256), and that part's bytes. Its key and upload id too.
async fn first_part_put(store: &TestStore, name: &str) -> (String, String, String, Vec<u8>) {
    let key = TestStore::multipart_key(name);
    let upload_id = store.start_multipart(&key, 16 << 20).await.expect("started");
    let part = sample_bytes(8 << 20);
    let url = store.part_url(&key, &upload_id, 1, &part);
    let path = &url[store.endpoint.len()..];
    let head = format!(
        "PUT {path} HTTP/1.1\r\nHost: {}\r\nContent-Length: {}\r\nx-amz-checksum-sha256: {}\r\n\r\n",
        store.addr(),
        part.len(),
        part_sha256(&part)
    );
    (key, upload_id, head, part)
}

#[tokio::test]
async fn trickled_part_uploads_on_many_connections_take_the_store_from_no_one() {
    // No floor on the body rate here: each client's share of the slots, and
    // reads apart from writes, must hold the attack back by themselves.
    let store = TestStore::builder()
        .limits(Limits {
            min_body_rate: None,
            ..Limits::STORE
        })
        .start()
        .await;
    let shared = store
        .upload("before.txt", "text/plain", b"shared before the attack")
        .await;

    // One multipart start and one part URL, as the report did: it signs an
    // exact 8 MiB length, and works on any number of connections.
    let (_, _, head, _) = first_part_put(&store, "attack.bin").await;
    let mut trickle = Trickle::start(store.addr(), head, 530).await;
    // Let it take what it can.
    tokio::time::sleep(Duration::from_millis(500)).await;

    // The honest client downloads and uploads in time (before: 503 after
    // waiting 30 s for a slot).
    let honest = std::time::Instant::now();
    let downloaded = tokio::time::timeout(Duration::from_secs(10), store.downloaded(&shared))
        .await
        .expect("a download while the store is trickled at");
    assert_eq!(downloaded, b"shared before the attack");
    let during = tokio::time::timeout(
        Duration::from_secs(10),
        store.upload("during.txt", "text/plain", b"uploaded during the attack"),
    )
    .await
    .expect("an upload while the store is trickled at");
    assert_eq!(store.downloaded(&during).await, b"uploaded during the attack");
    eprintln!(
        "530 trickled part uploads, {} of them still open: a download and a whole upload took {:?}",
        trickle.still_sending(),
        honest.elapsed()
    );
}

/// A trickled part is cut as S3 cuts a slow client, after one window of
/// waiting under the floor, and nothing of it is kept.
#[tokio::test]
async fn a_trickled_part_is_cut_as_s3_cuts_a_slow_client() {
    let store = TestStore::builder()
        .limits(Limits {
            min_body_rate: Some(FLOOR),
            ..Limits::STORE
        })
        .start()
        .await;
    let (key, upload_id, head, _) = first_part_put(&store, "slow.bin").await;
    let started = std::time::Instant::now();
    let answer = one_trickle(store.addr(), &format!("{head}x")).await;
    assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
    assert!(
        answer.contains("<Code>RequestTimeout</Code>") && answer.contains(S3_REQUEST_TIMEOUT),
        "{answer}"
    );
    assert!(started.elapsed() < Duration::from_secs(12), "{:?}", started.elapsed());
    eprintln!("a trickled part was cut after {:?}", started.elapsed());
    assert_eq!(store.listed_parts(&key, &upload_id).await, 0);
}

/// A client that stops halfway through a part (closes its side) is told
/// `400 IncompleteBody`, as S3 tells it, not `500 InternalError`; nothing of
/// the part is kept.
#[tokio::test]
async fn a_part_cut_off_before_its_length_is_the_clients_fault() {
    let store = TestStore::start().await;
    let (key, upload_id, head, part) = first_part_put(&store, "cut.bin").await;
    let mut stream = TcpStream::connect(store.addr()).await.expect("connects");
    stream.write_all(head.as_bytes()).await.expect("sent");
    stream.write_all(&part[..100_000]).await.expect("sent");
    stream.shutdown().await.expect("half-closed");
    let answer = answer_on(stream, Duration::from_secs(10)).await;
    assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
    assert!(answer.contains("<Code>IncompleteBody</Code>"), "{answer}");
    assert_eq!(store.listed_parts(&key, &upload_id).await, 0);
}
