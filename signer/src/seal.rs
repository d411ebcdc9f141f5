//! Files encrypted in the sender's browser (FORMAT.md): Courier never sees
//! their key, only their seal, which it checks the shape of, carries with
//! the object (`x-amz-meta-courier-seal`) and keeps with the share. What it
//! does with it: check a downloader's proof that it holds the file's auth
//! key, against a nonce Courier signed.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as BASE64URL;
use hmac::{Hmac, Mac as _};
use serde::Deserialize;
use sha2::Sha256;
use time::OffsetDateTime;
use wire::seal::{Kdf, MAX_KDF_ITERATIONS, MAX_SEAL_LEN, MIN_KDF_ITERATIONS, SealedFile};

use crate::Signer;
use crate::token::{TokenScope, UploadToken, download_subject, nonce_subject};

/// The object metadata that carries a file's seal.
pub const SEAL_METADATA: &str = "courier-seal";
/// The POST form field that sets it.
pub(crate) const SEAL_METADATA_FIELD: &str = "x-amz-meta-courier-seal";
pub use wire::seal::{SEALED_NAME, SEALED_TYPE};

/// How long a nonce signs a proof.
pub const NONCE_TTL: std::time::Duration = std::time::Duration::from_secs(120);

/// A seal that checked out: its text as the sender made it, and the parts
/// Courier uses.
#[derive(Clone, PartialEq, Eq)]
pub struct Seal {
    text: String,
    auth: [u8; 32],
    meta: String,
    kdf: Option<Kdf>,
}

/// Why a seal was refused (the upload is refused with it).
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum BadSeal {
    #[error("is longer than {MAX_SEAL_LEN} characters")]
    TooLong,
    #[error("is not base64url JSON")]
    NotJson,
    #[error("is not version 1")]
    Version,
    #[error("has no 32-byte auth key")]
    Auth,
    #[error("has no sealed metadata")]
    Meta,
    #[error("asks for an unknown password derivation, or too few or too many iterations")]
    Kdf,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SealJson {
    v: u32,
    auth: String,
    meta: String,
    kdf: Option<Kdf>,
}

impl Seal {
    pub fn parse(text: &str) -> Result<Self, BadSeal> {
        if text.len() > MAX_SEAL_LEN {
            return Err(BadSeal::TooLong);
        }
        let json = BASE64URL.decode(text).map_err(|_| BadSeal::NotJson)?;
        let seal: SealJson = serde_json::from_slice(&json).map_err(|_| BadSeal::NotJson)?;
        if seal.v != 1 {
            return Err(BadSeal::Version);
        }
        let auth: [u8; 32] = BASE64URL
            .decode(&seal.auth)
            .ok()
            .and_then(|auth| auth.try_into().ok())
            .ok_or(BadSeal::Auth)?;
        // An IV, a tag and at least 256 bytes of padded JSON.
        let meta_ok = BASE64URL
            .decode(&seal.meta)
            .is_ok_and(|meta| meta.len() >= 12 + 16 + 256);
        if !meta_ok {
            return Err(BadSeal::Meta);
        }
        if let Some(kdf) = &seal.kdf {
            let salt_ok = BASE64URL.decode(&kdf.salt).is_ok_and(|salt| salt.len() == 16);
            if kdf.name != "PBKDF2-SHA256"
                || !salt_ok
                || !(MIN_KDF_ITERATIONS..=MAX_KDF_ITERATIONS).contains(&kdf.iterations)
            {
                return Err(BadSeal::Kdf);
            }
        }
        Ok(Self {
            text: text.to_owned(),
            auth,
            meta: seal.meta,
            kdf: seal.kdf,
        })
    }

    /// The seal as the sender made it (what is stored).
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// What a downloader of file `number` (an object of `size` bytes) gets:
    /// everything but the auth key.
    pub fn view(&self, number: u32, size: u64) -> SealedFile {
        SealedFile {
            number,
            size,
            meta: self.meta.clone(),
            kdf: self.kdf.clone(),
        }
    }

    /// Whether `proof` is the HMAC of `nonce` under this file's auth key
    /// (compared in constant time).
    pub fn proves(&self, nonce: &str, proof: &str) -> bool {
        let Ok(proof) = BASE64URL.decode(proof) else {
            return false;
        };
        let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(&self.auth) else {
            return false;
        };
        mac.update(nonce.as_bytes());
        mac.verify_slice(&proof).is_ok()
    }
}

/// The auth key stays out of logs.
impl std::fmt::Debug for Seal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Seal")
            .field("kdf", &self.kdf.is_some())
            .finish_non_exhaustive()
    }
}

