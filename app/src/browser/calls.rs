//! The server functions (`crate::api`) as the page calls them: a
//! form-encoded POST to `/api/<name>`, the same fields the server
//! functions' own client would send, and the JSON answer read with
//! [`crate::json`]. Written out rather than through that client, which
//! brings its URL encoder (`serde_qs`), a fetch wrapper and streams into
//! the bundle for eight small calls.

use super::transfer::{Body, Ended, Xhr};
use crate::error::CourierError;
use crate::json::{ReadJson, from_str};
use crate::model::{DownloadLink, LinkKind, UploadGrant};
use crate::multipart::{MultipartGrant, MultipartUpload, PartToSign, PartUrl, StoredPart};

pub async fn sign_upload(
    filename: String,
    content_type: String,
    size: u64,
    link: LinkKind,
) -> Result<UploadGrant, CourierError> {
    call("sign_upload", file_fields(&filename, &content_type, size, link)).await
}

pub async fn sign_download(key: String, token: String) -> Result<DownloadLink, CourierError> {
    call("sign_download", Form::new().field("key", &key).field("token", &token)).await
}

pub async fn delete_upload(key: String, token: String) -> Result<(), CourierError> {
    call("delete_upload", Form::new().field("key", &key).field("token", &token)).await
}

pub async fn start_multipart(
    filename: String,
    content_type: String,
    size: u64,
    link: LinkKind,
) -> Result<MultipartGrant, CourierError> {
    call("start_multipart", file_fields(&filename, &content_type, size, link)).await
}

pub async fn sign_parts(upload: &MultipartUpload, parts: &[PartToSign]) -> Result<Vec<PartUrl>, CourierError> {
    let mut form = upload_fields(upload);
    for (i, part) in parts.iter().enumerate() {
        form = form.field(&format!("parts[{i}][number]"), &part.number.to_string());
        if let Some(sha256) = &part.sha256 {
            form = form.field(&format!("parts[{i}][sha256]"), sha256);
        }
    }
    call("sign_parts", form).await
}

pub async fn list_parts(upload: &MultipartUpload) -> Result<Vec<StoredPart>, CourierError> {
    call("list_parts", upload_fields(upload)).await
}

pub async fn complete_multipart(upload: &MultipartUpload) -> Result<DownloadLink, CourierError> {
    call("complete_multipart", upload_fields(upload)).await
}

pub async fn abort_multipart(upload: &MultipartUpload) -> Result<(), CourierError> {
    call("abort_multipart", upload_fields(upload)).await
}

/// A file as `sign_upload` and `start_multipart` read it.
fn file_fields(filename: &str, content_type: &str, size: u64, link: LinkKind) -> Form {
    Form::new()
        .field("filename", filename)
        .field("content_type", content_type)
        .field("size", &size.to_string())
        .field("link", link.as_str())
}

/// An upload as the multipart calls read it: `upload[key]=…` and so on.
fn upload_fields(upload: &MultipartUpload) -> Form {
    Form::new()
        .field("upload[key]", &upload.key)
        .field("upload[upload_id]", &upload.upload_id)
        .field("upload[size]", &upload.size.to_string())
        .field("upload[part_size]", &upload.part_size.to_string())
        .field("upload[token]", &upload.token)
}

/// `application/x-www-form-urlencoded`, names and values percent-encoded.
struct Form(String);

impl Form {
    fn new() -> Self {
        Self(String::new())
    }

    fn field(mut self, name: &str, value: &str) -> Self {
        if !self.0.is_empty() {
            self.0.push('&');
        }
        self.0.push_str(&String::from(js_sys::encode_uri_component(name)));
        self.0.push('=');
        self.0.push_str(&String::from(js_sys::encode_uri_component(value)));
        self
    }
}

/// POSTs `form` to the server function `name`; its answer, or its refusal.
async fn call<T: ReadJson>(name: &str, form: Form) -> Result<T, CourierError> {
    let headers = [
        ("Content-Type", "application/x-www-form-urlencoded"),
        ("Accept", "application/json"),
    ];
    let url = format!("/api/{name}");
    let xhr =
        Xhr::send("POST", &url, &headers, Body::Text(&form.0), |_, _| {}, || {}).map_err(|_| unreachable_courier())?;
    match xhr.ended().await {
        Ended::Answered {
            status: 200..=299,
            body,
        } => from_str(&body).map_err(|_| unreadable(200)),
        Ended::Answered { status: 0, .. } | Ended::NoAnswer | Ended::Aborted => Err(unreachable_courier()),
        Ended::Answered { status, body } => Err(from_str::<CourierError>(&body).unwrap_or_else(|_| unreadable(status))),
    }
}

fn unreachable_courier() -> CourierError {
    CourierError::Network("Courier could not be reached. Check your connection and try again.".to_owned())
}

/// An answer that is not Courier's JSON (a proxy's error page, say).
fn unreadable(status: u16) -> CourierError {
    CourierError::Internal(format!(
        "Something went wrong on our side (HTTP {status}). Try again in a moment."
    ))
}
