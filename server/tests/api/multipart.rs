//! Multipart uploads on the embedded store: the whole flow over HTTP, part
//! URLs that write only their part, completions that must add up, aborts
//! that leave nothing (not even a part file on disk).

use crate::helpers::{
    aborting_leaves_nothing, completing_what_does_not_add_up_aborts, files_under, multipart_goes_through,
    part_urls_write_their_part_only, spawn_courier,
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_multipart_upload_goes_through() {
    multipart_goes_through(&spawn_courier().await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_part_url_writes_its_part_only() {
    part_urls_write_their_part_only(&spawn_courier().await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn completing_what_does_not_add_up_is_refused_and_aborted() {
    let courier = spawn_courier().await;
    completing_what_does_not_add_up_aborts(&courier, &courier.store_client()).await;
    assert_eq!(
        files_under(courier.data_dir.path(), ".upload_id-"),
        Vec::<std::path::PathBuf>::new()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aborting_leaves_nothing_on_disk() {
    let courier = spawn_courier().await;
    aborting_leaves_nothing(&courier, &courier.store_client()).await;
    assert_eq!(
        files_under(courier.data_dir.path(), ".upload_id-"),
        Vec::<std::path::PathBuf>::new()
    );
    assert_eq!(
        files_under(courier.data_dir.path(), ".upload-"),
        Vec::<std::path::PathBuf>::new()
    );
}
