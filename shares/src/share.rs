//! What a share is: its id, its files and its rules, as the routes see them.
//! The id is parsed, not just checked, so a malformed one never reaches the
//! database: [`ShareId::parse`] is the only way to make one from text.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use time::OffsetDateTime;

/// Random bytes in an id: 128 bits, as many as a v4 UUID's and then some.
const ID_BYTES: usize = 16;
/// `ID_BYTES` in URL-safe base64 without padding.
const ID_CHARS: usize = 22;

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

impl fmt::Display for ShareId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A share to create: its confirmed files (at least one) and its rules.
/// Times are kept in whole seconds, UTC.
#[derive(Clone, Debug)]
pub struct NewShare {
    pub files: Vec<NewFile>,
    /// `None`: never expires.
    pub expires_at: Option<OffsetDateTime>,
    /// Downloads allowed for each file (at least 1); `None`: unlimited.
    pub max_downloads: Option<u32>,
    pub created_at: OffsetDateTime,
}

/// One confirmed object in the store.
#[derive(Clone, Debug)]
pub struct NewFile {
    pub key: String,
    pub filename: String,
    pub content_type: String,
    pub size: u64,
}

/// A share that can be used, as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Share {
    pub id: ShareId,
    /// In the order they were given: `files[i].index == i`.
    pub files: Vec<SharedFile>,
    pub expires_at: Option<OffsetDateTime>,
    pub max_downloads: Option<u32>,
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
}

impl Share {
    /// Downloads left for file `index` (None: unlimited; `Some(0)` for a file
    /// the share does not have).
    pub fn downloads_left(&self, index: usize) -> Option<u32> {
        let max = self.max_downloads?;
        let used = self.files.get(index).map_or(max, |file| file.downloads);
        Some(max.saturating_sub(used))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
            downloads,
        };
        let mut share = Share {
            id: ShareId::random(),
            files: vec![file(0, 0), file(1, 3), file(2, 5)],
            expires_at: None,
            max_downloads: Some(3),
            created_at: OffsetDateTime::UNIX_EPOCH,
        };
        assert_eq!(
            (0..4).map(|i| share.downloads_left(i)).collect::<Vec<_>>(),
            [Some(3), Some(0), Some(0), Some(0)]
        );
        share.max_downloads = None;
        assert_eq!(share.downloads_left(1), None);
    }
}
