//! Big files and many clients at once against the embedded store: every
//! upload must end in a working link whose bytes and ETag match.

use courier_test_support::{BIG_FILE_IN_ONE_POST, TestCourier, upload_big_file_in_large_writes, upload_many};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_big_file_sent_in_large_writes_goes_through() {
    upload_big_file_in_large_writes(&TestCourier::builder().envs(&[BIG_FILE_IN_ONE_POST]).start().await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn five_hundred_uploads_from_two_hundred_clients_all_land() {
    let courier = TestCourier::builder()
        .envs(&[("COURIER_RATE_LIMIT_PER_MINUTE", "0")])
        .start()
        .await;
    upload_many(&courier, 200, 500)
        .await
        .assert_every_upload_landed("embedded store");
}
