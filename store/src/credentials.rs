//! The embedded store's access key, its secret, and Courier's token secret:
//! generated on first start and kept in the data directory (mode 0600), so
//! links and tokens survive a restart. Never logged whole.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use rand::Rng as _;
use rand::distr::Alphanumeric;
use serde::{Deserialize, Serialize};

use crate::layout::CREDENTIALS_FILE as FILE_NAME;

#[derive(Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct StoreCredentials {
    pub access_key_id: String,
    pub secret_access_key: String,
    /// Used as `COURIER_SECRET` when that is not set.
    pub courier_secret: String,
}

impl std::fmt::Debug for StoreCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoreCredentials")
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &"<redacted>")
            .field("courier_secret", &"<redacted>")
            .finish()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum CredentialsError {
    #[error("cannot read or write {path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{path} is not a Courier credentials file ({reason}); move it away to generate new credentials")]
    Corrupt { path: PathBuf, reason: String },
}

impl StoreCredentials {
    pub fn generate() -> Self {
        let mut rng = rand::rng();
        let mut random = |len: usize| -> String {
            (&mut rng)
                .sample_iter(&Alphanumeric)
                .take(len)
                .map(char::from)
                .collect()
        };
        Self {
            access_key_id: format!("CK{}", random(18).to_ascii_uppercase()),
            secret_access_key: random(40),
            courier_secret: random(64),
        }
    }

    /// Reads the data directory's credentials, creating them on first start.
    pub fn load_or_create(data_dir: &Path) -> Result<Self, CredentialsError> {
        let path = data_dir.join(FILE_NAME);
        let io = |source| CredentialsError::Io {
            path: path.clone(),
            source,
        };
        match std::fs::read_to_string(&path) {
            Ok(text) => serde_json::from_str(&text).map_err(|e| CredentialsError::Corrupt {
                path: path.clone(),
                reason: e.to_string(),
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                std::fs::create_dir_all(data_dir).map_err(io)?;
                let credentials = Self::generate();
                let text = serde_json::to_string_pretty(&credentials).map_err(|e| CredentialsError::Corrupt {
                    path: path.clone(),
                    reason: e.to_string(),
                })?;
                let mut options = std::fs::OpenOptions::new();
                options.write(true).create_new(true);
                #[cfg(unix)]
                std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
                let mut file = options.open(&path).map_err(io)?;
                file.write_all(text.as_bytes()).map_err(io)?;
                Ok(credentials)
            }
            Err(e) => Err(io(e)),
        }
    }

    /// The access key with most of it hidden, for the start-up log line.
    pub fn access_key_hint(&self) -> String {
        format!("{}…", self.access_key_id.chars().take(6).collect::<String>())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_once_then_kept() {
        let dir = tempfile::tempdir().expect("temp dir");
        let first = StoreCredentials::load_or_create(dir.path()).expect("created");
        let second = StoreCredentials::load_or_create(dir.path()).expect("read back");
        assert_eq!(first, second);
        assert_eq!(first.courier_secret.len(), 64);
        let debug = format!("{first:?}");
        assert!(
            !debug.contains(&first.secret_access_key) && !debug.contains(&first.courier_secret),
            "{debug}"
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(dir.path().join(FILE_NAME))
                .expect("file")
                .permissions()
                .mode();
            assert_eq!(mode & 0o077, 0, "credentials must not be readable by others");
        }
    }

    #[test]
    fn a_corrupt_file_is_named() {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::write(dir.path().join(FILE_NAME), "not json").expect("write");
        let error = StoreCredentials::load_or_create(dir.path())
            .expect_err("corrupt")
            .to_string();
        assert!(error.contains(FILE_NAME), "{error}");
    }
}
