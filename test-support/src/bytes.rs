//! Test bytes, and the digests S3 gives them.

use std::collections::HashMap;

use md5::{Digest as _, Md5};
use wire::multipart::MultipartUpload;

pub fn md5_hex(bytes: &[u8]) -> String {
    hex::encode(Md5::digest(bytes))
}

/// Some bytes that are not all alike.
pub fn sample_bytes(len: usize) -> Vec<u8> {
    // One period of `i * 31 % 251`, copied: byte by byte, an unoptimised
    // test build spent more time here than Courier did on the upload.
    let period: Vec<u8> = (0..251usize).map(|i| (i * 31 % 251) as u8).collect();
    let mut bytes = Vec::with_capacity(len + period.len());
    while bytes.len() < len {
        bytes.extend_from_slice(&period);
    }
    bytes.truncate(len);
    bytes
}

/// A body whose bytes include many near-boundaries (`\r\n--` and the start
/// of a multipart boundary), the pattern that makes `s3s` buffer.
pub fn tricky_bytes(len: usize) -> Vec<u8> {
    let mut bytes = sample_bytes(len);
    let decoy = b"\r\n--------courier";
    let mut at = 1000;
    while at + decoy.len() < len {
        let cut = 1 + at % (decoy.len() - 1);
        bytes[at..at + cut].copy_from_slice(&decoy[..cut]);
        at += 65_536 - 7 * (at % 13);
    }
    bytes
}

/// The bytes of part `number` of `bytes`.
pub fn part_bytes<'a>(upload: &MultipartUpload, bytes: &'a [u8], number: u32) -> &'a [u8] {
    let start = (u64::from(number) - 1) * upload.part_size;
    let len = upload.part_len(number).expect("a part of the upload");
    &bytes[start as usize..(start + len) as usize]
}

/// Base64 SHA-256 of part `number`, as `x-amz-checksum-sha256` carries it.
pub fn part_sha256(upload: &MultipartUpload, bytes: &[u8], number: u32) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(part_bytes(upload, bytes, number)))
}

/// 20 MiB and 3 bytes: three parts of 8, 8 and 4 MiB + 3.
pub const MULTIPART_FILE: usize = 20 * 1024 * 1024 + 3;

/// The query parameters of a URL.
pub fn query(url: &str) -> HashMap<String, String> {
    url::Url::parse(url)
        .expect("a URL")
        .query_pairs()
        .into_owned()
        .collect()
}
