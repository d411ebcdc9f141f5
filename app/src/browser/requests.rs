//! The file requests this browser made: their references (id and maker's
//! token) kept in localStorage so a reload still shows them, and the calls
//! that make, read and close them.

use super::calls;
use crate::error::CourierError;
use crate::request::{RequestLink, RequestRef, RequestRules};

const STORAGE_KEY: &str = "courier.file-requests";
/// Older requests fall off the end.
const KEEP: usize = 20;

fn load() -> Vec<RequestRef> {
    super::storage::local_storage()
        .and_then(|s| s.get_item(STORAGE_KEY).ok().flatten())
        .and_then(|text| crate::json::from_str(&text).ok())
        .unwrap_or_default()
}

fn save(requests: &[RequestRef]) {
    if let (Some(storage), Some(text)) = (
        super::storage::local_storage(),
        crate::json::request_refs_to_string(requests),
    ) {
        // A full or disabled storage only loses the list after a reload.
        let _ = storage.set_item(STORAGE_KEY, &text);
    }
}

/// Makes a request and remembers it, newest first.
pub async fn make(rules: RequestRules) -> Result<RequestLink, CourierError> {
    let request = calls::create_request(&rules).await?;
    let mut kept = load();
    kept.insert(0, request.reference());
    kept.truncate(KEEP);
    save(&kept);
    Ok(request)
}

/// Where the remembered requests stand, newest first; those Courier no
/// longer knows are forgotten.
pub async fn remembered() -> Result<Vec<RequestLink>, CourierError> {
    let kept = load();
    if kept.is_empty() {
        return Ok(Vec::new());
    }
    let known = calls::request_status(&kept).await?;
    let still: Vec<RequestRef> = kept
        .into_iter()
        .filter(|kept| known.iter().any(|request| request.id == kept.id))
        .collect();
    save(&still);
    Ok(known)
}

/// Where some requests stand now.
pub async fn status(requests: &[RequestRef]) -> Result<Vec<RequestLink>, CourierError> {
    calls::request_status(requests).await
}

pub async fn close(request: &RequestRef) -> Result<RequestLink, CourierError> {
    calls::close_request(request).await
}

/// Forgets a request in this browser (its link keeps working until it closes or expires).
pub fn forget(id: &str) {
    let mut kept = load();
    kept.retain(|kept| kept.id != id);
    save(&kept);
}
