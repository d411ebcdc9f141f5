//! The store's files on disk, as a test inspects them.

use std::path::PathBuf;

use super::TestStore;

impl TestStore {
    /// Where the store keeps an object on disk.
    pub fn object_path(&self, key: &str) -> PathBuf {
        self.bucket_dir().join(key)
    }

    /// The bucket's directory.
    pub fn bucket_dir(&self) -> PathBuf {
        self.data_dir.join("objects").join(&self.bucket)
    }

    /// Every object stored under `[public/]uploads/` (by grants) or
    /// `[public/]files/` (confirmed), sorted.
    pub fn stored_keys(&self) -> Vec<String> {
        courier_test_support::stored_keys(&self.bucket_dir())
    }
}
