//! One POST of a file to the store, through `XMLHttpRequest`: browsers report
//! upload progress for XHR, not for fetch. The request follows the store's 303
//! to `/confirm-upload` like fetch does, and reads the JSON at the end.

use js_sys::Promise;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use web_sys::{File, FormData, ProgressEvent, XmlHttpRequest};

use crate::error::CourierError;
use crate::model::{DownloadLink, UploadGrant};
use crate::store_error::read_upload_answer;

pub struct Transfer {
    request: XmlHttpRequest,
    ended: Promise,
    // Kept alive until the request ends.
    _handlers: Vec<Closure<dyn FnMut()>>,
    _progress: Closure<dyn FnMut(ProgressEvent)>,
    _sent: Closure<dyn FnMut()>,
}

impl Transfer {
    /// Sends the grant's fields, then the file (S3 reads every field first);
    /// `on_progress(loaded, total)` as the bytes go, `on_sent()` once the last is out.
    pub fn start(
        grant: &UploadGrant,
        file: &File,
        on_progress: impl Fn(f64, f64) + 'static,
        on_sent: impl Fn() + 'static,
    ) -> Result<Self, CourierError> {
        let form = FormData::new().map_err(|_| broken("the upload form could not be built"))?;
        for (name, value) in &grant.fields {
            form.append_with_str(name, value)
                .map_err(|_| broken("the upload form could not be built"))?;
        }
        form.append_with_blob_and_filename("file", file, &file.name())
            .map_err(|_| broken("the file could not be attached"))?;

        let request = XmlHttpRequest::new().map_err(|_| broken("the upload could not start"))?;
        request
            .open("POST", &grant.url)
            .map_err(|_| broken("the upload could not start"))?;
        request
            .set_request_header("Accept", "application/json")
            .map_err(|_| broken("the upload could not start"))?;
        let progress = Closure::<dyn FnMut(ProgressEvent)>::new(move |event: ProgressEvent| {
            if event.length_computable() {
                on_progress(event.loaded(), event.total());
            }
        });
        let sent = Closure::<dyn FnMut()>::new(on_sent);
        let upload = request.upload().map_err(|_| broken("the upload could not start"))?;
        upload.set_onprogress(Some(progress.as_ref().unchecked_ref()));
        upload.set_onload(Some(sent.as_ref().unchecked_ref()));

        let mut handlers = Vec::new();
        let ended = Promise::new(&mut |resolve, _reject| {
            for how in ["load", "error", "abort", "timeout"] {
                let resolve = resolve.clone();
                let handler = Closure::<dyn FnMut()>::new(move || {
                    let _ = resolve.call1(&JsValue::NULL, &JsValue::from_str(how));
                });
                let callback = Some(handler.as_ref().unchecked_ref());
                match how {
                    "load" => request.set_onload(callback),
                    "error" => request.set_onerror(callback),
                    "abort" => request.set_onabort(callback),
                    _ => request.set_ontimeout(callback),
                }
                handlers.push(handler);
            }
        });
        request
            .send_with_opt_form_data(Some(&form))
            .map_err(|_| unreachable_store())?;
        Ok(Self {
            request,
            ended,
            _handlers: handlers,
            _progress: progress,
            _sent: sent,
        })
    }

    pub fn request(&self) -> XmlHttpRequest {
        self.request.clone()
    }

    /// Waits for the end: the link, or why there is none.
    pub async fn finish(self, max_bytes: u64) -> Result<DownloadLink, CourierError> {
        let how = wasm_bindgen_futures::JsFuture::from(self.ended.clone())
            .await
            .ok()
            .and_then(|v| v.as_string());
        match how.as_deref() {
            Some("load") => {
                let status = self.request.status().unwrap_or(0);
                let body = self.request.response_text().ok().flatten().unwrap_or_default();
                // Status 0 after a load means the browser refused to let us read it (CORS).
                if status == 0 {
                    return Err(unreachable_store());
                }
                read_upload_answer(status, &body, max_bytes)
            }
            Some("abort") => Err(CourierError::BadRequest("Cancelled.".to_owned())),
            _ => Err(unreachable_store()),
        }
    }
}

fn unreachable_store() -> CourierError {
    CourierError::Network(
        "The upload could not reach the storage server. Check your connection and try again (retrying is safe)."
            .to_owned(),
    )
}

fn broken(what: &str) -> CourierError {
    CourierError::Internal(format!(
        "Something went wrong in the browser: {what}. Reload the page and try again."
    ))
}
