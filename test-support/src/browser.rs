//! What the browser does around the calls: POSTs to the store and follows
//! its 303 as fetch does, reads the page's form, sends parts, downloads.

use std::collections::BTreeMap;

use app::model::{DownloadLink, UploadGrant};
use app::multipart::MultipartUpload;
use reqwest::{Response, StatusCode, header};

use crate::bytes::{part_bytes, part_sha256};
use crate::s3::post_form;
use crate::test_courier::TestCourier;

pub fn location(response: &Response) -> String {
    response
        .headers()
        .get(header::LOCATION)
        .expect("a Location header")
        .to_str()
        .expect("ascii")
        .to_owned()
}

/// A browser's multipart form under `grant`, up to the file's first byte:
/// every field, then the file part's headers.
pub fn form_head(grant: &UploadGrant, file_name: &str, boundary: &str) -> String {
    let mut head = String::new();
    for (name, value) in &grant.fields {
        head.push_str(&format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
        ));
    }
    let content_type = grant.fields.get("Content-Type").cloned().unwrap_or_default();
    head.push_str(&format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{file_name}\"\r\nContent-Type: {content_type}\r\n\r\n"
    ));
    head
}

impl TestCourier {
    /// POSTs the fields, then the file, to the store, as the browser does.
    pub async fn post_to_store(
        &self,
        url: &str,
        fields: impl IntoIterator<Item = (impl AsRef<str>, impl AsRef<str>)>,
        file_name: &str,
        content_type: &str,
        bytes: &[u8],
    ) -> Response {
        post_form(&self.http, url, &self.base, fields, file_name, content_type, bytes).await
    }

    /// Follows a 303 from the store the way fetch does: a GET asking for JSON.
    pub async fn follow_as_fetch(&self, response: &Response) -> Response {
        let location = location(response);
        self.http
            .get(location)
            .header(header::ACCEPT, "application/json")
            .header(header::ORIGIN, "null")
            .send()
            .await
            .expect("confirm answers")
    }

    /// Sign, upload and confirm one file; returns the link.
    pub async fn upload(&self, name: &str, content_type: &str, bytes: &[u8]) -> DownloadLink {
        let grant = self.grant(name, content_type, bytes.len() as u64).await;
        self.upload_under(&grant, name, content_type, bytes).await
    }

    /// The same, for a file that gets a public link.
    pub async fn upload_public(&self, name: &str, content_type: &str, bytes: &[u8]) -> DownloadLink {
        let response = self
            .sign_upload_for(name, content_type, bytes.len() as u64, Some("public"))
            .await;
        assert_eq!(response.status(), StatusCode::OK, "a public grant");
        let grant: UploadGrant = response.json().await.expect("an UploadGrant");
        self.upload_under(&grant, name, content_type, bytes).await
    }

    /// Uploads and confirms one file under `grant`.
    async fn upload_under(&self, grant: &UploadGrant, name: &str, content_type: &str, bytes: &[u8]) -> DownloadLink {
        let stored = self
            .post_to_store(&grant.url, &grant.fields, name, content_type, bytes)
            .await;
        self.link_from(stored).await
    }

    /// The store's answer to an upload, which must be its 303, followed to
    /// `/confirm-upload` as fetch does: the link.
    pub async fn link_from(&self, stored: Response) -> DownloadLink {
        assert_eq!(
            stored.status(),
            StatusCode::SEE_OTHER,
            "the store refused: {}",
            stored.text().await.unwrap_or_default()
        );
        let confirmed = self.follow_as_fetch(&stored).await;
        assert_eq!(confirmed.status(), StatusCode::OK);
        confirmed.json().await.expect("a DownloadLink")
    }

    /// A GET that asks for `accept` (a browser asks for HTML, fetch for JSON).
    pub async fn get_as(&self, url: &str, accept: &str) -> Response {
        self.http
            .get(url)
            .header(header::ACCEPT, accept)
            .send()
            .await
            .expect("Courier answers")
    }

    /// What a link serves: its `Content-Disposition` and its bytes (checking it succeeds).
    pub async fn download_named(&self, url: &str) -> (String, Vec<u8>) {
        let response = self.download(url).await;
        assert_eq!(response.status(), StatusCode::OK, "the link must work");
        let disposition = response
            .headers()
            .get(header::CONTENT_DISPOSITION)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        (disposition, response.bytes().await.expect("the body").to_vec())
    }

    /// Each link serves its bytes.
    pub async fn assert_serves(&self, links: &[(&DownloadLink, &[u8])]) {
        for (link, expected) in links {
            assert_eq!(
                self.downloaded_bytes(&link.download_url).await.as_slice(),
                *expected,
                "{}",
                link.key
            );
        }
    }

    /// The bytes a link serves.
    pub async fn downloaded_bytes(&self, url: &str) -> Vec<u8> {
        self.download(url).await.bytes().await.expect("the body").to_vec()
    }

    pub async fn download(&self, url: &str) -> Response {
        self.http.get(url).send().await.expect("the store answers")
    }

    /// The form's action and hidden fields, read from the page's HTML.
    pub async fn page_form(&self) -> (String, BTreeMap<String, String>) {
        self.page_form_at("/").await
    }

