//! The two ways an object goes to the store, as the browser sends it: one
//! POST for a small object, S3 multipart parts for a large one. The object
//! is the file sealed (FORMAT.md) or, with `--plain`, the file itself.
//! Courier only signs; the bytes go straight to the store.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use bytes::Bytes;
use courier_format::records::RECORD_SIZE;
use courier_format::{Keys, Layout, seal_records};
use futures::{Stream, StreamExt as _, TryStreamExt};
use md5::Md5;
use sha2::{Digest, Sha256};
use wire::seal::{SEALED_NAME, SEALED_TYPE, sealed_size};
use wire::{DownloadLink, MultipartGrant, MultipartUpload, PageSettings, PartToSign, StoredPart, endpoint};

use crate::courier::{Courier, Route, network};
use crate::error::CliError;
use crate::source::{self, Source};

/// Records sealed (or plain bytes read) at a time for a POST's body: 1 MiB.
const RECORDS_PER_CHUNK: u64 = 16;
const CHUNK_BYTES: u64 = RECORDS_PER_CHUNK * RECORD_SIZE as u64;

/// What the object is made of.
#[derive(Clone)]
pub(crate) enum Encoding {
    /// The file encrypted with `keys`; Courier keeps `seal`.
    Sealed { keys: Arc<Keys>, seal: String },
    /// The file as it is, under its own name and type.
    Plain,
}

/// One file to upload: its bytes, what they become, and where the count
/// of bytes sent goes.
pub(crate) struct Upload<'a> {
    pub courier: &'a Courier,
    pub source: Arc<Source>,
    pub encoding: Encoding,
    pub sent: Arc<AtomicU64>,
}

