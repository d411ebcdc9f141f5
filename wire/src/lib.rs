//! What Courier's server and browser agree on, compiled for both: the upload
//! grant and the download link on the wire, the server functions' contract,
//! the rules a file must meet, and sizes as people read them. Nothing here
//! needs a secret.

pub mod endpoint;
pub mod file_rules;
pub mod form_fields;
pub mod model;
pub mod multipart;
pub mod request;
pub mod seal;
pub mod share;
pub mod size;

pub use file_rules::{FileRefusal, FileRules};
pub use form_fields::FormFields;
pub use model::{DownloadLink, FormGrant, LinkKind, PageSettings, UploadGrant};
pub use multipart::{MultipartGrant, MultipartUpload, PartToSign, PartUrl, StoredPart};
pub use request::{RequestLink, RequestPage, RequestRef, RequestRules, RequestState};
pub use share::{RuleChange, ShareLink, ShareRef, ShareState, SharedFileStatus};
