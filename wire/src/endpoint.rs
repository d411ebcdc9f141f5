//! The server functions' contract: each endpoint's name and path, and its
//! arguments as the server reads them (a form-encoded POST body, nested
//! names such as `upload[key]` and `parts[0][number]`), with the type of
//! its answer. The page's client, the test client and the server's metrics
//! all name endpoints through here; `app::api` declares the functions under
//! the same names, and its tests decode every [`Call`] with the server
//! functions' own codec, so the two cannot drift apart.

use std::marker::PhantomData;

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

use crate::model::{DownloadLink, FormGrant, LinkKind, UploadGrant};
use crate::multipart::{MultipartGrant, MultipartUpload, PartToSign, PartUrl, StoredPart};
use crate::request::{RequestLink, RequestRef, RequestRules};
use crate::share::{RuleChange, ShareLink, ShareRef};

/// Where the server functions are mounted.
pub const PREFIX: &str = "/api";

/// Declares [`Endpoint`] from one list of variants and names: each path is
/// [`PREFIX`], a slash and the name, written once.
macro_rules! endpoints {
    ($($variant:ident => $name:literal),* $(,)?) => {
        /// Every server function the page calls.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum Endpoint {
            $($variant),*
        }

        impl Endpoint {
            pub const ALL: [Self; [$(Self::$variant),*].len()] = [$(Self::$variant),*];

            /// The name the server function is declared with (`endpoint = "…"`).
            pub const fn name(self) -> &'static str {
                match self {
                    $(Self::$variant => $name),*
                }
            }

            /// Its path: [`PREFIX`], a slash and its name.
            pub const fn path(self) -> &'static str {
                match self {
                    $(Self::$variant => concat!("/api/", $name)),*
                }
            }
        }
    };
}

endpoints! {
    SignUpload => "sign_upload",
    SignDownload => "sign_download",
    DeleteUpload => "delete_upload",
    SignUploadForm => "sign_upload_form",
    StartMultipart => "start_multipart",
    SignParts => "sign_parts",
    ListParts => "list_parts",
    CompleteMultipart => "complete_multipart",
    AbortMultipart => "abort_multipart",
    UpdateShare => "update_share",
    RevokeShare => "revoke_share",
    ShareStatus => "share_status",
    CombineShares => "combine_shares",
    CreateRequest => "create_request",
    RequestStatus => "request_status",
    CloseRequest => "close_request",
}

impl Endpoint {
    /// The endpoint served at `path`, if any.
    pub fn of_path(path: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|endpoint| endpoint.path() == path)
    }
}

/// One call of a server function: where it goes, its arguments, and (as a
/// type) what it answers with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Call<Answer> {
    pub endpoint: Endpoint,
    /// The arguments as `(name, value)` pairs, in the order they are sent.
    pub fields: Vec<(String, String)>,
    answer: PhantomData<fn() -> Answer>,
}

/// The media type of [`Call::body`].
pub const FORM_CONTENT_TYPE: &str = "application/x-www-form-urlencoded";

/// Everything but letters, digits and `-_.~` is percent-encoded, as
/// `encodeURIComponent` and the server's form decoder agree on.
const FORM_VALUE: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.').remove(b'~');

impl<Answer> Call<Answer> {
    fn new(endpoint: Endpoint) -> Self {
        Self {
            endpoint,
            fields: Vec::new(),
            answer: PhantomData,
        }
    }

    fn field(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.fields.push((name.into(), value.into()));
        self
    }

