//! Hostile clients, as a stranger would write them: many connections from
//! an address of their own, each sending a request's head and then a byte
//! a second; and one slow client whose trickle is watched being cut.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use courier_serve::BodyRate;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpSocket, TcpStream};
use tokio::task::JoinSet;

/// The attacker's address: loopback, but not the honest client's.
pub const ATTACKER: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(127, 0, 0, 2));
/// A second slow client, whose single trickle is watched being cut (the
/// attacker's own connections take a while to be given back: those that
/// wait for a slot are not reading, so they see their client leave only
/// when their wait ends).
pub const SLOW_CLIENT: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(127, 0, 0, 3));

/// Bodies must come at 4 KiB/s over each 3 s of waiting (20 s by default),
/// so the test sees trickles cut within seconds.
pub const FLOOR: BodyRate = BodyRate {
    bytes_per_sec: 4096,
    window: Duration::from_secs(3),
};

pub async fn connect_from(source: IpAddr, addr: &str) -> std::io::Result<TcpStream> {
    let addr: SocketAddr = addr.parse().map_err(std::io::Error::other)?;
    let socket = TcpSocket::new_v4()?;
    socket.bind(SocketAddr::new(source, 0))?;
    socket.connect(addr).await
}

/// Opens `count` connections from the attacker, sends `head` and one byte of
/// the body on each, then a byte a second on each until the task is
/// dropped (which closes them all). Connections the server closes are left behind.
pub struct Trickle {
    sent: JoinSet<Option<TcpStream>>,
}

impl Trickle {
    pub async fn start(addr: &str, head: String, count: usize) -> Self {
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
    pub fn still_sending(&mut self) -> usize {
        while self.sent.try_join_next().is_some() {}
        self.sent.len()
    }
}

/// What `addr` answers a slow client (not the attacker: its own
/// connections take a while to be given back) that sends `head` and then a
/// byte every half second, through one window of the floor and a little more.
pub async fn one_trickle(addr: &str, head: &str) -> String {
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
pub async fn answer_on(mut stream: TcpStream, within: Duration) -> String {
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
