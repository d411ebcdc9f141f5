//! Courier's Leptos app: the upload page, the server functions it calls, and
//! the wire types both sides share. Compiled twice: `ssr` for the server and
//! `hydrate` for the browser.
//!
//! Where things live:
//! - [`upload`]: the upload page and its components (server-rendered, hydrated);
//! - [`api`]: the server functions (`sign_upload`, `sign_download`, `sign_upload_form`);
//! - [`model`]: `UploadGrant` and `DownloadLink`, what travels between server and browser;
//! - [`signing`] (server only): the POST policy signer, upload tokens, keys, download links;
//! - [`browser`] (browser only): the POST of the file to the store;
//! - [`confirm_page`] (server only): the link page a plain browser lands on.

pub mod api;
pub mod error;
pub mod file_rules;
pub mod model;
pub mod shell;
pub mod size;
pub mod store_error;
pub mod upload;

#[cfg(feature = "hydrate")]
pub mod browser;
#[cfg(feature = "ssr")]
pub mod confirm_page;
#[cfg(feature = "ssr")]
pub mod content_security;
#[cfg(feature = "ssr")]
pub mod signing;

pub use shell::{App, shell};
