//! A file's secret, and the keys it gives (FORMAT.md, "Keys").

use std::fmt;

use hkdf::Hkdf;
use sha2::Sha256;

use crate::b64;
use crate::random::{self, RandomError};

/// A secret's length: one per file, in the link's fragment.
pub const SECRET_LEN: usize = 16;
/// A password salt's length: one per file.
pub const SALT_LEN: usize = 16;
/// The one password KDF of version 1.
pub const KDF_NAME: &str = "PBKDF2-SHA256";
/// What Courier's clients write.
pub const KDF_ITERATIONS: u32 = 600_000;
/// The bounds a reader holds a seal to (`wire` owns them: Courier checks
/// the same when it takes a seal).
pub use wire::seal::{MAX_KDF_ITERATIONS, MIN_KDF_ITERATIONS};

const HKDF_SALT: &[u8] = b"courier-e2e-v1";
const PASSWORD_KEY_LEN: usize = 32;

/// A file's 16 random bytes. Its `Debug` never shows them.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret([u8; SECRET_LEN]);

impl Secret {
    /// A fresh secret for a file.
    pub fn generate() -> Result<Self, RandomError> {
        random::bytes().map(Self)
    }

    pub const fn from_bytes(bytes: [u8; SECRET_LEN]) -> Self {
        Self(bytes)
    }

    pub fn as_bytes(&self) -> &[u8; SECRET_LEN] {
        &self.0
    }

    /// Its `b64u`: a one-file share's fragment (22 characters).
    pub fn to_b64u(&self) -> String {
        b64::encode(&self.0)
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(..)")
    }
}

/// How a password is mixed into the keys: PBKDF2-HMAC-SHA256 with this
/// salt and count. Only a count Courier accepts can be built.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Kdf {
    salt: [u8; SALT_LEN],
    iterations: u32,
}

/// A seal's `kdf` that Courier does not open.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum KdfError {
    #[error("The file's password is protected with \"{0}\", which this version of Courier does not know.")]
    UnknownName(String),
    #[error(
        "The file's password is protected with only {0} iterations, fewer than the 100,000 Courier requires: it was not encrypted by Courier."
    )]
    TooFewIterations(u32),
    #[error(
        "The file's password asks for {0} iterations, more than the 10,000,000 Courier allows: it was not encrypted by Courier."
    )]
    TooManyIterations(u32),
    #[error("The file's password salt is not 16 bytes of base64url: the link or the file's record is damaged.")]
    BadSalt,
}

impl Kdf {
    pub fn new(salt: [u8; SALT_LEN], iterations: u32) -> Result<Self, KdfError> {
        if iterations < MIN_KDF_ITERATIONS {
            return Err(KdfError::TooFewIterations(iterations));
        }
        if iterations > MAX_KDF_ITERATIONS {
            return Err(KdfError::TooManyIterations(iterations));
        }
        Ok(Self { salt, iterations })
    }

    /// A fresh salt and Courier's count, for a file sent with a password.
    pub fn generate() -> Result<Self, RandomError> {
        Ok(Self {
            salt: random::bytes()?,
            iterations: KDF_ITERATIONS,
        })
    }

    pub fn salt(&self) -> &[u8; SALT_LEN] {
        &self.salt
    }

    pub fn iterations(&self) -> u32 {
        self.iterations
    }

    /// A seal's or a share's `kdf`, checked.
    pub fn from_wire(kdf: &wire::seal::Kdf) -> Result<Self, KdfError> {
        if kdf.name != KDF_NAME {
            return Err(KdfError::UnknownName(kdf.name.clone()));
        }
        let salt = b64::decode_array(&kdf.salt).ok_or(KdfError::BadSalt)?;
        Self::new(salt, kdf.iterations)
    }

    pub fn to_wire(&self) -> wire::seal::Kdf {
        wire::seal::Kdf {
            name: KDF_NAME.to_owned(),
            salt: b64::encode(&self.salt),
            iterations: self.iterations,
        }
    }
}

/// A file's four keys. Its `Debug` never shows them.
#[derive(Clone, PartialEq, Eq)]
pub struct Keys {
    content: [u8; 16],
    nonce: [u8; 12],
    metadata: [u8; 16],
    auth: [u8; 32],
}