    /// The settings the page hands its uploader (the island's `data-props`).
    pub async fn page_settings(&self) -> serde_json::Value {
        self.page_settings_at("/").await
    }

    /// The same, from the page at `path` (such as a file request's `/r/<id>`).
    pub async fn page_settings_at(&self, path: &str) -> serde_json::Value {
        let html = self
            .get_as(&format!("{}{path}", self.base), "text/html")
            .await
            .text()
            .await
            .expect("HTML");
        let props = html
            .split(" data-props=\"")
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .expect("the uploader's props");
        let props = props
            .replace("&quot;", "\"")
            .replace("&#x27;", "'")
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&amp;", "&");
        let props: serde_json::Value = serde_json::from_str(&props).expect("JSON props");
        props["settings"].clone()
    }

    /// The same, from the page at `path` (such as `/?link=public`).
    pub async fn page_form_at(&self, path: &str) -> (String, BTreeMap<String, String>) {
        let courier = self;
        let page = courier
            .http
            .get(format!("{}{path}", courier.base))
            .send()
            .await
            .expect("the page");
        assert_eq!(page.status(), StatusCode::OK);
        let html = page.text().await.expect("HTML");
        let form = html
            .split("<form")
            .nth(1)
            .and_then(|f| f.split("</form>").next())
            .expect("a form");
        let attribute = |tag: &str, name: &str| -> Option<String> {
            let start = tag.find(&format!(" {name}=\""))? + name.len() + 3;
            Some(
                tag[start..]
                    .split('"')
                    .next()?
                    .replace("&amp;", "&")
                    .replace("&quot;", "\""),
            )
        };
        let action = attribute(form.split('>').next().expect("the form tag"), "action").expect("an action");
        assert!(
            form.contains("method=\"post\"") && form.contains("enctype=\"multipart/form-data\""),
            "{form}"
        );
        let mut fields = BTreeMap::new();
        for input in form.split("<input").skip(1) {
            let tag = input.split('>').next().expect("a tag");
            if tag.contains("type=\"hidden\"") {
                fields.insert(
                    attribute(tag, "name").expect("name"),
                    attribute(tag, "value").unwrap_or_default(),
                );
            }
        }
        assert!(form.contains("type=\"file\" name=\"file\""), "{form}");
        (action, fields)
    }

    /// POSTs a grant's form as `curl -F` does with a big file: the fields,
    /// then the file in writes of `write` bytes each.
    pub async fn post_in_large_writes(
        &self,
        grant: &UploadGrant,
        file_name: &str,
        bytes: bytes::Bytes,
        write: usize,
    ) -> Response {
        let boundary = "------------------------courierLargeWrites";
        let head = form_head(grant, file_name, boundary);
        let tail = format!("\r\n--{boundary}--\r\n");
        let length = head.len() + bytes.len() + tail.len();
        let mut pieces = vec![bytes::Bytes::from(head)];
        let mut rest = bytes;
        while !rest.is_empty() {
            pieces.push(rest.split_to(write.min(rest.len())));
        }
        pieces.push(bytes::Bytes::from(tail));
        let body = reqwest::Body::wrap_stream(futures::stream::iter(pieces.into_iter().map(Ok::<_, std::io::Error>)));
        self.http
            .post(&grant.url)
            .header(
                header::CONTENT_TYPE,
                format!("multipart/form-data; boundary={boundary}"),
            )
            .header(header::CONTENT_LENGTH, length)
            .body(body)
            .send()
            .await
            .expect("the store answers")
    }

    /// PUTs `body` to a part URL with `sha256` as its `x-amz-checksum-sha256`, as the page does.
    pub async fn put_part(&self, url: &str, body: Vec<u8>, sha256: &str) -> Response {
        self.try_put_part(url, body, sha256).await.expect("the store answers")
    }

    async fn try_put_part(&self, url: &str, body: Vec<u8>, sha256: &str) -> Result<Response, reqwest::Error> {
        self.http
            .put(url)
            .header(header::ORIGIN, &self.base)
            .header("x-amz-checksum-sha256", sha256)
            .body(body)
            .send()
            .await
    }

    /// A part PUT whose signature the store must refuse: 403, or a
    /// connection closed under a body it refused before reading.
    pub async fn assert_put_refused(&self, url: &str, body: Vec<u8>, sha256: &str, what: &str) {
        match self.try_put_part(url, body, sha256).await {
            Ok(answer) => assert_eq!(answer.status(), StatusCode::FORBIDDEN, "{what}"),
            Err(error) => assert!(error.is_request(), "{what}: {error}"),
        }
    }

    /// Signs and sends the parts numbered `numbers`; each must be stored.
    pub async fn send_parts(&self, upload: &MultipartUpload, bytes: &[u8], numbers: &[u32]) {
        for part in self.part_urls(upload, bytes, numbers).await {
            let body = part_bytes(upload, bytes, part.number).to_vec();
            let stored = self
                .put_part(&part.url, body, &part_sha256(upload, bytes, part.number))
                .await;
            let status = stored.status();
            assert_eq!(
                status,
                StatusCode::OK,
                "part {}: {}",
                part.number,
                stored.text().await.unwrap_or_default()
            );
        }
    }
}
