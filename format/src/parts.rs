//! A large object goes to the store in parts of whole records, each sealed
//! on its own (FORMAT.md, "Parts"). The sizes are the wire's, which
//! Courier signs with.

use std::ops::Range;

use wire::seal::{RECORD_SIZE, SEALED_RECORD_SIZE, record_count, sealed_part_size, sealed_size};

use crate::keys::Keys;
use crate::records::{RecordsError, seal_records};

/// A file's records and parts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Layout {
    size: u64,
    records: u64,
    records_per_part: u64,
}

/// A part size that cuts records in two.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("Courier asked for parts of {0} bytes, which is not a whole number of records: it does not speak this format.")]
pub struct PartSizeError(pub u64);

/// One part: its number (from 1), its records, and where it is in the file
/// and in the object.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Part {
    pub number: u32,
    pub first_record: u64,
    pub records: u64,
    pub plain: Range<u64>,
    pub object: Range<u64>,
}

impl Part {
    /// Its plaintext's length.
    pub fn plain_len(&self) -> u64 {
        self.plain.end - self.plain.start
    }

    /// Its object bytes' length: what the store is told.
    pub fn object_len(&self) -> u64 {
        self.object.end - self.object.start
    }
}

impl Layout {
    /// A file of `size` bytes, cut into FORMAT.md's parts.
    pub fn new(size: u64) -> Self {
        let records_per_part = sealed_part_size(sealed_size(size)) / SEALED_RECORD_SIZE;
        Self {
            size,
            records: record_count(size),
            records_per_part,
        }
    }

    /// The same file cut as a multipart upload's `part_size` says.
    pub fn with_part_size(size: u64, part_size: u64) -> Result<Self, PartSizeError> {
        if part_size == 0 || !part_size.is_multiple_of(SEALED_RECORD_SIZE) {
            return Err(PartSizeError(part_size));
        }
        Ok(Self {
            size,
            records: record_count(size),
            records_per_part: part_size / SEALED_RECORD_SIZE,
        })
    }

    /// The file's size.
    pub fn size(&self) -> u64 {
        self.size
    }

    pub fn records(&self) -> u64 {
        self.records
    }

    pub fn object_size(&self) -> u64 {
        sealed_size(self.size)
    }

    /// Every part's object size but the last one's.
    pub fn part_size(&self) -> u64 {
        self.records_per_part * SEALED_RECORD_SIZE
    }

    pub fn part_count(&self) -> u32 {
        u32::try_from(self.records.div_ceil(self.records_per_part)).unwrap_or(u32::MAX)
    }

    /// Part `number` (from 1), or `None` past the last.
    pub fn part(&self, number: u32) -> Option<Part> {
        if number == 0 || number > self.part_count() {
            return None;
        }
        let first_record = u64::from(number - 1) * self.records_per_part;
        let end_record = (first_record + self.records_per_part).min(self.records);
        Some(Part {
            number,
            first_record,
            records: end_record - first_record,
            plain: (first_record * RECORD_SIZE).min(self.size)..(end_record * RECORD_SIZE).min(self.size),
            object: first_record * SEALED_RECORD_SIZE..(end_record * SEALED_RECORD_SIZE).min(self.object_size()),
        })
    }

    /// Every part, in order.
    pub fn parts(&self) -> impl Iterator<Item = Part> + '_ {
        (1..=self.part_count()).filter_map(|number| self.part(number))
    }

    /// Seals `part` from its plaintext: the same bytes always give the
    /// same part, so a part sent again is byte-identical.
    pub fn seal_part(&self, keys: &Keys, part: &Part, plaintext: &[u8]) -> Result<Vec<u8>, RecordsError> {
        if plaintext.len() as u64 != part.plain_len() {
            return Err(RecordsError::Layout {
                first_record: part.first_record,
                total_records: self.records,
                len: plaintext.len(),
            });
        }
        seal_records(keys, part.first_record, self.records, plaintext)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::Secret;

    #[test]
    fn parts_cut_the_file_and_the_object_at_the_same_records() {
        let size = 129 * RECORD_SIZE + 1000;
        let layout = Layout::new(size);
        assert_eq!((layout.records(), layout.part_count()), (130, 2));
        assert_eq!(layout.part_size(), 8_390_656);
        let parts: Vec<Part> = layout.parts().collect();
        assert_eq!(parts[0].plain, 0..128 * RECORD_SIZE);
        assert_eq!(parts[1].plain, 128 * RECORD_SIZE..size);
        assert_eq!(parts[1].object, 128 * SEALED_RECORD_SIZE..layout.object_size());
        assert_eq!(parts.iter().map(Part::object_len).sum::<u64>(), layout.object_size());
        assert_eq!(layout.part(3), None);
        assert_eq!(layout.part(0), None);
        let empty = Layout::new(0);
        assert_eq!(empty.part(1).map(|p| (p.plain, p.object)), Some((0..0, 0..16)));
    }

    #[test]
    fn a_part_sealed_twice_is_the_same_and_matches_the_whole() {
        let keys = Keys::derive(&Secret::from_bytes([4; 16]), None);
        let layout = Layout::with_part_size(5 * RECORD_SIZE + 7, 2 * SEALED_RECORD_SIZE).expect("whole records");
        let file: Vec<u8> = (0..layout.size()).map(|i| (i % 251) as u8).collect();
        let whole = seal_records(&keys, 0, layout.records(), &file).expect("seals");
        let mut joined = Vec::new();
        for part in layout.parts() {
            let plain = &file[part.plain.start as usize..part.plain.end as usize];
            let sealed = layout.seal_part(&keys, &part, plain).expect("seals");
            assert_eq!(sealed, layout.seal_part(&keys, &part, plain).expect("seals"));
            assert_eq!(sealed.len() as u64, part.object_len());
            joined.extend(sealed);
        }
        assert_eq!(layout.part_count(), 3);
        assert!(joined == whole);
        assert_eq!(Layout::with_part_size(1, 1000), Err(PartSizeError(1000)));
    }
}
