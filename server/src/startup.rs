//! Builds the whole application from `Settings`: binds the app's listener
//! (port 0 works: tests ask for a free port and read the bound address),
//! starts the embedded store when no bucket is configured, and routes; then
//! serves until a stop signal, and stops without cutting requests short.

use std::collections::HashSet;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::FromRef;
use axum::extract::Request;
use axum::handler::HandlerWithoutStateExt as _;
use axum::response::{IntoResponse as _, Response};
use axum::routing::get;
use axum::routing::post;
use axum::{Router, middleware};
use leptos::config::LeptosOptions;
use leptos::prelude::provide_context;
use tokio::net::TcpListener;
use tower::Layer as _;
use tower_http::compression::CompressionLayer;
use tower_http::services::ServeDir;
use tower_http::set_header::SetResponseHeaderLayer;
use url::Url;

use app::error::CourierError;
use app::shell;
use courier_shares::ShareDb;
use signer::Signer;
use signer::token::TokenSecret;

use crate::access::Access;
use crate::access::budget::ClientBudget;
use crate::cache_control::Assets;
use crate::confirm::{confirm_cors, confirm_upload};
use crate::embedded_store::{EmbeddedStoreError, RunningStore};
use crate::rate_limit::RateLimit;
use crate::serve::{Server, Serving};
use crate::settings::{Settings, SettingsError, StorageSettings};
use crate::storage::{self, StorageError};

