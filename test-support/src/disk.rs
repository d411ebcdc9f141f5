//! Files on disk, and a small disk (a tmpfs) for the tests that fill one.

use std::path::{Path, PathBuf};
use std::process::Command;

/// Every file under `dir` whose path contains `needle`, sorted.
pub fn files_under(dir: &Path, needle: &str) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut pending = vec![dir.to_owned()];
    while let Some(dir) = pending.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else { continue };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                pending.push(path);
            } else if path.to_string_lossy().contains(needle) {
                found.push(path);
            }
        }
    }
    found.sort();
    found
}

/// A tmpfs mounted on a fresh directory, unmounted when dropped (also when
/// the test fails). Mounting needs root (the tests run as root on the CI
/// machine); without it the test fails and says so.
pub struct Tmpfs {
    _mount_point: tempfile::TempDir,
    pub dir: PathBuf,
}

impl Tmpfs {
    pub fn mount(size: &str) -> Self {
        let mount_point = tempfile::tempdir().expect("a mount point");
        let mounted = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size},mode=0700"), "tmpfs"])
            .arg(mount_point.path())
            .output()
            .expect("the mount command runs");
        assert!(
            mounted.status.success(),
            "this test fills the store's disk, a {size} tmpfs it mounts, and mounting needs \
             root (CAP_SYS_ADMIN): run the tests as root. mount said: {}",
            String::from_utf8_lossy(&mounted.stderr).trim()
        );
        Self {
            dir: mount_point.path().to_owned(),
            _mount_point: mount_point,
        }
    }

    /// Bytes new files may still take.
    pub fn available(&self) -> u64 {
        let stat = rustix::fs::statvfs(&self.dir).expect("statvfs");
        stat.f_bavail * stat.f_frsize
    }

    /// Fills the disk until exactly `left` bytes (whole pages) stay free.
    pub fn fill_until(&self, left: u64) -> PathBuf {
        let filler = self.dir.join("filler");
        let size = self.available() - left;
        std::fs::write(&filler, vec![0u8; size as usize]).expect("the filler fits");
        assert_eq!(self.available(), left);
        filler
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let unmounted = Command::new("umount").arg(&self.dir).output();
        if !unmounted.is_ok_and(|out| out.status.success()) {
            // The store still holds a file open there: detach it anyway.
            let _ = Command::new("umount").arg("-l").arg(&self.dir).output();
        }
    }
}

/// Every object a bucket directory holds under `[public/]uploads/` (by
/// grants) or `[public/]files/` (confirmed), by key, sorted.
pub fn stored_keys(bucket_dir: &Path) -> Vec<String> {
    let mut keys: Vec<String> = ["uploads", "files", "public"]
        .iter()
        .flat_map(|area| files_under(&bucket_dir.join(area), ""))
        .filter_map(|path| path.strip_prefix(bucket_dir).ok().map(|p| p.display().to_string()))
        .collect();
    keys.sort();
    keys
}