    pub fn path(&self) -> &'static str {
        self.endpoint.path()
    }

    /// The arguments as a form-encoded body ([`FORM_CONTENT_TYPE`]).
    pub fn body(&self) -> String {
        let mut body = String::new();
        for (name, value) in &self.fields {
            if !body.is_empty() {
                body.push('&');
            }
            body.extend(utf8_percent_encode(name, FORM_VALUE));
            body.push('=');
            body.extend(utf8_percent_encode(value, FORM_VALUE));
        }
        body
    }

    /// A file as `sign_upload` and `start_multipart` read it; without
    /// `link`, the page's default.
    fn file(self, filename: &str, content_type: &str, size: u64, link: Option<LinkKind>) -> Self {
        let call = self
            .field("filename", filename)
            .field("content_type", content_type)
            .field("size", size.to_string());
        match link {
            Some(link) => call.field("link", link.as_str()),
            None => call,
        }
    }

    /// An upload as the multipart calls read it: `upload[key]=…` and so on.
    fn upload(self, upload: &MultipartUpload) -> Self {
        self.field("upload[key]", &upload.key)
            .field("upload[upload_id]", &upload.upload_id)
            .field("upload[size]", upload.size.to_string())
            .field("upload[part_size]", upload.part_size.to_string())
            .field("upload[token]", &upload.token)
    }

    /// Rules as the share calls read them, under `name`: `change[max_downloads]=…`.
    fn rules(self, name: &str, change: &RuleChange) -> Self {
        let remove = if change.remove_password { "true" } else { "false" };
        let mut call = self.field(format!("{name}[remove_password]"), remove);
        if let Some(hours) = change.expires_in_hours {
            call = call.field(format!("{name}[expires_in_hours]"), hours.to_string());
        }
        if let Some(max) = change.max_downloads {
            call = call.field(format!("{name}[max_downloads]"), max.to_string());
        }
        if let Some(password) = change.password.as_ref().filter(|password| !password.is_empty()) {
            call = call.field(format!("{name}[password]"), password);
        }
        call
    }

    /// A share as the share calls read it: `share[id]=…&share[token]=…`.
    fn share(self, share: &ShareRef) -> Self {
        self.field("share[id]", &share.id).field("share[token]", &share.token)
    }
}

impl<Answer> Call<Answer> {
    /// A call made from a file request's page: the upload is for request
    /// `id` (None: the page's own access).
    pub fn for_request(self, id: Option<&str>) -> Self {
        match id {
            Some(id) => self.field("request", id),
            None => self,
        }
    }

    /// A request as the request calls read it: `request[id]=…&request[token]=…`.
    fn request(self, request: &RequestRef) -> Self {
        self.field("request[id]", &request.id)
            .field("request[token]", &request.token)
    }
}

impl Call<UploadGrant> {
    /// For a file encrypted in the browser: its seal (FORMAT.md); `size` is
    /// then the object's, and the server names and types it itself.
    pub fn sealed(self, seal: &str) -> Self {
        self.field("seal", seal)
    }
}

impl Call<MultipartGrant> {
    /// As [`Call::<UploadGrant>::sealed`], for a multipart upload.
    pub fn sealed(self, seal: &str) -> Self {
        self.field("seal", seal)
    }
}

/// A POST policy for one file.
pub fn sign_upload(filename: &str, content_type: &str, size: u64, link: Option<LinkKind>) -> Call<UploadGrant> {
    Call::new(Endpoint::SignUpload).file(filename, content_type, size, link)
}

/// A fresh download link, for the holder of the file's token.
pub fn sign_download(key: &str, token: &str) -> Call<DownloadLink> {
    Call::new(Endpoint::SignDownload)
        .field("key", key)
        .field("token", token)
}

/// Deletes a file, for the holder of its token.
pub fn delete_upload(key: &str, token: &str) -> Call<()> {
    Call::new(Endpoint::DeleteUpload)
        .field("key", key)
        .field("token", token)
}

/// The page's plain form, for `link` or the page's default.
pub fn sign_upload_form(link: Option<LinkKind>) -> Call<FormGrant> {
    let call = Call::new(Endpoint::SignUploadForm);
    match link {
        Some(link) => call.field("link", link.as_str()),
        None => call,
    }
}

/// Starts a multipart upload for one large file.
pub fn start_multipart(filename: &str, content_type: &str, size: u64, link: Option<LinkKind>) -> Call<MultipartGrant> {
    Call::new(Endpoint::StartMultipart).file(filename, content_type, size, link)
}

/// Presigned PUTs for some of an upload's parts.
pub fn sign_parts(upload: &MultipartUpload, parts: &[PartToSign]) -> Call<Vec<PartUrl>> {
    let mut call = Call::new(Endpoint::SignParts).upload(upload);
    for (i, part) in parts.iter().enumerate() {
        call = call.field(format!("parts[{i}][number]"), part.number.to_string());
        if let Some(sha256) = &part.sha256 {
            call = call.field(format!("parts[{i}][sha256]"), sha256);
        }
    }
    call
}

/// The parts the store already holds.
pub fn list_parts(upload: &MultipartUpload) -> Call<Vec<StoredPart>> {
    Call::new(Endpoint::ListParts).upload(upload)
}

