//! Rotating `COURIER_SECRET` without breaking links: instances redeployed
//! with a new secret and the old one in `COURIER_SECRET_PREVIOUS` still give
//! "new link" (and delete) for files uploaded before; once the old secret is
//! dropped, its tokens stop working.

use reqwest::StatusCode;

use crate::helpers::{TestCourier, spawn_courier_on, spawn_courier_with};

const OLD: &str = "the-secret-before-the-rotation-0123456789";
const NEW: &str = "the-secret-after-the-rotation-0123456789";

/// Another Courier on `first`'s embedded store (its data directory), as a
/// redeployed instance on the same bucket.
async fn redeployed(first: &TestCourier, secrets: &[(&str, &str)]) -> TestCourier {
    let mut vars = vec![
        ("COURIER_EMBEDDED_S3_ADDR".to_owned(), "127.0.0.1:0".to_owned()),
        (
            "COURIER_DATA_DIR".to_owned(),
            first.data_dir.path().display().to_string(),
        ),
    ];
    vars.extend(secrets.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    spawn_courier_on(vars, tempfile::tempdir().expect("a temporary directory")).await
}

#[tokio::test]
async fn links_survive_a_secret_rotation_until_the_old_secret_is_dropped() {
    let before = spawn_courier_with(&[("COURIER_SECRET", OLD)]).await;
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
