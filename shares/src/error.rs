//! Two kinds of failure, kept apart because the routes answer them
//! differently: a [`ShareRefusal`] is about the share (404 or 410, a sentence
//! for the person holding the link); a [`DbError`] is about the database
//! (503, or a failed start). Neither ever carries a password or a URL with
//! credentials: connection errors are scrubbed where they are made.

use std::path::PathBuf;

/// Why the share database could not do what was asked.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// `COURIER_DATABASE_URL` could not be used; `reason` never repeats its value.
    #[error("COURIER_DATABASE_URL {reason}")]
    Setting { reason: String },
    /// The SQLite file or its directory could not be made.
    #[error("could not prepare the share database file {}: {source}; check that the directory exists and Courier may write to it", path.display())]
    DataFile {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The database could not be reached; `database` is named without its password.
    #[error("could not reach the share database ({database}): {reason}")]
    Connect { database: String, reason: String },
    /// The versioned migrations could not be applied.
    #[error("could not bring the share database ({database}) up to date: {reason}")]
    Migrate { database: String, reason: String },
    /// A query failed: the database went away, is locked or full.
    #[error("the share database did not answer: {0}")]
    Query(#[source] sqlx::Error),
    /// A stored value is out of range for its type (written by something else).
    #[error("the share database holds a value Courier cannot read: {0}")]
    Corrupt(String),
    /// A share changed each time it was about to be counted or changed (only
    /// a rule relaxed, or a sweep released, meanwhile can cause it).
    #[error("the share changed while it was being counted or changed; try again")]
    Contended,
    /// A new share breaks a rule the schema keeps.
    #[error("a share {0}")]
    InvalidShare(&'static str),
    /// A new share names a stored object that is in a share already (an
    /// object is in one share at most).
    #[error("the file {key} is in a share already")]
    FileShared { key: String },
    /// More shares asked for at once than one query reads.
    #[error("{asked} shares were asked for at once; at most {most} can be")]
    TooManyShares { asked: usize, most: usize },
}

impl From<sqlx::Error> for DbError {
    fn from(error: sqlx::Error) -> Self {
        Self::Query(error)
    }
}

/// Why a share cannot be used, in a sentence for the person holding its link
/// (or, for a change its sender asked for, for the sender).
#[derive(Debug, thiserror::Error)]
pub enum ShareRefusal {
    /// No share has this id, the id is malformed, or the share has no such file.
    #[error("There is no share at this link. Check that the whole link was copied.")]
    NotFound,
    #[error("This share has expired: its sender chose how long it would last, and that time has passed.")]
    Expired,
    #[error("This share was revoked by its sender: its files can no longer be downloaded.")]
    Revoked,
    #[error(
        "This share's download limit has been reached: its sender allowed a set number of downloads, and they have all been used. Ask the sender for a new link."
    )]
    LimitReached,
    /// Its stored objects were deleted by the sweep: its rules can no longer change.
    #[error("The files of this link were deleted.")]
    Deleted,
    /// A change its sender asked for breaks a rule of shares (the reason
    /// reads after "a share", as in [`DbError::InvalidShare`]).
    #[error("This share cannot be changed that way: a share {0}.")]
    Invalid(&'static str),
    /// A share to combine with others has a download counted.
    #[error(
        "This link has been downloaded already, so it cannot be combined with others: it must keep working for whoever has it."
    )]
    Downloaded,
    /// The share asks for a password, and this download came without it
    /// (`take_open_download`).
    #[error("This link needs its password first.")]
    PasswordNeeded,
    /// The file is encrypted: its downloads need a proof of its key
    /// (`take_sealed_download`), never this plain route.
    #[error("This file is encrypted: open the whole link (with its key after #) in a browser, or use `courier get`.")]
    Sealed,
    /// The database failed; the cause is in `source()`, for the log.
    #[error(
        "Courier could not reach its share database just now. Nothing was lost, and trying again in a moment is safe."
    )]
    Unavailable(#[from] DbError),
}

impl From<sqlx::Error> for ShareRefusal {
    fn from(error: sqlx::Error) -> Self {
        Self::Unavailable(DbError::Query(error))
    }
}
