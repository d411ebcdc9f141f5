//! The errors a person can meet, each a sentence that says what to do.

use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
use serde::{Deserialize, Serialize};

/// Every refusal Courier gives, on the wire as
/// `{"code": "bad_request", "error": "<sentence>"}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[serde(tag = "code", content = "error", rename_all = "snake_case")]
pub enum CourierError {
    /// The request itself is wrong (400).
    #[error("{0}")]
    BadRequest(String),
    /// The token does not allow this (403).
    #[error("{0}")]
    Forbidden(String),
    /// No such file (404).
    #[error("{0}")]
    NotFound(String),
    /// Larger than allowed (413).
    #[error("{0}")]
    TooLarge(String),
    /// Too many requests from one address (429).
    #[error("{0}")]
    TooManyRequests(String),
    /// The store refused the upload; the sentence comes from its error code.
    #[error("{0}")]
    StoreRefused(String),
    /// The store refused the upload because its policy had expired; signing
    /// again fixes it.
    #[error("{0}")]
    PolicyExpired(String),
    /// The store could not be reached or failed (502).
    #[error("{0}")]
    StoreUnavailable(String),
    /// The store has no room for the file (507).
    #[error("{0}")]
    StorageFull(String),
    /// The browser could not reach Courier or the store.
    #[error("{0}")]
    Network(String),
    /// Something went wrong on our side (500).
    #[error("{0}")]
    Internal(String),
}

impl CourierError {
    /// The HTTP status this refusal is answered with.
    pub fn status_code(&self) -> u16 {
        match self {
            Self::BadRequest(_) => 400,
            Self::Forbidden(_) => 403,
            Self::NotFound(_) => 404,
            Self::TooLarge(_) => 413,
            Self::TooManyRequests(_) => 429,
            Self::StoreRefused(_) | Self::PolicyExpired(_) | Self::StoreUnavailable(_) | Self::Network(_) => 502,
            Self::Internal(_) => 500,
            Self::StorageFull(_) => 507,
        }
    }

    /// Whether the fault is on Courier's side or its storage's (5xx), so a
    /// report needs the request's id to be traced to the log.
    pub fn is_server_fault(&self) -> bool {
        self.status_code() >= 500
    }

    /// The same refusal, its sentence followed by `(request <id>)`.
    pub fn with_request_id(mut self, id: &str) -> Self {
        self.sentence_mut().push_str(&format!(" (request {id})"));
        self
    }

    pub fn sentence(&self) -> &str {
        the_sentence!(self)
    }

    fn sentence_mut(&mut self) -> &mut String {
        the_sentence!(self)
    }
}

/// Every variant holds its sentence; one pattern reads it, shared or mutable.
macro_rules! the_sentence {
    ($error:expr) => {
        match $error {
            Self::BadRequest(s)
            | Self::Forbidden(s)
            | Self::NotFound(s)
            | Self::TooLarge(s)
            | Self::TooManyRequests(s)
            | Self::StoreRefused(s)
            | Self::PolicyExpired(s)
            | Self::StoreUnavailable(s)
            | Self::StorageFull(s)
            | Self::Network(s)
            | Self::Internal(s) => s,
        }
    };
}
use the_sentence;

impl FromServerFnError for CourierError {
    type Encoder = crate::json::JsonCodec;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        match value {
            ServerFnErrorErr::Request(_) => {
                Self::Network("Courier could not be reached. Check your connection and try again.".to_owned())
            }
            ServerFnErrorErr::Args(detail) => Self::BadRequest(format!("The request could not be read: {detail}.")),
            ServerFnErrorErr::MissingArg(name) => Self::BadRequest(format!("The request is missing `{name}`.")),
            other => Self::Internal(format!(
                "Something went wrong on our side ({other}). Try again in a moment."
            )),
        }
    }
}

impl From<wire::FileRefusal> for CourierError {
    fn from(refusal: wire::FileRefusal) -> Self {
        let sentence = refusal.to_string();
        match refusal {
            wire::FileRefusal::TooLarge { .. } => Self::TooLarge(sentence),
            _ => Self::BadRequest(sentence),
        }
    }
}

#[cfg(feature = "ssr")]
impl From<signer::SignError> for CourierError {
    fn from(error: signer::SignError) -> Self {
        use signer::Refusal;
        let sentence = error.to_string();
        match error.refusal() {
            Refusal::BadRequest => Self::BadRequest(sentence),
            Refusal::Forbidden => Self::Forbidden(sentence),
            Refusal::NotFound => Self::NotFound(sentence),
            Refusal::TooLarge => Self::TooLarge(sentence),
            Refusal::Unavailable => Self::StoreUnavailable(sentence),
            Refusal::Internal => Self::Internal(sentence),
            Refusal::InsufficientStorage => Self::StorageFull(sentence),
        }
    }
}

/// Over the client's daily budget: come back later (429), or never, for a
/// file larger than a whole day's budget (413).
#[cfg(feature = "ssr")]
impl From<signer::upload_budget::OverBudget> for CourierError {
    fn from(over: signer::upload_budget::OverBudget) -> Self {
        use signer::upload_budget::OverBudget;
        let sentence = over.to_string();
        match over {
            OverBudget::LargerThanADay { .. } => Self::TooLarge(sentence),
            OverBudget::Spent { .. } => Self::TooManyRequests(sentence),
        }
    }
}
