//! Why the signer refused, typed: each refusal is a sentence the person can
//! act on, and a [`Refusal`] kind the HTTP layer turns into a status.

use wire::FileRefusal;

/// What kind of refusal: the caller picks the HTTP status from it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    BadRequest,
    Forbidden,
    NotFound,
    TooLarge,
    /// The store (or its credentials) could not be reached.
    Unavailable,
    Internal,
    /// The store has no room for the file (507 Insufficient Storage).
    InsufficientStorage,
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SignError {
    #[error(transparent)]
    File(#[from] FileRefusal),
    #[error("The file has no usable name. Rename it and try again.")]
    NoUsableName,
    #[error(
        "Courier cannot sign uploads right now: its storage credentials could not be loaded. Nothing was sent; try again later (retrying is safe)."
    )]
    CredentialsUnavailable,
    #[error("This confirmation link is incomplete: it needs token, bucket and key. Upload the file again.")]
    IncompleteConfirmation,
    #[error("This confirmation names a bucket Courier does not use.")]
    ForeignBucket,
    #[error("The request has no token. Use the link Courier gave you.")]
    NoToken,
    #[error("That is not a file Courier uploaded.")]
    NotCourierKey,
    #[error("This token does not allow a link to that file.")]
    NotThisFile,
    #[error("This link's permission has expired. Upload the file again to share it.")]
    PermissionExpired,
    #[error("No file was found for this upload. It may not have finished: upload it again.")]
    NoSuchFile,
    #[error("The file changed while it was being confirmed. Upload it again.")]
    ChangedWhileConfirming,
    #[error(
        "The storage could not be reached to check the file. Nothing is lost: try again in a moment (retrying is safe)."
    )]
    StoreUnreachable,
    #[error("The storage is full: the file arrived but could not be confirmed. It is kept; try again later.")]
    StorageFull,
    #[error("The confirmed file's key is invalid ({0}).")]
    InvalidConfirmedKey(String),
    #[error("The download link could not be signed ({0}).")]
    LinkNotSigned(String),
    #[error("Public links are turned off here: upload the file with an expiring link.")]
    PublicLinksOff,
    #[error("Only the link Courier gave after the upload can delete the file.")]
    NotDeletable,
    #[error(
        "A file over {} goes up in parts: the page does that by itself; from a script, use start_multipart.",
        wire::size::human_size(*.0)
    )]
    TooLargeForOnePost(u64),
    #[error("This token is not for that upload.")]
    NotThisUpload,
    #[error("At most {0} parts can be signed at once.")]
    TooManyParts(usize),
    #[error("Part {number} is not part of this upload: it has {count} parts.")]
    NoSuchPart { number: u32, count: u32 },
    #[error("Part {0} needs its checksum: the SHA-256 of its bytes, in base64.")]
    BadPartDigest(u32),
    #[error("The upload was not complete ({0}), so it was cancelled. Upload the file again.")]
    PartsDoNotAddUp(String),
    #[error("This upload is no longer in progress: it was completed, cancelled or has expired. Upload the file again.")]
    NoSuchUpload,
    #[error("The file could not be deleted: the storage did not answer. Try again in a moment (retrying is safe).")]
    NotDeleted,
    #[error(
        "The storage has no room for this {} file right now: nothing was sent. Try again later, or send a smaller file.",
        wire::size::human_size(*.0)
    )]
    NoRoomForUpload(u64),
    #[error("This token does not control that share. Use the page the file was sent from.")]
    NotThisShare,
    #[error("This token does not control that file request. Use the page the request was made on.")]
    NotThisRequest,
    #[error(
        "This Courier takes only files encrypted in the browser: turn on \"Encrypt in this browser\" (it needs JavaScript)."
    )]
    EncryptionRequired,
    #[error("This Courier does not take encrypted files: turn off \"Encrypt in this browser\".")]
    EncryptionOff,
    #[error("An encrypted file cannot have a public link: its key travels only in its share link.")]
    SealedPublic,
    #[error("The encrypted file's seal {0}: upload it again with Courier's page or client.")]
    BadSeal(#[from] crate::seal::BadSeal),
}

impl SignError {
    pub fn refusal(&self) -> Refusal {
        match self {
            Self::File(FileRefusal::TooLarge { .. }) | Self::TooLargeForOnePost(_) => Refusal::TooLarge,
            Self::File(_)
            | Self::NoUsableName
            | Self::IncompleteConfirmation
            | Self::ForeignBucket
            | Self::NoToken
            | Self::NotCourierKey
            | Self::ChangedWhileConfirming
            | Self::TooManyParts(_)
            | Self::NoSuchPart { .. }
            | Self::BadPartDigest(_)
            | Self::BadSeal(_)
            | Self::PartsDoNotAddUp(_) => Refusal::BadRequest,
            Self::NotThisFile
            | Self::NotThisUpload
            | Self::PermissionExpired
            | Self::PublicLinksOff
            | Self::NotDeletable
            | Self::NotThisShare
            | Self::NotThisRequest
            | Self::EncryptionRequired
            | Self::EncryptionOff
            | Self::SealedPublic => Refusal::Forbidden,
            Self::NoSuchFile | Self::NoSuchUpload => Refusal::NotFound,
            Self::CredentialsUnavailable | Self::StoreUnreachable | Self::NotDeleted | Self::StorageFull => {
                Refusal::Unavailable
            }
            Self::InvalidConfirmedKey(_) | Self::LinkNotSigned(_) => Refusal::Internal,
            Self::NoRoomForUpload(_) => Refusal::InsufficientStorage,
        }
    }
}
