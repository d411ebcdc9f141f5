//! The per-client upload budget (`COURIER_CLIENT_BYTES_PER_DAY`, see
//! [`signer::upload_budget`]) in the app: a middleware names each `/api/*`
//! request's client, the same client as the rate limit's, and the server
//! functions that grant uploads charge the ledger they get through Leptos
//! context. Each instance keeps its own ledger.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::{ConnectInfo, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use signer::upload_budget::{ClientAddr, UploadBudget};

use courier_serve::TrustedProxies;
use courier_serve::allowance_of;

/// How often charges older than the window are forgotten.
const SWEEP_EVERY: Duration = Duration::from_secs(10 * 60);

/// The ledger, and who a request's client is.
#[derive(Clone)]
pub struct ClientBudget {
    ledger: Arc<UploadBudget>,
    proxies: TrustedProxies,
}

impl ClientBudget {
    /// `None` when there is no budget (`COURIER_CLIENT_BYTES_PER_DAY=0`).
    pub fn new(per_day: u64, proxies: &TrustedProxies) -> Option<Self> {
        let ledger = UploadBudget::new(per_day, Instant::now())?;
        Some(Self {
            ledger: Arc::new(ledger),
            proxies: proxies.clone(),
        })
    }

    /// What the server functions charge, through Leptos context.
    pub fn ledger(&self) -> Arc<UploadBudget> {
        Arc::clone(&self.ledger)
    }

    /// Forgets, every ten minutes, the charges older than the window (and
    /// clients left with none), so the ledger does not grow with every
    /// address seen in a day.
    pub fn sweep_in_background(&self) {
        let weak = Arc::downgrade(&self.ledger);
        tokio::spawn(async move {
            let mut every = tokio::time::interval(SWEEP_EVERY);
            loop {
                every.tick().await;
                let Some(ledger) = weak.upgrade() else { return };
                ledger.sweep(Instant::now());
            }
        });
    }
}

/// The middleware on `/api/*`: names the request's client (its IPv4
/// address or IPv6 /64, behind a trusted proxy the address it reports) for
/// the server functions, which read it from the request's parts.
pub async fn name_the_client(
    State(budget): State<ClientBudget>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    mut request: Request,
    next: Next,
) -> Response {
    let client = budget.proxies.client_of(peer.ip(), request.headers());
    request.extensions_mut().insert(ClientAddr(allowance_of(client)));
    next.run(request).await
}
