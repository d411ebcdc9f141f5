//! The object: the file cut into records of 64 KiB, each sealed on its own
//! under a nonce that says where it is and whether it is the last one
//! (FORMAT.md, "The object: records").

use aes_gcm::aead::AeadInPlace;
use aes_gcm::{Aes128Gcm, KeyInit, Nonce, Tag};

use crate::keys::Keys;

/// A record's plaintext, but the last one's.
pub const RECORD_SIZE: usize = wire::seal::RECORD_SIZE as usize;
/// What AES-GCM adds to each record.
pub const TAG_SIZE: usize = wire::seal::TAG_SIZE as usize;
/// A whole record in the object.
pub const SEALED_RECORD_SIZE: usize = wire::seal::SEALED_RECORD_SIZE as usize;

/// Records that do not fit the file they are said to be part of: a caller's
/// mistake, refused before anything is encrypted.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RecordsError {
    #[error(
        "{len} bytes from record {first_record} are not whole records of a file of {total_records} records, its last one included"
    )]
    Layout {
        first_record: u64,
        total_records: u64,
        len: usize,
    },
    #[error("AES-GCM could not encrypt a record")]
    Cipher,
}

/// Why an object does not open. None of them ever comes with a shorter file.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum OpenError {
    /// A record failed its tag: changed, moved, dropped, or a wrong key.
    #[error(
        "Part of the file (record {record}) does not open: it was damaged or changed on the way, or the key is wrong. Nothing was saved."
    )]
    Damaged { record: u64 },
    /// The object ends early: on a record sealed as not the last, or on a
    /// fragment too short to be one.
    #[error("The file ends early: its download was cut short or its end is missing. Nothing was saved.")]
    Truncated,
    /// Every record opened, but the file is not the size its metadata says.
    #[error("The file has {opened} bytes where its description says {expected}: it was changed. Nothing was saved.")]
    SizeMismatch { expected: u64, opened: u64 },
}

/// `nonce_i` of FORMAT.md: the content nonce XOR `00 00 00 || be64(i) || f_i`.
pub fn record_nonce(content_nonce: &[u8; 12], index: u64, last: bool) -> [u8; 12] {
    let mut nonce = *content_nonce;
    for (byte, mask) in nonce[3..11].iter_mut().zip(index.to_be_bytes()) {
        *byte ^= mask;
    }
    if last {
        nonce[11] ^= 1;
    }
    nonce
}

/// Seals `plaintext`, the bytes of records `first_record` onwards of a
/// file of `total_records` records: whole records, and where it reaches the
/// file's end, its last (short) record. A part is sealed on its own this
/// way, and the same bytes always seal the same.
pub fn seal_records(
    keys: &Keys,
    first_record: u64,
    total_records: u64,
    plaintext: &[u8],
) -> Result<Vec<u8>, RecordsError> {
    let layout = RecordsError::Layout {
        first_record,
        total_records,
        len: plaintext.len(),
    };
    // An empty plaintext is a record only as the whole of an empty file.
    let count = u64::try_from(plaintext.len().div_ceil(RECORD_SIZE).max(1)).map_err(|_| layout.clone())?;
    let end = first_record.checked_add(count).ok_or(layout.clone())?;
    let reaches_end = end == total_records;
    let whole = plaintext.len().is_multiple_of(RECORD_SIZE) && !plaintext.is_empty();
    if end > total_records || (!reaches_end && !whole) || (plaintext.is_empty() && total_records != 1) {
        return Err(layout);
    }

    let cipher = Aes128Gcm::new(keys.content_key().into());
    let mut object = Vec::with_capacity(plaintext.len() + TAG_SIZE * plaintext.len().div_ceil(RECORD_SIZE).max(1));
    let records: Vec<&[u8]> = if plaintext.is_empty() {
        vec![&[]]
    } else {
        plaintext.chunks(RECORD_SIZE).collect()
    };
    for (index, record) in (first_record..).zip(records) {
        let nonce = record_nonce(keys.content_nonce(), index, index + 1 == total_records);
        let start = object.len();
        object.extend_from_slice(record);
        let tag = cipher
            .encrypt_in_place_detached(Nonce::from_slice(&nonce), b"", &mut object[start..])
            .map_err(|_| RecordsError::Cipher)?;
        object.extend_from_slice(&tag);
    }
    Ok(object)
}

