//! The embedded store alone, on its own port: for operators who want an
//! S3-compatible endpoint without the app, and for the tests that kill the
//! store midway. Served as the server serves it (`courier_serve`, the
//! store's limits). Set in the environment:
//! `COURIER_EMBEDDED_S3_ADDR` (127.0.0.1:9000), `COURIER_DATA_DIR` (./data),
//! `COURIER_ALLOWED_ORIGINS` (pages that may POST, comma-separated),
//! `COURIER_MAX_POST_BYTES` (5 GiB), `COURIER_MAX_PART_BYTES` (64 MiB),
//! `COURIER_MIN_FREE_BYTES` and `COURIER_TRUSTED_PROXIES`.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use courier_serve::{Limits, Server, TrustedProxies};
use courier_store::{EmbeddedStore, SlotLimits, StoreConfig, StoreError};

#[derive(Debug, thiserror::Error)]
enum RunError {
    #[error("{name} is not valid: {value:?}")]
    Setting { name: &'static str, value: String },
    #[error("the store did not start: {0}")]
    Store(#[from] StoreError),
    #[error("cannot listen on {addr} (COURIER_EMBEDDED_S3_ADDR): {source}")]
    Bind { addr: SocketAddr, source: std::io::Error },
}

fn setting<T: std::str::FromStr>(name: &'static str, default: T) -> Result<T, RunError> {
    match std::env::var(name) {
        Ok(value) => value.trim().parse().map_err(|_| RunError::Setting { name, value }),
        Err(_) => Ok(default),
    }
}

fn config() -> Result<(SocketAddr, StoreConfig), RunError> {
    let addr = setting("COURIER_EMBEDDED_S3_ADDR", SocketAddr::from(([127, 0, 0, 1], 9000)))?;
    let proxies = std::env::var("COURIER_TRUSTED_PROXIES").unwrap_or_default();
    let trusted_proxies = TrustedProxies::parse(&proxies).map_err(|_| RunError::Setting {
        name: "COURIER_TRUSTED_PROXIES",
        value: proxies.clone(),
    })?;
    let min_free_bytes = match std::env::var("COURIER_MIN_FREE_BYTES") {
        Ok(_) => Some(setting("COURIER_MIN_FREE_BYTES", 0u64)?),
        Err(_) => None,
    };
    Ok((
        addr,
        StoreConfig {
            data_dir: setting("COURIER_DATA_DIR", PathBuf::from("./data"))?,
            allowed_origins: std::env::var("COURIER_ALLOWED_ORIGINS")
                .unwrap_or_default()
                .split(',')
                .map(str::trim)
                .filter(|origin| !origin.is_empty())
                .map(str::to_owned)
                .collect(),
            max_post_bytes: setting("COURIER_MAX_POST_BYTES", 5 << 30)?,
            max_part_bytes: setting("COURIER_MAX_PART_BYTES", 64 << 20)?,
            slots: SlotLimits::STORE,
            trusted_proxies,
            min_free_bytes,
        },
    ))
}

async fn run() -> Result<(), RunError> {
    let (addr, config) = config()?;
    let proxies = config.trusted_proxies.clone();
    let store = EmbeddedStore::build(config)?;
    let listener = courier_serve::bind(addr).map_err(|source| RunError::Bind { addr, source })?;
    let bound = listener
        .local_addr()
        .map_err(|source| RunError::Bind { addr, source })?;
    let mut server = Server::spawn(listener, store.router, Limits::STORE, proxies);
    let _sweeper = store.sweeper.spawn();
    tracing::info!(
        endpoint = %format!("http://{bound}"),
        bucket = EmbeddedStore::BUCKET,
        access_key = %store.credentials.access_key_hint(),
        "the embedded store is ready"
    );
    if tokio::signal::ctrl_c().await.is_ok() {
        server.stop();
    }
    server.finished().await;
    Ok(())
}

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()))
        .init();
    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!("{error}");
            ExitCode::FAILURE
        }
    }
}
