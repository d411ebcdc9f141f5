//! `courier setup-bucket` and `courier check`: make a configured bucket ready
//! for browser uploads, and prove before a deploy that it is; `courier
//! token`: API tokens for scripts.

mod bucket;
mod check;
mod setup_bucket;
mod token;

pub use bucket::CommandError;
pub use check::{Finding, check};
pub use setup_bucket::setup_bucket;
pub use token::{TOKEN_USAGE, TokenCommandError, TokenOutput, token};
