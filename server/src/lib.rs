//! The Courier server: settings, start-up and routing, who may upload
//! (`access`: sign-in, API tokens, a trusted proxy's user), the `/confirm-upload`
//! route, the share link's routes (`share_routes`: `/s/<id>`), and running the embedded S3-compatible store on its own port. The
//! signing lives in the `signer` crate, which the server functions share; the
//! store in `courier-store`; the accept loop both ports run on in
//! `courier-serve`.

// Leptos views are types nested as deep as the page: the upload page's
// went past the default query depth of 128.
#![recursion_limit = "256"]

pub mod access;
pub mod body_limit;
pub mod cache_control;
pub mod commands;
pub mod confirm;
pub mod cookies;
pub mod embedded_store;
pub mod health;
pub mod metrics;
pub mod rate_limit;
pub mod respond;
pub mod security_headers;
pub mod serve;
pub mod settings;
pub mod share_routes;
pub mod startup;
pub mod storage;
pub mod telemetry;
