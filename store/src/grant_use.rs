//! On the embedded store an upload grant writes once: a POST whose key is
//! under a prefix (`[public/]uploads/<uuid>/`) that already holds, or held,
//! an object is refused, and so is a second POST while the first is still
//! arriving. So one plain-form policy stores one file, and an exact-key
//! grant cannot write again after its upload (which confirmation has moved
//! to `[public/]files/`).
//!
//! `s3s-fs` keeps a directory per prefix and does not remove it when the
//! object is deleted, so "this prefix was used" survives restarts with no
//! state of our own, until the expiry sweep removes the directory once it
//! has been empty for longer than any grant lives (a week).

use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use http::StatusCode;
use s3s::S3ErrorCode;
use signer::object_key::ObjectKey;

use crate::refusal::Refusal;

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
#[error("This upload permission was already used. Reload the page and upload the file again.")]
pub struct GrantUsed;

impl From<GrantUsed> for Refusal {
    fn from(used: GrantUsed) -> Self {
        Refusal::new(StatusCode::FORBIDDEN, S3ErrorCode::AccessDenied, used.to_string())
    }
}

#[derive(Debug)]
pub struct GrantUses {
    /// The bucket's directory.
    bucket_dir: PathBuf,
    in_flight: Mutex<HashSet<String>>,
}

/// Held while an upload under one prefix is being stored.
#[derive(Debug)]
pub struct GrantUse {
    uses: Arc<GrantUses>,
    prefix: String,
}

impl GrantUses {
    pub fn new(bucket_dir: PathBuf) -> Arc<Self> {
        Arc::new(Self {
            bucket_dir,
            in_flight: Mutex::new(HashSet::new()),
        })
    }

    /// Claims `key`'s prefix for one upload, or says it was used.
    pub fn claim(self: &Arc<Self>, key: &ObjectKey) -> Result<GrantUse, GrantUsed> {
        let prefix = key.prefix().to_owned();
        let mut in_flight = self.in_flight.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        // A parsed key's prefix is `[public/]uploads/<uuid>/`: it cannot leave the bucket.
        if in_flight.contains(&prefix) || self.bucket_dir.join(&prefix).exists() {
            return Err(GrantUsed);
        }
        in_flight.insert(prefix.clone());
        Ok(GrantUse {
            uses: Arc::clone(self),
            prefix,
        })
    }
}

impl Drop for GrantUse {
    fn drop(&mut self) {
        self.uses
            .in_flight
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .remove(&self.prefix);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "uploads/6f1d1c52-3a55-4f4c-9a4e-1d7f25d1c0aa/a.txt";
    const SIBLING: &str = "uploads/6f1d1c52-3a55-4f4c-9a4e-1d7f25d1c0aa/b.txt";

    fn key(raw: &str) -> ObjectKey {
        ObjectKey::parse(raw).expect("key")
    }

    #[test]
    fn one_upload_per_prefix_at_a_time_and_none_after_it_landed() {
        let dir = tempfile::tempdir().expect("dir");
        let uses = GrantUses::new(dir.path().to_owned());
        let first = uses.claim(&key(KEY)).expect("free");
        assert_eq!(uses.claim(&key(SIBLING)).err(), Some(GrantUsed));
        drop(first);
        // The first upload failed before anything was stored: the grant is free again.
        let again = uses.claim(&key(KEY)).expect("free again");
        // It stored its object: s3s-fs made the prefix's directory.
        std::fs::create_dir_all(dir.path().join(key(KEY).prefix())).expect("mkdir");
        drop(again);
        assert_eq!(uses.claim(&key(KEY)).err(), Some(GrantUsed));
        assert_eq!(uses.claim(&key(SIBLING)).err(), Some(GrantUsed));
        assert!(
            uses.claim(&key("uploads/0b6e2cf0-9d7e-4d8e-8f7a-3a3e0e8f9b11/a.txt"))
                .is_ok()
        );
    }

    #[test]
    fn a_public_upload_claims_its_own_prefix() {
        let dir = tempfile::tempdir().expect("dir");
        let uses = GrantUses::new(dir.path().to_owned());
        let public = key(&format!("public/{KEY}"));
        let claim = uses.claim(&public).expect("free");
        assert_eq!(uses.claim(&key(&format!("public/{SIBLING}"))).err(), Some(GrantUsed));
        // The same id as a private upload is another prefix.
        assert!(uses.claim(&key(KEY)).is_ok());
        std::fs::create_dir_all(dir.path().join(public.prefix())).expect("mkdir");
        drop(claim);
        assert_eq!(uses.claim(&public).err(), Some(GrantUsed));
        assert!(dir.path().join("public/uploads").is_dir());
    }
}
