//! Rotating `COURIER_SECRET` without breaking links: instances redeployed
//! with a new secret and the old one in `COURIER_SECRET_PREVIOUS` still give
//! "new link" (and delete) for files uploaded before; once the old secret is
//! dropped, its tokens stop working.

use reqwest::StatusCode;

use courier_test_support::TestCourier;

const OLD: &str = "the-secret-before-the-rotation-0123456789";
const NEW: &str = "the-secret-after-the-rotation-0123456789";

/// Another Courier on `first`'s embedded store (its data directory), as a
/// redeployed instance on the same bucket.
async fn redeployed(first: &TestCourier, secrets: &[(&str, &str)]) -> TestCourier {
    TestCourier::builder()
        .store_data_in(first.data_dir.path())
        .envs(secrets)
        .start()
        .await
}

#[tokio::test]
async fn links_survive_a_secret_rotation_until_the_old_secret_is_dropped() {
    let before = TestCourier::builder().envs(&[("COURIER_SECRET", OLD)]).start().await;
    let link = before
        .upload("report.txt", "text/plain", b"made before the rotation")
        .await;

    let rotated = redeployed(&before, &[("COURIER_SECRET", NEW), ("COURIER_SECRET_PREVIOUS", OLD)]).await;
    let renewed = rotated.sign_download(&link.key, &link.token).await;
    assert_eq!(renewed.status(), StatusCode::OK);
    let renewed: app::model::DownloadLink = renewed.json().await.expect("a link");
    assert_eq!(
        rotated.downloaded_bytes(&renewed.download_url).await,
        b"made before the rotation"
    );
    // What the rotated instance signs, the old one (still running) cannot check.
    let fresh = rotated.upload("new.txt", "text/plain", b"made after").await;
    assert_eq!(
        before.sign_download(&fresh.key, &fresh.token).await.status(),
        StatusCode::FORBIDDEN
    );

    let dropped = redeployed(&before, &[("COURIER_SECRET", NEW)]).await;
    assert_eq!(
        dropped.sign_download(&link.key, &link.token).await.status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        dropped.delete_upload(&link.key, &link.token).await.status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        dropped.sign_download(&fresh.key, &fresh.token).await.status(),
        StatusCode::OK
    );
}
