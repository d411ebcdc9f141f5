//! Courier's Leptos app: the upload page, the server functions it calls, and
//! the wire types both sides share. Compiled twice: `ssr` for the server and
//! `hydrate` for the browser.
//!
//! Where things live:
//! - [`upload`]: the upload page and its components (server-rendered, hydrated);
//! - [`api`]: the server functions (`sign_upload`, `sign_download`, `sign_upload_form`);
//! - [`model`], [`file_rules`], [`size`]: what travels between server and
//!   browser (the `wire` crate, compiled for both);
//! - the signing core (POST policies, tokens, keys, links) is the `signer`
//!   crate, which only the `ssr` build depends on;
//! - [`browser`]: what the page does in the browser (the POST of the file to
//!   the store, drop, paste, clipboard), no-ops on the server;
//! - [`confirm_page`] (server only): the link page a plain browser lands on;
//! - [`share_page`] (server only): a share's page `/s/<id>` (its files, its
//!   password form, a link that is over), its policy and its QR code;
//! - [`sign_in`] (server only): the upload password's sign-in form.

// Leptos views are types nested as deep as the page: the upload page's
// went past the default query depth of 128.
#![recursion_limit = "256"]

pub mod api;
pub mod browser;
pub mod error;
pub mod json;
pub mod shell;
pub mod store_error;
pub mod upload;

pub use wire::{endpoint, file_rules, model, multipart, request, share, size};

#[cfg(feature = "ssr")]
pub mod confirm_page;
#[cfg(feature = "ssr")]
pub mod content_security;
#[cfg(feature = "ssr")]
pub mod password_form;
#[cfg(feature = "ssr")]
pub mod share_page;
#[cfg(feature = "ssr")]
pub mod sign_in;

pub use shell::{App, shell};
