//! The browser's localStorage, where the page keeps its lists (the recent
//! uploads, the unfinished ones).

/// The browser's localStorage, where it offers one.
pub fn local_storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok().flatten()
}

/// Whether the browser's storage holds entries under `key` (without
/// reading them).
pub fn remembered(key: &str) -> bool {
    local_storage()
        .and_then(|s| s.get_item(key).ok().flatten())
        .is_some_and(|entries| entries != "[]")
}
