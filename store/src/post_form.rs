//! A browser POST to the embedded store, read up to its file part before
//! `s3s` sees it. Three jobs, all on the small fields S3 requires before the
//! file:
//!
//! - refuse a form without a signature before its body is read (`s3s` would
//!   hold an unsigned file whole in memory before refusing it);
//! - put the file's safe base name in place of S3's `${filename}` in `key`
//!   (AWS and Garage do; `s3s` stores the literal `…/${filename}`);
//! - refuse any key Courier never issues (`s3s-fs` resolves `..` on disk);
//! - refuse a policy that is not base64 JSON, or whose `expiration` is not
//!   ISO 8601 UTC (`2030-01-01T00:00:00.000Z`), as S3 does
//!   (`InvalidPolicyDocument`): `s3s` reads other shapes of date too.
//!
//! The fields are scanned once, however the body is chunked; the file itself
//! streams through untouched, cut into pieces `s3s` accepts ([`Rechunk`]).

use std::collections::BTreeMap;
use std::ops::Range;

use axum::body::Body;
use bytes::{Bytes, BytesMut};
use futures::{StreamExt, TryStreamExt, stream};
use http::{HeaderValue, Request, StatusCode, header};
use signer::file_name::FileName;
use signer::object_key::{KeyArea, ObjectKey};

use s3s::S3ErrorCode;

use crate::rechunk::{MAX_PIECE, MIN_PIECE, Rechunk};
use crate::refusal::Refusal;

/// How much of the body may precede the file part.
pub const MAX_FIELDS_BYTES: usize = 64 * 1024;
/// `s3s-fs` names each object's metadata file after its key in base64: a key
/// past 160 bytes makes that name longer than 255 bytes, and the write fails
/// after the object is already in place.
pub const MAX_KEY_BYTES: usize = 160;
/// `${filename}` becomes the name as it is up to this length, else its
/// ASCII key segment (at most `FileName::MAX_SEGMENT` bytes).
const MAX_NAME_BYTES: usize = 100;
const FILENAME_VARIABLE: &str = "${filename}";
/// What a SigV4 POST policy upload must carry. Courier signs only SigV4.
const SIGNATURE_FIELDS: [&str; 5] = [
    "policy",
    "x-amz-signature",
    "x-amz-credential",
    "x-amz-date",
    "x-amz-algorithm",
];

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum FormRefusal {
    #[error("This store accepts only signed uploads: the form needs a POST policy and its x-amz-signature.")]
    Unsigned,
    #[error("The form fields before the file exceed {MAX_FIELDS_BYTES} bytes.")]
    FieldsTooLarge,
    #[error("The upload form is malformed: {0}.")]
    Malformed(&'static str),
    #[error(
        "The key {0:?} is not one Courier issues: keys are [public/]uploads/<id>/<name>, without empty, \".\" or \"..\" segments, backslashes or control characters."
    )]
    Key(String),
    #[error("Invalid Policy: {0}")]
    Policy(String),
    #[error("The request body could not be read.")]
    Body,
}

/// The S3 status and error code each refusal is answered with.
impl From<FormRefusal> for Refusal {
    fn from(refused: FormRefusal) -> Self {
        let (status, code) = match refused {
            FormRefusal::Unsigned => (StatusCode::FORBIDDEN, S3ErrorCode::AccessDenied),
            FormRefusal::FieldsTooLarge | FormRefusal::Malformed(_) => {
                (StatusCode::BAD_REQUEST, S3ErrorCode::MalformedPOSTRequest)
            }
            FormRefusal::Key(_) => (StatusCode::BAD_REQUEST, S3ErrorCode::InvalidArgument),
            FormRefusal::Policy(_) => (StatusCode::BAD_REQUEST, S3ErrorCode::InvalidPolicyDocument),
            FormRefusal::Body => (StatusCode::BAD_REQUEST, S3ErrorCode::IncompleteBody),
        };
        Refusal::new(status, code, refused.to_string())
    }
}