/// Completes an upload whose parts are all stored.
pub fn complete_multipart(upload: &MultipartUpload) -> Call<DownloadLink> {
    Call::new(Endpoint::CompleteMultipart).upload(upload)
}

/// Cancels an upload.
pub fn abort_multipart(upload: &MultipartUpload) -> Call<()> {
    Call::new(Endpoint::AbortMultipart).upload(upload)
}

/// Changes a share's rules, for the holder of its token.
pub fn update_share(share: &ShareRef, change: &RuleChange) -> Call<ShareLink> {
    Call::new(Endpoint::UpdateShare).share(share).rules("change", change)
}

/// Takes a share's link back now (its files are deleted), for the holder of its token.
pub fn revoke_share(share: &ShareRef) -> Call<ShareLink> {
    Call::new(Endpoint::RevokeShare).share(share)
}

/// One share for the files of several (a drop of files sent together), with
/// `rules` (what a `None` leaves is a new upload's default); the shares
/// given stop existing. For the holder of each one's token.
pub fn combine_shares(shares: &[ShareRef], rules: &RuleChange) -> Call<ShareLink> {
    let mut call = Call::new(Endpoint::CombineShares).rules("rules", rules);
    for (i, share) in shares.iter().enumerate() {
        call = call
            .field(format!("shares[{i}][id]"), &share.id)
            .field(format!("shares[{i}][token]"), &share.token);
    }
    call
}

/// Where each of the sender's shares stands (their recent uploads).
pub fn share_status(shares: &[ShareRef]) -> Call<Vec<ShareLink>> {
    let mut call = Call::new(Endpoint::ShareStatus);
    for (i, share) in shares.iter().enumerate() {
        call = call
            .field(format!("shares[{i}][id]"), &share.id)
            .field(format!("shares[{i}][token]"), &share.token);
    }
    call
}

/// A new file request with `rules`, for whoever may upload.
pub fn create_request(rules: &RequestRules) -> Call<RequestLink> {
    Call::new(Endpoint::CreateRequest)
        .field("rules[max_files]", rules.max_files.to_string())
        .field("rules[max_bytes]", rules.max_bytes.to_string())
        .field("rules[expires_in_hours]", rules.expires_in_hours.to_string())
}

/// Where each of the maker's requests stands: the files that arrived.
pub fn request_status(requests: &[RequestRef]) -> Call<Vec<RequestLink>> {
    let mut call = Call::new(Endpoint::RequestStatus);
    for (i, request) in requests.iter().enumerate() {
        call = call
            .field(format!("requests[{i}][id]"), &request.id)
            .field(format!("requests[{i}][token]"), &request.token);
    }
    call
}

/// Closes a request: its link takes no more files.
pub fn close_request(request: &RequestRef) -> Call<RequestLink> {
    Call::new(Endpoint::CloseRequest).request(request)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_path_is_the_prefix_and_the_name() {
        for endpoint in Endpoint::ALL {
            assert_eq!(endpoint.path(), format!("{PREFIX}/{}", endpoint.name()));
            assert_eq!(Endpoint::of_path(endpoint.path()), Some(endpoint));
        }
        assert_eq!(Endpoint::of_path("/api/no_such_function"), None);
    }

    #[test]
    fn a_body_is_form_encoded() {
        let call = sign_upload("a b&c=d/é.txt", "text/plain", 3, Some(LinkKind::Public));
        assert_eq!(
            call.body(),
            "filename=a%20b%26c%3Dd%2F%C3%A9.txt&content_type=text%2Fplain&size=3&link=public"
        );
        assert_eq!(sign_upload_form(None).body(), "");
    }

    #[test]
    fn parts_are_numbered_in_order() {
        let upload = MultipartUpload {
            key: "k".to_owned(),
            upload_id: "u".to_owned(),
            size: 10,
            part_size: 5,
            token: "t".to_owned(),
        };
        let parts = [
            PartToSign {
                number: 2,
                sha256: Some("x=".to_owned()),
            },
            PartToSign {
                number: 1,
                sha256: None,
            },
        ];
        let names: Vec<_> = sign_parts(&upload, &parts)
            .fields
            .into_iter()
            .map(|(name, _)| name)
            .collect();
        assert_eq!(
            names,
            [
                "upload[key]",
                "upload[upload_id]",
                "upload[size]",
                "upload[part_size]",
                "upload[token]",
                "parts[0][number]",
                "parts[0][sha256]",
                "parts[1][number]"
            ]
        );
    }
}
