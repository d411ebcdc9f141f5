//! Public links and delete on the embedded store (the same scenarios run on
//! Garage): who may read a file, and its owner taking it back.

use courier_test_support::{
    TestCourier, an_expired_token_deletes_nothing, deleting_holds, public_links_hold, public_links_stay_off,
};

#[tokio::test]
async fn public_links_serve_anyone_and_nothing_private() {
    let courier = TestCourier::start().await;
    public_links_hold(&courier, &courier.store_client()).await;
}

#[tokio::test]
async fn only_the_owner_deletes_and_then_links_fail() {
    let courier = TestCourier::start().await;
    deleting_holds(&courier, &courier.store_client()).await;
}

#[tokio::test]
async fn an_expired_token_cannot_delete() {
    let courier = TestCourier::builder()
        .envs(&[("COURIER_RENEW_TTL_SECS", "1")])
        .start()
        .await;
    an_expired_token_deletes_nothing(&courier, &courier.store_client()).await;
}

#[tokio::test]
async fn public_links_can_be_turned_off() {
    public_links_stay_off(
        &TestCourier::builder()
            .envs(&[("COURIER_PUBLIC_LINKS", "false")])
            .start()
            .await,
    )
    .await;
}
