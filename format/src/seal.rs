//! The seal: what Courier keeps for an encrypted file, the auth key to
//! check proofs with and the sealed metadata (FORMAT.md, "The seal").

use serde::{Deserialize, Serialize};

use crate::b64;
use crate::keys::{Kdf, KdfError, Keys};

/// The one version.
pub const VERSION: u32 = 1;

/// A file's seal, decoded.
#[derive(Clone, PartialEq, Eq)]
pub struct Seal {
    pub auth: [u8; 32],
    /// The sealed metadata (`b64u(iv || ciphertext)`).
    pub meta: String,
    pub kdf: Option<Kdf>,
}

impl std::fmt::Debug for Seal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Seal")
            .field("auth", &"..")
            .field("meta", &self.meta)
            .field("kdf", &self.kdf)
            .finish()
    }
}

/// The JSON, its fields in FORMAT.md's order.
#[derive(Serialize, Deserialize)]
struct SealJson {
    v: u32,
    auth: String,
    meta: String,
    kdf: Option<wire::seal::Kdf>,
}

#[derive(Debug, thiserror::Error)]
pub enum SealError {
    #[error("The seal is not base64url of JSON in FORMAT.md's shape.")]
    Malformed,
    #[error("The seal is of version {0}, which this version of Courier does not know.")]
    UnknownVersion(u32),
    #[error("The seal's auth key is not 32 bytes of base64url.")]
    BadAuth,
    #[error(transparent)]
    Kdf(#[from] KdfError),
    /// Courier keeps seals of up to `wire::seal::MAX_SEAL_LEN` characters.
    #[error("The file's name is too long to be encrypted with it ({0} characters of seal, at most {max}). Rename the file shorter.", max = wire::seal::MAX_SEAL_LEN)]
    TooLong(usize),
}

impl Seal {
    /// The seal of a file with `keys`, its sealed metadata, and its `kdf`
    /// when it has a password.
    pub fn new(keys: &Keys, meta: String, kdf: Option<&Kdf>) -> Self {
        Self {
            auth: *keys.auth_key(),
            meta,
            kdf: kdf.cloned(),
        }
    }

    /// Its JSON, base64url: the `seal` argument of the sign calls.
    pub fn encode(&self) -> Result<String, SealError> {
        let json = SealJson {
            v: VERSION,
            auth: b64::encode(&self.auth),
            meta: self.meta.clone(),
            kdf: self.kdf.as_ref().map(Kdf::to_wire),
        };
        let json = serde_json::to_vec(&json).map_err(|_| SealError::Malformed)?;
        let encoded = b64::encode(&json);
        if encoded.len() > wire::seal::MAX_SEAL_LEN {
            return Err(SealError::TooLong(encoded.len()));
        }
        Ok(encoded)
    }

    pub fn decode(encoded: &str) -> Result<Self, SealError> {
        let json = b64::decode(encoded).ok_or(SealError::Malformed)?;
        let json: SealJson = serde_json::from_slice(&json).map_err(|_| SealError::Malformed)?;
        if json.v != VERSION {
            return Err(SealError::UnknownVersion(json.v));
        }
        Ok(Self {
            auth: b64::decode_array(&json.auth).ok_or(SealError::BadAuth)?,
            meta: json.meta,
            kdf: json.kdf.as_ref().map(Kdf::from_wire).transpose()?,
        })
    }

    /// Whether `proof` proves the auth key for `nonce`.
    pub fn verify_proof(&self, nonce: &str, proof: &str) -> bool {
        crate::proof::verify(&self.auth, nonce, proof)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::Secret;

    #[test]
    fn a_seal_is_json_in_formats_order_and_decodes_back() {
        let keys = Keys::derive(&Secret::from_bytes([8; 16]), None);
        let seal = Seal::new(&keys, "bWV0YQ".to_owned(), None);
        let encoded = seal.encode().expect("encodes");
        let json = String::from_utf8(b64::decode(&encoded).expect("b64u")).expect("UTF-8");
        assert_eq!(
            json,
            format!(
                r#"{{"v":1,"auth":"{}","meta":"bWV0YQ","kdf":null}}"#,
                b64::encode(keys.auth_key())
            )
        );
        assert_eq!(Seal::decode(&encoded).expect("decodes"), seal);

        let kdf = Kdf::new([1; 16], 600_000).expect("Courier's count");
        let with = Seal::new(&keys, "bWV0YQ".to_owned(), Some(&kdf))
            .encode()
            .expect("encodes");
        let json = String::from_utf8(b64::decode(&with).expect("b64u")).expect("UTF-8");
        assert!(
            json.ends_with(r#","kdf":{"name":"PBKDF2-SHA256","salt":"AQEBAQEBAQEBAQEBAQEBAQ","iterations":600000}}"#),
            "{json}"
        );
        assert_eq!(Seal::decode(&with).expect("decodes").kdf, Some(kdf));
    }

    #[test]
    fn a_seal_courier_did_not_write_is_refused() {
        let seal = |json: &str| Seal::decode(&b64::encode(json.as_bytes()));
        assert!(matches!(
            seal(r#"{"v":2,"auth":"","meta":"","kdf":null}"#),
            Err(SealError::UnknownVersion(2))
        ));
        assert!(matches!(
            seal(r#"{"v":1,"auth":"AAAA","meta":"","kdf":null}"#),
            Err(SealError::BadAuth)
        ));
        assert!(matches!(Seal::decode("{}"), Err(SealError::Malformed)));
        let too_long = Seal::new(
            &Keys::derive(&Secret::from_bytes([0; 16]), None),
            "m".repeat(2000),
            None,
        );
        assert!(matches!(too_long.encode(), Err(SealError::TooLong(_))));
    }
}
