//! How the app and the embedded store are served: one accept loop for both.
//! `axum::serve` has no header-read timeout and no connection cap, and a
//! public port must neither keep a connection that never finishes its
//! headers nor let idle connections pile up without bound. Each server gets
//! [`Limits`]: a time for headers (which also ends idle keep-alive
//! connections), a time a body may stall and the slowest it may arrive (its
//! request is then answered with a sentence that says so, or S3's
//! `RequestTimeout` on the store), a time a write may stall, and a cap on
//! open connections, in all and for each client. Asked to stop, a
//! server takes no new connections, lets requests in flight finish, and
//! closes the rest.
//!
//! HTTP/1.1 only: browsers and S3 clients speak it to a plain `http://`
//! endpoint, and HTTP/2's own idle connections and streams would escape the
//! limits.

mod idle_body;
mod write_timeout;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use http_body::Body as _;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::{TcpListener, TcpSocket, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, watch};
use tokio::task::JoinHandle;
use tower::ServiceExt as _;

pub use idle_body::{BodyRate, S3_REQUEST_TIMEOUT, StalledBodyAnswer};

use idle_body::{IdleTimeoutBody, Stall};

use crate::client_addr::TrustedProxies;
use crate::client_slots::{ClientSlot, ClientSlots};
use write_timeout::WriteTimeout;

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

/// How long a server waits for slow clients, how many it keeps, and how it
/// tells one that its body stopped arriving.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// A client gets this long to send a request's headers, from the moment
    /// the connection is accepted or the previous answer was sent: a
    /// connection that sends nothing, or stays idle between requests, is
    /// closed.
    pub header_read: Duration,
    /// A request body that sends nothing for this long fails, so a stalled
    /// client gives back what its request holds; the request is answered
    /// with `stalled_body`, and its connection closed.
    pub body_idle: Duration,
    /// The slowest a request body may arrive: a trickle (a byte every few
    /// seconds is never idle) is cut like a stalled body.
    pub min_body_rate: Option<BodyRate>,
    pub stalled_body: StalledBodyAnswer,
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
        stalled_body: StalledBodyAnswer::Sentence,
    };

    /// The embedded store: the same times (an upload's body may pause on a
    /// bad network, but not for 30 s); 1024 connections, since each upload
    /// in flight holds one for its whole length and the store's request and
    /// upload slots are the tighter bound anyway; 256 from one client. A
    /// stalled or trickled body is answered as S3 answers it. The floor,
    /// 4 KiB/s per connection, is what one of a page's 12 uploads at once
    /// (3 files, 4 parts each) gets on a 400 kbit/s uplink: slower links
    /// than that are rare, while a trickler now pays 4 KiB/s for each slot
    /// it holds instead of a byte every ten seconds.
    pub const STORE: Self = Self {
        max_connections: 1024,
        max_connections_per_client: 256,
        stalled_body: StalledBodyAnswer::S3,
        ..Self::APP
    };
}

/// How Courier serves: the limits of each server, and the embedded store's
/// request slots. (How long a stop waits for them is a setting,
/// `Settings::shutdown_grace`.)
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Serving {
    pub app: Limits,
    pub store: Limits,
    pub store_slots: crate::embedded_store::request_slots::SlotLimits,
}

impl Default for Serving {
    fn default() -> Self {
        Self {
            app: Limits::APP,
            store: Limits::STORE,
            store_slots: crate::embedded_store::request_slots::SlotLimits::STORE,
        }
    }
}

/// A server running in the background. It stops when asked, or when this
/// handle is dropped.
#[derive(Debug)]
pub struct Server {
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
    connections: Arc<Semaphore>,
    limits: Limits,
}

impl Server {
    /// Serves `router` on `listener` until stopped. Handlers may extract
    /// `ConnectInfo<SocketAddr>`: the peer's address. Connections from
    /// `proxies` are not capped per client.
    pub fn spawn(listener: TcpListener, router: Router, limits: Limits, proxies: TrustedProxies) -> Self {
        let (stop, stopped) = watch::channel(false);
        let connections = Arc::new(Semaphore::new(limits.max_connections));
        let gate = ConnectionGate {
            all: Arc::clone(&connections),
            per_client: ClientSlots::new(limits.max_connections_per_client),
            proxies,
        };
        let task = tokio::spawn(accept_loop(listener, router, limits, gate, stopped));
        Self {
            stop,
            task,
            connections,
            limits,
        }
    }

    /// Closes the listener (new connections are refused) and asks every
    /// connection to finish its request in flight and close.
    pub fn stop(&self) {
        self.stop.send_replace(true);
    }

    /// Connections open now.
    pub fn open_connections(&self) -> usize {
        self.limits
            .max_connections
            .saturating_sub(self.connections.available_permits())
    }

    /// Resolves once stopped and every connection has closed.
    pub async fn finished(&mut self) {
        // The task only ends when its loop does; a panic in it has been logged.
        let _ = (&mut self.task).await;
    }
}

/// Who may open a connection: the port's cap, and each client's share of it.
struct ConnectionGate {
    all: Arc<Semaphore>,
    per_client: Arc<ClientSlots>,
    proxies: TrustedProxies,
}

impl ConnectionGate {
    /// `Ok(None)` for a trusted proxy (not capped per client); `Err` when
    /// the client holds its whole share.
    fn admit(&self, peer: SocketAddr) -> Result<Option<ClientSlot>, ()> {
        if self.proxies.contains(peer.ip()) {
            return Ok(None);
        }
        self.per_client.try_take(peer.ip()).map(Some).ok_or(())
    }
}

