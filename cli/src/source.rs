//! A file being sent. Each read first checks that it has not changed since
//! the upload began: a changed file is refused, never encrypted again under
//! the same nonces (FORMAT.md, "Uploading").

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::SystemTime;

use crate::error::CliError;

pub(crate) struct Source {
    path: PathBuf,
    file: Mutex<File>,
    size: u64,
    modified: Option<SystemTime>,
}

impl Source {
    pub(crate) fn open(path: &Path) -> Result<Self, CliError> {
        let read_error = |source| CliError::Read {
            path: path.to_owned(),
            source,
        };
        let file = File::open(path).map_err(read_error)?;
        let metadata = file.metadata().map_err(read_error)?;
        if !metadata.is_file() {
            return Err(read_error(std::io::Error::other("not a file")));
        }
        Ok(Self {
            path: path.to_owned(),
            file: Mutex::new(file),
            size: metadata.len(),
            modified: metadata.modified().ok(),
        })
    }

    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    pub(crate) fn size(&self) -> u64 {
        self.size
    }

    /// When it was last changed, as it was opened.
    pub(crate) fn modified(&self) -> Option<SystemTime> {
        self.modified
    }

    /// The name the receiver will see: the file's own, without its directory.
    pub(crate) fn name(&self) -> String {
        self.path
            .file_name()
            .map(|name| name.to_string_lossy().into_owned())
            .unwrap_or_default()
    }

    /// The bytes of `range`, blocking (call off the runtime).
    pub(crate) fn read(&self, range: Range<u64>) -> Result<Vec<u8>, CliError> {
        let read_error = |source| CliError::Read {
            path: self.path.clone(),
            source,
        };
        let len =
            usize::try_from(range.end - range.start).map_err(|_| read_error(std::io::ErrorKind::OutOfMemory.into()))?;
        let mut bytes = vec![0; len];
        // A poisoned lock only means another read panicked; the file is still fine.
        let mut file = self.file.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let metadata = file.metadata().map_err(read_error)?;
        if metadata.len() != self.size || metadata.modified().ok() != self.modified {
            return Err(CliError::FileChanged(self.path.clone()));
        }
        file.seek(SeekFrom::Start(range.start)).map_err(read_error)?;
        file.read_exact(&mut bytes).map_err(|error| match error.kind() {
            std::io::ErrorKind::UnexpectedEof => CliError::FileChanged(self.path.clone()),
            _ => read_error(error),
        })?;
        Ok(bytes)
    }
}

/// The media type the receiver's browser is told, from the extension; empty
/// when unknown (FORMAT.md allows it).
pub(crate) fn content_type(name: &str) -> &'static str {
    let extension = name
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default();
    match extension.as_str() {
        "txt" => "text/plain",
        "csv" => "text/csv",
        "html" | "htm" => "text/html",
        "json" => "application/json",
        "pdf" => "application/pdf",
        "zip" => "application/zip",
        "gz" | "tgz" => "application/gzip",
        "tar" => "application/x-tar",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "webp" => "image/webp",
        "svg" => "image/svg+xml",
        "mp3" => "audio/mpeg",
        "mp4" => "video/mp4",
        "webm" => "video/webm",
        "docx" => "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "xlsx" => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        _ => "",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_that_changed_is_not_read_again() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("a.txt");
        std::fs::write(&path, b"0123456789").expect("writes");
        let source = Source::open(&path).expect("opens");
        assert_eq!(source.read(2..5).expect("reads"), b"234");
        assert_eq!(source.name(), "a.txt");
        std::fs::write(&path, b"01234567890").expect("writes");
        assert!(matches!(source.read(0..3), Err(CliError::FileChanged(_))));
        assert!(matches!(Source::open(dir.path()), Err(CliError::Read { .. })));
    }

    #[test]
    fn a_type_comes_from_the_extension() {
        assert_eq!(content_type("Report.PDF"), "application/pdf");
        assert_eq!(content_type("README"), "");
    }
}
