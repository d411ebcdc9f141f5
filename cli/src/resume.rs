//! An unfinished multipart upload, remembered on disk: the next `send` of
//! the same unchanged file to the same Courier goes on from the parts the
//! store already holds instead of starting over.
//!
//! One small JSON file per upload (0600: it holds the file's secret),
//! named after what a rerun can know before it starts (the file's path,
//! the Courier, password or not, encrypted or not), so that a file changed
//! since is found, said, and started afresh. Inside is the rest of the
//! key (size, modification time) and what sending the missing parts needs:
//! the grant, and for an encrypted file its secret and seal (the seal
//! holds the password's salt, and sealing again from the secret gives the
//! same bytes: FORMAT.md, "Parts").

use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use courier_format::Secret;
use courier_format::keys::SECRET_LEN;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use wire::MultipartUpload;

/// The variable that names the directory (tests, or a machine's own place).
pub const STATE_DIR_VAR: &str = "COURIER_STATE_DIR";

/// Bumped when the file's shape changes; another version is not resumed.
const VERSION: u32 = 1;

/// Where unfinished uploads are kept: `COURIER_STATE_DIR`, else
/// `$XDG_STATE_HOME/courier/uploads`, else `~/.local/state/courier/uploads`.
pub fn state_dir(var: impl Fn(&str) -> Option<String>) -> Option<PathBuf> {
    let set = |name: &str| var(name).filter(|value| !value.is_empty()).map(PathBuf::from);
    set(STATE_DIR_VAR)
        .or_else(|| set("XDG_STATE_HOME").map(|state| state.join("courier/uploads")))
        .or_else(|| set("HOME").map(|home| home.join(".local/state/courier/uploads")))
}

/// What an upload is remembered by.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Identity {
    /// Canonical, so `./a` and `/home/me/a` are the same file.
    pub path: PathBuf,
    pub size: u64,
    /// Nanoseconds since 1970, where the file system keeps it.
    pub modified: Option<u64>,
    /// The Courier's address, without a trailing slash.
    pub courier: String,
    pub password: bool,
    pub encrypted: bool,
}

impl Identity {
    pub(crate) fn new(
        path: &Path,
        size: u64,
        modified: Option<SystemTime>,
        courier: &str,
        password: bool,
        encrypted: bool,
    ) -> Self {
        Self {
            path: fs::canonicalize(path).unwrap_or_else(|_| path.to_owned()),
            size,
            modified: modified
                .and_then(|time| time.duration_since(UNIX_EPOCH).ok())
                .and_then(|since| u64::try_from(since.as_nanos()).ok()),
            courier: courier.trim_end_matches('/').to_owned(),
            password,
            encrypted,
        }
    }

    /// The state file's name: what stays the same when the file changes.
    fn file_name(&self) -> String {
        let mut hash = Sha256::new();
        for part in [
            self.path.as_os_str().as_encoded_bytes(),
            self.courier.as_bytes(),
            &[u8::from(self.password), u8::from(self.encrypted)],
        ] {
            hash.update((part.len() as u64).to_be_bytes());
            hash.update(part);
        }
        format!("{}.json", &hex(&hash.finalize())[..32])
    }
}

/// One remembered upload.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Unfinished {
    pub version: u32,
    pub identity: Identity,
    pub upload: MultipartUpload,
    /// Until when Courier accepts the grant (RFC 3339); past it, a rerun
    /// is refused by `list_parts` and starts afresh.
    pub expires_at: String,
    /// An encrypted file's secret (base64url) and seal.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seal: Option<String>,
}

impl Unfinished {
    pub(crate) fn new(identity: Identity, upload: MultipartUpload, expires_at: String) -> Self {
        Self {
            version: VERSION,
            identity,
            upload,
            expires_at,
            secret: None,
            seal: None,
        }
    }

    pub(crate) fn sealed(mut self, secret: &Secret, seal: &str) -> Self {
        self.secret = Some(URL_SAFE_NO_PAD.encode(secret.as_bytes()));
        self.seal = Some(seal.to_owned());
        self
    }

    /// The encrypted file's secret, if it is one and the file holds it whole.
    pub(crate) fn secret(&self) -> Option<Secret> {
        let bytes = URL_SAFE_NO_PAD.decode(self.secret.as_deref()?).ok()?;
        <[u8; SECRET_LEN]>::try_from(bytes).ok().map(Secret::from_bytes)
    }
}

/// What the directory holds for a file.
#[derive(Debug)]
pub(crate) enum Found {
    Nothing,
    /// An upload of this very file, unchanged.
    Same(Unfinished),
    /// An upload of an earlier version of the file (or one this version of
    /// courier does not read): not to be resumed.
    Stale(Option<Unfinished>),
}

/// The directory of unfinished uploads.
#[derive(Clone, Debug)]
pub(crate) struct States {
    dir: PathBuf,
}

impl States {
    pub(crate) fn new(dir: PathBuf) -> Self {
        Self { dir }
    }

    pub(crate) fn path_of(&self, identity: &Identity) -> PathBuf {
        self.dir.join(identity.file_name())
    }

    pub(crate) fn find(&self, identity: &Identity) -> Found {
        let Ok(json) = fs::read(self.path_of(identity)) else {
            return Found::Nothing;
        };
        match serde_json::from_slice::<Unfinished>(&json) {
            Ok(then) if then.version == VERSION && then.identity == *identity => Found::Same(then),
            Ok(then) if then.version == VERSION => Found::Stale(Some(then)),
            _ => Found::Stale(None),
        }
    }