/// Opens a whole object in memory (tests, small files).
pub fn open_object(keys: &Keys, expected_size: u64, object: &[u8]) -> Result<Vec<u8>, OpenError> {
    let mut opener = Opener::new(keys, expected_size);
    let mut plaintext = Vec::new();
    opener.update(object, &mut plaintext)?;
    opener.finish(&mut plaintext)?;
    Ok(plaintext)
}

/// Opens an object as it arrives, in chunks of any size. A record is known
/// to be the last only when the object ends after it, so the last whole
/// record read is held back until more comes or [`Opener::finish`].
pub struct Opener {
    cipher: Aes128Gcm,
    content_nonce: [u8; 12],
    /// At most one whole record, not yet known not to be the last.
    pending: Vec<u8>,
    /// The next record's index.
    index: u64,
    opened: u64,
    expected: u64,
    /// Once refused, always refused: nothing more comes out.
    failed: Option<OpenError>,
}

impl Opener {
    /// For the object of a file of `expected_size` bytes (its metadata's).
    pub fn new(keys: &Keys, expected_size: u64) -> Self {
        Self {
            cipher: Aes128Gcm::new(keys.content_key().into()),
            content_nonce: *keys.content_nonce(),
            pending: Vec::with_capacity(SEALED_RECORD_SIZE),
            index: 0,
            opened: 0,
            expected: expected_size,
            failed: None,
        }
    }

    /// The plaintext bytes given out so far.
    pub fn opened(&self) -> u64 {
        self.opened
    }

    /// Takes the next bytes of the object, and appends to `out` the
    /// plaintext of every record they complete (but the held-back one).
    pub fn update(&mut self, mut chunk: &[u8], out: &mut Vec<u8>) -> Result<(), OpenError> {
        self.check()?;
        loop {
            if self.pending.len() == SEALED_RECORD_SIZE && !chunk.is_empty() {
                // More follows, so the held record is not the last.
                let record = std::mem::take(&mut self.pending);
                let opened = self.open(&record, false, out);
                self.pending = record;
                self.pending.clear();
                opened?;
            }
            if chunk.is_empty() {
                return Ok(());
            }
            if self.pending.is_empty() && chunk.len() > SEALED_RECORD_SIZE {
                let (record, rest) = chunk.split_at(SEALED_RECORD_SIZE);
                self.open(record, false, out)?;
                chunk = rest;
                continue;
            }
            let take = (SEALED_RECORD_SIZE - self.pending.len()).min(chunk.len());
            let (head, rest) = chunk.split_at(take);
            self.pending.extend_from_slice(head);
            chunk = rest;
        }
    }

    /// The object has ended: opens what is held back as the last record,
    /// and checks the whole. Returns the file's size.
    pub fn finish(mut self, out: &mut Vec<u8>) -> Result<u64, OpenError> {
        self.check()?;
        let record = std::mem::take(&mut self.pending);
        let one_empty_record = self.index == 0 && record.len() == TAG_SIZE;
        if record.len() < TAG_SIZE || (record.len() == TAG_SIZE && !one_empty_record) {
            return Err(OpenError::Truncated);
        }
        let start = out.len();
        if let Err(error) = self.open(&record, true, out) {
            // A whole record that opens as not the last: the object was cut
            // at a record boundary.
            if record.len() == SEALED_RECORD_SIZE {
                let mut scratch = Vec::with_capacity(RECORD_SIZE);
                self.failed = None;
                if self.open(&record, false, &mut scratch).is_ok() {
                    out.truncate(start);
                    return Err(OpenError::Truncated);
                }
            }
            return Err(error);
        }
        if self.opened != self.expected {
            out.truncate(start);
            return Err(OpenError::SizeMismatch {
                expected: self.expected,
                opened: self.opened,
            });
        }
        Ok(self.opened)
    }

    fn check(&self) -> Result<(), OpenError> {
        match &self.failed {
            Some(error) => Err(error.clone()),
            None => Ok(()),
        }
    }

