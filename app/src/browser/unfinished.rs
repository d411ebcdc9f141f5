//! Large files whose parts were on their way when the page went away (a
//! reload, a crash, a closed tab), kept in localStorage: after a reload their
//! cards come back paused, with how much the store already holds, and
//! choosing or dropping the same file again (same name, size and
//! last-modified time) sends only the parts still missing.

use wasm_bindgen::JsValue;

use super::engine::Sealing;
use crate::json::js;
use crate::model::LinkKind;
use crate::multipart::MultipartUpload;

pub(super) const STORAGE_KEY: &str = "courier.unfinished-uploads";

/// One multipart upload, and the file it is for.
#[derive(Clone, Debug, PartialEq)]
pub struct Unfinished {
    pub upload: MultipartUpload,
    pub name: String,
    /// `File.lastModified` (ms): with name and size, what makes it the same file.
    pub last_modified: f64,
    pub link: LinkKind,
    /// An encrypted file's key, so the parts still missing seal to what the
    /// parts sent would have (kept in this browser only, as the file is).
    pub sealing: Option<Sealing>,
}

impl Unfinished {
    /// Whether `file` is the file this upload was for.
    pub fn is_for(&self, file: &web_sys::File) -> bool {
        // An encrypted upload's size is its object's.
        let size = match self.sealing {
            Some(_) => wire::seal::plain_size(self.upload.size),
            None => Some(self.upload.size),
        };
        file.name() == self.name && Some(file.size() as u64) == size && file.last_modified() == self.last_modified
    }
}

pub fn load() -> Vec<Unfinished> {
    let Some(text) = super::storage::local_storage().and_then(|s| s.get_item(STORAGE_KEY).ok().flatten()) else {
        return Vec::new();
    };
    let Some(entries) = js_sys::JSON::parse(&text).ok().and_then(|value| js::array(&value)) else {
        return Vec::new();
    };
    entries.iter().filter_map(|entry| read(&entry)).collect()
}

fn read(entry: &JsValue) -> Option<Unfinished> {
    Some(Unfinished {
        upload: MultipartUpload {
            key: js::string(entry, "key")?,
            upload_id: js::string(entry, "upload_id")?,
            size: js::whole(entry, "size")?,
            part_size: js::whole(entry, "part_size")?,
            token: js::string(entry, "token")?,
        },
        name: js::string(entry, "name")?,
        last_modified: js::field(entry, "last_modified")?.as_f64()?,
        link: js::link(entry, "link")?,
        // Missing for a plain file.
        sealing: js::field(entry, "sealing").and_then(|sealing| {
            Some(Sealing {
                secret: js::string(&sealing, "secret")?,
                ikm: js::string(&sealing, "ikm")?,
                seal: js::string(&sealing, "seal")?,
            })
        }),
    })
}

fn save(entries: &[Unfinished]) {
    let array = js_sys::Array::new();
    for entry in entries {
        let object = js_sys::Object::new();
        let text = |name: &str, value: &str| js::set(&object, name, &value.into());
        let number = |name: &str, value: f64| js::set(&object, name, &value.into());
        let written = text("key", &entry.upload.key)
            .and_then(|_| text("upload_id", &entry.upload.upload_id))
            // Sizes are far below 2^53, where a JSON number stays exact.
            .and_then(|_| number("size", entry.upload.size as f64))
            .and_then(|_| number("part_size", entry.upload.part_size as f64))
            .and_then(|_| text("token", &entry.upload.token))
            .and_then(|_| text("name", &entry.name))
            .and_then(|_| number("last_modified", entry.last_modified))
            .and_then(|_| text("link", entry.link.as_str()))
            .and_then(|_| match &entry.sealing {
                Some(sealing) => {
                    let kept = js_sys::Object::new();
                    js::set(&kept, "secret", &sealing.secret.as_str().into())?;
                    js::set(&kept, "ikm", &sealing.ikm.as_str().into())?;
                    js::set(&kept, "seal", &sealing.seal.as_str().into())?;
                    js::set(&object, "sealing", &kept)
                }
                None => Some(()),
            });
        if written.is_some() {
            array.push(&object);
        }
    }
    if let (Some(storage), Some(text)) = (
        super::storage::local_storage(),
        js_sys::JSON::stringify(&array).ok().and_then(|t| t.as_string()),
    ) {
        // A full or disabled storage only costs resuming after a reload.
        let _ = storage.set_item(STORAGE_KEY, &text);
    }
}

/// Keeps an upload that has started.
pub fn remember(entry: Unfinished) {
    let mut entries = load();
    entries.retain(|e| e.upload.key != entry.upload.key);
    entries.push(entry);
    save(&entries);
}

/// Forgets an upload once it is complete, or aborted (and its file's handle).
pub fn forget(key: &str) {
    super::file_handles::forget(key.to_owned());
    let mut entries = load();
    let before = entries.len();
    entries.retain(|e| e.upload.key != key);
    if entries.len() != before {
        save(&entries);
    }
}
