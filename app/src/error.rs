//! The errors a person can meet, each a sentence that says what to do.

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
    /// A password is needed, or the one given is wrong (401).
    #[error("{0}")]
    Unauthorized(String),
    /// What the link led to is over: expired, taken back, used up (410).
    #[error("{0}")]
    Gone(String),
    /// Courier's own state (the share database) did not answer; nothing was
    /// lost and retrying is safe (503).
    #[error("{0}")]
    Unavailable(String),
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
            Self::Unauthorized(_) => 401,
            Self::Gone(_) => 410,
            Self::Unavailable(_) => 503,
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

    /// Every wire code (the `code` of the JSON), in the order metrics list them.
    pub const CODES: [&'static str; 14] = [
        "bad_request",
        "forbidden",
        "not_found",
        "too_large",
        "too_many_requests",
        "store_refused",
        "policy_expired",
        "store_unavailable",
        "network",
        "internal",
        "storage_full",
        "unauthorized",
        "gone",
        "unavailable",
    ];

    /// This refusal's wire code, one of [`Self::CODES`].
    pub fn code(&self) -> &'static str {
        // Exhaustive: a new kind of refusal must be given its code here.
        match self {
            Self::BadRequest(_) => "bad_request",
            Self::Forbidden(_) => "forbidden",
            Self::NotFound(_) => "not_found",
            Self::TooLarge(_) => "too_large",
            Self::TooManyRequests(_) => "too_many_requests",
            Self::StoreRefused(_) => "store_refused",
            Self::PolicyExpired(_) => "policy_expired",
            Self::StoreUnavailable(_) => "store_unavailable",
            Self::Network(_) => "network",
            Self::Internal(_) => "internal",
            Self::StorageFull(_) => "storage_full",
            Self::Unauthorized(_) => "unauthorized",
            Self::Gone(_) => "gone",
            Self::Unavailable(_) => "unavailable",
        }
    }

    /// A server-side fault names its request (`request_ref`), so a report
    /// can be traced to the log; a refusal the person can fix themselves
    /// does not need to.
    pub fn traceable(self, request_ref: Option<&str>) -> Self {
        match request_ref {
            Some(id) if self.is_server_fault() && !id.is_empty() => self.with_request_id(id),
            _ => self,
        }
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
            | Self::Internal(s)
            | Self::Unauthorized(s)
            | Self::Gone(s)
            | Self::Unavailable(s) => s,
        }
    };
}
use the_sentence;

/// The request's id (`X-Request-Id`), shortened for a sentence: enough to
/// find the request in the log.
#[cfg(feature = "ssr")]
pub fn request_ref(headers: &http::HeaderMap) -> Option<String> {
    let id = headers.get("x-request-id")?.to_str().ok()?;
    Some(
        id.chars()
            .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
            .take(8)
            .collect(),
    )
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

/// Not allowed to upload: 401 with the sentence of why (403 for another
/// site's request, 503 when the token could not be checked).
#[cfg(feature = "ssr")]
impl From<signer::access::AccessRefusal> for CourierError {
    fn from(refusal: signer::access::AccessRefusal) -> Self {
        match refusal {
            signer::access::AccessRefusal::TokenUnchecked => Self::Unavailable(refusal.to_string()),
            signer::access::AccessRefusal::CrossSite => Self::Forbidden(refusal.to_string()),
            _ => Self::Unauthorized(refusal.to_string()),
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
