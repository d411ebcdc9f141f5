//! Courier's shares, kept in a database: a share is one link for one or more
//! confirmed files, with its rules (expiry, a download limit per file, a
//! password, revoked). The rules live in a database rather than in a signed
//! URL so the sender can change them or take a link back, and downloads can
//! be counted.
//!
//! SQLite in the data directory by default (nothing to set up, as the
//! embedded store), PostgreSQL when several Courier instances share one
//! database. Both are reached through one [`ShareDb`]; the SQL is written
//! once and runs on either (see [`db`]). No HTTP here: the routes call it,
//! and time is passed in, never read, so tests choose it.
//!
//! - [`config`]: which database, from `COURIER_DATABASE_URL`;
//! - [`share`]: what a share is, and its id; a share as its sender sees it
//!   ([`ShareRecord`]), a change of its rules, what a sweep claimed;
//! - [`db`]: the pool, the migrations and the queries: a share for its link
//!   and a download counted (or given back); the sender's view, rule
//!   changes, revocation and several shares combined into one; the sweep
//!   that claims shares that are over so their objects can be deleted;
//! - API tokens for scripts, kept as their hashes (`db::tokens`);
//! - file requests: links that let someone without upload access upload
//!   into a share, within a file count, a size and an expiry (`db::requests`);
//! - [`error`]: why a share cannot be used or changed, and why the database failed.
//!
//! A password is kept only as the Argon2id hash the caller made, and no
//! `Debug` here prints it. A malformed id costs the same query as an
//! unknown one, so neither answers faster.

mod batch;
pub mod config;
mod connect;
pub mod db;
pub mod error;
pub mod share;

pub use config::DatabaseConfig;
pub use db::requests::{ArrivedFile, FileRequest, NewRequest, ReceivedFile, RequestId, RequestRefusal, RequestState};
pub use db::tokens::{ApiToken, TokenRefusal, valid_token_name};
pub use db::{DbStatus, MOST_SHARES_AT_ONCE, ShareDb};
pub use error::{DbError, ShareRefusal};
pub use share::{
    LONGEST_SEALED_DOWNLOAD, NewFile, NewRules, NewShare, PasswordChange, RuleChange, SEALED_DOWNLOAD_GRACE,
    SLOWEST_SEALED_DOWNLOAD, Share, ShareId, ShareRecord, ShareState, SharedFile, SweptShare, sealed_download_window,
};
