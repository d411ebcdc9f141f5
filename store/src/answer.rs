//! What every answer of the store carries as S3's do, where `s3s` leaves it
//! out: a request id (`x-amz-request-id`, and `<RequestId>` in an error
//! document, which S3 clients log and print), and the ETag in a POST's
//! redirect quoted, as AWS and Garage quote it.

use axum::body::Body;
use axum::response::Response;
use http::{HeaderValue, StatusCode, header};
use http_body_util::BodyExt as _;

/// Error documents are a few hundred bytes; anything larger is left as it is.
const ERROR_DOCUMENT_MAX: usize = 16 * 1024;

/// A fresh id for one request: 16 hex digits, as AWS's are.
pub fn request_id() -> String {
    format!("{:016X}", rand::random::<u64>())
}

/// `response`, with `id` in its headers, in its error document, and its
/// redirect's ETag quoted.
pub async fn finish(mut response: Response, id: &str) -> Response {
    if let Ok(value) = HeaderValue::from_str(id) {
        response.headers_mut().insert("x-amz-request-id", value);
    }
    if response.status() == StatusCode::SEE_OTHER {
        quote_redirect_etag(&mut response);
        return response;
    }
    let is_xml_error = response.status().as_u16() >= 400
        && response
            .headers()
            .get(header::CONTENT_TYPE)
            .is_some_and(|v| v.as_bytes().starts_with(b"application/xml"));
    if !is_xml_error {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let Ok(collected) = http_body_util::Limited::new(body, ERROR_DOCUMENT_MAX).collect().await else {
        // Too long or broken: nothing can be sent of it either way.
        parts.headers.remove(header::CONTENT_LENGTH);
        return Response::from_parts(parts, Body::empty());
    };
    let document = String::from_utf8_lossy(&collected.to_bytes()).into_owned();
    let document = with_request_id(&document, id);
    parts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(parts, Body::from(document))
}

/// `<RequestId>` at the end of the error, unless one is there already.
fn with_request_id(document: &str, id: &str) -> String {
    match document.rfind("</Error>") {
        Some(end) if !document.contains("<RequestId>") => {
            format!("{}<RequestId>{id}</RequestId>{}", &document[..end], &document[end..])
        }
        _ => document.to_owned(),
    }
}

/// `…&etag=abc` → `…&etag=%22abc%22`: `s3s` appends the bare MD5, AWS and
/// Garage the quoted ETag (Courier's confirmation takes either).
fn quote_redirect_etag(response: &mut Response) {
    let Some(location) = response.headers().get(header::LOCATION).and_then(|v| v.to_str().ok()) else {
        return;
    };
    let Some(quoted) = quoted_etag_location(location) else {
        return;
    };
    if let Ok(value) = HeaderValue::from_str(&quoted) {
        response.headers_mut().insert(header::LOCATION, value);
    }
}

fn quoted_etag_location(location: &str) -> Option<String> {
    let (base, query) = location.split_once('?')?;
    let mut changed = false;
    let pairs: Vec<String> = query
        .split('&')
        .map(|pair| match pair.strip_prefix("etag=") {
            Some(etag) if !etag.starts_with("%22") && !etag.starts_with('"') && !etag.is_empty() => {
                changed = true;
                format!("etag=%22{etag}%22")
            }
            _ => pair.to_owned(),
        })
        .collect();
    changed.then(|| format!("{base}?{}", pairs.join("&")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_request_id_goes_inside_the_error() {
        let document = "<?xml version=\"1.0\"?><Error><Code>NoSuchKey</Code><Message>m</Message></Error>";
        assert_eq!(
            with_request_id(document, "0A1B"),
            "<?xml version=\"1.0\"?><Error><Code>NoSuchKey</Code><Message>m</Message><RequestId>0A1B</RequestId></Error>"
        );
        let has_one = "<Error><RequestId>x</RequestId></Error>";
        assert_eq!(with_request_id(has_one, "y"), has_one);
        assert_eq!(request_id().len(), 16);
    }

    #[test]
    fn a_redirects_etag_is_quoted_once() {
        assert_eq!(
            quoted_etag_location("http://a/confirm-upload?token=t&bucket=b&key=k&etag=abc").as_deref(),
            Some("http://a/confirm-upload?token=t&bucket=b&key=k&etag=%22abc%22")
        );
        assert_eq!(quoted_etag_location("http://a/c?etag=%22abc%22"), None);
        assert_eq!(quoted_etag_location("http://a/c?token=t"), None);
    }

    #[tokio::test]
    async fn an_error_answer_carries_its_id_in_header_and_body() {
        let response = (
            StatusCode::NOT_FOUND,
            [
                (header::CONTENT_TYPE, "application/xml"),
                (header::CONTENT_LENGTH, "40"),
            ],
            "<Error><Code>NoSuchKey</Code></Error>",
        );
        let response = axum::response::IntoResponse::into_response(response);
        let finished = finish(response, "ABCD").await;
        assert_eq!(finished.headers()["x-amz-request-id"], "ABCD");
        let body = finished.into_body().collect().await.expect("body").to_bytes();
        assert_eq!(
            &body[..],
            b"<Error><Code>NoSuchKey</Code><RequestId>ABCD</RequestId></Error>"
        );
    }
}
