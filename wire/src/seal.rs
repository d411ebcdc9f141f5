//! End-to-end encrypted files, as FORMAT.md defines them: the object's size
//! and parts (which Courier signs), and what the share's downloaders and
//! Courier exchange (`/s/<id>/e2e`). The cryptography itself is in the
//! browser (`public/seal.js`) and in `courier-format`, never here.

use serde::{Deserialize, Serialize};

/// A record's plaintext: the file is encrypted 64 KiB at a time.
pub const RECORD_SIZE: u64 = 65_536;
/// What AES-GCM adds to each record.
pub const TAG_SIZE: u64 = 16;
/// A whole record in the object.
pub const SEALED_RECORD_SIZE: u64 = RECORD_SIZE + TAG_SIZE;
/// The fewest records in a part (8,390,656 bytes: over S3's 5 MiB floor).
pub const MIN_RECORDS_PER_PART: u64 = 128;
/// The longest seal Courier keeps (its JSON, base64url): a seal holds a
/// 32-byte key, a salt and a few hundred bytes of sealed metadata.
pub const MAX_SEAL_LEN: usize = 1_536;

/// The name an encrypted file is stored under, and its type: its own are
/// only in its seal. Every client asks for these, and Courier writes them
/// whatever is asked.
pub const SEALED_NAME: &str = "encrypted";
pub const SEALED_TYPE: &str = crate::file_rules::UNKNOWN_TYPE;

/// The PBKDF2 iterations a seal may ask for: fewer would make the password
/// cheap to guess, more would keep a reader busy for hours (FORMAT.md).
pub const MIN_KDF_ITERATIONS: u32 = 100_000;
pub const MAX_KDF_ITERATIONS: u32 = 10_000_000;

/// Records in a file of `size` bytes (the last may be short; an empty file is one).
pub fn record_count(size: u64) -> u64 {
    size.div_ceil(RECORD_SIZE).max(1)
}

/// The object's size for a file of `size` bytes.
pub fn sealed_size(size: u64) -> u64 {
    size + TAG_SIZE * record_count(size)
}

/// The file's size for an object of `object_size` bytes, if it is one.
pub fn plain_size(object_size: u64) -> Option<u64> {
    let records = object_size.div_ceil(SEALED_RECORD_SIZE).max(1);
    let plain = object_size.checked_sub(TAG_SIZE * records)?;
    (sealed_size(plain) == object_size).then_some(plain)
}

/// Every part's size but the last one's, for an object of `object_size`
/// bytes: a whole number of records, at least 128, and no more than
/// 10,000 parts.
pub fn sealed_part_size(object_size: u64) -> u64 {
    let records = object_size.div_ceil(SEALED_RECORD_SIZE).max(1);
    let per_part = records.div_ceil(crate::multipart::MAX_PARTS).max(MIN_RECORDS_PER_PART);
    per_part * SEALED_RECORD_SIZE
}

/// Whether files may, must or cannot be encrypted in the browser
/// (`COURIER_ENCRYPTION`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Encryption {
    /// The person chooses ("Encrypt in this browser").
    #[default]
    Optional,
    /// Every file: the plain form, which cannot encrypt, is off.
    Always,
    /// No file: the choice is not offered, and seals are refused.
    Off,
}

impl Encryption {
    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "optional" => Some(Self::Optional),
            "always" => Some(Self::Always),
            "off" => Some(Self::Off),
            _ => None,
        }
    }
}

/// What part `number` (from 1) of an object cut in parts of `part_size`
/// holds of a file of `size` bytes: its first record, and the file's bytes
/// `start..end` it seals.
pub fn part_plaintext(number: u32, part_size: u64, size: u64) -> (u64, u64, u64) {
    let records_per_part = part_size / SEALED_RECORD_SIZE;
    let first_record = u64::from(number.saturating_sub(1)) * records_per_part;
    let start = (first_record * RECORD_SIZE).min(size);
    let end = ((first_record + records_per_part) * RECORD_SIZE).min(size);
    (first_record, start, end)
}

/// How a password is mixed into the keys.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Kdf {
    /// `PBKDF2-SHA256`.
    pub name: String,
    /// base64url, 16 bytes.
    pub salt: String,
    pub iterations: u32,
}

/// `GET /s/<id>/e2e`: what a downloader needs to open a share's files.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SealedShare {
    /// Signs a proof for two minutes.
    pub nonce: String,
    pub files: Vec<SealedFile>,
}

/// One encrypted file of a share, as its downloaders see it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SealedFile {
    pub number: u32,
    /// The object's size.
    pub size: u64,
    /// The sealed metadata (name, type and size).
    pub meta: String,
    pub kdf: Option<Kdf>,
}

/// `POST /s/<id>/<n>/e2e`: the proof that the reader holds the file's auth key.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyProof {
    pub nonce: String,
    /// base64url of HMAC-SHA256(auth key, nonce).
    pub proof: String,
}

/// The answer to a proof (and to a renewal): where to GET the object, for
/// 60 seconds, and what asks for a new URL of it once that one has expired,
/// for as long as this download may run (`POST /s/<id>/<n>/e2e/renew`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SealedDownload {
    pub url: String,
    /// RFC 3339, UTC.
    pub expires_at: String,
    /// Empty from a Courier that does not renew.
    #[serde(default)]
    pub renew: String,
}

/// A counted download asking for a new URL of its object.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DownloadRenewal {
    pub renew: String,
}

/// A refusal on the `e2e` routes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct E2eRefusal {
    pub error: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_file_has_a_final_record() {
        assert_eq!(sealed_size(0), 16);
        assert_eq!(sealed_size(1), 17);
        assert_eq!(sealed_size(RECORD_SIZE), RECORD_SIZE + 16);
        assert_eq!(sealed_size(RECORD_SIZE + 1), RECORD_SIZE + 1 + 32);
        for size in [
            0,
            1,
            100,
            RECORD_SIZE - 1,
            RECORD_SIZE,
            RECORD_SIZE + 1,
            3 * RECORD_SIZE + 5,
        ] {
            assert_eq!(plain_size(sealed_size(size)), Some(size), "{size}");
        }
        assert_eq!(plain_size(15), None);
        assert_eq!(plain_size(SEALED_RECORD_SIZE + 16), None);
    }

    #[test]
    fn parts_read_whole_records_of_the_file() {
        let size = 200 * RECORD_SIZE + 5;
        let part_size = sealed_part_size(sealed_size(size));
        assert_eq!(part_plaintext(1, part_size, size), (0, 0, 128 * RECORD_SIZE));
        assert_eq!(part_plaintext(2, part_size, size), (128, 128 * RECORD_SIZE, size));
        // Each part's plaintext seals to exactly the part's size.
        let object = sealed_size(size);
        let (_, start, end) = part_plaintext(1, part_size, size);
        assert_eq!((end - start) / RECORD_SIZE * SEALED_RECORD_SIZE, part_size);
        let (_, start, end) = part_plaintext(2, part_size, size);
        assert_eq!(sealed_size(end - start), object - part_size);
    }

    #[test]
    fn parts_hold_whole_records() {
        assert_eq!(sealed_part_size(16), 128 * SEALED_RECORD_SIZE);
        let huge = sealed_size(5 * 1024 * 1024 * 1024 * 1024 - 1024);
        let part = sealed_part_size(huge);
        assert_eq!(part % SEALED_RECORD_SIZE, 0);
        assert!(huge.div_ceil(part) <= crate::multipart::MAX_PARTS);
    }
}
