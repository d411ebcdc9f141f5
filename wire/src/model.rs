//! What travels between the server and the browser.

use serde::{Deserialize, Serialize};

use crate::file_rules::FileRules;
use crate::form_fields::FormFields;

/// Permission to POST one file straight to the store: the store's URL and
/// every form field to send before the file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UploadGrant {
    /// Where the browser POSTs the multipart form (the bucket's URL).
    pub url: String,
    /// Every form field, to be sent in any order before the `file` part.
    pub fields: FormFields,
    /// The object key the store will write (for the plain form it still
    /// holds S3's `${filename}` variable).
    pub key: String,
    /// When the policy stops being accepted (RFC 3339, UTC).
    pub expires_at: String,
}

/// What every upload from one page shares, sent once with the page.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PageSettings {
    /// What a file must be (the browser checks before it asks for a grant).
    pub rules: FileRules,
    /// How many uploads the page runs at once.
    pub parallel_uploads: u32,
    /// The link a new upload gets unless the person picks the other.
    pub default_link: LinkKind,
    /// Whether public links may be chosen at all.
    pub public_links: bool,
    /// Files at least this large go up in parts (S3 multipart), the rest in one POST.
    pub multipart_threshold: u64,
    /// How many parts of one file go up at once.
    pub parallel_parts: u32,
    /// Whether each part goes with its MD5 (the store checks it).
    pub part_checksums: bool,
    /// Whether files may, must or cannot be encrypted in the browser.
    #[serde(default)]
    pub encryption: crate::seal::Encryption,
    /// On a file request's page (`/r/<id>`): the request every upload from
    /// the page goes to, and what it still takes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request: Option<crate::request::RequestPage>,
}

/// The page's upload form: the plain form's grant (a per-page prefix, for
/// the no-JavaScript path) and the settings the hydrated page uploads with.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FormGrant {
    pub grant: UploadGrant,
    /// The link the plain form's policy uploads for.
    pub link: LinkKind,
    pub settings: PageSettings,
}

/// A signed, expiring link to one uploaded file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DownloadLink {
    pub key: String,
    /// The file's original name, as the person chose it.
    pub filename: String,
    pub size: u64,
    /// The type the file was stored with; empty in links remembered before
    /// shares existed.
    #[serde(default)]
    pub content_type: String,
    /// The object's ETag, without quotes.
    pub etag: String,
    pub download_url: String,
    /// When `download_url` stops working (RFC 3339, UTC); `None` for a
    /// public link, which works until the file is deleted.
    pub expires_at: Option<String>,
    /// Whether `download_url` is signed and expiring, or public.
    #[serde(default)]
    pub link: LinkKind,
    /// The owner's token: `sign_download` signs a fresh link with it, and
    /// `delete_upload` deletes the file. Empty, and absent from the JSON,
    /// when this answer does not hand it out: a confirmation replayed after
    /// the file was first confirmed gets the link only (the upload token
    /// travels in a URL that browser history keeps). Read it with
    /// [`DownloadLink::owner_token`].
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub token: String,
    /// The link to hand out: the file's share at `/s/<id>`, whose rules the
    /// sender controls. `None` for a public link, and where the share could
    /// not be made (the download URL still works).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub share: Option<crate::share::ShareLink>,
    /// A file encrypted in the browser: its seal (FORMAT.md). Its
    /// `filename` and `content_type` are then Courier's placeholders, and
    /// `download_url` gives the ciphertext.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seal: Option<String>,
}

impl DownloadLink {
    /// The owner's token, when this link came with it.
    pub fn owner_token(&self) -> Option<&str> {
        (!self.token.is_empty()).then_some(self.token.as_str())
    }
}

/// Who may read an uploaded file through its link.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LinkKind {
    /// A signed link that expires; the file itself stays private.
    #[default]
    Expiring,
    /// The file's plain URL under the public prefix: anyone with it can
    /// download the file, until it is deleted.
    Public,
}

impl LinkKind {
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Expiring => "expiring",
            Self::Public => "public",
        }
    }

    /// `expiring` or `public`, as the wire, the page's query and settings spell it.
    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "expiring" => Some(Self::Expiring),
            "public" => Some(Self::Public),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn link(token: &str) -> DownloadLink {
        DownloadLink {
            key: "files/0123456789abcdef0123456789abcdef/a.txt".to_owned(),
            filename: "a.txt".to_owned(),
            size: 1,
            content_type: "text/plain".to_owned(),
            etag: "abc".to_owned(),
            download_url: "http://127.0.0.1:9000/courier/files/a.txt".to_owned(),
            expires_at: None,
            link: LinkKind::Expiring,
            token: token.to_owned(),
            share: None,
            seal: None,
        }
    }

    #[test]
    fn a_link_without_its_owner_token_has_no_token_field() {
        let json = serde_json::to_value(link("")).expect("serialises");
        assert!(json.get("token").is_none(), "{json}");
        let back: DownloadLink = serde_json::from_value(json).expect("deserialises");
        assert_eq!(back.owner_token(), None);

        let owned = serde_json::to_value(link("r.1.abc")).expect("serialises");
        assert_eq!(owned["token"], "r.1.abc");
        let back: DownloadLink = serde_json::from_value(owned).expect("deserialises");
        assert_eq!(back.owner_token(), Some("r.1.abc"));
    }
}
