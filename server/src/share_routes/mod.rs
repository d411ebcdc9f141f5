//! The share link's routes, what a downloader meets:
//!
//! - `GET /s/<id>` ([`page`]): the share page, rendered here (no
//!   WebAssembly): each file with its size, type and downloads left, or the
//!   password form, or why the link no longer works (404, 410);
//! - `POST /s/<id>` ([`page::unlock`]): the password, checked with Argon2id
//!   and limited to [`attempts::TRIES_PER_MINUTE`] tries a minute per share
//!   and client; the right one earns a cookie for the share's downloads;
//! - `GET /s/<id>/<n>` ([`download`]): counts a download of the n-th file
//!   (from 1) atomically and answers 302 to a GET that works for a minute,
//!   so the bytes go straight from the store;
//! - `GET /s/<id>/qr.svg`: the link as a QR code, for the sender's card;
//! - `GET /s/<id>/e2e`, `POST /s/<id>/<n>/e2e` and `…/e2e/renew`
//!   ([`sealed`]): an encrypted share's sealed names, its downloads for a
//!   proof of the key, and new URLs for a download under way.
//!
//! Files of shares that are over are deleted by [`sweeper`].

pub(crate) mod attempts;
mod download;
mod page;
mod sealed;
mod service;
pub mod sweeper;

use axum::Router;
use axum::routing::get;

pub use attempts::PasswordAttempts;
pub use service::Shares;

/// The share routes, each answered with its own state.
pub fn routes<S: Clone + Send + Sync + 'static>(shares: Shares) -> Router<S> {
    Router::new()
        .route("/s/{id}", get(page::show).post(page::unlock))
        .route("/s/{id}/qr.svg", get(page::qr_code))
        .route("/s/{id}/e2e", get(sealed::files))
        .route("/s/{id}/{file}/e2e", axum::routing::post(sealed::download))
        .route("/s/{id}/{file}/e2e/renew", axum::routing::post(sealed::renew))
        .route("/s/{id}/{file}", get(download::download).head(download::refuse_head))
        .with_state(shares)
}
