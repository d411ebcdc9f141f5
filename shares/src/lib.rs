//! Courier's shares, kept in a database: a share is one link for one or more
//! confirmed files, with its rules (expiry, a download limit per file,
//! revoked). The rules live in a database rather than in a signed URL so the
//! sender can take a link back and downloads can be counted.
//!
//! SQLite in the data directory by default (nothing to set up, as the
//! embedded store), PostgreSQL when several Courier instances share one
//! database. Both are reached through one [`ShareDb`]; the SQL is written
//! once and runs on either (see [`db`]). No HTTP here: the routes call it,
//! and time is passed in, never read, so tests choose it.
//!
//! - [`config`]: which database, from `COURIER_DATABASE_URL`;
//! - [`share`]: what a share is, and its id;
//! - [`db`]: the pool, the migrations and the queries;
//! - [`error`]: why a share cannot be used, and why the database failed.

pub mod config;
mod connect;
pub mod db;
pub mod error;
pub mod share;

pub use config::DatabaseConfig;
pub use db::{DbStatus, ShareDb};
pub use error::{DbError, ShareRefusal};
pub use share::{NewFile, NewShare, Share, ShareId, SharedFile};