#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error(transparent)]
    Settings(#[from] SettingsError),
    #[error("cannot listen on {addr} (LEPTOS_SITE_ADDR): {source}")]
    Bind { addr: SocketAddr, source: std::io::Error },
    #[error("the embedded store did not start: {0}")]
    EmbeddedStore(#[from] EmbeddedStoreError),
    #[error("the storage is not configured: {0}")]
    Storage(#[from] StorageError),
    #[error("the storage endpoint cannot be signed for: {0}")]
    BucketUrl(#[from] signer::BucketUrlError),
    /// Its sentence names the database (without its password).
    #[error("{0}")]
    Database(courier_shares::DbError),
}

/// What the routes share.
#[derive(Clone)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    pub signer: Signer,
    pub shares: ShareDb,
}

impl FromRef<AppState> for ShareDb {
    fn from_ref(state: &AppState) -> Self {
        state.shares.clone()
    }
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos_options.clone()
    }
}

impl FromRef<AppState> for Signer {
    fn from_ref(state: &AppState) -> Self {
        state.signer.clone()
    }
}

pub struct Application {
    listener: TcpListener,
    router: Router,
    app_addr: SocketAddr,
    public_url: Url,
    store: Option<RunningStore>,
    serving: Serving,
    /// `COURIER_TRUSTED_PROXIES`: their connections carry many clients.
    trusted_proxies: courier_serve::TrustedProxies,
    /// `COURIER_SHUTDOWN_GRACE_SECS`.
    shutdown_grace: Duration,
    /// Where shares are kept, migrated at start.
    shares: ShareDb,
    /// For the sweep of shares that are over (it deletes their files).
    signer: Signer,
    /// `COURIER_SHARE_SWEEP_SECS`.
    sweep_every: Duration,
}

impl Application {
    /// Courier as configured, served with the default [`Serving`] limits.
    pub async fn build(settings: Settings) -> Result<Self, StartupError> {
        Self::build_with(settings, Serving::default()).await
    }

    /// The same, with its own limits (tests shorten them).
    pub async fn build_with(settings: Settings, serving: Serving) -> Result<Self, StartupError> {
        // Before anything starts: who may upload must be chosen off loopback.
        settings.access.chosen()?;
        let requested = settings.leptos.site_addr;
        let listener = crate::serve::bind(requested).map_err(|source| StartupError::Bind {
            addr: requested,
            source,
        })?;
        let app_addr = listener.local_addr().map_err(|source| StartupError::Bind {
            addr: requested,
            source,
        })?;
        let public_url = match settings.public_url.clone() {
            Some(url) => url,
            None => crate::settings::parse_public_url(&format!("http://{app_addr}"))?,
        };

        let (store, running, secret) = match &settings.storage {
            StorageSettings::Embedded { addr, data_dir } => {
                let config = courier_store::StoreConfig {
                    data_dir: data_dir.clone(),
                    allowed_origins: allowed_origins(&public_url),
                    max_post_bytes: settings.limits.largest_post(),
                    max_part_bytes: app::multipart::part_size_for(settings.limits.rules.max_bytes),
                    slots: serving.store_slots,
                    trusted_proxies: settings.rate_limit.trusted_proxies.clone(),
                    min_free_bytes: settings.min_free_bytes,
                };
                let running = RunningStore::start(*addr, config, serving.store)?;
                tracing::info!(
                    storage = "embedded",
                    endpoint = %format!("http://{}", running.addr),
                    bucket = %running.bucket,
                    data_dir = %running.data_dir.display(),
                    access_key = %running.credentials.access_key_hint(),
                    "storage: the embedded S3-compatible store"
                );
                let secret = match settings.secret.clone() {
                    Some(secret) => secret,
                    None => TokenSecret::new(running.credentials.courier_secret.clone())
                        .map_err(|_| EmbeddedStoreError::Secret)?,
                };
                (storage::embedded(&running), Some(running), secret)
            }
            StorageSettings::External(external) => {
                let store = storage::external(external).await?;
                tracing::info!(
                    storage = "s3",
                    post_url = %store.post_url,
                    bucket = %external.bucket,
                    region = %external.region.as_deref().unwrap_or("(from the AWS configuration)"),
                    path_style = external.force_path_style,
                    "storage: an S3 bucket"
                );
                // Settings::parse refuses a bucket without a secret.
                (
                    store,
                    None,
                    settings.secret.clone().ok_or(SettingsError::MissingSecret)?,
                )
            }
        };
        let secret = secret.accepting(&settings.previous_secrets);
        // After the embedded store, which makes the data directory its owner's alone.
        let shares = ShareDb::open(&settings.database)
            .await
            .map_err(StartupError::Database)?;
        tracing::info!(database = %settings.database, "shares: the database is open and migrated");
        let signer = Signer::new(store, secret, &public_url, settings.limits)?;

        let mut leptos_options = settings.leptos.clone();
        leptos_options.site_addr = app_addr;
        app::confirm_page::use_stylesheet(&leptos_options);
        let share_routes = crate::share_routes::Shares {
            db: shares.clone(),
            signer: signer.clone(),
            attempts: Arc::default(),
            proxies: settings.rate_limit.trusted_proxies.clone(),
            secure: public_url.scheme() == "https",
            // The origin comes from a parsed URL; without it, "Download all"
            // alone stops working.
            policy: http::HeaderValue::from_str(&app::share_page::policy(signer.store_origin()))
                .unwrap_or_else(|_| http::HeaderValue::from_static(crate::security_headers::DEFAULT_POLICY)),
        };
        share_routes.attempts.forget_in_background();
        let sweep_every = settings.share_sweep_every;
        let access = Access::new(
            &settings.access,
            &signer,
            &settings.rate_limit.trusted_proxies,
            shares.clone(),
            public_url.scheme() == "https",
        );
        tracing::info!(upload_access = access.mode().as_str(), "who may upload");
        let router = router(
            AppState {
                leptos_options,
                signer: signer.clone(),
                shares: shares.clone(),
            },
            share_routes,
            RateLimit::new(&settings.rate_limit),
            ClientBudget::new(settings.client_bytes_per_day),
            signer::storage_budget::StorageBudget::new(settings.storage_budget_bytes, signer.clone()),
            access,
        );
        Ok(Self {
            listener,
            router,
            app_addr,
            public_url,
            store: running,
            serving,
            trusted_proxies: settings.rate_limit.trusted_proxies.clone(),
            shutdown_grace: settings.shutdown_grace,
            shares,
            signer,
            sweep_every,
        })
    }

    /// Where shares are kept.
    pub fn shares(&self) -> &ShareDb {
        &self.shares
    }

    pub fn app_addr(&self) -> SocketAddr {
        self.app_addr
    }

    pub fn public_url(&self) -> &Url {
        &self.public_url
    }

    /// The embedded store, when one was started.
    pub fn embedded_store(&self) -> Option<&RunningStore> {
        self.store.as_ref()
    }

    /// Serves until SIGTERM or Ctrl-C, then stops: the app takes no new
    /// connections and finishes its requests in flight; then the embedded
    /// store does the same (until then it serves as before: the app's
    /// confirmations in flight read and copy through it). What is still open
    /// when the shutdown grace runs out is cut, and logged; so is everything,
    /// at once, on a second signal.
    pub async fn run_until_stopped(self) {
        let Self {
            listener,
            router,
            app_addr,
            public_url,
            mut store,
            serving,
            trusted_proxies,
            shutdown_grace,
            shares,
            signer,
            sweep_every,
        } = self;
        let mut signals = StopSignals::listen();
        let mut app = Server::spawn(listener, router, serving.app, trusted_proxies);
        let sweeper = crate::share_routes::sweeper::sweep_in_background(shares.clone(), signer, sweep_every);
        tracing::info!(app = %format!("http://{app_addr}"), public_url = %public_url, "courier is ready");
        let signal = signals.next().await;
        let started = Instant::now();
        tracing::info!(
            signal,
            open_connections = app.open_connections(),
            grace_secs = shutdown_grace.as_secs(),
            "stopping: no new connections; finishing the requests in flight"
        );
        app.stop();
        let drain = async {
            app.finished().await;
            if let Some(store) = store.as_mut() {
                tracing::info!(
                    open_connections = store.open_connections(),
                    "the app's requests are done; the embedded store finishes its own"
                );
                store.stop();
                store.finished().await;
            }
        };
        let cut_by = tokio::select! {
            finished = tokio::time::timeout(shutdown_grace, drain) => match finished {
                Ok(()) => None,
                Err(_) => Some("the shutdown grace ran out"),
            },
            _ = signals.next() => Some("a second stop signal came"),
        };
        // No sweep starts once the store is stopping; checkpointed and
        // closed: nothing of the database is left to recover.
        sweeper.abort();
        shares.close().await;
        let open = app.open_connections() + store.as_ref().map_or(0, RunningStore::open_connections);
        match cut_by {
            None => tracing::info!(elapsed_ms = started.elapsed().as_millis(), "stopped"),
            Some(reason) => tracing::warn!(
                elapsed_ms = started.elapsed().as_millis(),
                cut_connections = open,
                "stopped: {reason}, so the requests still in flight were cut"
            ),
        }
    }
}

fn router(
    state: AppState,
    share_routes: crate::share_routes::Shares,
    rate_limit: Option<Arc<RateLimit>>,
    budget: Option<ClientBudget>,
    storage_budget: Option<Arc<signer::storage_budget::StorageBudget>>,
    access: Access,
) -> Router {
    // Server functions and the page run on tokio.
    let _ = any_spawner::Executor::init_tokio();
    let signer = state.signer.clone();
    let share_db = state.shares.clone();
    // What the server functions that grant uploads charge (none: no budget).
    let ledger = budget.as_ref().map(ClientBudget::ledger);
    let context = move || {
        provide_context(signer.clone());
        provide_context(share_db.clone());
        if let Some(ledger) = &ledger {
            provide_context(Arc::clone(ledger));
        }
        if let Some(storage_budget) = &storage_budget {
            provide_context(Arc::clone(storage_budget));
        }
    };
    let options = state.leptos_options.clone();
    // Rendered whole before the first byte: the signed form must be in the
    // HTML for the page to work with JavaScript off.
    let page = leptos_axum::render_app_async_with_context(context.clone(), move || shell(options.clone()));
    // Only the functions the app registers: anything else gets a sentence,
    // not the framework's developer help text.
    let known: Arc<HashSet<&'static str>> = Arc::new(
        leptos::server_fn::axum::server_fn_paths()
            .map(|(path, _)| path)
            .collect(),
    );
    let server_functions = move |request: Request<Body>| {
        let context = context.clone();
        let known = Arc::clone(&known);
        async move {
            if !known.contains(request.uri().path()) {
                let error = CourierError::NotFound("There is no such Courier API.".to_owned());
                return crate::respond::refusal(request.headers(), &error);
            }
            // The function answers with its own status and reports what it
            // did (`app::api::answer`); the report goes on the response for
            // the metrics layer.
            let report = app::api::CallReport::default();
            let call_context = {
                let report = report.clone();
                move || {
                    context();
                    provide_context(report.clone());
                }
            };
            let mut response = leptos_axum::handle_server_fns_with_context(call_context, request)
                .await
                .into_response();
            let reported = report.read();
            if let Some(code) = reported.refused {
                response.extensions_mut().insert(crate::respond::RefusalCode(code));
            }
            if let Some(link) = reported.granted {
                response.extensions_mut().insert(crate::metrics::GrantedLink(link));
            }
            response
        }
    };
    if let Some(budget) = &budget {
        budget.sweep_in_background();
    }
    // Each call, and the page, is admitted: who uploads (whose budget a
    // grant is charged to), or why they may not.
    let admitted = middleware::from_fn_with_state(access.clone(), crate::access::admit);
    let api = post(server_functions).layer(admitted.clone());
    // The routes that sign (the page carries a form policy): rate limited.
    let signing = Router::new()
        // The page is HTML worth compressing; the API's small JSON answers
        // are not, and they are the hot path.
        .route("/", get(page.clone()).layer(page_compression()).layer(admitted.clone()))
        // A file request's page: the same uploader, for the request's room.
        .route("/r/{id}", get(page).layer(page_compression()).layer(admitted))
        .route(
            app::sign_in::SIGN_IN_PATH,
            post(crate::access::sign_in::sign_in).with_state(access.clone()),
        )
        .route(
            app::sign_in::SIGN_OUT_PATH,
            post(crate::access::sign_in::sign_out).with_state(access),
        )
        .route(&format!("{}/{{*name}}", wire::endpoint::PREFIX), api)
        .route("/confirm-upload", get(confirm_upload).layer(confirm_cors()))
        // The confirm page's "New link": its owner token in the body, not a URL.
        .route(app::confirm_page::NEW_LINK_PATH, post(crate::confirm::new_link))
        // The share link's page and downloads.
        .merge(crate::share_routes::routes(share_routes));
    // Bodies are capped (the only routes that read one), after the rate
    // limit: a client over its limit is refused before anything is read.
    let signing = signing
        .route_layer(middleware::from_fn(crate::body_limit::cap))
        .route_layer(SetResponseHeaderLayer::overriding(
            http::header::CACHE_CONTROL,
            crate::cache_control::NO_STORE,
        ));
    let signing = match rate_limit {
        Some(limit) => {
            limit.sweep_in_background();
            signing.route_layer(middleware::from_fn_with_state(limit, crate::rate_limit::limit))
        }
        None => signing,
    };
    // The site's static files (the WASM bundle, its JS, the CSS), else a 404 page.
    let assets = Assets {
        pkg_prefix: format!("/{}/", state.leptos_options.site_pkg_dir),
        hashed: state.leptos_options.hash_files,
    };
    // A directory is not found rather than redirected to its name plus `/`:
    // `//pkg` would go to `//pkg/`, which a browser reads as another host.
    let files = ServeDir::new(&*state.leptos_options.site_root)
        .append_index_html_on_directories(false)
        .precompressed_gzip()
        .precompressed_br()
        .not_found_service(not_found.into_service());
    let files = middleware::from_fn_with_state(assets, crate::cache_control::static_files).layer(files);
    let metrics = crate::metrics::Metrics::new();
    let app = Router::new()
        .merge(signing)
        .fallback_service(files)
        .layer(middleware::from_fn_with_state(
            Arc::clone(&metrics),
            crate::metrics::record,
        ))
        // Added after the layers above: the probes and /metrics are polled,
        // so they are neither rate limited nor timed.
        .merge(crate::health::routes(state.signer.clone()))
        .route("/metrics", get(crate::metrics::expose).with_state(metrics));
    // Cut bodies answered inside the trace, which then logs what the client
    // got (a 400 or 408), not the 500 that reading the body gave.
    let app = app.layer(middleware::from_fn(crate::serve::answer_cut_bodies));
    crate::telemetry::trace_requests(crate::security_headers::add(app)).with_state(state)
}

