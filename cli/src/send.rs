//! `courier send <file>…`: encrypts each file as the browser does (or, with
//! `--plain`, does not), uploads it through Courier's server functions, and
//! gives its link. A large file's multipart upload is remembered
//! (`resume`), so an interrupted `send` goes on where it stopped.

use std::path::PathBuf;
use std::sync::Arc;

use courier_format::link::with_secrets;
use courier_format::{Kdf, Keys, Metadata, Seal, Secret};
use wire::seal::Encryption;
use wire::{DownloadLink, MultipartGrant, MultipartUpload, PageSettings, endpoint};

use crate::courier::{self, ApiToken, Courier};
use crate::error::{CliError, Refusal};
use crate::progress::Reporter;
use crate::resume::{Found, Identity, States, Unfinished};
use crate::source::{self, Source};
use crate::upload::{Encoding, Upload, object_size};

/// What to send, and where.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SendOptions {
    pub files: Vec<PathBuf>,
    /// Courier's address (`https://courier.example`).
    pub url: String,
    /// Mixed into each file's keys; the receiver needs it as well as the link.
    pub password: Option<String>,
}

/// How to send. The default is the library's: encrypted, no token, silent,
/// and nothing remembered (a failed multipart upload is aborted).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SendSettings {
    /// Sent as `Authorization: Bearer` to Courier's server functions.
    pub token: Option<ApiToken>,
    /// The file as it is, under its own name: a direct link, no key.
    pub plain: bool,
    /// No progress line and no sentences on stderr.
    pub quiet: bool,
    /// Where unfinished multipart uploads are remembered; `None`, nowhere.
    pub state_dir: Option<PathBuf>,
}

/// Sends each file with the default [`SendSettings`]; returns each one's
/// link (`<share>#<key>`), in order.
pub async fn send(options: &SendOptions) -> Result<Vec<String>, CliError> {
    let mut links = Vec::with_capacity(options.files.len());
    send_with(options, &SendSettings::default(), |link| links.push(link.to_owned())).await?;
    Ok(links)
}

/// Sends each file, handing each one's link to `sent` as soon as it is
/// made: a later file's failure leaves the earlier links given.
pub async fn send_with(
    options: &SendOptions,
    settings: &SendSettings,
    mut sent: impl FnMut(&str),
) -> Result<(), CliError> {
    let courier = Courier::new(courier::client()?, &options.url, settings.token.clone());
    let page = courier.call(&endpoint::sign_upload_form(None)).await?.settings;
    // Said before any file is read, rather than as each file's refusal.
    match (page.encryption, settings.plain) {
        (Encryption::Off, false) => return Err(CliError::EncryptionOff),
        (Encryption::Always, true) => return Err(CliError::EncryptionRequired),
        _ => {}
    }
    let sender = Sender {
        courier: &courier,
        page: &page,
        password: options.password.as_deref(),
        plain: settings.plain,
        reporter: Reporter::new(settings.quiet),
        states: settings.state_dir.clone().map(States::new),
    };
    for path in &options.files {
        sent(&sender.send_file(path).await?);
    }
    Ok(())
}

/// Everything one run's files are sent with.
struct Sender<'a> {
    courier: &'a Courier,
    page: &'a PageSettings,
    password: Option<&'a str>,
    plain: bool,
    reporter: Reporter,
    states: Option<States>,
}

/// A file's keys, and what goes in its link.
struct Sealing {
    secret: Secret,
    keys: Keys,
    seal: String,
}

