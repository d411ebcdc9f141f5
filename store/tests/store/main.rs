//! The store's own tests: the store alone, built from the crate's public
//! face and served as the server serves it, on a free loopback port with a
//! temporary data directory, driven as S3 clients and browsers drive it.

mod public_read;
mod ranges;
mod support;
