//! What a share is: its id, its files and its rules, as the routes see them,
//! and as its sender sees it ([`ShareRecord`]). The id is parsed, not just
//! checked: [`ShareId::parse`] is the only way to make one from text. A
//! password is only ever its hash here, and no `Debug` prints even that.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use time::OffsetDateTime;

/// How long one counted download of an encrypted file may go on asking for
/// new URLs of its object (the share page fetches it in ranges, each URL
/// lasting a minute), and so how long after its last counted download a
/// share used up keeps such a file: [`SEALED_DOWNLOAD_GRACE`], plus the
/// object's time at [`SLOWEST_SEALED_DOWNLOAD`] bytes a second, at most
/// [`LONGEST_SEALED_DOWNLOAD`]. (The sweep's SQL, `sealed_window!`, says
/// the same in seconds.)
pub fn sealed_download_window(size: u64) -> std::time::Duration {
    let streaming = size / SLOWEST_SEALED_DOWNLOAD;
    std::time::Duration::from_secs(
        SEALED_DOWNLOAD_GRACE
            .saturating_add(streaming)
            .min(LONGEST_SEALED_DOWNLOAD),
    )
}
/// Seconds any encrypted download may take: 15 minutes.
pub const SEALED_DOWNLOAD_GRACE: u64 = 900;
/// The slowest download allowed for: 256 KiB/s.
pub const SLOWEST_SEALED_DOWNLOAD: u64 = 262_144;
/// The longest window, in seconds, whatever the size: a day.
pub const LONGEST_SEALED_DOWNLOAD: u64 = 86_400;

/// Random bytes in an id: 128 bits, as many as a v4 UUID's and then some.
const ID_BYTES: usize = 16;
/// `ID_BYTES` in URL-safe base64 without padding.
pub(crate) const ID_CHARS: usize = 22;

/// A share's id: 128 random bits, URL-safe base64 without padding (22 characters).
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub struct ShareId(String);

impl ShareId {
    /// A new id from the thread's CSPRNG (seeded from the operating system).
    pub fn random() -> Self {
        let bytes: [u8; ID_BYTES] = rand::random();
        Self(URL_SAFE_NO_PAD.encode(bytes))
    }

