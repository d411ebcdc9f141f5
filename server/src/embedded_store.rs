//! The embedded store, run by the server: the `courier-store` crate builds
//! its router and sweeper; here they are bound to their own port and served
//! with the server's hardened accept loop and the store's limits, beside the
//! app, and stopped after it.

use std::net::SocketAddr;
use std::path::PathBuf;

use courier_serve::{Limits, Server, TrustedProxies};
use courier_store::{EmbeddedStore, StoreConfig, StoreError};
use tokio::task::JoinHandle;

pub use courier_store::StoreCredentials;

#[derive(Debug, thiserror::Error)]
pub enum EmbeddedStoreError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("cannot listen on {addr} (COURIER_EMBEDDED_S3_ADDR): {source}")]
    Bind { addr: SocketAddr, source: std::io::Error },
    #[error("its generated token secret is too short")]
    Secret,
}

/// A started store; it serves until stopped, or until this is dropped.
#[derive(Debug)]
pub struct RunningStore {
    pub addr: SocketAddr,
    pub bucket: String,
    pub credentials: StoreCredentials,
    pub data_dir: PathBuf,
    server: Server,
    sweeper: JoinHandle<()>,
}

impl RunningStore {
    pub const REGION: &str = EmbeddedStore::REGION;

    /// Builds the store from `config`, and serves it on `addr` with `limits`.
    pub fn start(addr: SocketAddr, config: StoreConfig, limits: Limits) -> Result<Self, EmbeddedStoreError> {
        let data_dir = config.data_dir.clone();
        let proxies: TrustedProxies = config.trusted_proxies.clone();
        let store = EmbeddedStore::build(config)?;
        let listener = courier_serve::bind(addr).map_err(|source| EmbeddedStoreError::Bind { addr, source })?;
        let bound = listener
            .local_addr()
            .map_err(|source| EmbeddedStoreError::Bind { addr, source })?;
        let server = Server::spawn(listener, store.router, limits, proxies);
        Ok(Self {
            addr: bound,
            bucket: EmbeddedStore::BUCKET.to_owned(),
            credentials: store.credentials,
            data_dir,
            server,
            sweeper: store.sweeper.spawn(),
        })
    }

    /// Takes no new connections; requests in flight (uploads being written)
    /// finish.
    pub fn stop(&self) {
        self.server.stop();
    }

    /// Resolves once stopped and every connection has closed.
    pub async fn finished(&mut self) {
        self.server.finished().await;
    }

    pub fn open_connections(&self) -> usize {
        self.server.open_connections()
    }
}

impl Drop for RunningStore {
    fn drop(&mut self) {
        self.sweeper.abort();
    }
}