    /// Writes `unfinished` whole or not at all (a temporary file renamed),
    /// readable by its owner only.
    pub(crate) fn keep(&self, unfinished: &Unfinished) -> std::io::Result<PathBuf> {
        create_private_dir(&self.dir)?;
        let path = self.path_of(&unfinished.identity);
        // tempfile creates its files 0600.
        let mut file = tempfile::NamedTempFile::new_in(&self.dir)?;
        file.write_all(&serde_json::to_vec_pretty(unfinished).map_err(std::io::Error::other)?)?;
        file.as_file().sync_all()?;
        file.persist(&path).map_err(|error| error.error)?;
        Ok(path)
    }

    /// Forgets the upload of `identity` (done, or not to be resumed).
    pub(crate) fn forget(&self, identity: &Identity) {
        // Nothing there is fine: forgetting twice, or never kept.
        let _ = fs::remove_file(self.path_of(identity));
    }
}

fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn upload() -> MultipartUpload {
        MultipartUpload {
            key: "uploads/1/encrypted".to_owned(),
            upload_id: "id".to_owned(),
            size: 100,
            part_size: 10,
            token: "t".to_owned(),
        }
    }

    fn identity_of(path: &Path) -> Identity {
        let metadata = fs::metadata(path).expect("metadata");
        Identity::new(path, metadata.len(), metadata.modified().ok(), "http://c/", false, true)
    }

    #[test]
    fn the_state_dir_comes_from_the_environment() {
        let env = |pairs: &'static [(&str, &str)]| {
            move |name: &str| pairs.iter().find(|(n, _)| *n == name).map(|(_, v)| (*v).to_owned())
        };
        assert_eq!(
            state_dir(env(&[("COURIER_STATE_DIR", "/s"), ("HOME", "/h")])),
            Some(PathBuf::from("/s"))
        );
        assert_eq!(
            state_dir(env(&[("XDG_STATE_HOME", "/x"), ("HOME", "/h")])),
            Some(PathBuf::from("/x/courier/uploads"))
        );
        assert_eq!(
            state_dir(env(&[("XDG_STATE_HOME", ""), ("HOME", "/h")])),
            Some(PathBuf::from("/h/.local/state/courier/uploads"))
        );
        assert_eq!(state_dir(env(&[])), None);
    }

    #[test]
    fn an_upload_is_kept_privately_and_found_by_its_file() {
        let dir = tempfile::tempdir().expect("temp dir");
        let file = dir.path().join("big.bin");
        fs::write(&file, b"0123456789").expect("writes");
        let states = States::new(dir.path().join("state/uploads"));
        let identity = identity_of(&file);
        assert!(matches!(states.find(&identity), Found::Nothing));

        let secret = Secret::from_bytes([7; SECRET_LEN]);
        let kept =
            Unfinished::new(identity.clone(), upload(), "2026-12-06T13:00:00Z".to_owned()).sealed(&secret, "seal");
        let path = states.keep(&kept).expect("kept");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = |path: &Path| fs::metadata(path).expect("metadata").permissions().mode() & 0o777;
            assert_eq!(mode(&path), 0o600);
            assert_eq!(mode(&dir.path().join("state/uploads")), 0o700);
        }
        let Found::Same(found) = states.find(&identity) else {
            panic!("not found as the same upload")
        };
        assert_eq!(found, kept);
        assert_eq!(found.secret(), Some(secret));

        // Another Courier, another password setting, or plain: another upload.
        for other in [
            Identity {
                courier: "http://d".to_owned(),
                ..identity.clone()
            },
            Identity {
                password: true,
                ..identity.clone()
            },
            Identity {
                encrypted: false,
                ..identity.clone()
            },
        ] {
            assert!(matches!(states.find(&other), Found::Nothing), "{other:?}");
        }
        // The same file through another path is the same file.
        let relative = Identity::new(
            &dir.path().join("state/../big.bin"),
            identity.size,
            None,
            "http://c",
            false,
            true,
        );
        assert_eq!(relative.path, identity.path);

        states.forget(&identity);
        assert!(matches!(states.find(&identity), Found::Nothing));
        states.forget(&identity);
    }

    #[test]
    fn a_file_changed_since_is_not_resumed() {
        let dir = tempfile::tempdir().expect("temp dir");
        let file = dir.path().join("big.bin");
        fs::write(&file, b"0123456789").expect("writes");
        let states = States::new(dir.path().to_owned());
        let before = identity_of(&file);
        states
            .keep(&Unfinished::new(before.clone(), upload(), String::new()))
            .expect("kept");

        // One more byte; and the same size written later.
        let grown = Identity {
            size: before.size + 1,
            ..before.clone()
        };
        let touched = Identity {
            modified: before.modified.map(|m| m + 1_000_000_000),
            ..before.clone()
        };
        for now in [grown, touched] {
            match states.find(&now) {
                Found::Stale(Some(then)) => assert_eq!(then.identity, before),
                other => panic!("{other:?}"),
            }
        }
        // A damaged state file is not resumed either.
        fs::write(states.path_of(&before), b"{").expect("writes");
        assert!(matches!(states.find(&before), Found::Stale(None)));
    }
}
