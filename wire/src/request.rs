//! File requests: a link (`/r/<id>`) its maker hands to someone without
//! upload access, who uploads into a share of the maker's through it, within
//! a file count, a size and an expiry. The maker sees the files arrive
//! (`request_status`) and can close it.

use serde::{Deserialize, Serialize};

use crate::share::ShareLink;

/// What a request allows, as its maker asks for it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestRules {
    /// Files that may be sent, at least 1.
    pub max_files: u32,
    /// Bytes in all, at least 1.
    pub max_bytes: u64,
    /// Hours from now until the request link stops taking files, at least 1.
    pub expires_in_hours: u32,
}

/// A request and its maker's token, as the controls name one.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestRef {
    pub id: String,
    pub token: String,
}

/// Whether a request takes files, and if not, why.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RequestState {
    #[default]
    Open,
    Closed,
    Expired,
    /// Every file it asked for has arrived or is on its way.
    Full,
}

impl RequestState {
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Open => "open",
            Self::Closed => "closed",
            Self::Expired => "expired",
            Self::Full => "full",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        [Self::Open, Self::Closed, Self::Expired, Self::Full]
            .into_iter()
            .find(|state| state.as_str() == raw)
    }

    /// What the maker's card says of it.
    pub const fn sentence(self) -> &'static str {
        match self {
            Self::Open => "Open: files can be sent with this link.",
            Self::Closed => "Closed: the link takes no more files.",
            Self::Expired => "Expired: the link takes no more files.",
            Self::Full => "Every file asked for has been sent.",
        }
    }
}

/// One file that arrived.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReceivedFile {
    pub filename: String,
    pub size: u64,
    /// RFC 3339, UTC.
    pub received_at: String,
}

/// A request as its maker sees it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestLink {
    /// 22 characters of URL-safe base64 (128 random bits).
    pub id: String,
    /// The link to hand out: Courier's `/r/<id>`.
    pub url: String,
    pub state: RequestState,
    /// When the link stops taking files (RFC 3339, UTC).
    pub expires_at: String,
    pub max_files: u32,
    pub max_bytes: u64,
    pub files_received: u32,
    pub bytes_received: u64,
    /// Uploads under way (granted, not yet arrived).
    pub files_arriving: u32,
    pub received: Vec<ReceivedFile>,
    /// The share the files went into, with its sender's token (the maker's):
    /// `None` until the first file arrives.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub share: Option<ShareLink>,
    /// The maker's token: it reads and closes the request.
    pub token: String,
}

impl RequestLink {
    pub fn reference(&self) -> RequestRef {
        RequestRef {
            id: self.id.clone(),
            token: self.token.clone(),
        }
    }
}

/// What the page of a request's link says of it, sent with its form.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestPage {
    pub id: String,
    pub files_left: u32,
    pub bytes_left: u64,
    /// RFC 3339, UTC.
    pub expires_at: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_are_written_as_words() {
        let json = serde_json::to_value(RequestState::Full).expect("serialises");
        assert_eq!(json, "full");
        let back: RequestState = serde_json::from_value(json).expect("reads");
        assert_eq!(back, RequestState::Full);
        for state in [
            RequestState::Open,
            RequestState::Closed,
            RequestState::Expired,
            RequestState::Full,
        ] {
            assert_eq!(RequestState::parse(state.as_str()), Some(state));
            assert_eq!(serde_json::to_value(state).expect("serialises"), state.as_str());
        }
    }
}
