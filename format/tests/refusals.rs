//! An object or a key that is not the sender's is refused with its own
//! error, and never opens as a shorter file.

use courier_format::keys::MIN_KDF_ITERATIONS;
use courier_format::{Kdf, Keys, Metadata, MetadataError, OpenError, Secret, open_object, seal_records};

const RECORD: usize = 65_536;
const SEALED: usize = RECORD + 16;
/// 3·65,536 + 5 bytes: three whole records and a short last one.
const SIZE: usize = 3 * RECORD + 5;

fn file(size: usize) -> Vec<u8> {
    (0..size).map(|i| (i % 251) as u8).collect()
}

fn keys() -> Keys {
    Keys::derive(&Secret::from_bytes([0x42; 16]), None)
}

fn object(size: usize) -> Vec<u8> {
    let records = size.div_ceil(RECORD).max(1) as u64;
    seal_records(&keys(), 0, records, &file(size)).expect("seals")
}

fn open(object: &[u8], size: usize) -> Result<Vec<u8>, OpenError> {
    open_object(&keys(), size as u64, object)
}

#[test]
fn the_object_opens_as_it_was_sealed() {
    assert!(open(&object(SIZE), SIZE).expect("opens") == file(SIZE));
}

#[test]
fn a_changed_byte_fails_its_record() {
    for (at, record) in [
        (0, 0),
        (SEALED + 5, 1),
        (3 * SEALED + 2, 3),
        (object(SIZE).len() - 1, 3),
    ] {
        let mut damaged = object(SIZE);
        damaged[at] ^= 0x01;
        assert_eq!(open(&damaged, SIZE), Err(OpenError::Damaged { record }), "byte {at}");
    }
}

#[test]
fn a_dropped_record_fails_the_next_one() {
    let mut dropped = object(SIZE);
    dropped.drain(SEALED..2 * SEALED);
    assert_eq!(open(&dropped, SIZE), Err(OpenError::Damaged { record: 1 }));
}

#[test]
fn swapped_records_fail() {
    let whole = object(SIZE);
    let mut swapped = Vec::new();
    swapped.extend_from_slice(&whole[SEALED..2 * SEALED]);
    swapped.extend_from_slice(&whole[..SEALED]);
    swapped.extend_from_slice(&whole[2 * SEALED..]);
    assert_eq!(open(&swapped, SIZE), Err(OpenError::Damaged { record: 0 }));
}

#[test]
fn a_repeated_record_fails() {
    let whole = object(SIZE);
    let mut repeated = whole[..SEALED].to_vec();
    repeated.extend_from_slice(&whole);
    assert_eq!(open(&repeated, SIZE), Err(OpenError::Damaged { record: 1 }));
}

#[test]
fn an_object_without_its_final_record_is_truncated() {
    let whole = object(SIZE);
    assert_eq!(open(&whole[..3 * SEALED], SIZE), Err(OpenError::Truncated));
}

#[test]
fn an_object_cut_at_any_record_boundary_is_truncated() {
    let size = 3 * RECORD;
    let whole = object(size);
    for records in 1..3 {
        assert_eq!(
            open(&whole[..records * SEALED], size),
            Err(OpenError::Truncated),
            "{records} records"
        );
    }
}

#[test]
fn a_final_record_cut_short_is_refused() {
    let whole = object(SIZE);
    // 21 bytes of final record: 18 left fail their tag, 16 or fewer are too short for one.
    assert_eq!(
        open(&whole[..whole.len() - 3], SIZE),
        Err(OpenError::Damaged { record: 3 })
    );
    assert_eq!(open(&whole[..whole.len() - 5], SIZE), Err(OpenError::Truncated));
    assert_eq!(open(&whole[..whole.len() - 20], SIZE), Err(OpenError::Truncated));
}

#[test]
fn no_cut_of_an_object_ever_opens() {
    let whole = object(SIZE);
    let cuts =
        (0..whole.len())
            .step_by(997)
            .chain([1, 15, 16, 17, SEALED - 1, SEALED, SEALED + 1, SEALED + 16, SEALED + 17]);
    for cut in cuts {
        assert!(open(&whole[..cut], SIZE).is_err(), "cut at {cut}");
        // Even told the shorter size, a cut object does not open.
        let plain = cut.saturating_sub(16 * cut.div_ceil(SEALED));
        assert!(open(&whole[..cut], plain).is_err(), "cut at {cut}, told {plain}");
    }
}

#[test]
fn an_empty_object_and_a_bare_fragment_are_truncated() {
    assert_eq!(open(&[], 0), Err(OpenError::Truncated));
    assert_eq!(open(&object(0)[..15], 0), Err(OpenError::Truncated));
    assert_eq!(open(&object(0), 0), Ok(Vec::new()));
    let mut trailing = object(0);
    trailing.push(0);
    assert_eq!(open(&trailing, 0), Err(OpenError::Damaged { record: 0 }));
}

#[test]
fn a_size_other_than_the_metadatas_is_refused() {
    let whole = object(SIZE);
    let mismatch = |expected: usize, opened| {
        Err(OpenError::SizeMismatch {
            expected: expected as u64,
            opened,
        })
    };
    assert_eq!(open(&whole, SIZE + 1), mismatch(SIZE + 1, SIZE as u64));
    // Told fewer bytes, the opener stops at the first record past them.
    assert_eq!(open(&whole, SIZE - 1), mismatch(SIZE - 1, SIZE as u64));
    assert_eq!(open(&whole, 10), mismatch(10, RECORD as u64));
}

#[test]
fn a_wrong_secret_opens_neither_metadata_nor_object() {
    let metadata = Metadata {
        name: "a.txt".to_owned(),
        content_type: String::new(),
        size: SIZE as u64,
    };
    let sealed = metadata.seal(&keys()).expect("seals");
    let wrong = Keys::derive(&Secret::from_bytes([0x43; 16]), None);
    assert!(matches!(Metadata::open(&sealed, &wrong), Err(MetadataError::WrongKey)));
    assert_eq!(
        open_object(&wrong, SIZE as u64, &object(SIZE)),
        Err(OpenError::Damaged { record: 0 })
    );
}

#[test]
fn a_wrong_password_opens_nothing() {
    let secret = Secret::from_bytes([0x42; 16]);
    let kdf = Kdf::new([7; 16], MIN_KDF_ITERATIONS).expect("enough iterations");
    let keys = Keys::derive(&secret, Some(("hunter2", &kdf)));
    let metadata = Metadata {
        name: "a.txt".to_owned(),
        content_type: String::new(),
        size: 3,
    };
    let sealed = metadata.seal(&keys).expect("seals");
    let object = seal_records(&keys, 0, 1, b"abc").expect("seals");
    for wrong in [
        Keys::derive(&secret, Some(("hunter3", &kdf))),
        Keys::derive(&secret, Some(("", &kdf))),
        Keys::derive(&secret, None),
    ] {
        assert!(matches!(Metadata::open(&sealed, &wrong), Err(MetadataError::WrongKey)));
        assert_eq!(open_object(&wrong, 3, &object), Err(OpenError::Damaged { record: 0 }));
    }
    assert_eq!(Metadata::open(&sealed, &keys).expect("opens"), metadata);
}
