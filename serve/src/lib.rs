//! How Courier's two ports, the app and the embedded store, are served:
//! one hardened accept loop for both ([`Server`]), who a client is behind
//! trusted proxies ([`TrustedProxies`]), and each client's share of a pool
//! ([`ClientSlots`]). A crate of its own because both the server and the
//! store crate need these, and the store must not depend on the server.
//!
//! Each server gets [`Limits`]: a time for headers (which also ends idle
//! keep-alive connections), a time a body may stall and the slowest it may
//! arrive (the server's own layer then answers in its words, [`CutBody`]),
//! a time a write may stall, and a cap on open connections, in all and for
//! each client. Asked to stop, a server takes no new connections, lets
//! requests in flight finish, and closes the rest.
//!
//! HTTP/1.1 only: browsers and S3 clients speak it to a plain `http://`
//! endpoint, and HTTP/2's own idle connections and streams would escape the
//! limits.

pub mod client_addr;
pub mod client_slots;
mod cut_body;
mod idle_body;
mod limits;
mod server;
mod write_timeout;

use std::net::SocketAddr;

use tokio::net::{TcpListener, TcpSocket};

pub use client_addr::{TrustedProxies, allowance_of};
pub use client_slots::{ClientSlot, ClientSlots};
pub use cut_body::{CutBody, replace_answer};
pub use idle_body::StallKind;
pub use limits::{BodyRate, Limits};
pub use server::Server;

/// How many new connections the kernel holds for a server before it
/// accepts them. `TcpListener::bind` asks for 128 (std's choice): 200
/// clients arriving at once overflowed it, and each dropped SYN cost its
/// client a second (the retransmit) before its first request was even
/// read. The kernel caps it at `net.core.somaxconn` (4096 on current Linux).
pub const LISTEN_BACKLOG: u32 = 4096;

/// A listener on `addr` with room for a crowd ([`LISTEN_BACKLOG`]), and
/// `SO_REUSEADDR` as std sets it, so a restart can bind again at once.
pub fn bind(addr: SocketAddr) -> std::io::Result<TcpListener> {
    let socket = if addr.is_ipv4() {
        TcpSocket::new_v4()?
    } else {
        TcpSocket::new_v6()?
    };
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(LISTEN_BACKLOG)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    /// A crowd connecting to a server that is busy (accepting nothing yet)
    /// is held by the kernel, not dropped: with std's backlog of 128, the
    /// 129th SYN onwards went unanswered for a second or more.
    #[tokio::test]
    async fn a_crowd_arriving_at_once_is_queued_not_dropped() {
        let listener = super::bind("127.0.0.1:0".parse().expect("an address")).expect("bound");
        let addr = listener.local_addr().expect("its address");
        let mut crowd = Vec::new();
        for _ in 0..600 {
            let connected =
                tokio::time::timeout(Duration::from_millis(500), tokio::net::TcpStream::connect(addr)).await;
            crowd.push(
                connected
                    .expect("connected without a SYN retransmit (is net.core.somaxconn below 600?)")
                    .expect("connected"),
            );
        }
        assert_eq!(crowd.len(), 600);
    }
}
