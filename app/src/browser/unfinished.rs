//! Large files whose parts were on their way when the page went away (a
//! reload, a crash, a closed tab), kept in localStorage: after a reload their
//! cards come back paused, with how much the store already holds, and
//! choosing or dropping the same file again (same name, size and
//! last-modified time) sends only the parts still missing.

use wasm_bindgen::JsValue;

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
}

impl Unfinished {
    /// Whether `file` is the file this upload was for.
    pub fn is_for(&self, file: &web_sys::File) -> bool {
        file.name() == self.name && file.size() as u64 == self.upload.size && file.last_modified() == self.last_modified
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
            .and_then(|_| text("link", entry.link.as_str()));
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
