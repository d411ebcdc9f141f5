//! The two ways an object goes to the store, as the browser sends it: one
//! POST for a small object, S3 multipart parts for a large one. Courier
//! only signs; the bytes go straight to the store.

use std::sync::{Arc, Mutex};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use courier_format::records::RECORD_SIZE;
use courier_format::{Keys, Layout, seal_records};
use futures::{Stream, TryStreamExt};
use sha2::{Digest, Sha256};
use wire::endpoint;
use wire::seal::{SEALED_NAME, SEALED_TYPE};
use wire::{DownloadLink, MultipartUpload, PageSettings, PartToSign};

use crate::courier::{self, Route, network};
use crate::error::CliError;
use crate::source::Source;

/// Records sealed at a time for a POST's body: 1 MiB.
const RECORDS_PER_CHUNK: u64 = 16;

/// One file to upload: its bytes, keys, records and seal.
pub(crate) struct Upload<'a> {
    pub client: &'a reqwest::Client,
    pub base: &'a str,
    pub source: Arc<Source>,
    pub keys: Arc<Keys>,
    pub layout: Layout,
    pub seal: &'a str,
}

impl Upload<'_> {
    /// One POST of the whole object, sealed as it is sent; the store's 303
    /// leads to Courier's confirmation, asked for as JSON.
    pub(crate) async fn single_post(&self) -> Result<DownloadLink, CliError> {
        let call = endpoint::sign_upload(SEALED_NAME, SEALED_TYPE, self.layout.object_size(), None).sealed(self.seal);
        let grant = courier::call(self.client, self.base, &call).await?;
        let mut form = reqwest::multipart::Form::new();
        for (name, value) in grant.fields.iter() {
            form = form.text(name.to_owned(), value.to_owned());
        }
        // The body's own error (a file that changed) is kept here: the
        // client reports only that the body failed.
        let failure = Arc::new(Mutex::new(None));
        let body = reqwest::Body::wrap_stream(self.sealed_chunks(Arc::clone(&failure)));
        let file = reqwest::multipart::Part::stream_with_length(body, self.layout.object_size())
            .file_name(SEALED_NAME)
            .mime_str(SEALED_TYPE)
            .map_err(network("the store"))?;
        let sent = self
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
            .client
            .get(confirm)
            .header(reqwest::header::ACCEPT, "application/json")
            .send()
            .await
            .map_err(network("Courier"))?;
        courier::answer(response, "Courier", Route::ServerFunction).await
    }

    /// The object, a few records at a time, each sealed off the runtime.
    fn sealed_chunks(
        &self,
        failure: Arc<Mutex<Option<CliError>>>,
    ) -> impl Stream<Item = Result<Vec<u8>, CliError>> + Send + 'static {
        let source = Arc::clone(&self.source);
        let keys = Arc::clone(&self.keys);
        let layout = self.layout;
        futures::stream::try_unfold(0u64, move |record| {
            let source = Arc::clone(&source);
            let keys = Arc::clone(&keys);
            async move {
                if record >= layout.records() {
                    return Ok(None);
                }
                let count = RECORDS_PER_CHUNK.min(layout.records() - record);
                let start = record * RECORD_SIZE as u64;
                let end = ((record + count) * RECORD_SIZE as u64).min(layout.size());
                let sealed = tokio::task::spawn_blocking(move || {
                    let plaintext = source.read(start..end)?;
                    Ok::<_, CliError>(seal_records(&keys, record, layout.records(), &plaintext)?)
                })
                .await??;
                Ok(Some((sealed, record + count)))
            }
        })
        .inspect_err(move |error| {
            if let Ok(mut failure) = failure.lock() {
                *failure = Some(clone_for_report(error));
            }
        })
    }

    /// The object in parts of whole records, several at once, each sealed
    /// on its own and signed for its length and SHA-256; aborted on failure.
    pub(crate) async fn multipart(&self, settings: &PageSettings) -> Result<DownloadLink, CliError> {
        let call =
            endpoint::start_multipart(SEALED_NAME, SEALED_TYPE, self.layout.object_size(), None).sealed(self.seal);
        let upload = courier::call(self.client, self.base, &call).await?.upload;
        let sent = self.send_parts(&upload, settings).await;
        match sent {
            Ok(()) => courier::call(self.client, self.base, &endpoint::complete_multipart(&upload)).await,
            Err(error) => {
                // Best effort: the store would drop the parts later anyway.
                let _ = courier::call(self.client, self.base, &endpoint::abort_multipart(&upload)).await;
                Err(error)
            }
        }
    }

    async fn send_parts(&self, upload: &MultipartUpload, settings: &PageSettings) -> Result<(), CliError> {
        if upload.size != self.layout.object_size() {
            return Err(CliError::Unexpected {
                what: "Courier",
                detail: format!(
                    "an upload of {} bytes for an object of {}",
                    upload.size,
                    self.layout.object_size()
                ),
            });
        }
        let layout = Layout::with_part_size(self.layout.size(), upload.part_size)?;
        let parallel = usize::try_from(settings.parallel_parts).unwrap_or(1).clamp(1, 8);
        futures::stream::iter(layout.parts().map(Ok))
            .try_for_each_concurrent(parallel, |part| {
                self.send_part(upload, layout, part, settings.part_checksums)
            })
            .await
    }

    async fn send_part(
        &self,
        upload: &MultipartUpload,
        layout: Layout,
        part: courier_format::Part,
        checksums: bool,
    ) -> Result<(), CliError> {
        let number = part.number;
        let source = Arc::clone(&self.source);
        let keys = Arc::clone(&self.keys);
        let (sealed, sha256) = tokio::task::spawn_blocking(move || {
            let plaintext = source.read(part.plain.clone())?;
            let sealed = layout.seal_part(&keys, &part, &plaintext)?;
            let sha256 = STANDARD.encode(Sha256::digest(&sealed));
            Ok::<_, CliError>((sealed, sha256))
        })
        .await??;
        let sha256 = checksums.then_some(sha256);
        let to_sign = [PartToSign {
            number,
            sha256: sha256.clone(),
        }];
        let urls = courier::call(self.client, self.base, &endpoint::sign_parts(upload, &to_sign)).await?;
        let url = urls
            .into_iter()
            .find(|url| url.number == number)
            .ok_or_else(|| CliError::Unexpected {
                what: "Courier",
                detail: format!("no URL for part {number}"),
            })?;
        if url.size != sealed.len() as u64 {
            return Err(CliError::Unexpected {
                what: "Courier",
                detail: format!("part {number} signed for {} bytes, not {}", url.size, sealed.len()),
            });
        }
        let mut request = self
            .client
            .put(&url.url)
            .header(reqwest::header::CONTENT_LENGTH, sealed.len());
        if let Some(sha256) = sha256 {
            request = request.header("x-amz-checksum-sha256", sha256);
        }
        let response = request.body(sealed).send().await.map_err(network("the store"))?;
        if !response.status().is_success() {
            return Err(store_refusal(response).await);
        }
        Ok(())
    }
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
