//! What must happen within the person's gesture itself (the click, the drop,
//! the paste), before the uploader's code is even loaded: take the files
//! and, where the browser gives them, their handles, and open the picker.
//! The browser lets go of a drop's files when its event ends and opens a
//! picker only in answer to a click, so none of this may wait.

use std::cell::Cell;

use js_sys::{Array, Function, Object, Reflect};
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{File, FileList};

thread_local! {
    /// The next click on the file input opens the plain picker (the
    /// browser's own could not be used).
    static PLAIN_PICKER: Cell<bool> = const { Cell::new(false) };
}

/// A method of `target` by name (for APIs not in every browser, nor in
/// `web-sys`' stable bindings).
pub fn method(target: &JsValue, name: &str) -> Option<Function> {
    Reflect::get(target, &JsValue::from_str(name)).ok()?.dyn_into().ok()
}

/// Every file of a `FileList`.
pub fn files_of(list: Option<FileList>) -> Vec<File> {
    let Some(list) = list else { return Vec::new() };
    (0..list.length()).filter_map(|i| list.get(i)).collect()
}

/// Files pasted anywhere on the page.
pub fn pasted_files(event: &web_sys::ClipboardEvent) -> Vec<File> {
    files_of(event.clipboard_data().and_then(|d| d.files()))
}

/// Files dropped on an element.
pub fn dropped_files(event: &web_sys::DragEvent) -> Vec<File> {
    files_of(event.data_transfer().and_then(|d| d.files()))
}

/// The handles of a drop's files, asked for while the drop event lasts (the
/// browser lets go of them after); one per file, in the files' order.
pub fn dropped_handles(event: &web_sys::DragEvent) -> Vec<JsValue> {
    let Some(items) = event
        .data_transfer()
        .and_then(|transfer| Reflect::get(&transfer, &"items".into()).ok())
    else {
        return Vec::new();
    };
    let length = Reflect::get(&items, &"length".into())
        .ok()
        .and_then(|l| l.as_f64())
        .unwrap_or(0.0) as u32;
    (0..length)
        .filter_map(|i| Reflect::get_u32(&items, i).ok())
        .filter(|item| {
            Reflect::get(item, &"kind".into())
                .ok()
                .and_then(|k| k.as_string())
                .as_deref()
                == Some("file")
        })
        .map(|item| match method(&item, "getAsFileSystemHandle") {
            Some(get) => get.call0(&item).unwrap_or(JsValue::NULL),
            None => JsValue::NULL,
        })
        .collect()
}

/// Opens the browser's own picker, which gives handles, in place of the
/// plain one behind a click on the file input: the picker's promise, or
/// `None` where the plain picker opens (no such picker here, or it failed
/// last time). Any other click on the input is the plain picker's.
pub fn start_picking(event: &web_sys::MouseEvent, accept: &[String]) -> Option<Result<JsValue, JsValue>> {
    if PLAIN_PICKER.with(|plain| plain.replace(false)) {
        return None;
    }
    let window = web_sys::window()?;
    let show = method(&window, "showOpenFilePicker")?;
    event.prevent_default();
    let options = Object::new();
    let _ = Reflect::set(&options, &"multiple".into(), &true.into());
    if let Some(types) = picker_types(accept) {
        let _ = Reflect::set(&options, &"types".into(), &types);
    }
    Some(show.call1(&window, &options))
}

/// The browser's own picker could not be used: the plain one, now.
pub fn open_plain_picker(input: &web_sys::HtmlInputElement) {
    PLAIN_PICKER.with(|plain| plain.set(true));
    open_picker(input);
}

/// The picker's file types, as `accept` limits the plain one: media types
/// only (`image/*`, `application/pdf`), or none where another kind is listed.
fn picker_types(accept: &[String]) -> Option<JsValue> {
    if accept.is_empty() || accept.iter().any(|pattern| !pattern.contains('/') || pattern == "*/*") {
        return None;
    }
    let types = Object::new();
    for pattern in accept {
        Reflect::set(&types, &pattern.into(), &Array::new()).ok()?;
    }
    let entry = Object::new();
    Reflect::set(&entry, &"description".into(), &"Files Courier accepts".into()).ok()?;
    Reflect::set(&entry, &"accept".into(), &types).ok()?;
    Some(Array::of1(&entry).into())
}

/// Opens the file picker behind `input`.
pub fn open_picker(input: &web_sys::HtmlInputElement) {
    input.unchecked_ref::<web_sys::HtmlElement>().click();
}

/// The page's first element that matches `selector`.
pub fn element(selector: &str) -> Option<web_sys::HtmlElement> {
    web_sys::window()?
        .document()?
        .query_selector(selector)
        .ok()??
        .dyn_into()
        .ok()
}

/// Focuses the first element that matches `selector`.
pub fn focus(selector: &str) {
    if let Some(element) = element(selector) {
        let _ = element.focus();
    }
}
