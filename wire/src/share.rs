//! A share as its sender sees it: the link to hand out, its rules, and how
//! far it has been used. The same answer comes with a confirmed upload (its
//! new share) and from the sender's controls (`update_share`,
//! `revoke_share`, `share_status`).

use serde::{Deserialize, Serialize};

/// One link for one or more files, with the rules the sender chose.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShareLink {
    /// 22 characters of URL-safe base64 (128 random bits).
    pub id: String,
    /// The link to hand out: Courier's `/s/<id>`, never the store's.
    pub url: String,
    pub state: ShareState,
    /// When the link stops working (RFC 3339, UTC); `None`: never.
    pub expires_at: Option<String>,
    /// Downloads allowed for each file; `None`: unlimited.
    pub max_downloads: Option<u32>,
    /// Whether the link asks for a password.
    pub password: bool,
    /// Whether its files were encrypted in the browser: the link then works
    /// only with their keys after `#`, which Courier never has.
    #[serde(default)]
    pub encrypted: bool,
    /// Each file with its downloads so far.
    pub files: Vec<SharedFileStatus>,
    /// The sender's token: it changes the rules and takes the link back.
    /// Empty, and absent from the JSON, when this answer does not hand it
    /// out (as with a file's owner token).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub token: String,
}

impl ShareLink {
    /// The sender's token, when this answer came with it.
    pub fn owner_token(&self) -> Option<&str> {
        (!self.token.is_empty()).then_some(self.token.as_str())
    }

    /// Downloads left for each file, the least of them; `None`: unlimited.
    pub fn downloads_left(&self) -> Option<u32> {
        let max = self.max_downloads?;
        let most_used = self.files.iter().map(|file| file.downloads).max().unwrap_or(0);
        Some(max.saturating_sub(most_used))
    }
}

/// One of a share's files, as its sender sees it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SharedFileStatus {
    pub filename: String,
    pub size: u64,
    pub downloads: u32,
}

/// Whether a share's link still works, and if not, why.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ShareState {
    #[default]
    Live,
    Expired,
    Revoked,
    LimitReached,
}

impl ShareState {
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Live => "live",
            Self::Expired => "expired",
            Self::Revoked => "revoked",
            Self::LimitReached => "limit_reached",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        [Self::Live, Self::Expired, Self::Revoked, Self::LimitReached]
            .into_iter()
            .find(|state| state.as_str() == raw)
    }

    /// What the link's page says when it no longer works.
    pub const fn sentence(self) -> &'static str {
        match self {
            Self::Live => "This link works.",
            Self::Expired => "This link has expired, and its files were deleted.",
            Self::Revoked => "The sender took this link back, and its files were deleted.",
            Self::LimitReached => "This link's download limit was reached, and its files were deleted.",
        }
    }
}

/// A share and its sender's token, as the controls name one.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShareRef {
    pub id: String,
    pub token: String,
}

/// How the sender changes a share's rules; each `None` keeps the rule.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleChange {
    /// Hours from now until the link stops working; `Some(0)`: never.
    pub expires_in_hours: Option<u32>,
    /// Downloads allowed for each file; `Some(0)`: unlimited.
    pub max_downloads: Option<u32>,
    /// A new password (an empty one keeps the password as it is).
    pub password: Option<String>,
    /// Removes the password (a new one given with it wins). Always sent,
    /// so a change of nothing still names its fields.
    #[serde(default)]
    pub remove_password: bool,
}

impl RuleChange {
    /// Whether it gives the share a new password.
    pub fn sets_password(&self) -> bool {
        self.password.as_ref().is_some_and(|password| !password.is_empty())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_read_back_as_written() {
        for state in [
            ShareState::Live,
            ShareState::Expired,
            ShareState::Revoked,
            ShareState::LimitReached,
        ] {
            assert_eq!(ShareState::parse(state.as_str()), Some(state));
            let json = serde_json::to_value(state).expect("serialises");
            assert_eq!(json, state.as_str());
        }
        assert_eq!(ShareState::parse("gone"), None);
    }

    #[test]
    fn downloads_left_is_the_least_of_the_files() {
        let file = |downloads| SharedFileStatus {
            filename: "a".to_owned(),
            size: 1,
            downloads,
        };
        let mut share = ShareLink {
            id: "AAAAAAAAAAAAAAAAAAAAAA".to_owned(),
            url: "http://127.0.0.1:3000/s/AAAAAAAAAAAAAAAAAAAAAA".to_owned(),
            state: ShareState::Live,
            expires_at: None,
            max_downloads: Some(3),
            password: false,
            encrypted: false,
            files: vec![file(1), file(2)],
            token: String::new(),
        };
        assert_eq!(share.downloads_left(), Some(1));
        share.max_downloads = None;
        assert_eq!(share.downloads_left(), None);
        let json = serde_json::to_value(&share).expect("serialises");
        assert!(json.get("token").is_none(), "{json}");
    }
}
