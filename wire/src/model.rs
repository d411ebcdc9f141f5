//! What travels between the server and the browser.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::file_rules::FileRules;

/// Permission to POST one file straight to the store: the store's URL and
/// every form field to send before the file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UploadGrant {
    /// Where the browser POSTs the multipart form (the bucket's URL).
    pub url: String,
    /// Every form field, to be sent in any order before the `file` part.
    pub fields: BTreeMap<String, String>,
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
}

/// The page's upload form: the plain form's grant (a per-page prefix, for
/// the no-JavaScript path) and the settings the hydrated page uploads with.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FormGrant {
    pub grant: UploadGrant,
    pub settings: PageSettings,
}

/// A signed, expiring link to one uploaded file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DownloadLink {
    pub key: String,
    /// The file's original name, as the person chose it.
    pub filename: String,
    pub size: u64,
    /// The object's ETag, without quotes.
    pub etag: String,
    pub download_url: String,
    /// When `download_url` stops working (RFC 3339, UTC).
    pub expires_at: String,
    /// A token for `sign_download`, to get a fresh link later.
    pub token: String,
}
