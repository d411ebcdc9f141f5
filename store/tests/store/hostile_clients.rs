//! One stranger against everyone else (issue 26), on the store's port: a
//! client that trickles bodies a byte at a time on hundreds of connections,
//! as an attacker would, from an address of its own (127.0.0.2; the honest
//! client is 127.0.0.1). Before, 530 trickled part uploads took every one
//! of the store's 512 slots (every download and upload answered `503
//! SlowDown`). Now each client has its share of the slots, reads and writes
//! have pools of their own, and a body slower than the floor is cut.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use courier_serve::{BodyRate, Limits};
use courier_store::S3_REQUEST_TIMEOUT;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpSocket, TcpStream};
use tokio::task::JoinSet;

use crate::support::{TestStore, part_sha256, sample_bytes};

/// The attacker's address: loopback, but not the honest client's.
const ATTACKER: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(127, 0, 0, 2));
/// A second slow client, whose single trickle is watched being cut.
const SLOW_CLIENT: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(127, 0, 0, 3));

/// Bodies must come at 4 KiB/s over each 3 s of waiting (20 s by default),
/// so the test sees trickles cut within seconds.
const FLOOR: BodyRate = BodyRate {
    bytes_per_sec: 4096,
    window: Duration::from_secs(3),
};

async fn connect_from(source: IpAddr, addr: &str) -> std::io::Result<TcpStream> {
    let addr: SocketAddr = addr.parse().map_err(std::io::Error::other)?;
    let socket = TcpSocket::new_v4()?;
    socket.bind(SocketAddr::new(source, 0))?;
    socket.connect(addr).await
}

/// Opens `count` connections from the attacker, sends `head` and one byte of
/// the body on each, then a byte a second on each until the task is
/// dropped (which closes them all). Connections the server closes are left behind.
struct Trickle {
    sent: JoinSet<Option<TcpStream>>,
}

impl Trickle {
    async fn start(addr: &str, head: String, count: usize) -> Self {
        let mut opened = Vec::with_capacity(count);
        for _ in 0..count {
            if let Ok(mut stream) = connect_from(ATTACKER, addr).await
                && stream.write_all(head.as_bytes()).await.is_ok()
                && stream.write_all(b"x").await.is_ok()
            {
                opened.push(stream);
            }
        }
        let mut sent = JoinSet::new();
        for mut stream in opened {
            sent.spawn(async move {
                for _ in 0..30 {
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    if stream.write_all(b"x").await.is_err() {
                        return None;
                    }
                }
                Some(stream)
            });
        }
        Self { sent }
    }

    /// Connections still trickling: those the server closed fail a write
    /// within a second or two.
    fn still_sending(&mut self) -> usize {
        while self.sent.try_join_next().is_some() {}
        self.sent.len()
    }
}

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

/// What `addr` answers a slow client (not the attacker: its own
/// connections take a while to be given back) that sends `head` and then a
/// byte every half second, through one window of the floor and a little more.
async fn one_trickle(addr: &str, head: &str) -> String {
    let mut one = connect_from(SLOW_CLIENT, addr).await.expect("connects");
    one.write_all(head.as_bytes()).await.expect("sent");
    let dripping = async {
        loop {
            tokio::time::sleep(Duration::from_millis(500)).await;
            // Ignored once the server has answered and closed.
            let _ = one.write_all(b"a").await;
        }
    };
    let _ = tokio::time::timeout(FLOOR.window + Duration::from_secs(2), dripping).await;
    answer_on(one, Duration::from_secs(5)).await
}

/// The first line and what follows, as far as it came within `within`.
async fn answer_on(mut stream: TcpStream, within: Duration) -> String {
    let mut answer = Vec::new();
    let mut buf = [0u8; 4096];
    let deadline = tokio::time::Instant::now() + within;
    while let Ok(Ok(read)) = tokio::time::timeout_at(deadline, stream.read(&mut buf)).await {
        if read == 0 {
            break;
        }
        answer.extend_from_slice(&buf[..read]);
    }
    String::from_utf8_lossy(&answer).into_owned()
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
