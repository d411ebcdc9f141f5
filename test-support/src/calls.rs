//! The server functions, called as the page calls them: each call as
//! `wire::endpoint` names and encodes it.

use app::model::{LinkKind, UploadGrant};
use app::multipart::{MultipartGrant, MultipartUpload, PartToSign, PartUrl};
use reqwest::{Response, StatusCode, header};
use wire::endpoint::{self, Call, FORM_CONTENT_TYPE};

use crate::bytes::part_sha256;
use crate::test_courier::TestCourier;

/// A link kind as tests name it (`"public"`, `"expiring"`).
fn link_kind(name: &str) -> LinkKind {
    LinkKind::parse(name).expect("a link kind")
}

/// Signing, as the page (or a script) asks for it.
impl TestCourier {
    pub async fn sign_upload(&self, filename: &str, content_type: &str, size: u64) -> Response {
        self.sign_upload_for(filename, content_type, size, None).await
    }

    /// `sign_upload` for a file that gets `link` (`expiring` or `public`);
    /// `None` leaves it to the server's default.
    pub async fn sign_upload_for(&self, filename: &str, content_type: &str, size: u64, link: Option<&str>) -> Response {
        self.call(endpoint::sign_upload(filename, content_type, size, link.map(link_kind)))
            .await
    }

    pub async fn grant(&self, filename: &str, content_type: &str, size: u64) -> UploadGrant {
        let response = self.sign_upload(filename, content_type, size).await;
        assert_eq!(response.status(), StatusCode::OK, "sign_upload refused");
        response.json().await.expect("an UploadGrant")
    }

    /// Asks Courier for a fresh link, as the page's "New link" does.
    pub async fn sign_download(&self, key: &str, token: &str) -> Response {
        self.call(endpoint::sign_download(key, token)).await
    }

    /// Asks Courier to delete a file, as the page's Delete button does.
    pub async fn delete_upload(&self, key: &str, token: &str) -> Response {
        self.call(endpoint::delete_upload(key, token)).await
    }

    /// `start_multipart` for a file of `size` bytes.
    pub async fn start_multipart(&self, filename: &str, content_type: &str, size: u64, link: Option<&str>) -> Response {
        self.call(endpoint::start_multipart(
            filename,
            content_type,
            size,
            link.map(link_kind),
        ))
        .await
    }

    /// Starts one that must be granted.
    pub async fn multipart(&self, filename: &str, size: u64) -> MultipartUpload {
        let response = self
            .start_multipart(filename, "application/octet-stream", size, None)
            .await;
        assert_eq!(response.status(), StatusCode::OK, "start_multipart refused");
        let grant: MultipartGrant = response.json().await.expect("a MultipartGrant");
        grant.upload
    }

    /// `sign_parts` for `(number, base64 SHA-256)` pairs.
    pub async fn sign_parts(&self, upload: &MultipartUpload, parts: &[(u32, String)]) -> Response {
        let parts: Vec<PartToSign> = parts
            .iter()
            .map(|(number, sha256)| PartToSign {
                number: *number,
                sha256: Some(sha256.clone()),
            })
            .collect();
        self.call(endpoint::sign_parts(upload, &parts)).await
    }

    /// `sign_parts` for part numbers alone, no checksum (as with
    /// `COURIER_PART_CHECKSUMS=false`).
    pub async fn sign_parts_without_checksum(&self, upload: &MultipartUpload, numbers: &[u32]) -> Response {
        let parts: Vec<PartToSign> = numbers
            .iter()
            .map(|&number| PartToSign { number, sha256: None })
            .collect();
        self.call(endpoint::sign_parts(upload, &parts)).await
    }

    /// Signs the parts of `bytes` numbered `numbers` (as cut by `upload`).
    pub async fn part_urls(&self, upload: &MultipartUpload, bytes: &[u8], numbers: &[u32]) -> Vec<PartUrl> {
        let parts: Vec<(u32, String)> = numbers.iter().map(|&n| (n, part_sha256(upload, bytes, n))).collect();
        let response = self.sign_parts(upload, &parts).await;
        assert_eq!(response.status(), StatusCode::OK, "sign_parts refused");
        response.json().await.expect("part URLs")
    }

    pub async fn list_parts(&self, upload: &MultipartUpload) -> Response {
        self.call(endpoint::list_parts(upload)).await
    }

    pub async fn complete_multipart(&self, upload: &MultipartUpload) -> Response {
        self.call(endpoint::complete_multipart(upload)).await
    }

    pub async fn abort_multipart(&self, upload: &MultipartUpload) -> Response {
        self.call(endpoint::abort_multipart(upload)).await
    }

    /// Sends `call` to its server function, as the page does.
    pub async fn call<T>(&self, call: Call<T>) -> Response {
        self.request(&call).send().await.expect("Courier answers")
    }

    /// `call` as the page sends it, for a test to add to.
    pub fn request<T>(&self, call: &Call<T>) -> reqwest::RequestBuilder {
        self.http
            .post(format!("{}{}", self.base, call.path()))
            .header(header::CONTENT_TYPE, FORM_CONTENT_TYPE)
            .body(call.body())
    }
}
