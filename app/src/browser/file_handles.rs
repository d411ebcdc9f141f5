//! One-click resume where the browser can keep a handle to a file
//! (Chromium's File System Access API): files chosen with its picker or
//! dropped come with a handle, and a large file's handle is kept in
//! IndexedDB next to its unfinished upload. After a reload, Resume reads the
//! file again from where it is: nothing to choose again. Other browsers use
//! the plain picker, and resuming there means choosing the file again.
//!
//! The API is not in every browser (nor in `web-sys`' stable bindings), so
//! its methods are looked up by name.

use js_sys::{Array, Object, Promise, Reflect};

use super::gesture::method;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{File, IdbDatabase, IdbObjectStore, IdbRequest, IdbTransactionMode};

const DATABASE: &str = "courier";
const STORE: &str = "file-handles";

/// A file, and the handle it was read from where the browser gave one.
pub struct Chosen {
    pub file: File,
    pub handle: Option<JsValue>,
}

impl From<File> for Chosen {
    fn from(file: File) -> Self {
        Self { file, handle: None }
    }
}

/// Why a kept handle gave no file.
pub enum Unreadable {
    /// The person did not allow the page to read it.
    NotAllowed,
    /// It is no longer where it was (moved, renamed, deleted).
    Gone,
}

async fn settled(promise: JsValue) -> Result<JsValue, JsValue> {
    JsFuture::from(Promise::resolve(&promise)).await
}

/// The files the browser's own picker gave (`picking`, the promise
/// [`super::gesture::start_picking`] got): `Ok` with nothing when the person
/// closed it; `Err` when it cannot be used here (the page then opens the
/// plain picker instead).
pub async fn picked(picking: Result<JsValue, JsValue>) -> Result<Vec<Chosen>, ()> {
    let handles = match picking {
        Ok(promise) => settled(promise).await,
        Err(error) => Err(error),
    };
    let handles = match handles {
        Ok(handles) => handles,
        // Closed without a choice.
        Err(error) if error_name(&error).as_deref() == Some("AbortError") => return Ok(Vec::new()),
        Err(_) => return Err(()),
    };
    let mut chosen = Vec::new();
    for handle in Array::from(&handles).iter() {
        if let Ok(file) = file_of(&handle).await {
            chosen.push(Chosen {
                file,
                handle: Some(handle),
            });
        }
    }
    Ok(chosen)
}

fn error_name(error: &JsValue) -> Option<String> {
    Reflect::get(error, &"name".into()).ok()?.as_string()
}

/// Pairs dropped files with their handles (each a promise of a handle, or
/// null): a file keeps a handle only if it names that same file.
pub async fn with_handles(files: Vec<File>, handles: Vec<JsValue>) -> Vec<Chosen> {
    let mut chosen = Vec::with_capacity(files.len());
    let mut handles = handles.into_iter();
    for file in files {
        let handle = match handles.next() {
            Some(promise) if !promise.is_null() => settled(promise).await.ok(),
            _ => None,
        };
        let handle = handle.filter(|h| {
            Reflect::get(h, &"kind".into())
                .ok()
                .and_then(|k| k.as_string())
                .as_deref()
                == Some("file")
                && Reflect::get(h, &"name".into()).ok().and_then(|n| n.as_string()) == Some(file.name())
        });
        chosen.push(Chosen { file, handle });
    }
    chosen
}

/// Reads the file behind a kept handle, asking the person's leave first where
/// the browser wants it (this must run within the click that asked for it).
pub async fn read(handle: &JsValue) -> Result<File, Unreadable> {
    let mode = Object::new();
    let _ = Reflect::set(&mode, &"mode".into(), &"read".into());
    let state = |value: Result<JsValue, JsValue>| value.ok().and_then(|s| s.as_string());
    let mut allowed = match method(handle, "queryPermission") {
        Some(query) => state(settled(query.call1(handle, &mode).unwrap_or(JsValue::NULL)).await),
        // No permission model: reading tells.
        None => Some("granted".to_owned()),
    };
    if allowed.as_deref() == Some("prompt")
        && let Some(request) = method(handle, "requestPermission")
    {
        allowed = state(settled(request.call1(handle, &mode).unwrap_or(JsValue::NULL)).await);
    }
    if allowed.as_deref() != Some("granted") {
        return Err(Unreadable::NotAllowed);
    }
    file_of(handle).await
}

