//! The limits a server holds its clients to, and the two Courier serves
//! with: the app's port and the embedded store's.

use std::time::Duration;

/// The slowest a request body may arrive: at least `bytes_per_sec` on
/// average over each `window` from the moment its reading begins. A body
/// that ends within a window is never judged, so a small request on a slow
/// link is fine; a trickle is cut at the end of its first window.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BodyRate {
    pub bytes_per_sec: u64,
    pub window: Duration,
}

impl BodyRate {
    pub(crate) fn floor_for(self, window: Duration) -> u64 {
        (u128::from(self.bytes_per_sec) * window.as_millis() / 1000)
            .try_into()
            .unwrap_or(u64::MAX)
    }
}

/// How long a server waits for slow clients, and how many it keeps.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// A client gets this long to send a request's headers, from the moment
    /// the connection is accepted or the previous answer was sent: a
    /// connection that sends nothing, or stays idle between requests, is
    /// closed.
    pub header_read: Duration,
    /// A request body that sends nothing for this long fails, so a stalled
    /// client gives back what its request holds; the server's own layer
    /// answers the request (`CutBody`), and its connection closes.
    pub body_idle: Duration,
    /// The slowest a request body may arrive: a trickle (a byte every few
    /// seconds is never idle) is cut like a stalled body.
    pub min_body_rate: Option<BodyRate>,
    /// A client that reads nothing of an answer for this long loses its connection.
    pub write_stall: Duration,
    /// Open connections at once. Past it, new connections wait in the
    /// kernel's listen queue until one closes (idle ones close within
    /// `header_read`), instead of being dropped.
    pub max_connections: usize,
    /// Open connections at once from one client (an IPv4 address, an IPv6
    /// /64), so one client cannot hold them all; past it, its new
    /// connections are closed at once. Trusted proxies
    /// (`COURIER_TRUSTED_PROXIES`) carry many clients and are not held to it.
    pub max_connections_per_client: usize,
}

impl Limits {
    /// The app. 10 s for headers: a browser sends them in one packet, so even
    /// a slow phone needs well under a second, and browsers reopen an idle
    /// connection the server closed by themselves. 30 s of silence in a body:
    /// the app's bodies are a few hundred bytes, so that is a client that is
    /// gone. 4096 connections: a page keeps one or two open to the app, so
    /// this is a few thousand people at once; an idle connection costs about
    /// 10 KB (500 took 5.2 MB, mostly hyper's 8 KB read buffer), so all of
    /// them cost about 40 MB. One client, 512 of them: a browser opens at
    /// most 6 to one host, so that is a large office behind one address,
    /// and eight strangers are needed to fill the port.
    /// Bodies at 4 KiB/s at least, over 20 s of waiting: the app's are at
    /// most 64 KiB and come in one packet.
    pub const APP: Self = Self {
        header_read: Duration::from_secs(10),
        body_idle: Duration::from_secs(30),
        min_body_rate: Some(BodyRate {
            bytes_per_sec: 4096,
            window: Duration::from_secs(20),
        }),
        write_stall: Duration::from_secs(30),
        max_connections: 4096,
        max_connections_per_client: 512,
    };

    /// The embedded store: the same times (an upload's body may pause on a
    /// bad network, but not for 30 s); 1024 connections, since each upload
    /// in flight holds one for its whole length and the store's request and
    /// upload slots are the tighter bound anyway; 256 from one client. The floor,
    /// 4 KiB/s per connection, is what one of a page's 12 uploads at once
    /// (3 files, 4 parts each) gets on a 400 kbit/s uplink: slower links
    /// than that are rare, while a trickler now pays 4 KiB/s for each slot
    /// it holds instead of a byte every ten seconds.
    pub const STORE: Self = Self {
        max_connections: 1024,
        max_connections_per_client: 256,
        ..Self::APP
    };
}