/// Brotli where the browser takes it, else gzip, at a level each page can
/// afford: it is compressed afresh for every visit (it carries its own signed
/// policy). The 7.5 KB page: gzip 3.0 KB; brotli 5, 2.8 KB for about 60 µs
/// more per page (3.0k pages/s against 3.7k in gzip, wrk -c32); brotli 11
/// would make it 2.5 KB, but in 9 ms.
fn page_compression() -> CompressionLayer {
    CompressionLayer::new().quality(tower_http::CompressionLevel::Precise(5))
}

async fn not_found(headers: http::HeaderMap) -> Response {
    let error = CourierError::NotFound("There is nothing here. Courier's page is at /.".to_owned());
    crate::respond::refusal(&headers, &error)
}

/// The app's origin, plus its loopback twin (`localhost` ↔ `127.0.0.1`), so
/// either spelling works on one machine.
fn allowed_origins(public_url: &Url) -> Vec<String> {
    let origin = public_url.origin().ascii_serialization();
    let mut origins = vec![origin.clone()];
    let twin = match public_url.host_str() {
        Some("127.0.0.1") => Some(origin.replacen("127.0.0.1", "localhost", 1)),
        Some("localhost") => Some(origin.replacen("localhost", "127.0.0.1", 1)),
        _ => None,
    };
    origins.extend(twin);
    origins
}

