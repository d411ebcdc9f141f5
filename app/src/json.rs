//! JSON as both sides read it. The server writes and reads it with
//! `serde_json`; the browser lets its own `JSON.parse` / `JSON.stringify` do
//! the text and only picks the fields out, which keeps `serde_json`'s parser,
//! its per-type deserialisers and float formatting out of the bundle (about
//! 60 KB of wasm). The wire format is the same either way.
//!
//! [`JsonCodec`] is the server functions' encoding (outputs and errors).

use leptos::server_fn::{Bytes, ContentType, Decodes, Encodes, Format, FormatType};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::CourierError;
use crate::model::{DownloadLink, FormGrant, UploadGrant};
use crate::request::{RequestLink, RequestRef};
use crate::share::ShareLink;

/// A value that travels as JSON. Serde on the server; in the browser,
/// [`ReadJson::read`] picks it out of what `JSON.parse` made.
pub trait ReadJson: DeserializeOwned {
    #[cfg(feature = "hydrate")]
    fn read(value: &wasm_bindgen::JsValue) -> Option<Self>;
}

/// The text was not the JSON expected.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("not the JSON expected")]
pub struct UnexpectedJson;

/// Reads `text` as a `T`.
pub fn from_str<T: ReadJson>(text: &str) -> Result<T, UnexpectedJson> {
    #[cfg(feature = "hydrate")]
    {
        let value = js_sys::JSON::parse(text).map_err(|_| UnexpectedJson)?;
        T::read(&value).ok_or(UnexpectedJson)
    }
    #[cfg(not(feature = "hydrate"))]
    {
        serde_json::from_str(text).map_err(|_| UnexpectedJson)
    }
}

/// The server functions' encoding: `application/json`, written by serde on
/// the server, read by [`from_str`] in the browser.
pub struct JsonCodec;

impl ContentType for JsonCodec {
    const CONTENT_TYPE: &'static str = "application/json";
}

impl FormatType for JsonCodec {
    const FORMAT_TYPE: Format = Format::Text;
}

impl<T: Serialize> Encodes<T> for JsonCodec {
    type Error = serde_json::Error;

    fn encode(value: &T) -> Result<Bytes, Self::Error> {
        serde_json::to_vec(value).map(Bytes::from)
    }
}

impl<T: ReadJson> Decodes<T> for JsonCodec {
    type Error = UnexpectedJson;

    fn decode(bytes: Bytes) -> Result<T, Self::Error> {
        from_str(std::str::from_utf8(&bytes).map_err(|_| UnexpectedJson)?)
    }
}

impl ReadJson for DownloadLink {
    #[cfg(feature = "hydrate")]
    fn read(value: &wasm_bindgen::JsValue) -> Option<Self> {
        Some(Self {
            key: js::string(value, "key")?,
            filename: js::string(value, "filename")?,
            size: js::whole(value, "size")?,
            // Missing in links remembered before shares existed.
            content_type: js::string(value, "content_type").unwrap_or_default(),
            etag: js::string(value, "etag")?,
            download_url: js::string(value, "download_url")?,
            // `null` for a public link.
            expires_at: js::string(value, "expires_at"),
            // Missing in links remembered before public links existed.
            link: js::link(value, "link").unwrap_or_default(),
            // Missing when the answer carries no owner token (a replayed confirmation).
            token: js::string(value, "token").unwrap_or_default(),
            // Missing for a public link, and in links remembered before shares existed.
            share: js::field(value, "share").and_then(|share| ShareLink::read(&share)),
            // Missing for a plain file.
            seal: js::string(value, "seal"),
        })
    }
}

impl ReadJson for ShareLink {
    #[cfg(feature = "hydrate")]
    fn read(value: &wasm_bindgen::JsValue) -> Option<Self> {
        let files = js::array(&js::field(value, "files")?)?
            .iter()
            .map(|file| {
                Some(crate::share::SharedFileStatus {
                    filename: js::string(&file, "filename")?,
                    size: js::whole(&file, "size")?,
                    downloads: u32::try_from(js::whole(&file, "downloads")?).ok()?,
                })
            })
            .collect::<Option<_>>()?;
        Some(Self {
            id: js::string(value, "id")?,
            url: js::string(value, "url")?,
            state: crate::share::ShareState::parse(&js::string(value, "state")?)?,
            // `null`: never.
            expires_at: js::string(value, "expires_at"),
            max_downloads: js::whole(value, "max_downloads").and_then(|max| u32::try_from(max).ok()),
            password: js::field(value, "password")?.as_bool()?,
            // Missing in shares remembered before encryption existed.
            encrypted: js::field(value, "encrypted").and_then(|e| e.as_bool()).unwrap_or(false),
            files,
            token: js::string(value, "token").unwrap_or_default(),
        })
    }
}

