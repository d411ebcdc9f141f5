//! The server functions the page calls. Their bodies run on the server only;
//! the browser gets a stub that POSTs form-encoded arguments to `/api/<name>`
//! and reads the JSON answer with [`crate::json`] (the browser's own parser,
//! not `serde_json`).

use leptos::prelude::*;

use crate::error::CourierError;
use crate::json::JsonCodec;
use crate::model::{DownloadLink, FormGrant, UploadGrant};

/// JSON in the response body, as `Json` writes it; read without `serde_json`.
type JsonOut = leptos::server_fn::codec::Post<JsonCodec>;

/// Signs a POST policy for one file: `filename`, `content_type` and `size`
/// as the browser reports them.
#[server(endpoint = "sign_upload", output = JsonOut)]
pub async fn sign_upload(filename: String, content_type: String, size: u64) -> Result<UploadGrant, CourierError> {
    let signer = signer()?;
    let request = signer::UploadRequest {
        filename,
        content_type,
        size,
    };
    logged(signer.grant_upload(request, signer::OffsetDateTime::now_utc()).await)
}

/// A fresh download link for a file uploaded earlier, for the holder of its token.
#[server(endpoint = "sign_download", output = JsonOut)]
pub async fn sign_download(key: String, token: String) -> Result<DownloadLink, CourierError> {
    let signer = signer()?;
    logged(signer.renew(&key, &token, signer::OffsetDateTime::now_utc()).await)
}

/// The page's form: the policy the plain HTML form carries (any file name
/// under a per-page prefix) and the settings every upload from the page shares.
#[server(endpoint = "sign_upload_form", output = JsonOut)]
pub async fn sign_upload_form() -> Result<FormGrant, CourierError> {
    let signer = signer()?;
    let grant = logged(signer.grant_form(signer::OffsetDateTime::now_utc()).await)?;
    Ok(FormGrant {
        grant,
        settings: signer.page_settings(),
    })
}

#[cfg(feature = "ssr")]
fn signer() -> Result<signer::Signer, CourierError> {
    use_context::<signer::Signer>()
        .ok_or_else(|| CourierError::Internal("Courier is not configured to sign uploads.".to_owned()))
}

/// Logs refusals. Their HTTP status comes from the error itself (the
/// server's `api_status` layer), so argument errors get theirs too.
#[cfg(feature = "ssr")]
fn logged<T>(result: Result<T, signer::SignError>) -> Result<T, CourierError> {
    result.map_err(|error| {
        let error = CourierError::from(error);
        tracing::info!(error = %error, status = error.status_code(), "refused");
        error
    })
}
