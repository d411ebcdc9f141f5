//! S3's `${filename}` key variable, which `s3s` does not substitute: AWS and
//! Garage replace it in a browser POST's `key` field with the name of the
//! uploaded file; without this, every plain-form upload on a page would land
//! on the literal key `…/${filename}` and overwrite the one before.
//!
//! Only the form fields in front of the file part are read (they are small
//! and S3 requires them first); the file itself streams through untouched.

use axum::body::Body;
use bytes::{Bytes, BytesMut};
use futures::{StreamExt, TryStreamExt, stream};
use http::{HeaderValue, Method, Request, header};

const VARIABLE: &str = "${filename}";
/// How much of the body may precede the file part.
pub const MAX_FIELDS_BYTES: usize = 64 * 1024;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum FormError {
    #[error("the form fields before the file exceed {MAX_FIELDS_BYTES} bytes")]
    FieldsTooLarge,
    #[error("the request body could not be read")]
    Body,
}

/// Rewrites the `key` field of a POST to the bucket when it holds `${filename}`.
pub async fn substitute(request: Request<Body>) -> Result<Request<Body>, FormError> {
    let Some(boundary) = multipart_boundary(&request) else {
        return Ok(request);
    };
    if request.method() != Method::POST {
        return Ok(request);
    }
    let (mut parts, body) = request.into_parts();
    let mut stream = body.into_data_stream();
    let mut head = BytesMut::new();
    let outline = loop {
        if let Some(outline) = FormOutline::read(&head, &boundary) {
            break Some(outline);
        }
        if head.len() > MAX_FIELDS_BYTES {
            return Err(FormError::FieldsTooLarge);
        }
        match stream.next().await {
            Some(Ok(chunk)) => head.extend_from_slice(&chunk),
            Some(Err(_)) => return Err(FormError::Body),
            None => break None,
        }
    };

    let mut head = head.freeze();
    if let Some(outline) = outline
        && let Some(key) = outline.key.clone()
    {
        let value = &head[key.clone()];
        if let Ok(value) = std::str::from_utf8(value)
            && value.contains(VARIABLE)
        {
            let replaced = value.replace(VARIABLE, &outline.file_name);
            let mut rewritten = BytesMut::with_capacity(head.len() + replaced.len());
            rewritten.extend_from_slice(&head[..key.start]);
            rewritten.extend_from_slice(replaced.as_bytes());
            rewritten.extend_from_slice(&head[key.end..]);
            let delta = replaced.len() as i64 - value.len() as i64;
            adjust_content_length(&mut parts.headers, delta);
            head = rewritten.freeze();
        }
    }

    let rest = stream.map_err(std::io::Error::other);
    let body = Body::from_stream(stream::once(async move { Ok::<Bytes, std::io::Error>(head) }).chain(rest));
    Ok(Request::from_parts(parts, body))
}

fn multipart_boundary<B>(request: &Request<B>) -> Option<String> {
    let content_type = request.headers().get(header::CONTENT_TYPE)?.to_str().ok()?;
    let (essence, params) = content_type.split_once(';')?;
    if !essence.trim().eq_ignore_ascii_case("multipart/form-data") {
        return None;
    }
    params.split(';').find_map(|param| {
        let (name, value) = param.split_once('=')?;
        name.trim()
            .eq_ignore_ascii_case("boundary")
            .then(|| value.trim().trim_matches('"').to_owned())
    })
}

fn adjust_content_length(headers: &mut http::HeaderMap, delta: i64) {
    let length = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<i64>().ok());
    if let Some(length) = length
        && let Ok(value) = HeaderValue::from_str(&(length + delta).to_string())
    {
        headers.insert(header::CONTENT_LENGTH, value);
    }
}

/// Where the `key` value sits in the fields before the file, and the file's name.
#[derive(Debug, PartialEq, Eq)]
struct FormOutline {
    key: Option<std::ops::Range<usize>>,
    file_name: String,
}

impl FormOutline {
    /// `None` until `head` holds the file part's headers.
    fn read(head: &[u8], boundary: &str) -> Option<Self> {
        let delimiter = format!("--{boundary}");
        let mut key = None;
        let mut at = find(head, delimiter.as_bytes(), 0)?;
        loop {
            let headers_start = at + delimiter.len() + 2; // the CRLF after the delimiter
            let headers_end = find(head, b"\r\n\r\n", headers_start)?;
            let part_headers = std::str::from_utf8(head.get(headers_start..headers_end)?).ok()?;
            let disposition = part_headers.split("\r\n").find_map(|line| {
                line.split_once(':')
                    .filter(|(name, _)| name.trim().eq_ignore_ascii_case("content-disposition"))
                    .map(|(_, v)| v)
            })?;
            let value_start = headers_end + 4;
            if let Some(file_name) = disposition_param(disposition, "filename") {
                return Some(Self { key, file_name });
            }
            let next = find(head, format!("\r\n{delimiter}").as_bytes(), value_start)?;
            if disposition_param(disposition, "name").is_some_and(|n| n.eq_ignore_ascii_case("key")) {
                key = Some(value_start..next);
            }
            at = next + 2;
        }
    }
}

