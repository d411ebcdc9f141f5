//! The embedded S3-compatible store, used when no bucket is configured:
//! `s3s` + `s3s-fs` on its own port, a data directory on disk, local
//! credentials and the `courier` bucket created at start. The browser reaches
//! it cross-origin exactly as it reaches AWS, so it answers with CORS headers
//! for the app's origin.

pub mod credentials;
pub mod filename_variable;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::response::{IntoResponse, Response};
use http::{HeaderValue, Method, StatusCode, header};
use s3s::auth::SimpleAuth;
use s3s::service::{S3Service, S3ServiceBuilder};
use tokio::net::TcpListener;
use tower_http::cors::{AllowOrigin, CorsLayer};

pub use credentials::StoreCredentials;

#[derive(Debug)]
pub struct EmbeddedStoreConfig {
    pub addr: SocketAddr,
    pub data_dir: PathBuf,
    /// Origins whose pages may POST to the store (the app's).
    pub allowed_origins: Vec<String>,
}

/// A started store; it serves until the runtime stops.
#[derive(Debug)]
pub struct RunningStore {
    pub addr: SocketAddr,
    pub bucket: String,
    pub credentials: StoreCredentials,
    pub data_dir: PathBuf,
}

#[derive(Debug, thiserror::Error)]
pub enum EmbeddedStoreError {
    #[error(transparent)]
    Credentials(#[from] credentials::CredentialsError),
    #[error("cannot prepare the data directory {path}: {source}")]
    DataDir { path: PathBuf, source: std::io::Error },
    #[error("cannot open the store's data directory: {0}")]
    Store(String),
    #[error("cannot listen on {addr} (COURIER_EMBEDDED_S3_ADDR): {source}")]
    Bind { addr: SocketAddr, source: std::io::Error },
    #[error("an allowed origin is not a valid header value: {0}")]
    Origin(String),
}

impl RunningStore {
    pub const BUCKET: &str = "courier";
    pub const REGION: &str = "us-east-1";

    /// Prepares the data directory and starts serving on `config.addr`.
    pub async fn start(config: EmbeddedStoreConfig) -> Result<Self, EmbeddedStoreError> {
        let credentials = StoreCredentials::load_or_create(&config.data_dir)?;
        let root = config.data_dir.join("objects");
        // s3s-fs keeps one directory per bucket: creating it creates the bucket.
        let bucket_dir = root.join(Self::BUCKET);
        std::fs::create_dir_all(&bucket_dir).map_err(|source| EmbeddedStoreError::DataDir {
            path: bucket_dir.clone(),
            source,
        })?;
        let fs = s3s_fs::FileSystem::new(&root).map_err(|e| EmbeddedStoreError::Store(format!("{e:?}")))?;
        let mut builder = S3ServiceBuilder::new(fs);
        builder.set_auth(SimpleAuth::from_single(
            credentials.access_key_id.clone(),
            credentials.secret_access_key.clone(),
        ));
        let s3 = builder.build();

        let origins = config
            .allowed_origins
            .iter()
            .map(|o| HeaderValue::from_str(o).map_err(|_| EmbeddedStoreError::Origin(o.clone())))
            .collect::<Result<Vec<_>, _>>()?;
        let cors = CorsLayer::new()
            .allow_origin(AllowOrigin::list(origins))
            .allow_methods([Method::GET, Method::POST, Method::PUT, Method::HEAD])
            .allow_headers(tower_http::cors::Any)
            .expose_headers([header::ETAG])
            .max_age(Duration::from_secs(3600));
        let router = Router::new().fallback(serve_s3).with_state(s3).layer(cors);

        let listener = TcpListener::bind(config.addr)
            .await
            .map_err(|source| EmbeddedStoreError::Bind {
                addr: config.addr,
                source,
            })?;
        let addr = listener.local_addr().map_err(|source| EmbeddedStoreError::Bind {
            addr: config.addr,
            source,
        })?;
        tokio::spawn(async move {
            if let Err(error) = axum::serve(listener, router).await {
                tracing::error!(%error, "the embedded store stopped");
            }
        });
        Ok(Self {
            addr,
            bucket: Self::BUCKET.to_owned(),
            credentials,
            data_dir: config.data_dir,
        })
    }
}

async fn serve_s3(State(s3): State<S3Service>, request: Request) -> Response {
    let request = match filename_variable::substitute(request).await {
        Ok(request) => request,
        Err(error) => return s3_error(StatusCode::BAD_REQUEST, "InvalidRequest", &error.to_string()),
    };
    match s3.call(request.map(s3s::Body::http_body_unsync)).await {
        Ok(response) => response.map(Body::new),
        Err(error) => {
            tracing::error!(?error, "the embedded store failed a request");
            s3_error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "InternalError",
                "The store failed to handle the request.",
            )
        }
    }
}

fn s3_error(status: StatusCode, code: &str, message: &str) -> Response {
    let body = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>{code}</Code><Message>{message}</Message></Error>"
    );
    (status, [(header::CONTENT_TYPE, "application/xml")], body).into_response()
}