    /// The id if `text` is one (22 characters of URL-safe base64 that decode
    /// to 16 bytes, written the one way `random` writes them), else `None`.
    pub fn parse(text: &str) -> Option<Self> {
        if text.len() != ID_CHARS {
            return None;
        }
        // The engine refuses padding and non-zero trailing bits, so each id
        // has one spelling.
        let bytes = URL_SAFE_NO_PAD.decode(text).ok()?;
        (bytes.len() == ID_BYTES).then(|| Self(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl AsRef<str> for ShareId {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ShareId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A share to create: its confirmed files (at least one) and its rules.
/// Times are kept in whole seconds, UTC.
#[derive(Clone)]
pub struct NewShare {
    pub files: Vec<NewFile>,
    /// `None`: never expires.
    pub expires_at: Option<OffsetDateTime>,
    /// Downloads allowed for each file (at least 1); `None`: unlimited.
    pub max_downloads: Option<u32>,
    /// The password as an Argon2id PHC string (`$argon2id$…`) the caller
    /// made; `None`: no password. This crate never hashes.
    pub password_hash: Option<String>,
    pub created_at: OffsetDateTime,
}

/// The rules of a share [`combine`](crate::ShareDb::combine) makes, as in [`NewShare`].
#[derive(Clone, Default)]
pub struct NewRules {
    pub expires_at: Option<OffsetDateTime>,
    pub max_downloads: Option<u32>,
    /// An Argon2id PHC string, as in [`NewShare::password_hash`].
    pub password_hash: Option<String>,
}

/// A change of a share's rules by its sender: each field `None` keeps it.
#[derive(Clone, Default)]
pub struct RuleChange {
    /// `Some(None)`: never expires.
    pub expires_at: Option<Option<OffsetDateTime>>,
    /// `Some(None)`: unlimited; `Some(Some(0))` is refused.
    pub max_downloads: Option<Option<u32>>,
    pub password: PasswordChange,
}

/// What a [`RuleChange`] does to the password.
#[derive(Clone, Default)]
pub enum PasswordChange {
    #[default]
    Keep,
    Remove,
    /// A new password, as an Argon2id PHC string the caller made.
    Set(String),
}

/// One confirmed object in the store.
#[derive(Clone, Debug)]
pub struct NewFile {
    pub key: String,
    pub filename: String,
    pub content_type: String,
    pub size: u64,
    /// The seal of a file encrypted in its sender's browser (FORMAT.md);
    /// `None`: a plain file.
    pub seal: Option<String>,
}

/// A share that can be used, as stored.
#[derive(Clone, PartialEq, Eq)]
pub struct Share {
    pub id: ShareId,
    /// In the order they were given, each with its `index` (its number in the
    /// link, less one); a file its owner deleted leaves a gap.
    pub files: Vec<SharedFile>,
    pub expires_at: Option<OffsetDateTime>,
    pub max_downloads: Option<u32>,
    /// The Argon2id PHC string a download must match; `None`: no password.
    pub password_hash: Option<String>,
    pub created_at: OffsetDateTime,
}

/// One of a share's files, with its downloads so far.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SharedFile {
    pub index: usize,
    pub key: String,
    pub filename: String,
    pub content_type: String,
    pub size: u64,
    pub downloads: u32,
    /// When a download of it was last counted; `None`: never (or before
    /// Courier kept it).
    pub last_download_at: Option<OffsetDateTime>,
    /// As in [`NewFile::seal`].
    pub seal: Option<String>,
}

/// A share as its sender sees it, in any state: what the sender's page
/// shows and what a rule change returns. Whether it has a password, never
/// the hash.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ShareRecord {
    pub id: ShareId,
    pub files: Vec<SharedFile>,
    pub created_at: OffsetDateTime,
    pub expires_at: Option<OffsetDateTime>,
    pub max_downloads: Option<u32>,
    pub revoked_at: Option<OffsetDateTime>,
    /// When a sweep claimed it: its files are deleted (or being deleted).
    pub swept_at: Option<OffsetDateTime>,
    pub has_password: bool,
    /// Its state at the `now` it was read at; a sweep leaves it as it was.
    pub state: ShareState,
}

/// Whether a share can be used, and if not the first reason: revoked, then
/// expired, then every file's downloads used.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ShareState {
    Live,
    Expired,
    Revoked,
    LimitReached,
}

/// A share the sweep claimed, and the stored objects to delete for it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SweptShare {
    pub id: ShareId,
    /// In file order.
    pub keys: Vec<String>,
}

impl Share {
    /// Downloads left for file `index` (None: unlimited; `Some(0)` for a file
    /// the share does not have).
    pub fn downloads_left(&self, index: usize) -> Option<u32> {
        let max = self.max_downloads?;
        // By its index, not its place: a file taken out leaves a gap.
        let used = self
            .files
            .iter()
            .find(|file| file.index == index)
            .map_or(max, |file| file.downloads);
        Some(max.saturating_sub(used))
    }
}

/// Prints whether a password is set, never its hash: a derived `Debug`
/// would put the hash in logs, where it can be attacked offline.
struct Hidden<'a>(Option<&'a str>);

impl fmt::Debug for Hidden<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.0.is_some() { "<set>" } else { "None" })
    }
}

impl fmt::Debug for NewShare {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NewShare")
            .field("files", &self.files)
            .field("expires_at", &self.expires_at)
            .field("max_downloads", &self.max_downloads)
            .field("password_hash", &Hidden(self.password_hash.as_deref()))
            .field("created_at", &self.created_at)
            .finish()
    }
}

impl fmt::Debug for NewRules {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NewRules")
            .field("expires_at", &self.expires_at)
            .field("max_downloads", &self.max_downloads)
            .field("password_hash", &Hidden(self.password_hash.as_deref()))
            .finish()
    }
}

impl fmt::Debug for RuleChange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RuleChange")
            .field("expires_at", &self.expires_at)
            .field("max_downloads", &self.max_downloads)
            .field("password", &self.password)
            .finish()
    }
}