/// A signed POST form whose fields were checked; its body is whole again.
#[derive(Debug)]
pub struct SignedForm {
    pub request: Request<Body>,
    /// The key the upload will write, `${filename}` substituted.
    pub key: ObjectKey,
}

/// The boundary of a `multipart/form-data` request, if it is one.
pub fn multipart_boundary<B>(request: &Request<B>) -> Option<String> {
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

/// Reads the fields in front of the file, checks them, and hands back the
/// request with its body whole (the key rewritten if it held `${filename}`).
pub async fn read(request: Request<Body>, boundary: &str) -> Result<SignedForm, FormRefusal> {
    if boundary.is_empty() || boundary.len() > 70 {
        return Err(FormRefusal::Malformed("its boundary must be 1 to 70 characters"));
    }
    let (mut parts, body) = request.into_parts();
    let mut stream = body.into_data_stream();
    let mut scanner = Scanner::new(boundary);
    let file = loop {
        match stream.next().await {
            Some(Ok(chunk)) => {
                if let Some(file) = scanner.push(&chunk)? {
                    break file;
                }
            }
            Some(Err(_)) => return Err(FormRefusal::Body),
            None => return Err(FormRefusal::Malformed("it ends before its file part")),
        }
    };

    let mut fields = BTreeMap::new();
    for (name, range) in &scanner.fields {
        let value = std::str::from_utf8(&scanner.buf[range.clone()])
            .map_err(|_| FormRefusal::Malformed("a field is not UTF-8"))?;
        if fields
            .insert(name.to_ascii_lowercase(), (value, range.clone()))
            .is_some()
        {
            return Err(FormRefusal::Malformed("a field appears twice"));
        }
    }
    if !SIGNATURE_FIELDS.iter().all(|name| fields.contains_key(*name)) {
        return Err(FormRefusal::Unsigned);
    }
    if let Some((policy, _)) = fields.get("policy") {
        check_policy(policy)?;
    }
    let (raw_key, key_range) = fields
        .get("key")
        .map(|(value, range)| ((*value).to_owned(), range.clone()))
        .ok_or(FormRefusal::Malformed("it has no key field"))?;
    drop(fields);
    let file_name = match FileName::parse(&file.file_name) {
        Ok(name) if name.as_str().len() <= MAX_NAME_BYTES => name.as_str().to_owned(),
        Ok(name) => name.key_segment(),
        Err(_) => "file".to_owned(),
    };
    let key = raw_key.replace(FILENAME_VARIABLE, &file_name);
    let key = ObjectKey::parse(&key)
        .ok()
        .filter(|k| k.area() == KeyArea::Upload && k.as_str().len() <= MAX_KEY_BYTES)
        .ok_or_else(|| FormRefusal::Key(key.clone()))?;

    let mut head = scanner.buf.freeze();
    if key.as_str() != raw_key {
        let mut rewritten = BytesMut::with_capacity(head.len() + key.as_str().len());
        rewritten.extend_from_slice(&head[..key_range.start]);
        rewritten.extend_from_slice(key.as_str().as_bytes());
        rewritten.extend_from_slice(&head[key_range.end..]);
        adjust_content_length(&mut parts.headers, key.as_str().len() as i64 - raw_key.len() as i64);
        head = rewritten.freeze();
    }
    let rest = stream.map_err(std::io::Error::other);
    let whole = stream::once(async move { Ok::<Bytes, std::io::Error>(head) }).chain(rest);
    let body = Body::from_stream(Rechunk::new(Box::pin(whole), MIN_PIECE, MAX_PIECE));
    Ok(SignedForm {
        request: Request::from_parts(parts, body),
        key,
    })
}

/// A POST policy as S3 reads it: base64 of a JSON object whose
/// `expiration` is an ISO 8601 UTC time, `YYYY-MM-DDThh:mm:ss(.fff)Z`.
/// (Its conditions are `s3s`'s to check, with the signature.)
fn check_policy(policy: &str) -> Result<(), FormRefusal> {
    use base64::Engine as _;

    let json = base64::engine::general_purpose::STANDARD
        .decode(policy.trim())
        .map_err(|_| FormRefusal::Policy("Invalid Base64 Encoding.".to_owned()))?;
    let document: serde_json::Value =
        serde_json::from_slice(&json).map_err(|_| FormRefusal::Policy("Invalid JSON.".to_owned()))?;
    let expiration = document
        .as_object()
        .ok_or_else(|| FormRefusal::Policy("Invalid JSON.".to_owned()))?
        .get("expiration")
        .ok_or_else(|| FormRefusal::Policy("Policy missing expiration.".to_owned()))?;
    match expiration.as_str() {
        Some(text) if is_iso8601_utc(text) => Ok(()),
        _ => Err(FormRefusal::Policy(format!("Invalid 'expiration' value: {expiration}"))),
    }
}

/// `YYYY-MM-DDThh:mm:ss(.f…)Z`, a real date and time.
fn is_iso8601_utc(text: &str) -> bool {
    let bytes = text.as_bytes();
    let digits = |range: Range<usize>| -> Option<u32> {
        let field = text.get(range)?;
        field.bytes().all(|b| b.is_ascii_digit()).then(|| field.parse().ok())?
    };
    let shape = bytes.len() >= 20
        && bytes[4] == b'-'
        && bytes[7] == b'-'
        && bytes[10] == b'T'
        && bytes[13] == b':'
        && bytes[16] == b':'
        && bytes[bytes.len() - 1] == b'Z';
    if !shape {
        return false;
    }
    // Nothing, or a fraction of a second, between the seconds and the `Z`.
    let fraction = &text[19..text.len() - 1];
    let fraction_ok = fraction.is_empty()
        || fraction
            .strip_prefix('.')
            .is_some_and(|f| (1..=9).contains(&f.len()) && f.bytes().all(|b| b.is_ascii_digit()));
    let (Some(year), Some(month), Some(day), Some(hour), Some(minute), Some(second)) = (
        digits(0..4),
        digits(5..7),
        digits(8..10),
        digits(11..13),
        digits(14..16),
        digits(17..19),
    ) else {
        return false;
    };
    let date = u8::try_from(month)
        .ok()
        .and_then(|month| time::Month::try_from(month).ok())
        .and_then(|month| {
            time::Date::from_calendar_date(i32::try_from(year).ok()?, month, u8::try_from(day).ok()?).ok()
        });
    let clock = time::Time::from_hms(
        u8::try_from(hour).unwrap_or(u8::MAX),
        u8::try_from(minute).unwrap_or(u8::MAX),
        u8::try_from(second).unwrap_or(u8::MAX),
    );
    fraction_ok && date.is_some() && clock.is_ok()
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

/// Where the file part starts, and its name.
#[derive(Debug, PartialEq, Eq)]
struct FilePart {
    file_name: String,
}

#[derive(Clone, Copy, Debug)]
enum State {
    /// Before the first delimiter.
    Start,
    /// After a delimiter: `\r\n` (another part) or `--` (the end).
    Between(usize),
    /// A part's headers start here.
    Headers(usize),
    /// A field's value starts here (its first line not yet seen).
    Value(usize),
    /// A field's value starts here; looking for the delimiter that ends it.
    Scanning(usize),
}

/// The multipart fields in front of the file, scanned as the body arrives.
/// Every search resumes where the last one stopped, so the work is linear in
/// the bytes read, whatever the chunking.
struct Scanner {
    /// `--<boundary>`
    open: Vec<u8>,
    /// `\r\n--<boundary>`
    close: Vec<u8>,
    buf: BytesMut,
    state: State,
    /// Everything before this offset was searched for the current pattern.
    searched: usize,
    /// The name of the field whose value is being read.
    name: String,
    fields: Vec<(String, Range<usize>)>,
    /// Bytes compared so far, to show the scan stays linear.
    #[cfg(test)]
    work: usize,
}

impl Scanner {
    fn new(boundary: &str) -> Self {
        Self {
            open: format!("--{boundary}").into_bytes(),
            close: format!("\r\n--{boundary}").into_bytes(),
            buf: BytesMut::new(),
            state: State::Start,
            searched: 0,
            name: String::new(),
            fields: Vec::new(),
            #[cfg(test)]
            work: 0,
        }
    }

    /// Takes the next chunk; `Some` once the file part's headers are in.
    fn push(&mut self, chunk: &[u8]) -> Result<Option<FilePart>, FormRefusal> {
        self.buf.extend_from_slice(chunk);
        loop {
            let progressed = match self.state {
                State::Start => {
                    let need = self.open.len() + 2;
                    if self.buf.len() < need {
                        false
                    } else if self.buf[..self.open.len()] == self.open[..]
                        && &self.buf[self.open.len()..need] == b"\r\n"
                    {
                        self.state = State::Headers(need);
                        self.searched = need;
                        true
                    } else {
                        return Err(FormRefusal::Malformed("it does not start with its boundary"));
                    }
                }
                State::Between(at) => match self.buf.get(at..at + 2) {
                    None => false,
                    Some(b"\r\n") => {
                        self.state = State::Headers(at + 2);
                        self.searched = at + 2;
                        true
                    }
                    Some(b"--") => return Err(FormRefusal::Malformed("it has no file part")),
                    Some(_) => return Err(FormRefusal::Malformed("a delimiter is not followed by CRLF")),
                },
                State::Headers(start) => match self.find(b"\r\n\r\n") {
                    None => false,
                    Some(end) => {
                        let (name, file_name) = part_names(&self.buf[start..end])?;
                        // S3 reads the file from the part named `file`, as `s3s` does.
                        if name.eq_ignore_ascii_case("file") {
                            return Ok(Some(FilePart {
                                file_name: file_name.unwrap_or_default(),
                            }));
                        }
                        self.name = name;
                        self.state = State::Value(end + 4);
                        self.searched = end + 4;
                        true
                    }
                },
                // A value whose first line is the delimiter is empty: the
                // CRLF before it ended the headers. `s3s` reads it so, and so
                // must we, or a part could hide inside what we take as a value.
                State::Value(start) if self.buf.len() < start + self.open.len() + 2 => {
                    let seen = &self.buf[start..];
                    let delimiter = [self.open.as_slice(), b"\r\n"].concat();
                    if delimiter.starts_with(seen) {
                        false
                    } else {
                        self.state = State::Scanning(start);
                        true
                    }
                }
                State::Value(start) => {
                    if self.buf[start..].starts_with(&self.open) && &self.buf[start + self.open.len()..][..2] == b"\r\n"
                    {
                        self.fields.push((std::mem::take(&mut self.name), start..start));
                        self.state = State::Between(start + self.open.len());
                        self.searched = start + self.open.len();
                    } else {
                        self.state = State::Scanning(start);
                    }
                    true
                }
                State::Scanning(start) => {
                    let close = std::mem::take(&mut self.close);
                    let found = self.find(&close);
                    self.close = close;
                    match found {
                        None => false,
                        Some(end) => {
                            self.fields.push((std::mem::take(&mut self.name), start..end));
                            let after = end + self.close.len();
                            self.state = State::Between(after);
                            self.searched = after;
                            true
                        }
                    }
                }
            };
            if !progressed {
                if self.buf.len() > MAX_FIELDS_BYTES {
                    return Err(FormRefusal::FieldsTooLarge);
                }
                return Ok(None);
            }
        }
    }

    /// Finds `pattern` at or after `searched`; when it is not there yet,
    /// remembers how far the search got (keeping a possible partial match).
    fn find(&mut self, pattern: &[u8]) -> Option<usize> {
        let from = self.searched;
        let len = self.buf.len();
        if from > len {
            return None;
        }
        #[cfg(test)]
        {
            self.work += len - from;
        }
        match self.buf[from..].windows(pattern.len()).position(|w| w == pattern) {
            Some(i) => Some(from + i),
            None => {
                self.searched = from.max((self.buf.len() + 1).saturating_sub(pattern.len()));
                None
            }
        }
    }
}

/// A part's `name` and `filename`, read exactly as `s3s` reads them: at
/// most two header lines, one `Content-Disposition` of the form
/// `form-data; name="…"` with an optional `; filename="…"`, no escapes.
/// Anything looser is refused, so the two parsers can never disagree on
/// which field is the key.
fn part_names(headers: &[u8]) -> Result<(String, Option<String>), FormRefusal> {
    let headers = std::str::from_utf8(headers).map_err(|_| FormRefusal::Malformed("a part's headers are not UTF-8"))?;
    let lines: Vec<&str> = headers.split("\r\n").collect();
    if lines.len() > 2 || lines.iter().any(|line| line.contains(['\r', '\n'])) {
        return Err(FormRefusal::Malformed(
            "a part's headers are not two CRLF lines at most",
        ));
    }
    let mut disposition = None;
    for line in lines {
        let (name, value) = line
            .split_once(':')
            .ok_or(FormRefusal::Malformed("a part's header has no colon"))?;
        if name.eq_ignore_ascii_case("content-disposition") && disposition.replace(value.trim()).is_some() {
            return Err(FormRefusal::Malformed("a part has two Content-Disposition headers"));
        }
    }
    let disposition = disposition.ok_or(FormRefusal::Malformed("a part has no Content-Disposition"))?;
    let strict = FormRefusal::Malformed("a Content-Disposition is not form-data; name=\"…\"; filename=\"…\"");
    let rest = disposition.strip_prefix("form-data; name=\"").ok_or(strict.clone())?;
    let (name, rest) = rest.split_once('"').ok_or(strict.clone())?;
    let file_name = match rest {
        "" => None,
        rest => Some(
            rest.strip_prefix("; filename=\"")
                .and_then(|r| r.strip_suffix('"'))
                .filter(|f| !f.is_empty() && !f.contains('"'))
                .ok_or(strict.clone())?,
        ),
    };
    if name.is_empty() {
        return Err(strict);
    }
    Ok((name.to_owned(), file_name.map(str::to_owned)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::BodyExt;

    const BOUNDARY: &str = "----courier7MA4YWxkTrZu0gW";
    const ID: &str = "6f1d1c52-3a55-4f4c-9a4e-1d7f25d1c0aa";
    /// `{"expiration":"2030-01-01T00:00:00.000Z","conditions":[]}`
    const POLICY: &str = "eyJleHBpcmF0aW9uIjoiMjAzMC0wMS0wMVQwMDowMDowMC4wMDBaIiwiY29uZGl0aW9ucyI6W119";

    fn form(fields: &[(&str, &str)], file_name: &str, content: &str) -> String {
        let mut body = String::new();
        for (name, value) in fields {
            body.push_str(&format!(
                "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
            ));
        }
        body.push_str(&format!(
            "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{file_name}\"\r\nContent-Type: text/plain\r\n\r\n{content}\r\n--{BOUNDARY}--\r\n"
        ));
        body
    }

    fn signed(key: &str) -> Vec<(&str, &str)> {
        vec![
            ("key", key),
            ("acl", "private"),
            ("policy", POLICY),
            ("x-amz-algorithm", "AWS4-HMAC-SHA256"),
            ("x-amz-credential", "AKIA/20261128/us-east-1/s3/aws4_request"),
            ("x-amz-date", "20261128T120000Z"),
            ("x-amz-signature", "00"),
        ]
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

    async fn rewrite(body: String, chunk: usize) -> (String, usize, String) {
        let form = read(request(body, chunk), BOUNDARY).await.expect("a signed form");
        let length: usize = form.request.headers()[header::CONTENT_LENGTH]
            .to_str()
            .expect("ascii")
            .parse()
            .expect("number");
        let bytes = form.request.into_body().collect().await.expect("body").to_bytes();
        (
            String::from_utf8(bytes.to_vec()).expect("utf-8"),
            length,
            form.key.as_str().to_owned(),
        )
    }

    #[tokio::test]
    async fn replaces_the_variable_with_the_safe_base_name_in_any_chunking() {
        let variable = format!("uploads/{ID}/${{filename}}");
        let named = format!("uploads/{ID}/résumé 2026.pdf");
        let original = form(&signed(&variable), "résumé 2026.pdf", "hello");
        let expected = form(&signed(&named), "résumé 2026.pdf", "hello");
        for chunk in [1, 7, 64, 4096, 1 << 20] {
            let (body, length, key) = rewrite(original.clone(), chunk).await;
            assert_eq!(body, expected, "chunk {chunk}");
            assert_eq!(length, expected.len());
            assert_eq!(key, named);
        }
    }

    #[tokio::test]
    async fn a_public_upload_is_an_upload_like_any_other() {
        let variable = format!("public/uploads/{ID}/${{filename}}");
        let (_, _, key) = rewrite(form(&signed(&variable), "photo.jpg", "x"), 7).await;
        assert_eq!(key, format!("public/uploads/{ID}/photo.jpg"));
        let exact = format!("public/uploads/{ID}/fixed.jpg");
        let (_, _, key) = rewrite(form(&signed(&exact), "a.jpg", "x"), 7).await;
        assert_eq!(key, exact);
    }

    #[tokio::test]
    async fn leaves_exact_keys_alone() {
        let key = format!("uploads/{ID}/fixed.txt");
        let original = form(&signed(&key), "a.txt", "hello");
        let (body, length, parsed) = rewrite(original.clone(), 5).await;
        assert_eq!((body, length, parsed), (original.clone(), original.len(), key));
    }

    #[tokio::test]
    async fn a_file_name_cannot_climb_out_of_its_prefix() {
        let variable = format!("uploads/{ID}/${{filename}}");
        for (file_name, stored) in [
            ("../0b6e2cf0-9d7e-4d8e-8f7a-3a3e0e8f9b11/x", "x"),
            ("..\\..\\credentials.json", "credentials.json"),
            ("..", "file"),
            ("a\u{202E}fdp.exe", "afdp.exe"),
        ] {
            let (_, _, key) = rewrite(form(&signed(&variable), file_name, "x"), 3).await;
            assert_eq!(key, format!("uploads/{ID}/{stored}"), "{file_name:?}");
        }
    }

    #[tokio::test]
    async fn a_long_file_name_becomes_a_short_safe_one() {
        let variable = format!("uploads/{ID}/${{filename}}");
        let long = format!("{}é.pdf", "quarterly report ".repeat(8));
        let (_, _, key) = rewrite(form(&signed(&variable), &long, "x"), 64).await;
        assert!(key.len() <= MAX_KEY_BYTES && key.ends_with(".pdf"), "{key}");
        assert!(key.is_ascii(), "{key}");
        let too_long = format!("uploads/{ID}/{}", "k".repeat(MAX_KEY_BYTES));
        let refused = read(request(form(&signed(&too_long), "x", "x"), 64), BOUNDARY).await;
        assert!(matches!(refused, Err(FormRefusal::Key(_))), "{refused:?}");
    }

    #[tokio::test]
    async fn a_part_cannot_hide_inside_a_value() {
        // The value of `x-hide` starts with the delimiter: `s3s` reads it as
        // empty and the next part as a second `key`; so do we, and refuse.
        let key = format!("uploads/{ID}/x");
        let hidden = format!("uploads/{}/n2", "0b6e2cf0-9d7e-4d8e-8f7a-3a3e0e8f9b11");
        let mut body = format!(
            "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"key\"\r\n\r\n{key}\r\n\
             --{BOUNDARY}\r\nContent-Disposition: form-data; name=\"x-hide\"\r\n\r\n\
             --{BOUNDARY}\r\nContent-Disposition: form-data; name=\"key\"\r\n\r\n{hidden}\r\n"
        );
        body.push_str(&form(&signed(&key)[1..], "x", "x"));
        for chunk in [1, 5, 1 << 20] {
            assert_eq!(
                read(request(body.clone(), chunk), BOUNDARY).await.err(),
                Some(FormRefusal::Malformed("a field appears twice")),
                "chunk {chunk}"
            );
        }
        // An empty value that is only that is fine.
        let mut fields = signed(&key);
        fields.push(("x-empty", ""));
        assert!(read(request(form(&fields, "x", "x"), 3), BOUNDARY).await.is_ok());
    }

    #[tokio::test]
    async fn refuses_keys_that_escape() {
        for key in [
            format!("uploads/{ID}/../0b6e2cf0-9d7e-4d8e-8f7a-3a3e0e8f9b11/x"),
            format!("uploads/{ID}/./x"),
            format!("uploads/{ID}//x"),
            format!("uploads/{ID}/a\\b"),
            format!("uploads/{ID}/a\u{1}b"),
            format!("uploads/{ID}/x/"),
            "credentials.json".to_owned(),
            format!("files/{}/x", "0".repeat(32)),
            // Confirmed public files are written by the server alone.
            format!("public/files/{}/x", "0".repeat(32)),
            format!("public/{ID}/x"),
            format!("public/uploads/{ID}/../../files/{}/x", "0".repeat(32)),
        ] {
            let refused = read(request(form(&signed(&key), "x", "x"), 11), BOUNDARY).await;
            assert!(matches!(refused, Err(FormRefusal::Key(_))), "{key:?}: {refused:?}");
        }
    }

    #[tokio::test]
    async fn refuses_unsigned_forms_before_the_file() {
        let key = format!("uploads/{ID}/x");
        let unsigned = form(&[("key", key.as_str()), ("acl", "private")], "x", "x");
        assert_eq!(
            read(request(unsigned, 100), BOUNDARY).await.err(),
            Some(FormRefusal::Unsigned)
        );
        // A file that never ends is not read: the fields decide first.
        let endless = stream::iter([Ok::<_, std::io::Error>(Bytes::from(format!(
            "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"key\"\r\n\r\n{key}\r\n--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"x\"\r\n\r\n"
        )))])
        .chain(stream::repeat_with(|| Ok(Bytes::from_static(&[0u8; 65536]))));
        let request = Request::post("/courier")
            .header(
                header::CONTENT_TYPE,
                format!("multipart/form-data; boundary={BOUNDARY}"),
            )
            .body(Body::from_stream(endless))
            .expect("request");
        assert_eq!(read(request, BOUNDARY).await.err(), Some(FormRefusal::Unsigned));
    }

    #[tokio::test]
    async fn refuses_endless_fields_repeated_fields_and_no_file() {
        let huge = "k".repeat(MAX_FIELDS_BYTES * 2);
        let mut fields = signed("uploads/x");
        fields.push(("pad", &huge));
        assert_eq!(
            read(request(form(&fields, "a.txt", "x"), 1024), BOUNDARY).await.err(),
            Some(FormRefusal::FieldsTooLarge)
        );
        let key = format!("uploads/{ID}/x");
        let mut twice = signed(&key);
        twice.push(("Key", "uploads/other"));
        assert_eq!(
            read(request(form(&twice, "a.txt", "x"), 9), BOUNDARY).await.err(),
            Some(FormRefusal::Malformed("a field appears twice"))
        );
        let no_file =
            format!("--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"key\"\r\n\r\n{key}\r\n--{BOUNDARY}--\r\n");
        assert_eq!(
            read(request(no_file, 4), BOUNDARY).await.err(),
            Some(FormRefusal::Malformed("it has no file part"))
        );
    }

    #[test]
    fn the_scan_is_linear_in_the_bytes_read() {
        let key = format!("uploads/{ID}/x");
        let mut fields = signed(&key);
        let pad = "p".repeat(60_000);
        fields.push(("pad", &pad));
        let body = form(&fields, "x", "data");
        let mut scanner = Scanner::new(BOUNDARY);
        let mut found = None;
        for byte in body.as_bytes() {
            if let Some(file) = scanner.push(std::slice::from_ref(byte)).expect("valid") {
                found = Some(file);
                break;
            }
        }
        assert_eq!(
            found,
            Some(FilePart {
                file_name: "x".to_owned()
            })
        );
        // Each byte is compared at most once per byte of the pattern, not once
        // per chunk that arrived after it (which made 60 KB cost 1.8e9).
        let bound = (scanner.close.len() + 1) * body.len();
        assert!(scanner.work < bound, "{} for {} bytes", scanner.work, body.len());
    }

    #[test]
    fn reads_part_names_exactly_as_s3s_does() {
        let names = |h: &str| part_names(h.as_bytes());
        assert_eq!(
            names("Content-Disposition: form-data; name=\"file\"; filename=\"a b.txt\"\r\nContent-Type: text/plain"),
            Ok(("file".to_owned(), Some("a b.txt".to_owned())))
        );
        assert_eq!(
            names("content-disposition: form-data; name=\"key\""),
            Ok(("key".to_owned(), None))
        );
        for loose in [
            // s3s would read the second header; so two are refused.
            "Content-Disposition: form-data; name=\"x\"\r\nContent-Disposition: form-data; name=\"key\"",
            "Content-Disposition: form-data; name=\"x\"\nContent-Disposition: form-data; name=\"key\"",
            "Content-Disposition: form-data; name=key",
            "Content-Disposition: form-data; name=\"key\"; name=\"x\"",
            "Content-Disposition: form-data; filename=\"a\"; name=\"key\"",
            "Content-Disposition: form-data; name=\"file\"; filename=\"a \\\"b\\\".txt\"",
            "Content-Disposition: form-data; name=\"\"",
            "A: 1\r\nB: 2\r\nContent-Disposition: form-data; name=\"key\"",
            "Content-Type: text/plain",
        ] {
            assert!(matches!(names(loose), Err(FormRefusal::Malformed(_))), "{loose:?}");
        }
    }

    #[test]
    fn a_policy_expires_at_an_iso_8601_utc_time_or_is_refused() {
        use base64::Engine as _;

        for valid in [
            "2030-01-01T00:00:00.000Z",
            "2030-01-01T00:00:00Z",
            "2028-02-29T23:59:59.5Z",
        ] {
            assert!(is_iso8601_utc(valid), "{valid}");
        }
        for invalid in [
            "2030-01-01",
            "2030-01-01T00:00:00",
            "2030-01-01T00:00:00+00:00",
            "2030-01-01 00:00:00Z",
            "01/01/2030 00:00:00Z",
            "Tue, 01 Jan 2030 00:00:00 GMT",
            "2030-13-01T00:00:00Z",
            "2029-02-29T00:00:00Z",
            "2030-01-01T24:00:00Z",
            "2030-01-01T00:00:00.Z",
            "2030-01-01T00:00:00,000Z",
            "+030-01-01T00:00:00Z",
            "2030-01-01T00:00:00.000Zjunk",
        ] {
            assert!(!is_iso8601_utc(invalid), "{invalid}");
        }
        let policy = |json: &str| base64::engine::general_purpose::STANDARD.encode(json);
        assert_eq!(check_policy(POLICY), Ok(()));
        for refused in [
            policy(r#"{"expiration":"12/01/2030","conditions":[]}"#),
            policy(r#"{"expiration":1893456000,"conditions":[]}"#),
            policy(r#"{"conditions":[]}"#),
            policy(r#"["expiration"]"#),
            policy("{"),
            "not base64!".to_owned(),
        ] {
            let refusal = Refusal::from(check_policy(&refused).expect_err("refused"));
            assert_eq!(
                (refusal.status(), refusal.code()),
                (StatusCode::BAD_REQUEST, "InvalidPolicyDocument"),
                "{refused}"
            );
        }
    }
}
