//! Where a download goes: a temporary file next to its destination,
//! renamed only once everything opened, and removed on any failure.

use std::io::ErrorKind;
use std::path::{Path, PathBuf};

use tempfile::NamedTempFile;
use tokio::io::AsyncWriteExt;

use crate::error::CliError;
use crate::file_name;

/// `-o` as given, or the current directory.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Destination {
    /// Files keep their (sanitised) names here, never replacing one.
    Directory(PathBuf),
    /// The one file goes exactly here, replacing what was there.
    File(PathBuf),
}

impl Destination {
    pub(crate) fn resolve(output: Option<&Path>, files: usize) -> Result<Self, CliError> {
        let Some(output) = output else {
            return Ok(Self::Directory(PathBuf::from(".")));
        };
        let says_directory = output
            .as_os_str()
            .to_string_lossy()
            .ends_with(std::path::MAIN_SEPARATOR);
        if output.is_dir() || says_directory {
            std::fs::create_dir_all(output).map_err(|source| CliError::Write {
                path: output.to_owned(),
                source,
            })?;
            return Ok(Self::Directory(output.to_owned()));
        }
        if files > 1 {
            return Err(CliError::OutputNotDirectory(output.to_owned()));
        }
        Ok(Self::File(output.to_owned()))
    }

    fn directory(&self) -> PathBuf {
        match self {
            Self::Directory(directory) => directory.clone(),
            Self::File(file) => match file.parent() {
                Some(parent) if !parent.as_os_str().is_empty() => parent.to_owned(),
                _ => PathBuf::from("."),
            },
        }
    }
}

/// A file being written: a hidden temporary file until [`Download::keep`].
pub(crate) struct Download {
    temp: NamedTempFile,
    file: tokio::fs::File,
}

impl Download {
    pub(crate) fn create(destination: &Destination) -> Result<Self, CliError> {
        let directory = destination.directory();
        let write_error = |source| CliError::Write {
            path: directory.clone(),
            source,
        };
        let temp = tempfile::Builder::new()
            .prefix(".courier-")
            .suffix(".part")
            .tempfile_in(&directory)
            .map_err(write_error)?;
        let file = temp.as_file().try_clone().map_err(write_error)?;
        Ok(Self {
            temp,
            file: tokio::fs::File::from_std(file),
        })
    }

    pub(crate) async fn write(&mut self, bytes: &[u8]) -> Result<(), CliError> {
        self.file.write_all(bytes).await.map_err(|source| CliError::Write {
            path: self.temp.path().to_owned(),
            source,
        })
    }

    /// Renames the finished file to its destination (`name` in a
    /// directory, numbered when taken) and says where.
    pub(crate) async fn keep(mut self, destination: &Destination, name: &str) -> Result<PathBuf, CliError> {
        let temp_path = self.temp.path().to_owned();
        let write_error = |source| CliError::Write {
            path: temp_path.clone(),
            source,
        };
        self.file.flush().await.map_err(write_error)?;
        self.file.sync_all().await.map_err(write_error)?;
        drop(self.file);
        let mut temp = self.temp;
        match destination {
            Destination::File(path) => {
                temp.persist(path).map_err(|error| CliError::Write {
                    path: path.clone(),
                    source: error.error,
                })?;
                Ok(path.clone())
            }
            Destination::Directory(directory) => {
                for n in 1..=1000 {
                    let candidate = match n {
                        1 => directory.join(name),
                        n => directory.join(file_name::numbered(name, n)),
                    };
                    match temp.persist_noclobber(&candidate) {
                        Ok(_) => return Ok(candidate),
                        Err(error) if error.error.kind() == ErrorKind::AlreadyExists => temp = error.file,
                        Err(error) => {
                            return Err(CliError::Write {
                                path: candidate,
                                source: error.error,
                            });
                        }
                    }
                }
                Err(CliError::Write {
                    path: directory.join(name),
                    source: ErrorKind::AlreadyExists.into(),
                })
            }
        }
    }
}
