//! `courier setup-bucket` and `courier check`: make a configured bucket ready
//! for browser uploads, and prove before a deploy that it is.

mod bucket;
mod check;
mod setup_bucket;

pub use bucket::CommandError;
pub use check::{Finding, check};
pub use setup_bucket::setup_bucket;
