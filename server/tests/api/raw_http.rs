//! HTTP/1.1 by hand, for clients no HTTP library lets a test be: one that
//! stops halfway through its headers or its body, or that must know its
//! request has reached a handler (`Expect: 100-continue`: the server says
//! "100 Continue" when the handler starts reading the body).

use std::time::Duration;

use app::model::UploadGrant;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;
use tokio::time::Instant;

/// `http://host:port[/…]` → `host:port`.
pub fn host_of(url: &str) -> &str {
    let rest = url.trim_start_matches("http://");
    rest.split('/').next().unwrap_or(rest)
}

/// The path (and query) of `http://host:port/path?query`.
pub fn path_of(url: &str) -> String {
    let rest = url.trim_start_matches("http://");
    rest.find('/')
        .map_or_else(|| "/".to_owned(), |at| rest[at..].to_owned())
}

/// Sends a request's head with `Expect: 100-continue` and waits for the
/// "100 Continue": from then on the request is in a handler, reading its body.
pub async fn start_request(
    addr: &str,
    method: &str,
    path: &str,
    headers: &[(&str, String)],
    length: usize,
) -> TcpStream {
    let mut stream = TcpStream::connect(addr).await.expect("connect");
    let mut head =
        format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Length: {length}\r\nExpect: 100-continue\r\n");
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).await.expect("send the head");
    let interim = read_head(&mut stream).await;
    assert!(
        interim.starts_with("HTTP/1.1 100"),
        "expected 100 Continue, got {interim:?}"
    );
    stream
}

/// Reads up to the end of a response's head (the blank line); returns it.
async fn read_head(stream: &mut TcpStream) -> String {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        let read = tokio::time::timeout(Duration::from_secs(30), stream.read(&mut byte))
            .await
            .expect("a response head within 30 s")
            .expect("read");
        assert!(
            read > 0,
            "closed before a response: {:?}",
            String::from_utf8_lossy(&head)
        );
        head.push(byte[0]);
    }
    String::from_utf8_lossy(&head).into_owned()
}

pub struct RawResponse {
    pub status: u16,
    pub head: String,
    pub body: Vec<u8>,
}

impl RawResponse {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.head.lines().skip(1).find_map(|line| {
            let (key, value) = line.split_once(':')?;
            key.trim().eq_ignore_ascii_case(name).then(|| value.trim())
        })
    }
}

/// Reads one response (its body by its `Content-Length`).
pub async fn read_response(stream: &mut TcpStream) -> RawResponse {
    let head = read_head(stream).await;
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .expect("a status code");
    let mut response = RawResponse {
        status,
        head,
        body: Vec::new(),
    };
    let length: usize = response
        .header("content-length")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    response.body.resize(length, 0);
    stream.read_exact(&mut response.body).await.expect("the body");
    response
}

/// Whether the peer closes `stream` (EOF or reset) before `deadline`; what
/// it sends first is skipped.
pub async fn closed_by(stream: &mut TcpStream, deadline: Instant) -> bool {
    let mut buf = [0u8; 1024];
    loop {
        match tokio::time::timeout_at(deadline, stream.read(&mut buf)).await {
            Err(_) => return false,
            Ok(Ok(0) | Err(_)) => return true,
            Ok(Ok(_)) => {}
        }
    }
}

/// Whether `stream` is still open with nothing to read, right now.
pub fn still_open(stream: &TcpStream) -> bool {
    let mut buf = [0u8; 1];
    matches!(stream.try_read(&mut buf), Err(e) if e.kind() == std::io::ErrorKind::WouldBlock)
}

/// Whether `addr` refuses new connections before `within` is over.
pub async fn refuses_connections(addr: &str, within: Duration) -> bool {
    let deadline = Instant::now() + within;
    while Instant::now() < deadline {
        match TcpStream::connect(addr).await {
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionRefused => return true,
            // Accepted before the stop: closing it at once holds nothing up.
            _ => tokio::time::sleep(Duration::from_millis(20)).await,
        }
    }
    false
}

/// A browser's multipart POST of `bytes` under `grant`, cut in two: the
/// fields and the file's first half, then the rest. Returns its
/// `Content-Type` and the two pieces.
pub fn upload_form(grant: &UploadGrant, file_name: &str, bytes: &[u8]) -> (String, Vec<u8>, Vec<u8>) {
    let boundary = "------------------------courierRawForm";
    let head = courier_test_support::form_head(grant, file_name, boundary);
    let half = bytes.len() / 2;
    let mut first = head.into_bytes();
    first.extend_from_slice(&bytes[..half]);
    let mut rest = bytes[half..].to_vec();
    rest.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), first, rest)
}
