//! `courier get <link>`: proves the key for each of the share's files,
//! downloads its object from the store, and decrypts it as it arrives.

use std::path::PathBuf;

use courier_format::{Kdf, Keys, Metadata, MetadataError, Opener, ShareLink, proof};
use futures::StreamExt;
use wire::seal::{KeyProof, SealedDownload, SealedFile, SealedShare, sealed_size};

use crate::courier::{self, Route, network};
use crate::destination::{Destination, Download};
use crate::error::CliError;
use crate::file_name;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GetOptions {
    /// The share link, with its key after `#`.
    pub link: String,
    /// A directory, or for a one-file share the file to write.
    pub output: Option<PathBuf>,
    pub password: Option<String>,
}

/// Downloads and decrypts every file of the share; returns where each was
/// saved. A file that does not open leaves nothing behind.
pub async fn get(options: &GetOptions) -> Result<Vec<PathBuf>, CliError> {
    let link = ShareLink::parse(&options.link)?;
    let client = courier::client()?;
    let share = sealed_share(&client, &link).await?;
    if share.files.is_empty() {
        return Err(CliError::NotEncrypted);
    }
    let destination = Destination::resolve(options.output.as_deref(), share.files.len())?;
    // Every file's key is checked before any is downloaded.
    let mut opened = Vec::with_capacity(share.files.len());
    for file in &share.files {
        opened.push(open_file(&link, file, options.password.as_deref()).await?);
    }
    let mut saved = Vec::with_capacity(share.files.len());
    for (file, (keys, metadata)) in share.files.iter().zip(opened) {
        // A nonce works two minutes, and deriving the keys (or the file
        // before) may have taken longer: each proof signs a fresh one.
        let nonce = sealed_share(&client, &link).await?.nonce;
        let download = sealed_download(&client, &link, file.number, &keys, nonce).await?;
        let fallback = format!("courier-file-{}", file.number);
        let name = file_name::sanitise(&metadata.name, &fallback);
        saved.push(save(&client, &download.url, &keys, metadata.size, &destination, &name).await?);
    }
    Ok(saved)
}

async fn sealed_share(client: &reqwest::Client, link: &ShareLink) -> Result<SealedShare, CliError> {
    let response = client
        .get(link.sealed_share_url())
        .header(reqwest::header::ACCEPT, "application/json")
        .send()
        .await
        .map_err(network("Courier"))?;
    courier::answer(response, "Courier", Route::E2e).await
}

/// The file's keys from its secret (and password), and its metadata.
async fn open_file(link: &ShareLink, file: &SealedFile, password: Option<&str>) -> Result<(Keys, Metadata), CliError> {
    let secret = link
        .secret(file.number)
        .ok_or(CliError::NoSecretFor(file.number))?
        .clone();
    let kdf = file.kdf.as_ref().map(Kdf::from_wire).transpose()?;
    let password = match (&kdf, password) {
        (Some(_), None) => return Err(CliError::PasswordNeeded(file.number)),
        (Some(_), Some(password)) => Some(password.to_owned()),
        // A file sent without a password opens without one.
        (None, _) => None,
    };
    // PBKDF2's 600,000 rounds are long enough to keep off the runtime.
    let keys =
        tokio::task::spawn_blocking(move || Keys::derive(&secret, password.as_deref().zip(kdf.as_ref()))).await?;
    let metadata = Metadata::open(&file.meta, &keys).map_err(|error| match error {
        MetadataError::WrongKey if file.kdf.is_some() => CliError::WrongPassword(file.number),
        MetadataError::WrongKey => CliError::WrongKey(file.number),
        other => CliError::Metadata(other),
    })?;
    if sealed_size(metadata.size) != file.size {
        return Err(CliError::SizeDisagrees {
            number: file.number,
            said: metadata.size,
            object: file.size,
        });
    }
    Ok((keys, metadata))
}

async fn sealed_download(
    client: &reqwest::Client,
    link: &ShareLink,
    number: u32,
    keys: &Keys,
    nonce: String,
) -> Result<SealedDownload, CliError> {
    let proof = proof::proof(keys, &nonce);
    let response = client
        .post(link.proof_url(number))
        .json(&KeyProof { nonce, proof })
        .send()
        .await
        .map_err(network("Courier"))?;
    courier::answer(response, "Courier", Route::E2e).await
}

/// Streams the object from the store through an [`Opener`] into a
/// temporary file, renamed to the destination only once all of it opened.
async fn save(
    client: &reqwest::Client,
    url: &str,
    keys: &Keys,
    size: u64,
    destination: &Destination,
    name: &str,
) -> Result<PathBuf, CliError> {
    let response = client.get(url).send().await.map_err(network("the store"))?;
    if !response.status().is_success() {
        return Err(CliError::Unexpected {
            what: "The store",
            detail: format!("HTTP {} for the file's download", response.status().as_u16()),
        });
    }
    let mut download = Download::create(destination)?;
    let mut opener = Opener::new(keys, size);
    let mut plaintext = Vec::with_capacity(2 * courier_format::records::RECORD_SIZE);
    let mut body = response.bytes_stream();
    while let Some(chunk) = body.next().await {
        let chunk = chunk.map_err(network("the store"))?;
        opener.update(&chunk, &mut plaintext)?;
        if !plaintext.is_empty() {
            download.write(&plaintext).await?;
            plaintext.clear();
        }
    }
    opener.finish(&mut plaintext)?;
    download.write(&plaintext).await?;
    download.keep(destination, name).await
}
