//! One stranger against everyone else (issue 26): a client that trickles
//! bodies a byte at a time on hundreds of connections, as an attacker would,
//! from an address of its own (127.0.0.2; the honest client is 127.0.0.1).
//! Before, 530 trickled part uploads took every one of the store's 512 slots
//! (every download and upload answered `503 SlowDown`), and 4,150 trickled
//! `sign_parts` took all of the app's 4,096 connections (`GET /` went
//! unanswered). Now each client has its share of the slots and connections,
//! reads and writes have pools of their own, and a body slower than the
//! floor is cut.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use courier::serve::{BodyRate, Limits, Serving};
use reqwest::StatusCode;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpSocket, TcpStream};
use tokio::task::JoinSet;

use crate::raw_http::host_of;
use crate::slow_clients::spawn_serving;

/// The attacker's address: loopback, but not the honest client's.
const ATTACKER: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(127, 0, 0, 2));
/// A second slow client, whose single trickle is watched being cut (the
/// attacker's own connections take a while to be given back: those that
/// wait for a slot are not reading, so they see their client leave only
/// when their wait ends).
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
async fn trickled_sign_parts_on_thousands_of_connections_leave_the_page_answering() {
    // No floor on the body rate: each client's share of the connections
    // (and `sign_parts`' own allowance) must hold it back by themselves.
    let courier = spawn_serving(Serving {
        app: Limits {
            min_body_rate: None,
            ..Limits::APP
        },
        ..Serving::default()
    })
    .await;
    let head = format!(
        "POST /api/sign_parts HTTP/1.1\r\nHost: {}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 60000\r\n\r\n",
        host_of(&courier.base)
    );
    // More than the app's 4,096 connections.
    let mut trickle = Trickle::start(host_of(&courier.base), head, 4_200).await;
    let asked = std::time::Instant::now();

    let page = tokio::time::timeout(Duration::from_secs(5), courier.get_as(&courier.base, "text/html"))
        .await
        .expect("the page answers while sign_parts is trickled at");
    let answered = asked.elapsed();
    assert_eq!(page.status(), StatusCode::OK);
    // Let the connections the app closed show it.
    tokio::time::sleep(Duration::from_secs(2)).await;
    eprintln!(
        "4,200 trickled sign_parts, {} of them still open: the page answered in {:?}",
        trickle.still_sending(),
        answered
    );
}

/// A trickled body on the app is cut once a window of waiting shows it under
/// the floor, with a sentence.
#[tokio::test]
async fn a_trickled_body_on_the_app_is_cut_with_a_sentence() {
    let courier = spawn_serving(Serving {
        app: Limits {
            min_body_rate: Some(FLOOR),
            ..Limits::APP
        },
        ..Serving::default()
    })
    .await;
    let head = format!(
        "POST /api/sign_upload HTTP/1.1\r\nHost: {}\r\nContent-Type: application/x-www-form-urlencoded\r\nAccept: application/json\r\nContent-Length: 60000\r\n\r\nfilename=a",
        host_of(&courier.base)
    );
    let answer = one_trickle(host_of(&courier.base), &head).await;
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("arrived too slowly"), "{answer}");
}

/// One address keeps its share of each port's connections, its next ones
/// are closed at once, and another address still connects and is served.
/// Idle connections stay open for the header time (10 s), so every one
/// closed within a second was closed for being past the share.
#[tokio::test]
async fn one_address_holds_its_share_of_connections_and_no_more() {
    let courier = spawn_serving(Serving::default()).await;
    for (addr, share) in [
        (
            host_of(&courier.store).to_owned(),
            Limits::STORE.max_connections_per_client,
        ),
        (
            host_of(&courier.base).to_owned(),
            Limits::APP.max_connections_per_client,
        ),
    ] {
        let mut opened = Vec::new();
        for _ in 0..share + 40 {
            opened.push(connect_from(ATTACKER, &addr).await.expect("the kernel accepts"));
        }
        let mut closed = 0;
        let mut open = 0;
        let deadline = tokio::time::Instant::now() + Duration::from_secs(1);
        for stream in &mut opened {
            if crate::raw_http::closed_by(stream, deadline).await {
                closed += 1;
            } else {
                open += 1;
            }
        }
        assert_eq!((open, closed), (share, 40), "{addr}");
    }
    // Another address is served meanwhile.
    let page = courier.get_as(&courier.base, "text/html").await;
    assert_eq!(page.status(), StatusCode::OK);
}