impl Upload<'_> {
    /// The object's size: the sealed size, or the file's own.
    pub(crate) fn object_size(&self) -> u64 {
        object_size(matches!(self.encoding, Encoding::Sealed { .. }), self.source.size())
    }

    /// The name and type Courier is told: placeholders for a sealed file.
    fn name_and_type(&self) -> (String, &'static str) {
        match self.encoding {
            Encoding::Sealed { .. } => (SEALED_NAME.to_owned(), SEALED_TYPE),
            Encoding::Plain => {
                let name = self.source.name();
                let content_type = source::content_type(&name);
                (name, content_type)
            }
        }
    }

    /// One POST of the whole object, sealed as it is sent; the store's 303
    /// leads to Courier's confirmation, asked for as JSON.
    pub(crate) async fn single_post(&self) -> Result<DownloadLink, CliError> {
        let (name, content_type) = self.name_and_type();
        let mut call = endpoint::sign_upload(&name, content_type, self.object_size(), None);
        if let Encoding::Sealed { seal, .. } = &self.encoding {
            call = call.sealed(seal);
        }
        let grant = self.courier.call(&call).await?;
        let mut form = reqwest::multipart::Form::new();
        for (name, value) in grant.fields.iter() {
            form = form.text(name.to_owned(), value.to_owned());
        }
        // The body's own error (a file that changed) is kept here: the
        // client reports only that the body failed.
        let failure = Arc::new(Mutex::new(None));
        let body = reqwest::Body::wrap_stream(self.object_chunks(Arc::clone(&failure)));
        let file = reqwest::multipart::Part::stream_with_length(body, self.object_size())
            .file_name(name)
            .mime_str(if content_type.is_empty() {
                SEALED_TYPE
            } else {
                content_type
            })
            .map_err(network("the store"))?;
        let sent = self
            .courier
            .client
            .post(&grant.url)
            .multipart(form.part("file", file))
            .send()
            .await;
        let taken = failure.lock().ok().and_then(|mut failure| failure.take());
        if let Some(error) = taken {
            return Err(error);
        }
        let response = sent.map_err(network("the store"))?;
        let status = response.status();
        let location = response
            .headers()
            .get(reqwest::header::LOCATION)
            .and_then(|location| location.to_str().ok())
            .map(str::to_owned);
        let Some(location) = location.filter(|_| status.is_redirection()) else {
            return Err(store_refusal(response).await);
        };
        let confirm = reqwest::Url::parse(&grant.url)
            .and_then(|store| store.join(&location))
            .map_err(|error| CliError::Unexpected {
                what: "The store",
                detail: format!("a redirect to {location:?}: {error}"),
            })?;
        let response = self
            .courier
            .client
            .get(confirm)
            .header(reqwest::header::ACCEPT, "application/json")
            .send()
            .await
            .map_err(network("Courier"))?;
        crate::courier::answer(response, "Courier", Route::ServerFunction).await
    }

    /// The object, about a MiB at a time, each sealed (or read) off the
    /// runtime and counted as it goes.
    fn object_chunks(
        &self,
        failure: Arc<Mutex<Option<CliError>>>,
    ) -> impl Stream<Item = Result<Vec<u8>, CliError>> + Send + 'static {
        let source = Arc::clone(&self.source);
        let encoding = self.encoding.clone();
        let sent = Arc::clone(&self.sent);
        let size = source.size();
        let records = courier_format::Layout::new(size).records();
        // A sealed empty file is still one (empty) record.
        let chunks = match encoding {
            Encoding::Sealed { .. } => records.div_ceil(RECORDS_PER_CHUNK),
            Encoding::Plain => size.div_ceil(CHUNK_BYTES),
        };
        futures::stream::try_unfold(0u64, move |chunk| {
            let source = Arc::clone(&source);
            let encoding = encoding.clone();
            async move {
                if chunk >= chunks {
                    return Ok(None);
                }
                let start = (chunk * CHUNK_BYTES).min(size);
                let end = (start + CHUNK_BYTES).min(size);
                let bytes = tokio::task::spawn_blocking(move || {
                    let plaintext = source.read(start..end)?;
                    match encoding {
                        Encoding::Sealed { keys, .. } => {
                            Ok::<_, CliError>(seal_records(&keys, chunk * RECORDS_PER_CHUNK, records, &plaintext)?)
                        }
                        Encoding::Plain => Ok(plaintext),
                    }
                })
                .await??;
                Ok(Some((bytes, chunk + 1)))
            }
        })
        .inspect_ok(move |chunk| {
            sent.fetch_add(chunk.len() as u64, Ordering::Relaxed);
        })
        .inspect_err(move |error| {
            if let Ok(mut failure) = failure.lock() {
                *failure = Some(clone_for_report(error));
            }
        })
    }

    /// Starts a multipart upload of the object.
    pub(crate) async fn start_multipart(&self) -> Result<MultipartGrant, CliError> {
        let (name, content_type) = self.name_and_type();
        let mut call = endpoint::start_multipart(&name, content_type, self.object_size(), None);
        if let Encoding::Sealed { seal, .. } = &self.encoding {
            call = call.sealed(seal);
        }
        let grant = self.courier.call(&call).await?;
        if grant.upload.size != self.object_size() {
            return Err(CliError::Unexpected {
                what: "Courier",
                detail: format!(
                    "an upload of {} bytes for an object of {}",
                    grant.upload.size,
                    self.object_size()
                ),
            });
        }
        Ok(grant)
    }

    /// Part `number`'s bytes, as they were sent or are to be sent: the same
    /// file always gives the same bytes. Blocking (call off the runtime).
    fn part_bytes(
        source: &Source,
        encoding: &Encoding,
        upload: &MultipartUpload,
        number: u32,
    ) -> Result<Vec<u8>, CliError> {
        let no_such_part = || CliError::Unexpected {
            what: "Courier",
            detail: format!("no part {number} in an upload of {} bytes", upload.size),
        };
        match encoding {
            Encoding::Sealed { keys, .. } => {
                let layout = Layout::with_part_size(source.size(), upload.part_size)?;
                let part = layout.part(number).ok_or_else(no_such_part)?;
                let plaintext = source.read(part.plain.clone())?;
                Ok(layout.seal_part(keys, &part, &plaintext)?)
            }
            Encoding::Plain => {
                let len = upload.part_len(number).ok_or_else(no_such_part)?;
                let start = u64::from(number - 1) * upload.part_size;
                source.read(start..start + len)
            }
        }
    }

    /// The parts of `stored` that hold what this file gives for them: the
    /// right size, and the same SHA-256 (where the store keeps one) or MD5
    /// ETag (where the ETag is one). A part neither says is taken on its size.
    pub(crate) async fn verified(
        &self,
        upload: &MultipartUpload,
        stored: Vec<StoredPart>,
    ) -> Result<Vec<u32>, CliError> {
        let checks = stored
            .into_iter()
            .filter(|part| upload.part_len(part.number) == Some(part.size))
            .map(|part| {
                let (source, encoding, upload) = (Arc::clone(&self.source), self.encoding.clone(), upload.clone());
                tokio::task::spawn_blocking(move || {
                    let bytes = Self::part_bytes(&source, &encoding, &upload, part.number)?;
                    let same = match (&part.sha256, md5_etag(&part.etag)) {
                        (Some(sha256), _) => *sha256 == STANDARD.encode(Sha256::digest(&bytes)),
                        (None, Some(md5)) => md5 == Md5::digest(&bytes).as_slice(),
                        (None, None) => true,
                    };
                    Ok::<_, CliError>(same.then_some(part.number))
                })
            });
        // As many at once as there are cores to seal and hash on.
        let parallel = std::thread::available_parallelism().map_or(2, |n| n.get());
        let mut whole: Vec<u32> = futures::stream::iter(checks)
            .buffer_unordered(parallel)
            .map(|joined| joined.map_err(CliError::from).and_then(|checked| checked))
            .try_filter_map(|number| async move { Ok(number) })
            .try_collect()
            .await?;
        whole.sort_unstable();
        Ok(whole)
    }

    /// Sends the parts of `upload` not in `stored`, several at once, each
    /// signed for its length and SHA-256.
    pub(crate) async fn send_parts(
        &self,
        upload: &MultipartUpload,
        settings: &PageSettings,
        stored: &[u32],
    ) -> Result<(), CliError> {
        let parallel = usize::try_from(settings.parallel_parts).unwrap_or(1).clamp(1, 8);
        let missing = (1..=upload.part_count()).filter(|number| !stored.contains(number));
        futures::stream::iter(missing.map(Ok))
            .try_for_each_concurrent(parallel, |number| {
                self.send_part(upload, number, settings.part_checksums)
            })
            .await
    }

    async fn send_part(&self, upload: &MultipartUpload, number: u32, checksums: bool) -> Result<(), CliError> {
        let (source, encoding, owned) = (Arc::clone(&self.source), self.encoding.clone(), upload.clone());
        let (bytes, sha256) = tokio::task::spawn_blocking(move || {
            let bytes = Self::part_bytes(&source, &encoding, &owned, number)?;
            let sha256 = STANDARD.encode(Sha256::digest(&bytes));
            Ok::<_, CliError>((Bytes::from(bytes), sha256))
        })
        .await??;
        let sha256 = checksums.then_some(sha256);
        let to_sign = [PartToSign {
            number,
            sha256: sha256.clone(),
        }];
        let urls = self.courier.call(&endpoint::sign_parts(upload, &to_sign)).await?;
        let url = urls
            .into_iter()
            .find(|url| url.number == number)
            .ok_or_else(|| CliError::Unexpected {
                what: "Courier",
                detail: format!("no URL for part {number}"),
            })?;
        if url.size != bytes.len() as u64 {
            return Err(CliError::Unexpected {
                what: "Courier",
                detail: format!("part {number} signed for {} bytes, not {}", url.size, bytes.len()),
            });
        }
        let mut request = self
            .courier
            .client
            .put(&url.url)
            .header(reqwest::header::CONTENT_LENGTH, bytes.len());
        if let Some(sha256) = sha256 {
            request = request.header("x-amz-checksum-sha256", sha256);
        }
        let response = request
            .body(reqwest::Body::wrap_stream(counted(bytes, Arc::clone(&self.sent))))
            .send()
            .await
            .map_err(network("the store"))?;
        if !response.status().is_success() {
            return Err(store_refusal(response).await);
        }
        Ok(())
    }
}

