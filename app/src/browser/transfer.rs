//! Bytes to the store through `XMLHttpRequest`: browsers report upload
//! progress for XHR, not for fetch. [`Xhr`] carries a whole file's POST with
//! its form (following the store's 303 to `/confirm-upload` like fetch
//! does), each part of a large file as a PUT, and the page's calls to
//! Courier.

use std::cell::Cell;

use js_sys::Promise;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use web_sys::{Blob, FormData, ProgressEvent, XmlHttpRequest};

use crate::error::CourierError;

/// How often a card's progress is drawn again: often enough to look alive,
/// seldom enough that drawing costs the page little of the CPU the bytes
/// need (the browser reports each request's progress every 50 ms or so).
const PROGRESS_EVERY_MS: f64 = 250.0;

/// Says when progress is due to be shown again.
pub struct ProgressPace(Cell<f64>);

impl ProgressPace {
    pub fn new() -> Self {
        Self(Cell::new(f64::NEG_INFINITY))
    }

    /// Whether enough time has passed since the last time it said yes.
    pub fn due(&self) -> bool {
        let now = js_sys::Date::now();
        let due = now - self.0.get() >= PROGRESS_EVERY_MS;
        if due {
            self.0.set(now);
        }
        due
    }
}

/// One request in flight, with its progress reported as the bytes go.
pub struct Xhr {
    request: XmlHttpRequest,
    ended: Promise,
    // Kept alive until the request ends.
    _handlers: Vec<Closure<dyn FnMut()>>,
    _progress: Closure<dyn FnMut(ProgressEvent)>,
    _sent: Closure<dyn FnMut()>,
}

/// What a request sends.
pub enum Body<'a> {
    Form(&'a FormData),
    Blob(&'a Blob),
    Text(&'a str),
}

/// How a request ended.
pub enum Ended {
    /// An answer the page may read (status 0: one the browser hid, CORS).
    Answered {
        status: u16,
        body: String,
    },
    /// No answer: the network, or nobody there.
    NoAnswer,
    Aborted,
}

impl Xhr {
    /// Sends `body` with `headers`; `on_progress(loaded, total)` as the
    /// bytes go, `on_sent()` once the last is out.
    pub fn send(
        method: &str,
        url: &str,
        headers: &[(&str, &str)],
        body: Body<'_>,
        on_progress: impl Fn(f64, f64) + 'static,
        on_sent: impl Fn() + 'static,
    ) -> Result<Self, CourierError> {
        // One body for every caller's closures: the bundle keeps one copy.
        Self::send_boxed(method, url, headers, body, Box::new(on_progress), Box::new(on_sent))
    }

    fn send_boxed(
        method: &str,
        url: &str,
        headers: &[(&str, &str)],
        body: Body<'_>,
        on_progress: Box<dyn Fn(f64, f64)>,
        on_sent: Box<dyn Fn()>,
    ) -> Result<Self, CourierError> {
        let request = XmlHttpRequest::new().map_err(|_| broken("the upload could not start"))?;
        request
            .open(method, url)
            .map_err(|_| broken("the upload could not start"))?;
        for (name, value) in headers {
            request
                .set_request_header(name, value)
                .map_err(|_| broken("the upload could not start"))?;
        }
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
        let started = match body {
            Body::Form(form) => request.send_with_opt_form_data(Some(form)),
            Body::Blob(blob) => request.send_with_opt_blob(Some(blob)),
            Body::Text(text) => request.send_with_opt_str(Some(text)),
        };
        started.map_err(|_| unreachable_store())?;
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

    /// Waits for the end.
    pub async fn ended(self) -> Ended {
        let how = wasm_bindgen_futures::JsFuture::from(self.ended.clone())
            .await
            .ok()
            .and_then(|v| v.as_string());
        match how.as_deref() {
            Some("load") => Ended::Answered {
                status: self.request.status().unwrap_or(0),
                body: self.request.response_text().ok().flatten().unwrap_or_default(),
            },
            Some("abort") => Ended::Aborted,
            _ => Ended::NoAnswer,
        }
    }
}

pub fn unreachable_store() -> CourierError {
    CourierError::Network(
        "The upload could not reach the storage server. Check your connection and try again (retrying is safe)."
            .to_owned(),
    )
}

pub fn broken(what: &str) -> CourierError {
    CourierError::Internal(format!(
        "Something went wrong in the browser: {what}. Reload the page and try again."
    ))
}
