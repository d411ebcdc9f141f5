//! Courier's end-to-end encryption format, version 1, as FORMAT.md defines
//! it: the keys a file's secret (and password) give, the object's records
//! and parts, the sealed metadata, the seal Courier keeps, the proof a
//! downloader sends, and the share link that carries the secrets.
//!
//! The browser has its own implementation (`public/seal.js`); the two share
//! nothing but `vectors/v1.json`. Nothing here does I/O.

mod b64;
pub mod keys;
pub mod link;
pub mod metadata;
pub mod parts;
pub mod proof;
pub mod random;
pub mod records;
pub mod seal;

pub use keys::{Kdf, KdfError, Keys, Secret};
pub use link::{LinkError, ShareLink};
pub use metadata::{Metadata, MetadataError};
pub use parts::{Layout, Part, PartSizeError};
pub use random::RandomError;
pub use records::{OpenError, Opener, RecordsError, open_object, seal_records};
pub use seal::{Seal, SealError};