/// The object's size for a file of `size` bytes, sealed or not.
pub(crate) fn object_size(sealed: bool, size: u64) -> u64 {
    if sealed { sealed_size(size) } else { size }
}

/// `bytes` in 64 KiB pieces, each counted into `sent` as the client takes
/// it: the progress line moves within a part, not only at its end.
fn counted(bytes: Bytes, sent: Arc<AtomicU64>) -> impl Stream<Item = Result<Bytes, std::io::Error>> + Send + 'static {
    const PIECE: usize = 64 * 1024;
    let pieces: Vec<Bytes> = (0..bytes.len())
        .step_by(PIECE)
        .map(|start| bytes.slice(start..(start + PIECE).min(bytes.len())))
        .collect();
    futures::stream::iter(pieces).map(move |piece| {
        sent.fetch_add(piece.len() as u64, Ordering::Relaxed);
        Ok(piece)
    })
}

/// An ETag that is an MD5 (a single PUT's, on most stores), as bytes.
fn md5_etag(etag: &str) -> Option<[u8; 16]> {
    let etag = etag.trim_matches('"');
    if etag.len() != 32 {
        return None;
    }
    let mut md5 = [0; 16];
    for (i, byte) in md5.iter_mut().enumerate() {
        *byte = u8::from_str_radix(etag.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(md5)
}

/// The store's refusal: its status and the start of what it said.
async fn store_refusal(response: reqwest::Response) -> CliError {
    let status = response.status().as_u16();
    let body = response.text().await.unwrap_or_default();
    let said: String = body.chars().take(300).collect();
    CliError::Unexpected {
        what: "The store",
        detail: format!("HTTP {status}: {said}"),
    }
}

/// The errors a POST body's reading can give, kept to be reported after
/// the client gives up (errors are not `Clone`).
fn clone_for_report(error: &CliError) -> CliError {
    match error {
        CliError::FileChanged(path) => CliError::FileChanged(path.clone()),
        CliError::Read { path, source } => CliError::Read {
            path: path.clone(),
            source: std::io::Error::new(source.kind(), source.to_string()),
        },
        other => CliError::Unexpected {
            what: "Encrypting",
            detail: other.to_string(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_md5_etag_is_read_and_anything_else_is_not() {
        assert_eq!(
            md5_etag("\"d41d8cd98f00b204e9800998ecf8427e\""),
            Some([
                0xd4, 0x1d, 0x8c, 0xd9, 0x8f, 0x00, 0xb2, 0x04, 0xe9, 0x80, 0x09, 0x98, 0xec, 0xf8, 0x42, 0x7e
            ])
        );
        assert_eq!(md5_etag("d41d8cd98f00b204e9800998ecf8427e-2"), None);
        assert_eq!(md5_etag("zz1d8cd98f00b204e9800998ecf8427e"), None);
    }
}