async fn file_of(handle: &JsValue) -> Result<File, Unreadable> {
    let get = method(handle, "getFile").ok_or(Unreadable::Gone)?;
    let promise = get.call0(handle).map_err(|_| Unreadable::Gone)?;
    match settled(promise).await {
        Ok(file) => file.dyn_into().map_err(|_| Unreadable::Gone),
        Err(error) if error_name(&error).as_deref() == Some("NotAllowedError") => Err(Unreadable::NotAllowed),
        Err(_) => Err(Unreadable::Gone),
    }
}

// --- kept in IndexedDB, by upload key (handles cannot go in localStorage) ---

/// Awaits an IndexedDB request: its result, or `None` if it failed.
async fn done(request: &IdbRequest) -> Option<JsValue> {
    let promise = Promise::new(&mut |resolve, reject| {
        request.set_onsuccess(Some(&resolve));
        request.set_onerror(Some(&reject));
    });
    JsFuture::from(promise).await.ok()?;
    request.result().ok()
}

thread_local! {
    /// Opened once per page.
    static DATABASE_OPEN: std::cell::RefCell<Option<IdbDatabase>> = const { std::cell::RefCell::new(None) };
}

async fn database() -> Option<IdbDatabase> {
    if let Some(open) = DATABASE_OPEN.with(|d| d.borrow().clone()) {
        return Some(open);
    }
    let database = open_database().await?;
    DATABASE_OPEN.with(|d| *d.borrow_mut() = Some(database.clone()));
    Some(database)
}

async fn open_database() -> Option<IdbDatabase> {
    let factory = web_sys::window()?.indexed_db().ok()??;
    let request = factory.open_with_u32(DATABASE, 1).ok()?;
    let opening = request.clone();
    let upgrade = wasm_bindgen::closure::Closure::once_into_js(move || {
        if let Some(database) = opening.result().ok().and_then(|d| d.dyn_into::<IdbDatabase>().ok()) {
            let _ = database.create_object_store(STORE);
        }
    });
    request.set_onupgradeneeded(Some(upgrade.unchecked_ref()));
    done(&request).await?.dyn_into().ok()
}

async fn store(mode: IdbTransactionMode) -> Option<IdbObjectStore> {
    database()
        .await?
        .transaction_with_str_and_mode(STORE, mode)
        .ok()?
        .object_store(STORE)
        .ok()
}

/// Keeps the handle of the file whose upload is `key`.
pub fn keep(key: String, handle: JsValue) {
    leptos::task::spawn_local(async move {
        // Without IndexedDB (a private window may refuse it) resuming means choosing the file again.
        if let Some(store) = store(IdbTransactionMode::Readwrite).await
            && let Ok(request) = store.put_with_key(&handle, &key.into())
        {
            done(&request).await;
        }
    });
}

/// The handle kept for the upload `key`, if any.
pub async fn kept(key: &str) -> Option<JsValue> {
    let request = store(IdbTransactionMode::Readonly).await?.get(&key.into()).ok()?;
    done(&request)
        .await
        .filter(|handle| !handle.is_undefined() && !handle.is_null())
}

/// Lets go of the handles of uploads other than `keys` (finished, cancelled,
/// or forgotten by another tab).
pub fn keep_only(keys: Vec<String>) {
    leptos::task::spawn_local(async move {
        let Some(store) = store(IdbTransactionMode::Readwrite).await else {
            return;
        };
        let Some(stored) = store.get_all_keys().ok() else {
            return;
        };
        let Some(stored) = done(&stored).await else { return };
        for key in Array::from(&stored).iter() {
            if key.as_string().is_some_and(|k| !keys.contains(&k)) {
                let _ = store.delete(&key);
            }
        }
    });
}

/// Lets go of the handle of the upload `key`.
pub fn forget(key: String) {
    leptos::task::spawn_local(async move {
        if let Some(store) = store(IdbTransactionMode::Readwrite).await
            && let Ok(request) = store.delete(&key.into())
        {
            done(&request).await;
        }
    });
}