/// A parameter of a `Content-Disposition` header, quoted or not.
fn disposition_param(disposition: &str, wanted: &str) -> Option<String> {
    let mut rest = disposition;
    while let Some(semicolon) = rest.find(';') {
        rest = rest[semicolon + 1..].trim_start();
        let (name, after) = rest.split_once('=')?;
        let after = after.trim_start();
        let (value, remaining) = if let Some(quoted) = after.strip_prefix('"') {
            let mut value = String::new();
            let mut chars = quoted.char_indices();
            let mut end = quoted.len();
            while let Some((i, c)) = chars.next() {
                match c {
                    '\\' => {
                        if let Some((_, escaped)) = chars.next() {
                            value.push(escaped);
                        }
                    }
                    '"' => {
                        end = i + 1;
                        break;
                    }
                    c => value.push(c),
                }
            }
            (value, &quoted[end..])
        } else {
            let end = after.find(';').unwrap_or(after.len());
            (after[..end].trim().to_owned(), &after[end..])
        };
        if name.trim().eq_ignore_ascii_case(wanted) {
            return Some(value);
        }
        rest = remaining;
    }
    None
}

fn find(haystack: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    haystack
        .get(from..)?
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|i| i + from)
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::BodyExt;

    const BOUNDARY: &str = "----courier7MA4YWxkTrZu0gW";

    fn form(key: &str, file_name: &str, content: &str) -> String {
        format!(
            "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"key\"\r\n\r\n{key}\r\n\
             --{BOUNDARY}\r\nContent-Disposition: form-data; name=\"acl\"\r\n\r\nprivate\r\n\
             --{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{file_name}\"\r\nContent-Type: text/plain\r\n\r\n{content}\r\n\
             --{BOUNDARY}--\r\n"
        )
    }

    fn request(body: String, chunk: usize) -> Request<Body> {
        let length = body.len();
        let chunks: Vec<Result<Bytes, std::io::Error>> = body
            .into_bytes()
            .chunks(chunk)
            .map(|c| Ok(Bytes::copy_from_slice(c)))
            .collect();
        Request::post("/courier")
            .header(
                header::CONTENT_TYPE,
                format!("multipart/form-data; boundary={BOUNDARY}"),
            )
            .header(header::CONTENT_LENGTH, length)
            .body(Body::from_stream(stream::iter(chunks)))
            .expect("request")
    }

    async fn rewrite(body: String, chunk: usize) -> (String, usize) {
        let request = substitute(request(body, chunk)).await.expect("rewritten");
        let length: usize = request.headers()[header::CONTENT_LENGTH]
            .to_str()
            .expect("ascii")
            .parse()
            .expect("number");
        let bytes = request.into_body().collect().await.expect("body").to_bytes();
        (String::from_utf8(bytes.to_vec()).expect("utf-8"), length)
    }

    #[tokio::test]
    async fn replaces_the_variable_with_the_file_name_in_any_chunking() {
        let original = form("uploads/abc/${filename}", "résumé 2026.pdf", "hello");
        let expected = form("uploads/abc/résumé 2026.pdf", "résumé 2026.pdf", "hello");
        for chunk in [1, 7, 64, 4096] {
            let (body, length) = rewrite(original.clone(), chunk).await;
            assert_eq!(body, expected, "chunk {chunk}");
            assert_eq!(length, expected.len());
        }
    }

    #[tokio::test]
    async fn leaves_other_forms_alone() {
        let original = form("uploads/abc/fixed.txt", "a.txt", "hello");
        let (body, length) = rewrite(original.clone(), 5).await;
        assert_eq!((body, length), (original.clone(), original.len()));
    }

    #[tokio::test]
    async fn refuses_endless_fields() {
        let huge = form(&"k".repeat(MAX_FIELDS_BYTES * 2), "a.txt", "x");
        assert_eq!(
            substitute(request(huge, 1024)).await.err(),
            Some(FormError::FieldsTooLarge)
        );
    }

    #[test]
    fn reads_quoted_and_escaped_file_names() {
        assert_eq!(
            disposition_param(r#"form-data; name="file"; filename="a \"b\".txt""#, "filename").as_deref(),
            Some(r#"a "b".txt"#)
        );
        assert_eq!(
            disposition_param("form-data; name=file; filename=plain.txt", "filename").as_deref(),
            Some("plain.txt")
        );
        assert_eq!(disposition_param(r#"form-data; name="key""#, "filename"), None);
        assert_eq!(
            disposition_param(r#"form-data; name="key""#, "name").as_deref(),
            Some("key")
        );
    }
}