impl ReadJson for Vec<ShareLink> {
    #[cfg(feature = "hydrate")]
    fn read(value: &wasm_bindgen::JsValue) -> Option<Self> {
        js::array(value)?.iter().map(|item| ShareLink::read(&item)).collect()
    }
}

impl ReadJson for RequestLink {
    #[cfg(feature = "hydrate")]
    fn read(value: &wasm_bindgen::JsValue) -> Option<Self> {
        let received = js::array(&js::field(value, "received")?)?
            .iter()
            .map(|file| {
                Some(crate::request::ReceivedFile {
                    filename: js::string(&file, "filename")?,
                    size: js::whole(&file, "size")?,
                    received_at: js::string(&file, "received_at")?,
                })
            })
            .collect::<Option<_>>()?;
        let count = |name: &str| u32::try_from(js::whole(value, name)?).ok();
        Some(Self {
            id: js::string(value, "id")?,
            url: js::string(value, "url")?,
            state: crate::request::RequestState::parse(&js::string(value, "state")?)?,
            expires_at: js::string(value, "expires_at")?,
            max_files: count("max_files")?,
            max_bytes: js::whole(value, "max_bytes")?,
            files_received: count("files_received")?,
            bytes_received: js::whole(value, "bytes_received")?,
            files_arriving: count("files_arriving")?,
            received,
            // Missing until the first file arrives.
            share: js::field(value, "share").and_then(|share| ShareLink::read(&share)),
            token: js::string(value, "token")?,
        })
    }
}

impl ReadJson for Vec<RequestLink> {
    #[cfg(feature = "hydrate")]
    fn read(value: &wasm_bindgen::JsValue) -> Option<Self> {
        js::array(value)?.iter().map(|item| RequestLink::read(&item)).collect()
    }
}

/// The requests this browser made, as it keeps them.
impl ReadJson for Vec<RequestRef> {
    #[cfg(feature = "hydrate")]
    fn read(value: &wasm_bindgen::JsValue) -> Option<Self> {
        js::array(value)?
            .iter()
            .map(|item| {
                Some(RequestRef {
                    id: js::string(&item, "id")?,
                    token: js::string(&item, "token")?,
                })
            })
            .collect()
    }
}

/// The requests this browser made, as JSON text (the same as serde writes).
#[cfg(feature = "hydrate")]
pub fn request_refs_to_string(requests: &[RequestRef]) -> Option<String> {
    let array = js_sys::Array::new();
    for request in requests {
        let object: wasm_bindgen::JsValue = js_sys::Object::new().into();
        js::set(&object, "id", &request.id.as_str().into())?;
        js::set(&object, "token", &request.token.as_str().into())?;
        array.push(&object);
    }
    js_sys::JSON::stringify(&array).ok()?.as_string()
}

/// `null`: what a server function with nothing to say answers.
impl ReadJson for () {
    #[cfg(feature = "hydrate")]
    fn read(_: &wasm_bindgen::JsValue) -> Option<Self> {
        Some(())
    }
}

impl ReadJson for Vec<DownloadLink> {
    #[cfg(feature = "hydrate")]
    fn read(value: &wasm_bindgen::JsValue) -> Option<Self> {
        js::array(value)?.iter().map(|item| DownloadLink::read(&item)).collect()
    }
}

impl ReadJson for UploadGrant {
    #[cfg(feature = "hydrate")]
    fn read(value: &wasm_bindgen::JsValue) -> Option<Self> {
        let object = js::field(value, "fields")?;
        let mut fields = wire::FormFields::with_capacity(12);
        for entry in js_sys::Object::entries(wasm_bindgen::JsCast::dyn_ref(&object)?).iter() {
            let entry = js::array(&entry)?;
            fields.insert(entry.get(0).as_string()?, entry.get(1).as_string()?);
        }
        Some(Self {
            url: js::string(value, "url")?,
            fields,
            key: js::string(value, "key")?,
            expires_at: js::string(value, "expires_at")?,
        })
    }
}

