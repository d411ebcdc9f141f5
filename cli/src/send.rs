//! `courier send <file>…`: encrypts each file as the browser does, uploads
//! it through Courier's server functions, and gives its share link with
//! its key.

use std::path::PathBuf;
use std::sync::Arc;

use courier_format::link::with_secrets;
use courier_format::{Kdf, Keys, Layout, Metadata, Seal, Secret};
use wire::endpoint;

use crate::courier;
use crate::error::CliError;
use crate::source::{self, Source};
use crate::upload::Upload;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SendOptions {
    pub files: Vec<PathBuf>,
    /// Courier's address (`https://courier.example`).
    pub url: String,
    /// Mixed into each file's keys; the receiver needs it as well as the link.
    pub password: Option<String>,
}

/// Sends each file; returns each one's link (`<share>#<key>`), in order.
pub async fn send(options: &SendOptions) -> Result<Vec<String>, CliError> {
    let client = courier::client()?;
    let base = options.url.trim_end_matches('/');
    let settings = courier::call(&client, base, &endpoint::sign_upload_form(None))
        .await?
        .settings;
    let mut links = Vec::with_capacity(options.files.len());
    for path in &options.files {
        let source = Arc::new(Source::open(path)?);
        let secret = Secret::generate()?;
        let kdf = options.password.as_ref().map(|_| Kdf::generate()).transpose()?;
        let password = options.password.clone();
        let keys = {
            let (secret, kdf) = (secret.clone(), kdf.clone());
            // PBKDF2's 600,000 rounds are long enough to keep off the runtime.
            tokio::task::spawn_blocking(move || Keys::derive(&secret, password.as_deref().zip(kdf.as_ref()))).await?
        };
        let name = source.name();
        let metadata = Metadata::of_file(&name, source::content_type(&name), source.size());
        let sealed_metadata = metadata.seal(&keys).map_err(CliError::Metadata)?;
        let seal = Seal::new(&keys, sealed_metadata, kdf.as_ref()).encode()?;
        let layout = Layout::new(source.size());
        let upload = Upload {
            client: &client,
            base,
            source: Arc::clone(&source),
            keys: Arc::new(keys),
            layout,
            seal: &seal,
        };
        let link = if layout.object_size() < settings.multipart_threshold {
            upload.single_post().await?
        } else {
            upload.multipart(&settings).await?
        };
        let share = link.share.ok_or_else(|| CliError::NoShare(source.path().to_owned()))?;
        links.push(with_secrets(&share.url, &[secret]));
    }
    Ok(links)
}