impl Keys {
    /// The keys of the file with `secret`, and with the password and its
    /// `kdf` when the sender set one (the password as typed, UTF-8).
    pub fn derive(secret: &Secret, password: Option<(&str, &Kdf)>) -> Self {
        let mut ikm = Vec::with_capacity(SECRET_LEN + PASSWORD_KEY_LEN);
        ikm.extend_from_slice(&secret.0);
        if let Some((password, kdf)) = password {
            let mut stretched = [0u8; PASSWORD_KEY_LEN];
            pbkdf2::pbkdf2_hmac::<Sha256>(password.as_bytes(), &kdf.salt, kdf.iterations, &mut stretched);
            ikm.extend_from_slice(&stretched);
        }
        let hkdf = Hkdf::<Sha256>::new(Some(HKDF_SALT), &ikm);
        Self {
            content: expand(&hkdf, b"content key"),
            nonce: expand(&hkdf, b"content nonce"),
            metadata: expand(&hkdf, b"metadata key"),
            auth: expand(&hkdf, b"auth key"),
        }
    }

    /// AES-128-GCM's key for the records.
    pub fn content_key(&self) -> &[u8; 16] {
        &self.content
    }

    /// What each record's nonce is derived from.
    pub fn content_nonce(&self) -> &[u8; 12] {
        &self.nonce
    }

    /// AES-128-GCM's key for the metadata.
    pub fn metadata_key(&self) -> &[u8; 16] {
        &self.metadata
    }

    /// HMAC-SHA256's key for proofs; the seal hands it to Courier.
    pub fn auth_key(&self) -> &[u8; 32] {
        &self.auth
    }
}

impl fmt::Debug for Keys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Keys(..)")
    }
}

/// One HKDF-Expand of `N` bytes.
fn expand<const N: usize>(hkdf: &Hkdf<Sha256>, info: &[u8]) -> [u8; N] {
    const { assert!(N <= 255 * 32) };
    let mut okm = [0u8; N];
    hkdf.expand(info, &mut okm)
        .expect("HKDF-SHA256 expands to up to 8,160 bytes, checked above");
    okm
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_secret_and_keys_never_show_in_debug() {
        let secret = Secret::from_bytes([7; 16]);
        assert_eq!(format!("{secret:?}"), "Secret(..)");
        assert_eq!(format!("{:?}", Keys::derive(&secret, None)), "Keys(..)");
    }

    #[test]
    fn the_four_keys_differ_and_a_password_changes_them() {
        let secret = Secret::from_bytes([1; 16]);
        let plain = Keys::derive(&secret, None);
        assert_ne!(plain.content_key(), plain.metadata_key());
        assert_ne!(&plain.auth_key()[..16], plain.content_key());
        let kdf = Kdf::new([2; 16], MIN_KDF_ITERATIONS).expect("enough iterations");
        let with = Keys::derive(&secret, Some(("pw", &kdf)));
        let other = Keys::derive(&secret, Some(("pW", &kdf)));
        assert_ne!(plain, with);
        assert_ne!(with, other);
    }

    #[test]
    fn a_kdf_courier_did_not_write_is_refused() {
        assert_eq!(Kdf::new([0; 16], 99_999), Err(KdfError::TooFewIterations(99_999)));
        assert_eq!(
            Kdf::new([0; 16], 10_000_001),
            Err(KdfError::TooManyIterations(10_000_001))
        );
        let wire = |name: &str, salt: &str, iterations| wire::seal::Kdf {
            name: name.to_owned(),
            salt: salt.to_owned(),
            iterations,
        };
        let salt = b64::encode(&[3; 16]);
        assert_eq!(
            Kdf::from_wire(&wire("scrypt", &salt, 600_000)),
            Err(KdfError::UnknownName("scrypt".to_owned()))
        );
        assert_eq!(Kdf::from_wire(&wire(KDF_NAME, "AAAA", 600_000)), Err(KdfError::BadSalt));
        assert_eq!(
            Kdf::from_wire(&wire(KDF_NAME, &salt, 1_000)),
            Err(KdfError::TooFewIterations(1_000))
        );
        let kdf = Kdf::from_wire(&wire(KDF_NAME, &salt, 600_000)).expect("Courier's kdf");
        assert_eq!(kdf.to_wire(), wire(KDF_NAME, &salt, 600_000));
    }
}
