//! End-to-end encryption of one file (FORMAT.md), by the page's
//! `public/seal.js` (`globalThis.courierSeal`, on WebCrypto): a fresh
//! secret, and each part's records sealed from the file's bytes as they are
//! read. Deterministic: a part sealed again (a retry, or a resume after a
//! reload with the kept [`Sealing`]) is the same bytes, so the store's
//! checksum holds and no nonce ever covers two plaintexts.

use wasm_bindgen::prelude::*;
use web_sys::Blob;

use super::super::transfer::broken;
use crate::error::CourierError;
use wire::seal::{record_count, sealed_size};

/// Files over this go in parts when encrypted, whatever the multipart
/// threshold: one POST seals the whole file in memory first.
pub const LARGEST_SEALED_POST: u64 = 64 * 1024 * 1024;

/// What encrypts one file, kept with its upload (and past a reload).
#[derive(Clone, PartialEq, Eq)]
pub struct Sealing {
    /// The file's secret (base64url): the link's key after `#`.
    pub secret: String,
    /// What its keys come from (the secret, and the password's derivation).
    pub ikm: String,
    /// What Courier keeps (FORMAT.md, "The seal").
    pub seal: String,
}

/// The key stays out of any log.
impl std::fmt::Debug for Sealing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sealing").finish_non_exhaustive()
    }
}

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_namespace = courierSeal, js_name = begin, catch)]
    fn begin_js(options: &JsValue) -> Result<js_sys::Promise, JsValue>;

    #[wasm_bindgen(js_namespace = courierSeal, js_name = fromB64u, catch)]
    fn from_b64u(text: &str) -> Result<js_sys::Uint8Array, JsValue>;

    #[wasm_bindgen(js_namespace = courierSeal, js_name = toB64u, catch)]
    fn to_b64u(bytes: &js_sys::Uint8Array) -> Result<String, JsValue>;

    #[wasm_bindgen(js_namespace = courierSeal, js_name = sealRecords, catch)]
    fn seal_records_js(ikm: &str, blob: &Blob, first: f64, total: f64) -> Result<js_sys::Promise, JsValue>;
}

thread_local! {
    /// `/seal.js` on its way (or there): loaded the first time a file is
    /// encrypted, so a page that encrypts nothing never fetches it.
    static LOADING: std::cell::RefCell<Option<js_sys::Promise>> = const { std::cell::RefCell::new(None) };
}

/// Resolves once `globalThis.courierSeal` is there, adding `/seal.js` to the
/// page the first time (a script of the site's own: the page's CSP allows it).
async fn loaded() -> Result<(), CourierError> {
    let global = js_sys::global();
    if js_sys::Reflect::get(&global, &"courierSeal".into()).is_ok_and(|seal| !seal.is_undefined()) {
        return Ok(());
    }
    let loading = LOADING.with(|loading| loading.borrow_mut().get_or_insert_with(add_the_script).clone());
    wasm_bindgen_futures::JsFuture::from(loading)
        .await
        .map(|_| ())
        .map_err(|_| {
            // A later file tries again.
            LOADING.with(|loading| loading.borrow_mut().take());
            broken("the encryption code could not be loaded: check the connection and try again")
        })
}

fn add_the_script() -> js_sys::Promise {
    js_sys::Promise::new(&mut |resolve, reject| {
        let added = (|| {
            let document = web_sys::window()?.document()?;
            let script = document.create_element("script").ok()?;
            script.set_attribute("src", "/seal.js").ok()?;
            js_sys::Reflect::set(&script, &"onload".into(), &resolve).ok()?;
            js_sys::Reflect::set(&script, &"onerror".into(), &reject).ok()?;
            let body = document.body()?;
            let append: js_sys::Function = js_sys::Reflect::get(&body, &"appendChild".into())
                .ok()?
                .dyn_into()
                .ok()?;
            append.call1(&body, &script).ok()
        })();
        if added.is_none() {
            let _ = reject.call0(&JsValue::NULL);
        }
    })
}

fn unavailable(_: JsValue) -> CourierError {
    broken("the file could not be encrypted (this browser lacks what it takes)")
}

/// A new secret for a file of `size` bytes, named `name` of type
/// `content_type` (which only the sealed metadata holds), with `password`
/// mixed into its keys if one is given.
pub async fn begin(name: &str, content_type: &str, size: u64, password: Option<&str>) -> Result<Sealing, CourierError> {
    loaded().await?;
    let options = js_sys::Object::new();
    let set = |key: &str, value: JsValue| js_sys::Reflect::set(&options, &key.into(), &value).map_err(unavailable);
    set("name", name.into())?;
    set("type", content_type.into())?;
    set("size", (size as f64).into())?;
    set("password", password.map_or(JsValue::NULL, JsValue::from))?;
    let begun = wasm_bindgen_futures::JsFuture::from(begin_js(&options).map_err(unavailable)?)
        .await
        .map_err(unavailable)?;
    let field = |key: &str| {
        js_sys::Reflect::get(&begun, &key.into())
            .ok()
            .and_then(|value| value.as_string())
            .ok_or_else(|| broken("the file's key could not be made"))
    };
    Ok(Sealing {
        secret: field("secret")?,
        ikm: field("ikm")?,
        seal: field("seal")?,
    })
}

impl Sealing {
    /// The records of `blob`, the file's plaintext from record `first` on,
    /// in a file of `size` bytes.
    pub async fn seal(&self, blob: &Blob, first: u64, size: u64) -> Result<Blob, CourierError> {
        loaded().await?;
        let sealing = seal_records_js(&self.ikm, blob, first as f64, record_count(size) as f64).map_err(unavailable)?;
        let sealed = wasm_bindgen_futures::JsFuture::from(sealing)
            .await
            .map_err(|_| broken("the file could not be read or encrypted"))?;
        sealed
            .dyn_into::<Blob>()
            .map_err(|_| broken("the file could not be encrypted"))
    }
}

/// One link's key for the files of several, in order: their secrets one
/// after the other (FORMAT.md, "The secret and the link").
pub async fn joined_key(keys: &[String]) -> Result<String, CourierError> {
    loaded().await?;
    let mut secrets = Vec::new();
    for key in keys {
        secrets.extend(from_b64u(key).map_err(unavailable)?.to_vec());
    }
    to_b64u(&js_sys::Uint8Array::from(secrets.as_slice())).map_err(unavailable)
}

/// The object's size for a file of `size` bytes.
pub fn object_size(size: u64) -> u64 {
    sealed_size(size)
}
