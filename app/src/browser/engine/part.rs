//! The part pipeline: what happens to a part of a large file between the
//! file and the store. Each part is read (a slice of the file), then
//! checksummed, then sent (by [`super::multipart`]: a URL signed for its
//! exact length and SHA-256, then its PUT).
//!
//! An encrypted file's part is read as the whole records it holds
//! (FORMAT.md, "Parts") and sealed before its checksum: the SHA-256 covers
//! the ciphertext, which the PUT carries and the store checks. A [`Part`]'s
//! size is its body's, so a part that grows when sealed needs nothing else.

use sha2::{Digest as _, Sha256};
use wasm_bindgen::JsCast as _;
use web_sys::{Blob, File};

use super::super::transfer::broken;
use super::sealing::Sealing;
use crate::error::CourierError;
use crate::multipart::MultipartUpload;
use wire::seal::part_plaintext;

/// A part ready to go: its bytes as they travel, and their SHA-256 where
/// parts go with one.
pub struct Part {
    pub number: u32,
    pub body: Blob,
    pub sha256: Option<String>,
}

impl Part {
    /// Bytes on the wire.
    pub fn size(&self) -> u64 {
        self.body.size() as u64
    }
}

/// Where the parts come from, and what each needs before it goes.
pub struct PartSource {
    pub file: File,
    pub upload: MultipartUpload,
    /// Whether each part goes with its SHA-256.
    pub checksums: bool,
    /// The file's key, where it is encrypted.
    pub sealing: Option<Sealing>,
}

impl PartSource {
    /// Part `number`, read and made ready to go.
    pub async fn prepare(&self, number: u32) -> Result<Part, CourierError> {
        let body = match &self.sealing {
            Some(sealing) => self.read_sealed(sealing, number).await?,
            None => self.read(number)?,
        };
        let sha256 = if self.checksums {
            Some(sha256_of(&body).await?)
        } else {
            None
        };
        Ok(Part { number, body, sha256 })
    }

    /// Part `number` of an encrypted file: the file's bytes it holds, sealed.
    async fn read_sealed(&self, sealing: &Sealing, number: u32) -> Result<Blob, CourierError> {
        let size = self.file.size() as u64;
        let (first_record, start, end) = part_plaintext(number, self.upload.part_size, size);
        let plain = self
            .file
            .slice_with_f64_and_f64(start as f64, end as f64)
            .map_err(|_| broken("the file could not be read"))?;
        let sealed = sealing.seal(&plain, first_record, size).await?;
        // A file that changed since its upload began would seal to other bytes.
        if Some(sealed.size() as u64) != self.upload.part_len(number) {
            return Err(broken(
                "the file changed since its upload began: choose it again to send it anew",
            ));
        }
        Ok(sealed)
    }

    /// Part `number`'s bytes, as the file holds them.
    fn read(&self, number: u32) -> Result<Blob, CourierError> {
        let size = self
            .upload
            .part_len(number)
            .ok_or_else(|| broken("a part out of range"))?;
        let start = u64::from(number - 1) * self.upload.part_size;
        self.file
            .slice_with_f64_and_f64(start as f64, (start + size) as f64)
            .map_err(|_| broken("the file could not be read"))
    }
}

/// The base64 SHA-256 of a blob's bytes, as `x-amz-checksum-sha256` carries
/// it: by `crypto.subtle` (native; Chromium hashes on the page's thread, at
/// about 0.7 GB/s on this machine), or here where
/// the page is not a secure context (plain HTTP to another host) and the
/// browser offers none.
async fn sha256_of(blob: &Blob) -> Result<String, CourierError> {
    let unreadable = || broken("the file could not be read");
    let window = web_sys::window().ok_or_else(unreadable)?;
    let buffer = wasm_bindgen_futures::JsFuture::from(blob.array_buffer())
        .await
        .map_err(|_| unreadable())?;
    let subtle = window
        .crypto()
        .ok()
        .map(|crypto| crypto.subtle())
        .filter(|s| !s.is_undefined());
    let digest: Vec<u8> = match subtle {
        Some(subtle) => {
            let hashing = subtle
                .digest_with_str_and_buffer_source("SHA-256", buffer.unchecked_ref())
                .map_err(|_| broken("the checksum could not be computed"))?;
            let digest = wasm_bindgen_futures::JsFuture::from(hashing)
                .await
                .map_err(|_| broken("the checksum could not be computed"))?;
            js_sys::Uint8Array::new(&digest).to_vec()
        }
        None => Sha256::digest(js_sys::Uint8Array::new(&buffer).to_vec()).to_vec(),
    };
    // `btoa` takes one character per byte.
    let binary: String = digest.iter().map(|&b| char::from(b)).collect();
    window
        .btoa(&binary)
        .map_err(|_| broken("the checksum could not be written"))
}
