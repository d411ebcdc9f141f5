//! The accept loop both of Courier's ports run on. `axum::serve` has no
//! header-read timeout and no connection cap, and a public port must neither
//! keep a connection that never finishes its headers nor let idle
//! connections pile up without bound.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, watch};
use tokio::task::JoinHandle;
use tower::ServiceExt as _;

use crate::client_addr::TrustedProxies;
use crate::client_slots::{ClientSlot, ClientSlots};
use crate::cut_body::CutBody;
use crate::idle_body::{IdleTimeoutBody, Stall};
use crate::limits::Limits;
use crate::write_timeout::WriteTimeout;

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
        request.extensions_mut().insert(CutBody::new(stall.clone(), limits));
        let answered = router.clone().oneshot(request);
        async move {
            let Ok(mut response) = answered.await;
            // A router that did not answer the cut itself keeps its answer;
            // the connection still closes, as the rest of the body may come.
            if let Some(why) = stall.to_answer() {
                tracing::debug!(%peer, ?why, status = %response.status(), "a request's body was cut");
                response
                    .headers_mut()
                    .insert(http::header::CONNECTION, http::HeaderValue::from_static("close"));
            }
            Ok::<_, std::convert::Infallible>(response)
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

/// Resolves once a stop is asked for (or its `Server` is gone).
async fn stop_requested(stopped: &mut watch::Receiver<bool>) {
    let _ = stopped.wait_for(|stop| *stop).await;
}
