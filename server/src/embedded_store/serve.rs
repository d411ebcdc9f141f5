//! The embedded store's accept loop: `axum::serve` has no header-read
//! timeout, and a store on a public port must not let a connection that
//! never finishes its headers stay open, nor let idle connections pile up
//! without bound. HTTP/1.1 only: browsers and S3 clients speak it to a plain
//! `http://` endpoint, and HTTP/2's own idle connections and streams would
//! escape both limits.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;

use super::write_timeout::WriteTimeout;

/// A client gets this long to send a request's headers (the first ones too:
/// a connection that sends nothing is closed).
pub const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);
/// A client that reads nothing of an answer for this long loses its connection.
pub const WRITE_STALL_TIMEOUT: Duration = Duration::from_secs(30);
/// Open connections at once; past it, new ones are closed at once.
pub const MAX_CONNECTIONS: usize = 1024;

pub async fn serve(listener: TcpListener, router: Router) {
    let connections = Arc::new(Semaphore::new(MAX_CONNECTIONS));
    loop {
        let (stream, peer) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(error) => {
                // Out of file descriptors, usually: wait instead of spinning.
                tracing::warn!(%error, "the embedded store could not accept a connection");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let Ok(permit) = Arc::clone(&connections).try_acquire_owned() else {
            tracing::warn!(%peer, "the embedded store is at its connection limit");
            continue;
        };
        let service = TowerToHyperService::new(router.clone());
        tokio::spawn(async move {
            let _permit = permit;
            let connection = http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(HEADER_READ_TIMEOUT)
                .serve_connection(TokioIo::new(WriteTimeout::new(stream, WRITE_STALL_TIMEOUT)), service);
            if let Err(error) = connection.await {
                tracing::debug!(%peer, %error, "a store connection ended with an error");
            }
        });
    }
}