impl ReadJson for FormGrant {
    #[cfg(feature = "hydrate")]
    fn read(value: &wasm_bindgen::JsValue) -> Option<Self> {
        let settings = js::field(value, "settings")?;
        let rules = js::field(&settings, "rules")?;
        let allowed_types = js::array(&js::field(&rules, "allowed_types")?)?
            .iter()
            .map(|pattern| pattern.as_string())
            .collect::<Option<_>>()?;
        Some(Self {
            grant: UploadGrant::read(&js::field(value, "grant")?)?,
            link: js::link(value, "link")?,
            settings: crate::model::PageSettings {
                rules: crate::file_rules::FileRules {
                    max_bytes: js::whole(&rules, "max_bytes")?,
                    allowed_types,
                },
                parallel_uploads: u32::try_from(js::whole(&settings, "parallel_uploads")?).ok()?,
                default_link: js::link(&settings, "default_link")?,
                public_links: js::field(&settings, "public_links")?.as_bool()?,
                multipart_threshold: js::whole(&settings, "multipart_threshold")?,
                parallel_parts: u32::try_from(js::whole(&settings, "parallel_parts")?).ok()?,
                part_checksums: js::field(&settings, "part_checksums")?.as_bool()?,
                encryption: js::string(&settings, "encryption")
                    .and_then(|mode| wire::seal::Encryption::parse(&mode))
                    .unwrap_or_default(),
                // Only on a file request's page.
                request: js::field(&settings, "request")
                    .filter(|request| request.is_object())
                    .and_then(|request| {
                        Some(crate::request::RequestPage {
                            id: js::string(&request, "id")?,
                            files_left: u32::try_from(js::whole(&request, "files_left")?).ok()?,
                            bytes_left: js::whole(&request, "bytes_left")?,
                            expires_at: js::string(&request, "expires_at")?,
                        })
                    }),
            },
        })
    }
}

impl ReadJson for crate::multipart::MultipartUpload {
    #[cfg(feature = "hydrate")]
    fn read(value: &wasm_bindgen::JsValue) -> Option<Self> {
        Some(Self {
            key: js::string(value, "key")?,
            upload_id: js::string(value, "upload_id")?,
            size: js::whole(value, "size")?,
            part_size: js::whole(value, "part_size")?,
            token: js::string(value, "token")?,
        })
    }
}

impl ReadJson for crate::multipart::MultipartGrant {
    #[cfg(feature = "hydrate")]
    fn read(value: &wasm_bindgen::JsValue) -> Option<Self> {
        Some(Self {
            upload: crate::multipart::MultipartUpload::read(&js::field(value, "upload")?)?,
            expires_at: js::string(value, "expires_at")?,
        })
    }
}

impl ReadJson for Vec<crate::multipart::PartUrl> {
    #[cfg(feature = "hydrate")]
    fn read(value: &wasm_bindgen::JsValue) -> Option<Self> {
        js::array(value)?
            .iter()
            .map(|part| {
                Some(crate::multipart::PartUrl {
                    number: u32::try_from(js::whole(&part, "number")?).ok()?,
                    size: js::whole(&part, "size")?,
                    url: js::string(&part, "url")?,
                    expires_at: js::string(&part, "expires_at")?,
                })
            })
            .collect()
    }
}

impl ReadJson for Vec<crate::multipart::StoredPart> {
    #[cfg(feature = "hydrate")]
    fn read(value: &wasm_bindgen::JsValue) -> Option<Self> {
        js::array(value)?
            .iter()
            .map(|part| {
                Some(crate::multipart::StoredPart {
                    number: u32::try_from(js::whole(&part, "number")?).ok()?,
                    size: js::whole(&part, "size")?,
                    etag: js::string(&part, "etag")?,
                    // The store's checksums are for Courier's complete, not the page.
                    sha256: None,
                })
            })
            .collect()
    }
}

impl ReadJson for CourierError {
    /// `{"code": "bad_request", "error": "<sentence>"}`
    #[cfg(feature = "hydrate")]
    fn read(value: &wasm_bindgen::JsValue) -> Option<Self> {
        let sentence = js::string(value, "error")?;
        Some(match js::string(value, "code")?.as_str() {
            "bad_request" => Self::BadRequest(sentence),
            "forbidden" => Self::Forbidden(sentence),
            "not_found" => Self::NotFound(sentence),
            "too_large" => Self::TooLarge(sentence),
            "too_many_requests" => Self::TooManyRequests(sentence),
            "store_refused" => Self::StoreRefused(sentence),
            "policy_expired" => Self::PolicyExpired(sentence),
            "store_unavailable" => Self::StoreUnavailable(sentence),
            "storage_full" => Self::StorageFull(sentence),
            "network" => Self::Network(sentence),
            "internal" => Self::Internal(sentence),
            "unauthorized" => Self::Unauthorized(sentence),
            "gone" => Self::Gone(sentence),
            "unavailable" => Self::Unavailable(sentence),
            _ => return None,
        })
    }
}

