//! What Courier's integration tests share: one builder for a running
//! Courier on free loopback ports ([`TestCourier::builder`]), its server
//! functions called as the page calls them, the browser's side of an
//! upload, a look behind Courier into the store, many uploads at once, and
//! the flows every store must pass (the `app` feature, on by default); and,
//! for the store's own tests as well, test bytes, files on disk and a small
//! disk, and hostile clients. A crate of its own (as `s3s-test` is to
//! `s3s`), so each test binary uses what it needs.

#[cfg(feature = "app")]
mod browser;
mod bytes;
#[cfg(feature = "app")]
mod calls;
#[cfg(feature = "app")]
mod cli;
mod disk;
#[cfg(feature = "app")]
mod flows;
mod hostile;
#[cfg(feature = "app")]
mod load;
mod postgres;
mod s3;
#[cfg(feature = "app")]
mod shares;
#[cfg(feature = "app")]
mod store;
#[cfg(feature = "app")]
mod test_courier;

pub use bytes::{MULTIPART_FILE, md5_hex, part_bytes, part_sha256, query, sample_bytes, tricky_bytes};
pub use disk::{Tmpfs, files_under, stored_keys};
pub use hostile::{ATTACKER, FLOOR, SLOW_CLIENT, Trickle, answer_on, connect_from, one_trickle};
pub use postgres::PgCluster;
pub use s3::{anonymous_get, disposition_of, listed_uploads, object_exists, post_form, uploads_in_progress};

#[cfg(feature = "app")]
pub use browser::{form_head, location};
#[cfg(feature = "app")]
pub use cli::{courier_command, parts_listed, remembered_upload, resumed_send, resuming, run_to_end, text};
#[cfg(feature = "app")]
pub use flows::{
    aborting_leaves_nothing, an_expired_token_deletes_nothing, completing_what_does_not_add_up_aborts, deleting_holds,
    multipart_goes_through, part_urls_write_their_part_only, public_links_hold, public_links_stay_off,
};
#[cfg(feature = "app")]
pub use load::{BIG_FILE_IN_ONE_POST, LoadReport, client_address, upload_big_file_in_large_writes, upload_many};
#[cfg(feature = "app")]
pub use shares::share_ref;
#[cfg(feature = "app")]
pub use store::{embedded_store_client, s3_client};
#[cfg(feature = "app")]
pub use test_courier::{IDLE_CONNECTION_LIFETIME, TestCourier, TestCourierBuilder};
