//! Recent uploads, kept in the browser's localStorage so that a reload still
//! shows them and can get new links (each entry holds its renewal token),
//! with each one's share as last seen (and the sender's token for it).

use crate::model::DownloadLink;
use crate::share::ShareLink;
use crate::upload::rules::keep_token;

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

/// Remembers a finished upload (or its new link), newest first; its share
/// as remembered (with the sender's token this browser holds for it).
pub fn remember(link: &DownloadLink) -> Option<ShareLink> {
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
    // Nor does it lose the share this browser holds for the file.
    let kept = links.iter().find(|l| l.key == link.key).and_then(|l| l.share.clone());
    link.share = crate::upload::rules::renewed_share(link.share.take(), kept);
    let share = link.share.clone();
    links.retain(|l| l.key != link.key);
    links.insert(0, link);
    links.truncate(KEEP);
    save(&links);
    share
}

/// Remembers where some shares stand now (their rules changed, taken
/// back, or read after a reload), each in the upload it belongs to.
pub fn update_shares(shares: &[ShareLink]) {
    let mut links = load();
    let mut changed = false;
    for link in &mut links {
        let Some(fresh) = link
            .share
            .as_ref()
            .and_then(|kept| shares.iter().find(|share| share.id == kept.id))
        else {
            continue;
        };
        link.share = Some(keep_token(fresh.clone(), link.share.as_ref()));
        changed = true;
    }
    if changed {
        save(&links);
    }
}

/// Remembers `combined`, the one share that took the place of the shares
/// `replaced` (their links no longer work), in each upload that had one of them.
pub fn replace_shares(replaced: &[String], combined: &ShareLink) {
    let mut links = load();
    let mut changed = false;
    for link in &mut links {
        if link.share.as_ref().is_some_and(|kept| replaced.contains(&kept.id)) {
            link.share = Some(combined.clone());
            changed = true;
        }
    }
    if changed {
        save(&links);
    }
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
