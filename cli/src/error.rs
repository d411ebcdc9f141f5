//! Everything `courier get` and `courier send` can fail with, each a
//! sentence that says what happened and what to do.

use std::path::PathBuf;

use courier_format::{
    KdfError, LinkError, MetadataError, OpenError, PartSizeError, RandomError, RecordsError, SealError,
};

#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// The command line is wrong; the sentence ends with the usage.
    #[error("{0}")]
    Usage(String),
    #[error("Stopped: nothing was saved of the file being downloaded.")]
    Interrupted,
    #[error("Stopped. A large file's upload goes on from the parts already stored when the same command runs again.")]
    SendInterrupted,
    /// A remembered upload's seal does not come from this password: never
    /// shown (the upload starts afresh), but typed all the same.
    #[error("The password is not the one the upload began with.")]
    KeysDiffer,
    #[error(transparent)]
    Link(#[from] LinkError),
    #[error("The link has no key for file {0} of the share: it was cut short. Ask the sender for the whole link.")]
    NoSecretFor(u32),
    #[error("This share has no end-to-end encrypted files: open the link in a browser.")]
    NotEncrypted,
    #[error("File {0} is protected with a password: give it with --password or COURIER_PASSWORD.")]
    PasswordNeeded(u32),
    #[error("The password is wrong (or the link's key is): file {0} does not open with it.")]
    WrongPassword(u32),
    #[error("The link's key is wrong: file {0} does not open with it. Ask the sender for the whole link.")]
    WrongKey(u32),
    #[error("File {number} says it holds {said} bytes but its encrypted copy is {object} bytes: it was changed.")]
    SizeDisagrees { number: u32, said: u64, object: u64 },
    #[error(transparent)]
    Refused(#[from] Refusal),
    #[error("Could not reach {what}: {source}")]
    Network {
        what: &'static str,
        #[source]
        source: reqwest::Error,
    },
    #[error("{what} answered with something this version of courier does not understand ({detail}).")]
    Unexpected { what: &'static str, detail: String },
    #[error(transparent)]
    Open(#[from] OpenError),
    #[error(transparent)]
    Kdf(#[from] KdfError),
    #[error(transparent)]
    Seal(#[from] SealError),
    #[error(transparent)]
    Metadata(MetadataError),
    #[error(transparent)]
    Random(#[from] RandomError),
    #[error("Encrypting failed: {0}")]
    Records(#[from] RecordsError),
    #[error(transparent)]
    PartSize(#[from] PartSizeError),
    #[error("Could not read {}: {source}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("Could not write {}: {source}. Nothing was saved.", path.display())]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("With several files in the share, -o must be a directory ({} is not one).", .0.display())]
    OutputNotDirectory(PathBuf),
    #[error("{} changed while it was being sent: send it again once it is finished.", .0.display())]
    FileChanged(PathBuf),
    #[error("This Courier does not take encrypted files: send them with --plain (stored as they are, not encrypted).")]
    EncryptionOff,
    #[error("This Courier takes encrypted files only: send them without --plain.")]
    EncryptionRequired,
    #[error("Courier made no share for {}: encrypted files need one. Is the link kind \"public\"?", .0.display())]
    NoShare(PathBuf),
    #[error("A background task failed: {0}")]
    Task(#[from] tokio::task::JoinError),
}

/// Courier's refusal on its `e2e` routes and server functions: its status
/// and its sentence (`{"error": "…"}`).
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("Courier refused the key: the link's key or the password is wrong.")]
    WrongKey,
    #[error("Courier has no such share or file: the link is mistyped, or the file was deleted. ({0})")]
    NotFound(String),
    #[error("This share is over: {0}")]
    Gone(String),
    #[error("Too many tries: {0} Wait a minute, then try again.")]
    TooMany(String),
    #[error("Courier refused (HTTP {status}): {sentence}")]
    Other { status: u16, sentence: String },
}

impl Refusal {
    pub fn new(status: u16, sentence: String) -> Self {
        match status {
            401 => Self::WrongKey,
            404 => Self::NotFound(sentence),
            410 => Self::Gone(sentence),
            429 => Self::TooMany(sentence),
            _ => Self::Other { status, sentence },
        }
    }
}
