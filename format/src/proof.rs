//! The proof that a downloader holds a file's auth key (FORMAT.md,
//! "Proving the key"): Courier checks it against the seal's `auth`.

use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::b64;
use crate::keys::Keys;

type HmacSha256 = Hmac<Sha256>;

fn mac(auth_key: &[u8; 32], nonce: &str) -> HmacSha256 {
    let mut mac = HmacSha256::new_from_slice(auth_key).expect("HMAC takes a key of any length");
    mac.update(nonce.as_bytes());
    mac
}

/// `b64u(HMAC-SHA256(auth key, nonce))`.
pub fn proof(keys: &Keys, nonce: &str) -> String {
    b64::encode(&mac(keys.auth_key(), nonce).finalize().into_bytes())
}

/// Whether `proof` is the proof for `nonce` under `auth_key`, compared in
/// constant time (Courier's side; the tests' fake server uses it).
pub fn verify(auth_key: &[u8; 32], nonce: &str, proof: &str) -> bool {
    b64::decode(proof).is_some_and(|tag| mac(auth_key, nonce).verify_slice(&tag).is_ok())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::Secret;

    #[test]
    fn a_proof_verifies_for_its_nonce_and_key_only() {
        let keys = Keys::derive(&Secret::from_bytes([1; 16]), None);
        let proof = proof(&keys, "n-1");
        assert_eq!(proof.len(), 43);
        assert!(verify(keys.auth_key(), "n-1", &proof));
        assert!(!verify(keys.auth_key(), "n-2", &proof));
        assert!(!verify(&[0; 32], "n-1", &proof));
        assert!(!verify(keys.auth_key(), "n-1", "%%%"));
    }
}