    /// Opens one sealed record onto `out`, or leaves `out` as it was.
    fn open(&mut self, record: &[u8], last: bool, out: &mut Vec<u8>) -> Result<(), OpenError> {
        let result = self.open_record(record, last, out);
        if let Err(error) = &result {
            self.failed = Some(error.clone());
        }
        result
    }

    fn open_record(&mut self, record: &[u8], last: bool, out: &mut Vec<u8>) -> Result<(), OpenError> {
        let (body, tag) = record.split_at(record.len() - TAG_SIZE);
        let nonce = record_nonce(&self.content_nonce, self.index, last);
        let start = out.len();
        out.extend_from_slice(body);
        let opened = self.cipher.decrypt_in_place_detached(
            Nonce::from_slice(&nonce),
            b"",
            &mut out[start..],
            Tag::from_slice(tag),
        );
        if opened.is_err() {
            out.truncate(start);
            return Err(OpenError::Damaged { record: self.index });
        }
        let opened = self.opened + body.len() as u64;
        // Never hand out more than the metadata says the file holds.
        if opened > self.expected {
            out.truncate(start);
            return Err(OpenError::SizeMismatch {
                expected: self.expected,
                opened,
            });
        }
        self.opened = opened;
        self.index += 1;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::Secret;

    fn keys() -> Keys {
        Keys::derive(&Secret::from_bytes([9; 16]), None)
    }

    #[test]
    fn a_nonce_says_where_the_record_is_and_whether_it_is_last() {
        let base = [0xff; 12];
        let nonce = record_nonce(&base, 0x0102, true);
        assert_eq!(
            nonce,
            [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe, 0xfd, 0xfe]
        );
        assert_eq!(record_nonce(&base, 0, false), base);
    }

    #[test]
    fn only_whole_records_are_sealed() {
        let keys = keys();
        let layout = |first, total, len| {
            matches!(
                seal_records(&keys, first, total, &vec![0; len]),
                Err(RecordsError::Layout { .. })
            )
        };
        assert!(layout(0, 2, RECORD_SIZE + 1 + RECORD_SIZE));
        assert!(layout(0, 2, 10), "a short record that is not the last");
        assert!(layout(0, 2, 0), "an empty record in a longer file");
        assert!(layout(2, 2, 1), "past the last record");
        assert!(!layout(1, 2, 10));
        assert!(!layout(0, 2, RECORD_SIZE));
        assert!(!layout(0, 1, 0));
        assert_eq!(seal_records(&keys, 0, 1, b"").map(|o| o.len()), Ok(16));
    }

    #[test]
    fn any_chunking_opens_the_same() {
        let keys = keys();
        let plaintext: Vec<u8> = (0..2 * RECORD_SIZE + 100).map(|i| (i % 251) as u8).collect();
        let object = seal_records(&keys, 0, 3, &plaintext).expect("seals");
        for chunk in [
            1,
            15,
            16,
            17,
            4096,
            SEALED_RECORD_SIZE - 1,
            SEALED_RECORD_SIZE,
            SEALED_RECORD_SIZE + 1,
            object.len(),
        ] {
            let mut opener = Opener::new(&keys, plaintext.len() as u64);
            let mut out = Vec::new();
            for piece in object.chunks(chunk) {
                opener.update(piece, &mut out).expect("opens");
                assert!(out.len() <= plaintext.len());
            }
            assert_eq!(opener.finish(&mut out), Ok(plaintext.len() as u64));
            assert!(out == plaintext, "chunks of {chunk}");
        }
    }

    #[test]
    fn once_refused_nothing_more_comes_out() {
        let keys = keys();
        let plaintext = vec![1; 3 * RECORD_SIZE];
        let mut object = seal_records(&keys, 0, 3, &plaintext).expect("seals");
        object[10] ^= 1;
        let mut opener = Opener::new(&keys, plaintext.len() as u64);
        let mut out = Vec::new();
        let refused = Err(OpenError::Damaged { record: 0 });
        assert_eq!(opener.update(&object, &mut out), refused);
        assert_eq!(opener.update(&object, &mut out), refused);
        assert_eq!(opener.finish(&mut out).map(|_| ()), refused);
        assert!(out.is_empty());
    }
}