impl Signer {
    /// A nonce for downloaders of share `id` to sign: random, and signed by
    /// Courier so any instance checks it without keeping it.
    pub fn key_nonce(&self, id: &str, now: OffsetDateTime) -> String {
        let random = uuid::Uuid::new_v4().simple().to_string();
        let token = UploadToken::issue(
            &self.0.secret,
            TokenScope::Nonce,
            &nonce_subject(id, &random),
            now + NONCE_TTL,
        );
        format!("{random}.{token}")
    }

    /// What a counted download of file `index` (0-based) of share `id`
    /// gets to ask for new URLs of its object while it streams, without
    /// counting again, until `expires_at` (the share database's
    /// `sealed_download_window`). The share's rules are checked again at
    /// each renewal: a revoked share renews nothing.
    pub fn download_token(&self, id: &str, index: usize, expires_at: OffsetDateTime) -> String {
        UploadToken::issue(
            &self.0.secret,
            TokenScope::Download,
            &download_subject(id, index),
            expires_at,
        )
    }

    /// Whether `token` is a [`download_token`](Self::download_token) of
    /// this file, unexpired.
    pub fn check_download_token(&self, id: &str, index: usize, token: &str, now: OffsetDateTime) -> bool {
        UploadToken::verify_scoped(
            &self.0.secret,
            TokenScope::Download,
            token,
            &download_subject(id, index),
            now,
        )
        .is_ok()
    }

    /// Whether `nonce` is one [`key_nonce`](Self::key_nonce) made for share `id`, unexpired.
    pub fn check_key_nonce(&self, id: &str, nonce: &str, now: OffsetDateTime) -> bool {
        let Some((random, token)) = nonce.split_once('.') else {
            return false;
        };
        UploadToken::verify_scoped(
            &self.0.secret,
            TokenScope::Nonce,
            token,
            &nonce_subject(id, random),
            now,
        )
        .is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seal_of(json: &str) -> String {
        BASE64URL.encode(json)
    }

    fn good(kdf: &str) -> String {
        let auth = BASE64URL.encode([7u8; 32]);
        let meta = BASE64URL.encode([1u8; 12 + 16 + 256]);
        seal_of(&format!(r#"{{"v":1,"auth":"{auth}","meta":"{meta}","kdf":{kdf}}}"#))
    }

    #[test]
    fn a_seal_is_checked_for_its_shape() {
        assert!(Seal::parse(&good("null")).is_ok());
        let salt = BASE64URL.encode([2u8; 16]);
        let kdf = format!(r#"{{"name":"PBKDF2-SHA256","salt":"{salt}","iterations":600000}}"#);
        assert!(Seal::parse(&good(&kdf)).is_ok());
        let weak = format!(r#"{{"name":"PBKDF2-SHA256","salt":"{salt}","iterations":1000}}"#);
        assert_eq!(Seal::parse(&good(&weak)), Err(BadSeal::Kdf));
        let hostile = format!(r#"{{"name":"PBKDF2-SHA256","salt":"{salt}","iterations":4294967295}}"#);
        assert_eq!(Seal::parse(&good(&hostile)), Err(BadSeal::Kdf));
        assert_eq!(Seal::parse("not base64!"), Err(BadSeal::NotJson));
        assert_eq!(
            Seal::parse(&seal_of(r#"{"v":2,"auth":"","meta":"","kdf":null}"#)),
            Err(BadSeal::Version)
        );
        let short = BASE64URL.encode([7u8; 16]);
        let meta = BASE64URL.encode([1u8; 300]);
        assert_eq!(
            Seal::parse(&seal_of(&format!(
                r#"{{"v":1,"auth":"{short}","meta":"{meta}","kdf":null}}"#
            ))),
            Err(BadSeal::Auth)
        );
        assert_eq!(Seal::parse(&"A".repeat(MAX_SEAL_LEN + 4)), Err(BadSeal::TooLong));
    }

    #[test]
    fn a_proof_is_the_hmac_of_the_nonce() {
        let seal = Seal::parse(&good("null")).expect("a good seal");
        let mut mac = Hmac::<Sha256>::new_from_slice(&[7u8; 32]).expect("any key length");
        mac.update(b"a nonce");
        let proof = BASE64URL.encode(mac.finalize().into_bytes());
        assert!(seal.proves("a nonce", &proof));
        assert!(!seal.proves("another nonce", &proof));
        assert!(!seal.proves("a nonce", "AAAA"));
        assert!(!format!("{seal:?}").contains(&BASE64URL.encode([7u8; 32])));
    }
}
