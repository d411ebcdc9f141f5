//! Big files and many clients at once against the embedded store: every
//! upload must end in a working link whose bytes and ETag match.

use crate::helpers::{BIG_FILE_IN_ONE_POST, spawn_courier_with, upload_big_file_in_large_writes, upload_many};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_big_file_sent_in_large_writes_goes_through() {
    upload_big_file_in_large_writes(&spawn_courier_with(&[BIG_FILE_IN_ONE_POST]).await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn five_hundred_uploads_from_two_hundred_clients_all_land() {
    let courier = spawn_courier_with(&[("COURIER_RATE_LIMIT_PER_MINUTE", "0")]).await;
    upload_many(&courier, 200, 500)
        .await
        .assert_every_upload_landed("embedded store");
}