/// SIGTERM (what `docker stop`, Kubernetes and systemd send) and Ctrl-C,
/// listened for from before "courier is ready": a stop that comes at once
/// still stops gracefully, instead of killing the process.
struct StopSignals {
    #[cfg(unix)]
    terminate: Option<tokio::signal::unix::Signal>,
    #[cfg(unix)]
    interrupt: Option<tokio::signal::unix::Signal>,
}

impl StopSignals {
    fn listen() -> Self {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            Self {
                terminate: signal(SignalKind::terminate()).ok(),
                interrupt: signal(SignalKind::interrupt()).ok(),
            }
        }
        #[cfg(not(unix))]
        Self {}
    }

    /// The next stop signal; says which.
    async fn next(&mut self) -> &'static str {
        #[cfg(unix)]
        {
            async fn on(signal: Option<&mut tokio::signal::unix::Signal>) {
                match signal {
                    Some(signal) => {
                        signal.recv().await;
                    }
                    None => std::future::pending().await,
                }
            }
            tokio::select! {
                () = on(self.terminate.as_mut()) => "SIGTERM",
                () = on(self.interrupt.as_mut()) => "Ctrl-C",
            }
        }
        #[cfg(not(unix))]
        {
            if tokio::signal::ctrl_c().await.is_err() {
                std::future::pending::<()>().await;
            }
            "Ctrl-C"
        }
    }
}
