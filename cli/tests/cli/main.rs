//! `courier get` and `courier send` end to end over HTTP, against a fake
//! Courier and store (`fake`) that check what the real ones check: the
//! proof against the seal's auth key, each part's length and SHA-256.

mod fake;
mod get;
mod send;
