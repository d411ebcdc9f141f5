//! A large file goes up as an S3 multipart upload: the browser sends parts
//! straight to the store with presigned PUT URLs, and Courier starts,
//! completes or aborts the upload. These are what travel for it.

use serde::{Deserialize, Serialize};

/// S3's limits: at most 10,000 parts, each at least 5 MiB but the last.
pub const MAX_PARTS: u64 = 10_000;
/// The smallest part Courier cuts: fewer requests, and over S3's 5 MiB floor.
pub const MIN_PART_SIZE: u64 = 8 * 1024 * 1024;
/// S3's own limits: one object, and one POST.
pub const S3_MAX_OBJECT_BYTES: u64 = 5 * 1024 * 1024 * 1024 * 1024;
pub const S3_MAX_POST_BYTES: u64 = 5 * 1024 * 1024 * 1024;

/// The largest file that goes up in one POST: below the multipart
/// threshold (larger files go in parts), and never past S3's POST limit.
/// The plain form, which cannot send parts, takes files up to this.
pub fn largest_post(max_bytes: u64, multipart_threshold: u64) -> u64 {
    max_bytes.min(multipart_threshold).min(S3_MAX_POST_BYTES)
}

/// One multipart upload, as every call about it names it. The token binds
/// all the rest: changing the key, the upload id or a size voids it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MultipartUpload {
    pub key: String,
    pub upload_id: String,
    /// The whole file's size, as declared when the upload started.
    pub size: u64,
    /// Every part's size but the last one's (which holds the rest).
    pub part_size: u64,
    pub token: String,
}

impl MultipartUpload {
    /// How many parts the file is cut into.
    pub fn part_count(&self) -> u32 {
        part_count(self.size, self.part_size)
    }

    /// The size of part `number` (1-based), or `None` past the last part.
    pub fn part_len(&self, number: u32) -> Option<u64> {
        part_len(self.size, self.part_size, number)
    }
}

/// A started multipart upload: what to send it with, and until when the
/// token lets Courier sign parts for it, list, complete and abort it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MultipartGrant {
    pub upload: MultipartUpload,
    /// RFC 3339, UTC.
    pub expires_at: String,
}

/// A part to sign: its number and the base64 SHA-256 of its bytes, which
/// the URL signs and the store checks (`x-amz-checksum-sha256`). Courier
/// requires it unless `COURIER_PART_CHECKSUMS` is off.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartToSign {
    pub number: u32,
    pub sha256: Option<String>,
}

/// A presigned `UploadPart` PUT: send exactly `size` bytes, with the
/// `x-amz-checksum-sha256` it was signed for if one was given.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartUrl {
    pub number: u32,
    pub size: u64,
    pub url: String,
    /// RFC 3339, UTC: sign it again after this.
    pub expires_at: String,
}

/// A part the store holds.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredPart {
    pub number: u32,
    pub size: u64,
    pub etag: String,
    /// Its base64 SHA-256, where the store keeps part checksums.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
}

/// The part size for a file of `size` bytes: [`MIN_PART_SIZE`], or larger
/// (whole MiB) where that would need more than [`MAX_PARTS`] parts.
pub fn part_size_for(size: u64) -> u64 {
    const MIB: u64 = 1024 * 1024;
    let least = size.div_ceil(MAX_PARTS).div_ceil(MIB) * MIB;
    least.max(MIN_PART_SIZE)
}

fn part_count(size: u64, part_size: u64) -> u32 {
    if part_size == 0 {
        return 0;
    }
    u32::try_from(size.div_ceil(part_size)).unwrap_or(u32::MAX)
}

fn part_len(size: u64, part_size: u64, number: u32) -> Option<u64> {
    let count = part_count(size, part_size);
    if number == 0 || number > count {
        return None;
    }
    let start = u64::from(number - 1) * part_size;
    Some(part_size.min(size - start))
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIB: u64 = 1024 * 1024;

    #[test]
    fn parts_are_8_mib_until_10000_would_not_do() {
        assert_eq!(part_size_for(1), 8 * MIB);
        assert_eq!(part_size_for(80_000 * MIB), 8 * MIB);
        assert_eq!(part_size_for(80_000 * MIB + 1), 9 * MIB);
        let five_tib = 5 * 1024 * 1024 * MIB;
        let part = part_size_for(five_tib);
        assert!(five_tib.div_ceil(part) <= MAX_PARTS, "{part}");
        assert_eq!(part % MIB, 0);
    }

    #[test]
    fn one_post_takes_what_multipart_does_not() {
        assert_eq!(largest_post(S3_MAX_OBJECT_BYTES, 64 * MIB), 64 * MIB);
        assert_eq!(largest_post(MIB, 64 * MIB), MIB);
        assert_eq!(
            largest_post(S3_MAX_OBJECT_BYTES, S3_MAX_OBJECT_BYTES),
            S3_MAX_POST_BYTES
        );
    }

    #[test]
    fn the_last_part_holds_the_rest() {
        let upload = |size| MultipartUpload {
            key: String::new(),
            upload_id: String::new(),
            size,
            part_size: 8 * MIB,
            token: String::new(),
        };
        let odd = upload(20 * MIB + 3);
        assert_eq!(odd.part_count(), 3);
        assert_eq!(
            (1..=4).map(|n| odd.part_len(n)).collect::<Vec<_>>(),
            [Some(8 * MIB), Some(8 * MIB), Some(4 * MIB + 3), None]
        );
        assert_eq!(odd.part_len(0), None);
        let even = upload(16 * MIB);
        assert_eq!((even.part_count(), even.part_len(2)), (2, Some(8 * MIB)));
    }
}