async fn accept_loop(
    listener: TcpListener,
    router: Router,
    limits: Limits,
    gate: ConnectionGate,
    mut stopped: watch::Receiver<bool>,
) {
    let connections = Arc::clone(&gate.all);
    let local = listener.local_addr().ok();
    // Said once a minute at most: at the limit, every accept would say it.
    let mut said_at_limit: Option<tokio::time::Instant> = None;
    let mut said_client_limit: Option<tokio::time::Instant> = None;
    loop {
        let permit = match Arc::clone(&connections).try_acquire_owned() {
            Ok(permit) => permit,
            Err(_) => {
                if said_at_limit.is_none_or(|said| said.elapsed() >= Duration::from_secs(60)) {
                    tracing::warn!(
                        ?local,
                        limit = limits.max_connections,
                        "at the connection limit: new connections wait until one closes"
                    );
                    said_at_limit = Some(tokio::time::Instant::now());
                }
                tokio::select! {
                    biased;
                    () = stop_requested(&mut stopped) => break,
                    permit = Arc::clone(&connections).acquire_owned() => match permit {
                        Ok(permit) => permit,
                        // Never closed; if it were, nothing more could be served.
                        Err(_) => break,
                    },
                }
            }
        };
        let (stream, peer) = tokio::select! {
            biased;
            () = stop_requested(&mut stopped) => break,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    // Out of file descriptors, usually: wait instead of spinning.
                    tracing::warn!(?local, %error, "could not accept a connection");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let client_slot = match gate.admit(peer) {
            Ok(slot) => slot,
            Err(()) => {
                if said_client_limit.is_none_or(|said| said.elapsed() >= Duration::from_secs(60)) {
                    tracing::warn!(
                        ?local,
                        client = %peer.ip(),
                        limit = limits.max_connections_per_client,
                        "a client holds all the connections one client may: its new ones are closed"
                    );
                    said_client_limit = Some(tokio::time::Instant::now());
                }
                // Closed at once: its share is its own, nobody else's waits.
                drop(stream);
                continue;
            }
        };
        tokio::spawn(serve_connection(
            stream,
            peer,
            router.clone(),
            limits,
            (permit, client_slot),
            stopped.clone(),
        ));
    }
    // New connections are refused from here on.
    drop(listener);
    // Every connection holds a permit until it closes.
    let all = u32::try_from(limits.max_connections).unwrap_or(u32::MAX);
    let _ = connections.acquire_many(all).await;
}

async fn serve_connection(
    stream: TcpStream,
    peer: SocketAddr,
    router: Router,
    limits: Limits,
    permits: (OwnedSemaphorePermit, Option<ClientSlot>),
    mut stopped: watch::Receiver<bool>,
) {
    let _permits = permits;
    let service = hyper::service::service_fn(move |request: hyper::Request<Incoming>| {
        let stall = Stall::default();
        // Kept only where an answer to a stalled body may need them.
        let asked = if limits.stalled_body.reads_request_headers() && !request.body().is_end_stream() {
            request.headers().clone()
        } else {
            http::HeaderMap::new()
        };
        let mut request = request.map(|body| {
            Body::new(IdleTimeoutBody::new(
                Body::new(body),
                limits.body_idle,
                limits.min_body_rate,
                stall.clone(),
            ))
        });
        // What `into_make_service_with_connect_info` would insert: the rate
        // limiter reads it.
        request.extensions_mut().insert(ConnectInfo(peer));
        request.extensions_mut().insert(CutBody {
            stall: stall.clone(),
            limits,
        });
        let answered = router.clone().oneshot(request);
        async move {
            let Ok(response) = answered.await;
            let Some(why) = stall.to_answer() else {
                return Ok::<_, std::convert::Infallible>(response);
            };
            tracing::debug!(%peer, ?why, status = %response.status(), "a request's body was cut");
            Ok(limits.stalled_body.answer(response, why, &limits, &asked))
        }
    });
    let connection = http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read)
        .serve_connection(TokioIo::new(WriteTimeout::new(stream, limits.write_stall)), service);
    tokio::pin!(connection);
    let result = tokio::select! {
        result = connection.as_mut() => result,
        () = stop_requested(&mut stopped) => {
            // hyper closes a connection between requests, or one that has
            // sent nothing yet, at once (a browser's spare connection does
            // not hold the stop up); one with a request in flight answers
            // it, then closes.
            connection.as_mut().graceful_shutdown();
            connection.await
        }
    };
    if let Err(error) = result {
        tracing::debug!(%peer, %error, "a connection ended with an error");
    }
}

/// How a request's body may have been cut, for [`answer_cut_bodies`].
#[derive(Clone, Debug)]
struct CutBody {
    stall: Stall,
    limits: Limits,
}

/// A middleware that answers a request whose body was cut (it stalled,
/// trickled or broke off) where the server's own layers see it: what read
/// the body answered 400 or 500, and a trace layer outside would log that
/// 500 at ERROR though the client caused it. The serve loop answers the
/// same way for routers without it.
pub async fn answer_cut_bodies(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    // Only a request with a body can have it cut.
    let cut = request
        .extensions()
        .get::<CutBody>()
        .filter(|_| !http_body::Body::is_end_stream(request.body()))
        .cloned();
    let asked = cut
        .as_ref()
        .filter(|cut| cut.limits.stalled_body.reads_request_headers())
        .map(|_| request.headers().clone())
        .unwrap_or_default();
    let response = next.run(request).await;
    match cut {
        Some(cut) => match cut.stall.to_answer() {
            Some(why) => cut.limits.stalled_body.answer(response, why, &cut.limits, &asked),
            None => response,
        },
        None => response,
    }
}

/// Resolves once a stop is asked for (or its `Server` is gone).
async fn stop_requested(stopped: &mut watch::Receiver<bool>) {
    let _ = stopped.wait_for(|stop| *stop).await;
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
