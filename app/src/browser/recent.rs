//! Recent uploads, kept in the browser's localStorage so that a reload still
//! shows them and can get new links (each entry holds its renewal token).

use crate::model::DownloadLink;

pub(super) const STORAGE_KEY: &str = "courier.recent-uploads";
/// Older entries fall off the end.
const KEEP: usize = 50;

/// The remembered uploads, newest first.
pub fn load() -> Vec<DownloadLink> {
    super::storage::local_storage()
        .and_then(|s| s.get_item(STORAGE_KEY).ok().flatten())
        .and_then(|text| crate::json::from_str(&text).ok())
        .unwrap_or_default()
}

fn save(links: &[DownloadLink]) {
    if let (Some(storage), Some(text)) = (super::storage::local_storage(), crate::json::links_to_string(links)) {
        // A full or disabled storage only costs the memory of past uploads.
        let _ = storage.set_item(STORAGE_KEY, &text);
    }
}

/// Remembers a finished upload (or its new link), newest first.
pub fn remember(link: &DownloadLink) {
    let mut links = load();
    let mut link = link.clone();
    // A link that came without the owner token (a replayed confirmation)
    // keeps the one this browser already holds for the file.
    if link.owner_token().is_none()
        && let Some(token) = links
            .iter()
            .find(|l| l.key == link.key)
            .and_then(DownloadLink::owner_token)
    {
        link.token = token.to_owned();
    }
    links.retain(|l| l.key != link.key);
    links.insert(0, link);
    links.truncate(KEEP);
    save(&links);
}

pub fn forget(key: &str) {
    let mut links = load();
    links.retain(|l| l.key != key);
    save(&links);
}

pub fn forget_all() {
    if let Some(storage) = super::storage::local_storage() {
        let _ = storage.remove_item(STORAGE_KEY);
    }
}
