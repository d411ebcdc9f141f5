//! The file's name, type and size, sealed with the metadata key (FORMAT.md,
//! "The metadata"). Courier keeps it in the seal and never sees inside.

use aes_gcm::aead::Aead;
use aes_gcm::{Aes128Gcm, KeyInit, Nonce};
use serde::{Deserialize, Serialize};

use crate::b64;
use crate::keys::Keys;
use crate::random::{self, RandomError};

/// The IV's length, before the ciphertext.
pub const IV_LEN: usize = 12;
/// The JSON is padded to a multiple of this, so its length says little.
pub const PAD_BLOCK: usize = 256;
const TAG_LEN: usize = 16;

/// What the sender says of the file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Metadata {
    pub name: String,
    /// Its media type; may be empty.
    #[serde(rename = "type", default)]
    pub content_type: String,
    /// The file's size, before encryption.
    pub size: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum MetadataError {
    #[error(transparent)]
    Random(#[from] RandomError),
    #[error("The file's description could not be written as JSON ({0}).")]
    Encode(serde_json::Error),
    #[error("AES-GCM could not encrypt the file's description")]
    Cipher,
    /// The key is not the sender's: the link's or the password.
    #[error("The key or the password is wrong: the file's description does not open with it.")]
    WrongKey,
    #[error("The file's description is damaged: it is not base64url of an IV and a sealed text.")]
    Malformed,
    #[error("The file's description opened but is not what Courier writes ({0}).")]
    NotJson(serde_json::Error),
}

impl Metadata {
    /// The JSON, padded with spaces to a multiple of 256 bytes.
    pub fn padded_json(&self) -> Result<Vec<u8>, MetadataError> {
        let mut json = serde_json::to_vec(self).map_err(MetadataError::Encode)?;
        json.resize(json.len().next_multiple_of(PAD_BLOCK), b' ');
        Ok(json)
    }

    /// Sealed under a fresh IV.
    /// A file's metadata as a sender writes it (FORMAT.md, "The metadata"):
    /// a name over [`MAX_NAME_BYTES`] is cut, keeping its extension, and a
    /// type over [`MAX_TYPE_BYTES`] is left out, so the seal fits in the
    /// object's metadata.
    pub fn of_file(name: &str, content_type: &str, size: u64) -> Self {
        Self {
            name: short_name(name),
            content_type: if content_type.len() <= MAX_TYPE_BYTES {
                content_type.to_owned()
            } else {
                String::new()
            },
            size,
        }
    }

    pub fn seal(&self, keys: &Keys) -> Result<String, MetadataError> {
        self.seal_with_iv(keys, random::bytes()?)
    }

    /// Sealed under `iv`, which must never be used twice with the same key
    /// (the vectors fix it; everything else uses [`Metadata::seal`]).
    pub fn seal_with_iv(&self, keys: &Keys, iv: [u8; IV_LEN]) -> Result<String, MetadataError> {
        let cipher = Aes128Gcm::new(keys.metadata_key().into());
        let sealed = cipher
            .encrypt(Nonce::from_slice(&iv), self.padded_json()?.as_slice())
            .map_err(|_| MetadataError::Cipher)?;
        let mut out = Vec::with_capacity(IV_LEN + sealed.len());
        out.extend_from_slice(&iv);
        out.extend_from_slice(&sealed);
        Ok(b64::encode(&out))
    }

    /// Opens sealed metadata: a wrong key or password fails here first.
    pub fn open(sealed: &str, keys: &Keys) -> Result<Self, MetadataError> {
        let bytes = b64::decode(sealed).ok_or(MetadataError::Malformed)?;
        if bytes.len() < IV_LEN + TAG_LEN {
            return Err(MetadataError::Malformed);
        }
        let (iv, ciphertext) = bytes.split_at(IV_LEN);
        let cipher = Aes128Gcm::new(keys.metadata_key().into());
        let json = cipher
            .decrypt(Nonce::from_slice(iv), ciphertext)
            .map_err(|_| MetadataError::WrongKey)?;
        serde_json::from_slice(&json).map_err(MetadataError::NotJson)
    }
}

/// The longest name a sender writes, in UTF-8 bytes.
pub const MAX_NAME_BYTES: usize = 255;
/// The longest type a sender writes; a longer one is left out.
pub const MAX_TYPE_BYTES: usize = 127;

/// `name` cut to [`MAX_NAME_BYTES`], whole characters only, keeping an
/// extension of up to 16 bytes.
pub fn short_name(name: &str) -> String {
    if name.len() <= MAX_NAME_BYTES {
        return name.to_owned();
    }
    let extension = match name.rfind('.') {
        Some(dot) if dot > 0 && name.len() - dot <= 16 => &name[dot..],
        _ => "",
    };
    let stem = &name[..name.len() - extension.len()];
    let mut end = MAX_NAME_BYTES - extension.len();
    while !stem.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}{extension}", &stem[..end])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::Secret;

    fn metadata(name: &str) -> Metadata {
        Metadata {
            name: name.to_owned(),
            content_type: "application/pdf".to_owned(),
            size: 1_048_576,
        }
    }

    #[test]
    fn the_json_is_padded_to_256_bytes() {
        let json = metadata("report.pdf").padded_json().expect("JSON");
        assert_eq!(json.len(), 256);
        assert!(json.starts_with(br#"{"name":"report.pdf","type":"application/pdf","size":1048576} "#));
        let exact = "x".repeat(256 - r#"{"name":"","type":"application/pdf","size":1048576}"#.len());
        let len = |name: &str| metadata(name).padded_json().expect("JSON").len();
        assert_eq!(len(&exact), 256, "no block added to a whole one");
        assert_eq!(len(&format!("{exact}y")), 512);
    }

    #[test]
    fn it_opens_with_its_key_only() {
        let keys = Keys::derive(&Secret::from_bytes([5; 16]), None);
        let sealed = metadata("a \"quoted\" é.txt").seal(&keys).expect("seals");
        assert_eq!(
            Metadata::open(&sealed, &keys).expect("opens"),
            metadata("a \"quoted\" é.txt")
        );
        let other = Keys::derive(&Secret::from_bytes([6; 16]), None);
        assert!(matches!(Metadata::open(&sealed, &other), Err(MetadataError::WrongKey)));
        assert!(matches!(Metadata::open("AAAA", &keys), Err(MetadataError::Malformed)));
        assert!(matches!(
            Metadata::open("not base64!", &keys),
            Err(MetadataError::Malformed)
        ));
        assert_ne!(
            sealed,
            metadata("a \"quoted\" é.txt").seal(&keys).expect("seals"),
            "a fresh IV each time"
        );
    }

    #[test]
    fn a_long_name_is_cut_keeping_its_extension() {
        let long = format!("{}.pdf", "é".repeat(200));
        let short = short_name(&long);
        assert!(short.len() <= MAX_NAME_BYTES && short.ends_with(".pdf"), "{short}");
        // As the browser's shortName cuts it (end2end/format/seal.test.mjs).
        assert_eq!(short, format!("{}.pdf", "é".repeat(125)));
        assert_eq!(short_name("a.txt"), "a.txt");
        let meta = Metadata::of_file(&long, &"x".repeat(200), 5);
        assert_eq!((meta.name, meta.content_type.as_str()), (short, ""));
    }
}
