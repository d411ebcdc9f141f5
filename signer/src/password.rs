//! Share passwords: hashed with Argon2id (RustCrypto's `argon2`, its
//! default cost: 19 MiB, 2 passes, OWASP's recommendation), kept as a PHC
//! string with its own random salt, and checked by the library's
//! constant-time comparison. A password is never logged or stored as given.
//! Both calls take tens of milliseconds on purpose: run them off the async
//! threads (`spawn_blocking`).

use argon2::Argon2;
use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};

/// The longest password taken, in bytes: hashing is bounded, and nobody
/// types more.
pub const MAX_PASSWORD_BYTES: usize = 1024;

#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PasswordError {
    #[error("A password needs at least one character.")]
    Empty,
    #[error("A password can be at most 1024 bytes long.")]
    TooLong,
    #[error("The password could not be hashed. Try again.")]
    NotHashed,
}

/// The PHC string (`$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>`) to store.
pub fn hash_password(password: &str) -> Result<String, PasswordError> {
    if password.is_empty() {
        return Err(PasswordError::Empty);
    }
    if password.len() > MAX_PASSWORD_BYTES {
        return Err(PasswordError::TooLong);
    }
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|_| PasswordError::NotHashed)
}

/// Whether `password` is the one `stored` was made from. A stored hash that
/// does not parse matches nothing.
pub fn verify_password(stored: &str, password: &str) -> bool {
    if password.len() > MAX_PASSWORD_BYTES {
        return false;
    }
    PasswordHash::new(stored).is_ok_and(|hash| Argon2::default().verify_password(password.as_bytes(), &hash).is_ok())
}

/// [`hash_password`] on a blocking thread.
pub async fn hash_off_thread(password: String) -> Result<String, PasswordError> {
    tokio::task::spawn_blocking(move || hash_password(&password))
        .await
        .map_err(|_| PasswordError::NotHashed)?
}

/// [`verify_password`] on a blocking thread.
pub async fn verify_off_thread(stored: String, password: String) -> bool {
    tokio::task::spawn_blocking(move || verify_password(&stored, &password))
        .await
        .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_right_password_matches_and_no_other() {
        let stored = hash_password("correct horse").expect("hashes");
        assert!(stored.starts_with("$argon2id$"), "{stored}");
        assert!(!stored.contains("correct horse"));
        assert!(verify_password(&stored, "correct horse"));
        assert!(!verify_password(&stored, "correct hors"));
        assert!(!verify_password(&stored, ""));
        assert!(!verify_password("not a hash", "correct horse"));
        // Salted: the same password twice gives two hashes.
        assert_ne!(hash_password("correct horse").expect("hashes"), stored);
    }

    #[test]
    fn empty_and_overlong_passwords_are_refused() {
        assert_eq!(hash_password(""), Err(PasswordError::Empty));
        assert_eq!(hash_password(&"x".repeat(1025)), Err(PasswordError::TooLong));
        assert!(hash_password(&"x".repeat(1024)).is_ok());
    }
}