/// The recent uploads as JSON text, the same as serde writes them.
#[cfg(feature = "hydrate")]
pub fn links_to_string(links: &[DownloadLink]) -> Option<String> {
    let array = js_sys::Array::new();
    for link in links {
        let object = js_sys::Object::new();
        let text = |name: &str, value: &str| js::set(&object, name, &value.into());
        text("key", &link.key)?;
        text("filename", &link.filename)?;
        // Sizes are far below 2^53, where a JSON number stays exact.
        js::set(&object, "size", &(link.size as f64).into())?;
        text("etag", &link.etag)?;
        text("download_url", &link.download_url)?;
        match &link.expires_at {
            Some(at) => text("expires_at", at)?,
            None => js::set(&object, "expires_at", &wasm_bindgen::JsValue::NULL)?,
        }
        text("link", link.link.as_str())?;
        text("content_type", &link.content_type)?;
        if let Some(token) = link.owner_token() {
            text("token", token)?;
        }
        if let Some(share) = &link.share {
            js::set(&object, "share", &share_object(share)?)?;
        }
        array.push(&object);
    }
    js_sys::JSON::stringify(&array).ok()?.as_string()
}

/// A share as the JSON object serde writes.
#[cfg(feature = "hydrate")]
fn share_object(share: &ShareLink) -> Option<wasm_bindgen::JsValue> {
    use wasm_bindgen::JsValue;
    let object: JsValue = js_sys::Object::new().into();
    js::set(&object, "id", &share.id.as_str().into())?;
    js::set(&object, "url", &share.url.as_str().into())?;
    js::set(&object, "state", &share.state.as_str().into())?;
    let or_null = |value: Option<JsValue>| value.unwrap_or(JsValue::NULL);
    js::set(
        &object,
        "expires_at",
        &or_null(share.expires_at.as_deref().map(JsValue::from)),
    )?;
    js::set(
        &object,
        "max_downloads",
        &or_null(share.max_downloads.map(JsValue::from)),
    )?;
    js::set(&object, "password", &share.password.into())?;
    let files = js_sys::Array::new();
    for file in &share.files {
        let entry: JsValue = js_sys::Object::new().into();
        js::set(&entry, "filename", &file.filename.as_str().into())?;
        js::set(&entry, "size", &(file.size as f64).into())?;
        js::set(&entry, "downloads", &file.downloads.into())?;
        files.push(&entry);
    }
    js::set(&object, "files", &files)?;
    if let Some(token) = share.owner_token() {
        js::set(&object, "token", &token.into())?;
    }
    Some(object)
}

/// Field access on parsed JSON.
#[cfg(feature = "hydrate")]
pub(crate) mod js {
    use js_sys::{Array, Reflect};
    use wasm_bindgen::{JsCast, JsValue};

    pub fn field(value: &JsValue, name: &str) -> Option<JsValue> {
        if !value.is_object() {
            return None;
        }
        Reflect::get(value, &JsValue::from_str(name)).ok()
    }

    pub fn string(value: &JsValue, name: &str) -> Option<String> {
        field(value, name)?.as_string()
    }

    /// A non-negative whole number, as serde reads a `u64` (exact up to 2^53).
    pub fn whole(value: &JsValue, name: &str) -> Option<u64> {
        let number = field(value, name)?.as_f64()?;
        (number >= 0.0 && number.fract() == 0.0 && number <= 9_007_199_254_740_992.0).then_some(number as u64)
    }

    /// `"expiring"` or `"public"`.
    pub fn link(value: &JsValue, name: &str) -> Option<crate::model::LinkKind> {
        crate::model::LinkKind::parse(&string(value, name)?)
    }

    pub fn array(value: &JsValue) -> Option<Array> {
        value.dyn_ref::<Array>().cloned()
    }

    pub fn set(object: &JsValue, name: &str, value: &JsValue) -> Option<()> {
        Reflect::set(object, &JsValue::from_str(name), value)
            .ok()?
            .then_some(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_server_reads_what_it_writes() {
        let error = CourierError::TooLarge("Too large.".to_owned());
        let bytes = <JsonCodec as Encodes<CourierError>>::encode(&error).expect("encodes");
        assert_eq!(&bytes[..], br#"{"code":"too_large","error":"Too large."}"#);
        assert_eq!(<JsonCodec as Decodes<CourierError>>::decode(bytes), Ok(error));
        assert_eq!(from_str::<DownloadLink>("{}"), Err(UnexpectedJson));
    }
}
