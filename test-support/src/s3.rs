//! Looking behind Courier, or any client, at the store: what it holds, its
//! multipart uploads in progress, what an anonymous reader gets, and a
//! browser's form POST.

use reqwest::multipart::{Form, Part};
use reqwest::{Response, StatusCode, header};

/// Whether `key` is in the store, asked with the store's own credentials.
pub async fn object_exists(s3: &aws_sdk_s3::Client, bucket: &str, key: &str) -> bool {
    s3.head_object().bucket(bucket).key(key).send().await.is_ok()
}

/// An unsigned GET, as anyone holding a URL makes it: its status and body.
pub async fn anonymous_get(url: &str) -> (StatusCode, Vec<u8>) {
    let response = reqwest::get(url).await.expect("the store answers");
    let status = response.status();
    (status, response.bytes().await.expect("a body").to_vec())
}

/// The `Content-Disposition` an unsigned GET of `url` answers with.
pub async fn disposition_of(url: &str) -> String {
    let response = reqwest::get(url).await.expect("the store answers");
    let value = response.headers().get(header::CONTENT_DISPOSITION);
    value.and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned()
}

/// The store's own list of the multipart uploads in progress in `bucket`
/// (`ListMultipartUploads`, one page): key and upload id, as listed.
pub async fn uploads_in_progress(s3: &aws_sdk_s3::Client, bucket: &str) -> Vec<(String, String)> {
    let listed = s3
        .list_multipart_uploads()
        .bucket(bucket)
        .send()
        .await
        .expect("the store lists uploads");
    listed_uploads(&listed)
}

/// One page of `ListMultipartUploads`: key and upload id of each upload.
pub fn listed_uploads(
    listed: &aws_sdk_s3::operation::list_multipart_uploads::ListMultipartUploadsOutput,
) -> Vec<(String, String)> {
    listed
        .uploads()
        .iter()
        .map(|u| {
            (
                u.key().unwrap_or_default().to_owned(),
                u.upload_id().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

/// POSTs the fields, then the file, to `url`, as a browser on the page at
/// `origin` does.
pub async fn post_form(
    http: &reqwest::Client,
    url: &str,
    origin: &str,
    fields: impl IntoIterator<Item = (impl AsRef<str>, impl AsRef<str>)>,
    file_name: &str,
    content_type: &str,
    bytes: &[u8],
) -> Response {
    let mut form = Form::new();
    for (name, value) in fields {
        form = form.text(name.as_ref().to_owned(), value.as_ref().to_owned());
    }
    let part = Part::bytes(bytes.to_vec())
        .file_name(file_name.to_owned())
        .mime_str(content_type)
        .expect("mime");
    http.post(url)
        .header(header::ORIGIN, origin)
        .multipart(form.part("file", part))
        .send()
        .await
        .expect("the store answers")
}