impl fmt::Debug for PasswordChange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Keep => f.write_str("Keep"),
            Self::Remove => f.write_str("Remove"),
            Self::Set(_) => f.write_str("Set(<set>)"),
        }
    }
}

impl fmt::Debug for Share {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Share")
            .field("id", &self.id)
            .field("files", &self.files)
            .field("expires_at", &self.expires_at)
            .field("max_downloads", &self.max_downloads)
            .field("password_hash", &Hidden(self.password_hash.as_deref()))
            .field("created_at", &self.created_at)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_encrypted_download_may_run_for_its_size_at_the_slowest_within_a_day() {
        let minutes = |m: u64| std::time::Duration::from_secs(m * 60);
        assert_eq!(sealed_download_window(0), minutes(15));
        assert_eq!(
            sealed_download_window(4 << 30),
            minutes(15) + std::time::Duration::from_secs(16_384)
        );
        assert_eq!(sealed_download_window(u64::MAX), minutes(24 * 60));
    }

    #[test]
    fn random_ids_parse_back_and_differ() {
        let id = ShareId::random();
        assert_eq!(id.as_str().len(), ID_CHARS);
        assert_eq!(ShareId::parse(id.as_str()), Some(id.clone()));
        assert_ne!(ShareId::random(), id);
    }

    #[test]
    fn anything_else_is_not_an_id() {
        let id = ShareId::random().to_string();
        let mut last_changed = id.clone();
        // The last character carries 2 bits of data and 4 that must be zero.
        last_changed.replace_range(21.., "B");
        for text in [
            "",
            &id[..21],
            &format!("{id}A"),
            &format!("{}==", &id[..20]),
            "aaaaaaaaaaaaaaaaaaaaa/",
            "aaaaaaaaaaaaaaaaaaaaa+",
            "aaaaaaaaaaaaaaaaaaaa%2",
            "' OR 1=1 --aaaaaaaaaaa",
            "ééééééééééé",
            &last_changed,
        ] {
            assert_eq!(ShareId::parse(text), None, "{text:?}");
        }
    }

    #[test]
    fn downloads_left_counts_per_file() {
        let file = |index, downloads| SharedFile {
            index,
            key: format!("files/{index}"),
            filename: "a.txt".into(),
            content_type: "text/plain".into(),
            size: 1,
            seal: None,
            downloads,
            last_download_at: None,
        };
        let mut share = Share {
            id: ShareId::random(),
            files: vec![file(0, 0), file(1, 3), file(2, 5)],
            expires_at: None,
            max_downloads: Some(3),
            password_hash: None,
            created_at: OffsetDateTime::UNIX_EPOCH,
        };
        assert_eq!(
            (0..4).map(|i| share.downloads_left(i)).collect::<Vec<_>>(),
            [Some(3), Some(0), Some(0), Some(0)]
        );
        share.max_downloads = None;
        assert_eq!(share.downloads_left(1), None);
    }

    #[test]
    fn debug_never_prints_a_password_hash() {
        let hash = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA";
        let share = Share {
            id: ShareId::random(),
            files: Vec::new(),
            expires_at: None,
            max_downloads: None,
            password_hash: Some(hash.into()),
            created_at: OffsetDateTime::UNIX_EPOCH,
        };
        let new = NewShare {
            files: Vec::new(),
            expires_at: None,
            max_downloads: None,
            password_hash: Some(hash.into()),
            created_at: OffsetDateTime::UNIX_EPOCH,
        };
        let rules = NewRules {
            password_hash: Some(hash.into()),
            ..NewRules::default()
        };
        let change = RuleChange {
            password: PasswordChange::Set(hash.into()),
            ..RuleChange::default()
        };
        for printed in [
            format!("{share:?}"),
            format!("{new:?}"),
            format!("{rules:?}"),
            format!("{change:?}"),
        ] {
            assert!(printed.contains("<set>") && !printed.contains("argon2"), "{printed}");
        }
        let without = Share {
            password_hash: None,
            ..share
        };
        assert!(format!("{without:?}").contains("password_hash: None"));
    }
}
