//! The store's own tests: the store alone, built from the crate's public
//! face and served as the server serves it (or run as its binary, for the
//! tests that kill it), on a free loopback port with its own data
//! directory, driven as S3 clients, browsers and attackers drive it.

mod attacks;
mod conformance;
mod disk_full;
mod hostile_clients;
mod killed_store;
mod public_read;
mod ranges;
mod support;