impl Sender<'_> {
    async fn send_file(&self, path: &std::path::Path) -> Result<String, CliError> {
        let source = Arc::new(Source::open(path)?);
        let multipart = object_size(!self.plain, source.size()) >= self.page.multipart_threshold;
        let (link, secret) = if multipart {
            self.multipart(&source).await?
        } else {
            let sealing = self.sealing(&source, None, None).await?;
            let upload = self.upload(&source, sealing.as_ref());
            let progress = self.reporter.file(&source.name(), upload.object_size(), 0);
            let upload = Upload {
                sent: progress.counter(),
                ..upload
            };
            (upload.single_post().await?, sealing.map(|sealing| sealing.secret))
        };
        self.link(&source, link, secret)
    }

    /// A multipart upload, resumed where one of this very file was
    /// interrupted, else started (and remembered).
    async fn multipart(&self, source: &Arc<Source>) -> Result<(DownloadLink, Option<Secret>), CliError> {
        let identity = Identity::new(
            source.path(),
            source.size(),
            source.modified(),
            self.courier.base(),
            self.password.is_some(),
            !self.plain,
        );
        if let Some((upload, stored, sealing)) = self.resumable(source, &identity).await? {
            let link = self
                .finish(source, &upload, sealing.as_ref(), &stored, &identity)
                .await?;
            return Ok((link, sealing.map(|sealing| sealing.secret)));
        }
        let sealing = self.sealing(source, None, None).await?;
        let grant: MultipartGrant = self.upload(source, sealing.as_ref()).start_multipart().await?;
        let remembered = self.states.as_ref().and_then(|states| {
            let mut unfinished = Unfinished::new(identity.clone(), grant.upload.clone(), grant.expires_at.clone());
            if let Some(sealing) = &sealing {
                unfinished = unfinished.sealed(&sealing.secret, &sealing.seal);
            }
            match states.keep(&unfinished) {
                Ok(_) => Some(()),
                Err(error) => {
                    self.reporter.say(&format!(
                        "Could not remember the upload of {} in {} ({error}): if it is interrupted, it starts over.",
                        source.path().display(),
                        states.path_of(&identity).display()
                    ));
                    None
                }
            }
        });
        let finished = self
            .finish(source, &grant.upload, sealing.as_ref(), &[], &identity)
            .await;
        if finished.is_err() && remembered.is_none() {
            // Nothing remembers the parts: let the store drop them now.
            let _ = self.courier.call(&endpoint::abort_multipart(&grant.upload)).await;
        }
        Ok((finished?, sealing.map(|sealing| sealing.secret)))
    }

    /// The remembered upload of this file, with its parts the store holds
    /// whole, if it can go on; says why not where it cannot.
    async fn resumable(
        &self,
        source: &Arc<Source>,
        identity: &Identity,
    ) -> Result<Option<(MultipartUpload, Vec<u32>, Option<Sealing>)>, CliError> {
        let Some(states) = &self.states else {
            return Ok(None);
        };
        let path = source.path().display();
        let then = match states.find(identity) {
            Found::Nothing => return Ok(None),
            Found::Stale(then) => {
                if let Some(then) = then {
                    self.reporter.say(&format!(
                        "{path} changed since its upload was interrupted: sending it afresh."
                    ));
                    self.drop_upload(&then.upload).await;
                }
                states.forget(identity);
                return Ok(None);
            }
            Found::Same(then) => then,
        };
        let sealing = match (&then.seal, then.secret()) {
            (Some(seal), Some(secret)) if !self.plain => {
                let sealing = self.sealing(source, Some(secret), Some(seal)).await;
                match sealing {
                    Ok(sealing) => sealing,
                    Err(error) => {
                        self.reporter.say(&match error {
                            CliError::KeysDiffer => format!(
                                "The password is not the one the interrupted upload of {path} began with: sending it afresh."
                            ),
                            other => format!(
                                "The interrupted upload of {path} cannot go on ({other}): sending it afresh."
                            ),
                        });
                        self.drop_upload(&then.upload).await;
                        states.forget(identity);
                        return Ok(None);
                    }
                }
            }
            (None, None) if self.plain => None,
            _ => {
                states.forget(identity);
                return Ok(None);
            }
        };
        let listed = self.courier.call(&endpoint::list_parts(&then.upload)).await;
        let stored = match listed {
            Ok(stored) => stored,
            // The grant expired, or the upload was aborted or completed:
            // Courier says so with one of these.
            Err(CliError::Refused(Refusal::Other {
                status: 400 | 403 | 404 | 410,
                sentence,
            })) => {
                self.reporter.say(&format!(
                    "Courier no longer takes the interrupted upload of {path} ({sentence}): sending it afresh."
                ));
                states.forget(identity);
                return Ok(None);
            }
            Err(other) => return Err(other),
        };
        let upload = self.upload(source, sealing.as_ref());
        let listed = stored.len();
        let whole = upload.verified(&then.upload, stored).await?;
        let differ = listed - whole.len();
        let again = match differ {
            0 => String::new(),
            1 => " (1 stored part did not match the file and is sent again)".to_owned(),
            _ => format!(" ({differ} stored parts did not match the file and are sent again)"),
        };
        self.reporter.say(&format!(
            "Resuming: {} of {} parts were already stored{again}.",
            whole.len(),
            then.upload.part_count()
        ));
        Ok(Some((then.upload, whole, sealing)))
    }

    /// Sends what `stored` lacks and completes; forgets the upload once
    /// done. A failure leaves it remembered, to go on from.
    async fn finish(
        &self,
        source: &Arc<Source>,
        upload: &MultipartUpload,
        sealing: Option<&Sealing>,
        stored: &[u32],
        identity: &Identity,
    ) -> Result<DownloadLink, CliError> {
        let already = stored.iter().filter_map(|&number| upload.part_len(number)).sum();
        let progress = self.reporter.file(&source.name(), upload.size, already);
        let sending = Upload {
            sent: progress.counter(),
            ..self.upload(source, sealing)
        };
        sending.send_parts(upload, self.page, stored).await?;
        drop(progress);
        let link = self.courier.call(&endpoint::complete_multipart(upload)).await?;
        if let Some(states) = &self.states {
            states.forget(identity);
        }
        Ok(link)
    }

    /// Best effort: the store drops an upload's parts (they would expire
    /// with its lifecycle rule anyway).
    async fn drop_upload(&self, upload: &MultipartUpload) {
        let _ = self.courier.call(&endpoint::abort_multipart(upload)).await;
    }

    fn upload<'s>(&'s self, source: &Arc<Source>, sealing: Option<&Sealing>) -> Upload<'s> {
        Upload {
            courier: self.courier,
            source: Arc::clone(source),
            encoding: match sealing {
                Some(sealing) => Encoding::Sealed {
                    keys: Arc::new(sealing.keys.clone()),
                    seal: sealing.seal.clone(),
                },
                None => Encoding::Plain,
            },
            sent: Arc::default(),
        }
    }

    /// An encrypted file's keys and seal: fresh, or from a remembered
    /// upload's secret and seal (whose auth key they must give: a different
    /// password would not). `None` for a plain file.
    async fn sealing(
        &self,
        source: &Source,
        secret: Option<Secret>,
        seal: Option<&str>,
    ) -> Result<Option<Sealing>, CliError> {
        if self.plain {
            return Ok(None);
        }
        let then = seal.map(Seal::decode).transpose()?;
        let secret = match secret {
            Some(secret) => secret,
            None => Secret::generate()?,
        };
        let kdf = match (&then, self.password) {
            (Some(then), _) => then.kdf.clone(),
            (None, Some(_)) => Some(Kdf::generate()?),
            (None, None) => None,
        };
        let keys = {
            let (secret, kdf, password) = (secret.clone(), kdf.clone(), self.password.map(str::to_owned));
            // PBKDF2's 600,000 rounds are long enough to keep off the runtime.
            tokio::task::spawn_blocking(move || Keys::derive(&secret, password.as_deref().zip(kdf.as_ref()))).await?
        };
        if let (Some(then), Some(seal)) = (then, seal) {
            if then.auth != *keys.auth_key() || then.kdf.is_some() != self.password.is_some() {
                return Err(CliError::KeysDiffer);
            }
            return Ok(Some(Sealing {
                secret,
                keys,
                seal: seal.to_owned(),
            }));
        }
        let name = source.name();
        let metadata = Metadata::of_file(&name, source::content_type(&name), source.size());
        let sealed_metadata = metadata.seal(&keys).map_err(CliError::Metadata)?;
        let seal = Seal::new(&keys, sealed_metadata, kdf.as_ref()).encode()?;
        Ok(Some(Sealing { secret, keys, seal }))
    }

    /// The link to hand out: the share's with the key after `#`, or for a
    /// plain file its share's (or, for a public link, its download URL).
    fn link(&self, source: &Source, link: DownloadLink, secret: Option<Secret>) -> Result<String, CliError> {
        match (secret, link.share) {
            (Some(secret), Some(share)) => Ok(with_secrets(&share.url, &[secret])),
            (Some(_), None) => Err(CliError::NoShare(source.path().to_owned())),
            (None, Some(share)) => Ok(share.url),
            (None, None) => Ok(link.download_url),
        }
    }
}
