//! Upload tokens: the capability `/confirm-upload` and `sign_download` check
//! before they sign anything. A token is an HMAC, made with the server secret,
//! over an object key (or a per-page key prefix) and an expiry; knowing a key
//! or an old download URL is not enough to mint a new link.
//!
//! Wire form: `<scope>.<expiry unix seconds>.<base64url HMAC>`, where scope is
//! `k` (one exact key, for its upload), `p` (every key under one
//! `uploads/<uuid>/` prefix, for the plain form's upload), `r` (one exact
//! key, for new links after the upload was confirmed) or `m` (one multipart
//! upload: its key, upload id and sizes together).

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as BASE64URL;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use time::OffsetDateTime;

use crate::object_key::ObjectKey;

/// The server secret (`COURIER_SECRET`), kept as an HMAC already keyed
/// with it (cloning one is cheaper than keying anew), and the secrets it
/// replaced (`COURIER_SECRET_PREVIOUS`), which still verify tokens but never
/// make one. Never printed.
#[derive(Clone)]
pub struct TokenSecret {
    current: Hmac<Sha256>,
    previous: Vec<Hmac<Sha256>>,
}

impl TokenSecret {
    /// Secrets shorter than this are refused at start-up.
    pub const MIN_LEN: usize = 32;

    pub fn new(secret: impl Into<Vec<u8>>) -> Result<Self, TokenError> {
        let secret = secret.into();
        if secret.len() < Self::MIN_LEN {
            return Err(TokenError::WeakSecret);
        }
        let keyed = Hmac::<Sha256>::new_from_slice(&secret).map_err(|_| TokenError::WeakSecret)?;
        Ok(Self {
            current: keyed,
            previous: Vec::new(),
        })
    }

    /// This secret, still accepting tokens made with `previous` ones: while
    /// instances are redeployed one by one with a new secret, and until the
    /// old one's tokens have expired.
    pub fn accepting(mut self, previous: &[TokenSecret]) -> Self {
        self.previous = previous.iter().map(|p| p.current.clone()).collect();
        self
    }

    /// The secret that makes tokens, then those that only check them.
    fn verifying(&self) -> impl Iterator<Item = &Hmac<Sha256>> {
        std::iter::once(&self.current).chain(&self.previous)
    }
}

impl std::fmt::Debug for TokenSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenSecret(<redacted>)")
    }
}

/// What a token allows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TokenScope {
    /// One exact key (the hydrated client's uploads, and renewal tokens).
    Key,
    /// Every key under one per-page prefix (the plain HTML form).
    Prefix,
    /// One exact key, for new links after the upload; longer-lived.
    Renewal,
    /// One multipart upload (see [`multipart_subject`]); never a link.
    Multipart,
    /// One share (its id): the sender's controls. Never a link to a file.
    Share,
    /// One share's password, given (see [`unlock_subject`]): its downloads.
    Unlock,
    /// A nonce a downloader of an encrypted share signs with its key (see
    /// [`nonce_subject`]). Never a link to a file.
    Nonce,
    /// A browser signed in with the upload password (see
    /// [`crate::access`]). Never a link to a file.
    Session,
    /// One file request (its id): its maker's controls. Never a link to a file.
    Request,
    /// One counted download of an encrypted file (see [`download_subject`]):
    /// new URLs for it while it streams. Never a link to a file.
    Download,
}

impl TokenScope {
    fn tag(self) -> &'static str {
        match self {
            Self::Key => "k",
            Self::Prefix => "p",
            Self::Renewal => "r",
            Self::Multipart => "m",
            Self::Share => "s",
            Self::Unlock => "u",
            Self::Nonce => "n",
            Self::Session => "a",
            Self::Request => "q",
            Self::Download => "d",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("the token is missing or malformed")]
    Malformed,
    #[error("the token was not made for this file")]
    Forged,
    #[error("the token has expired")]
    Expired,
    #[error("the secret must be at least 32 bytes")]
    WeakSecret,
}

/// A token that checked out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct VerifiedToken {
    pub scope: TokenScope,
}

pub struct UploadToken;

impl UploadToken {
    /// A token for `subject` (a key, or a prefix ending in `/`) until `expires_at`.
    pub fn issue(secret: &TokenSecret, scope: TokenScope, subject: &str, expires_at: OffsetDateTime) -> String {
        let expiry = expires_at.unix_timestamp();
        let mac = mac(&secret.current, scope, subject, expiry).finalize().into_bytes();
        let mut digits = itoa::Buffer::new();
        let mut token = String::with_capacity(64);
        token.push_str(scope.tag());
        token.push('.');
        token.push_str(digits.format(expiry));
        token.push('.');
        BASE64URL.encode_string(mac, &mut token);
        token
    }

    /// Checks `token` against `key` at `now`: made by us, for this key (or its
    /// prefix), and not expired. Multipart tokens open no key.
    pub fn verify(
        secret: &TokenSecret,
        token: &str,
        key: &ObjectKey,
        now: OffsetDateTime,
    ) -> Result<VerifiedToken, TokenError> {
        let parsed = Parsed::read(token)?;
        let subject = match parsed.scope {
            TokenScope::Key | TokenScope::Renewal => key.as_str(),
            TokenScope::Prefix => key.prefix(),
            TokenScope::Multipart
            | TokenScope::Share
            | TokenScope::Unlock
            | TokenScope::Nonce
            | TokenScope::Session
            | TokenScope::Request
            | TokenScope::Download => {
                return Err(TokenError::Forged);
            }
        };
        parsed.check(secret, subject, now)?;
        Ok(VerifiedToken { scope: parsed.scope })
    }

    /// Checks a multipart token against its upload's [`multipart_subject`].
    pub fn verify_multipart(
        secret: &TokenSecret,
        token: &str,
        subject: &str,
        now: OffsetDateTime,
    ) -> Result<(), TokenError> {
        Self::verify_scoped(secret, TokenScope::Multipart, token, subject, now)
    }

    /// Checks a token of one `scope` (multipart, share, unlock) against its subject.
    pub fn verify_scoped(
        secret: &TokenSecret,
        scope: TokenScope,
        token: &str,
        subject: &str,
        now: OffsetDateTime,
    ) -> Result<(), TokenError> {
        let parsed = Parsed::read(token)?;
        if parsed.scope != scope {
            return Err(TokenError::Forged);
        }
        parsed.check(secret, subject, now)
    }
}

/// What a multipart token signs: everything about the upload that a part
/// URL, the completion or the abort relies on.
pub fn multipart_subject(key: &str, upload_id: &str, size: u64, part_size: u64) -> String {
    format!("{key}\n{upload_id}\n{size}\n{part_size}")
}

/// What an unlock token signs: the share, and the password it was given for
/// (its stored hash, whose salt changes with every new password), so a new
/// password locks out those who knew the old one.
pub fn unlock_subject(share_id: &str, password_hash: &str) -> String {
    format!("{share_id}\n{password_hash}")
}

/// What a nonce token signs: the share, and the random part of the nonce.
pub fn nonce_subject(share_id: &str, random: &str) -> String {
    format!("{share_id}\n{random}")
}

/// What a download token signs: the share and the file's index (a file's
/// number is never given to another file, FORMAT.md).
pub fn download_subject(share_id: &str, index: usize) -> String {
    format!("{share_id}\n{index}")
}

/// A token's three parts, read but not yet checked.
struct Parsed {
    scope: TokenScope,
    expiry: i64,
    signature: Vec<u8>,
}

impl Parsed {
    fn read(token: &str) -> Result<Self, TokenError> {
        let mut parts = token.split('.');
        let (Some(tag), Some(expiry), Some(signature), None) = (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(TokenError::Malformed);
        };
        let scope = match tag {
            "k" => TokenScope::Key,
            "p" => TokenScope::Prefix,
            "r" => TokenScope::Renewal,
            "m" => TokenScope::Multipart,
            "s" => TokenScope::Share,
            "u" => TokenScope::Unlock,
            "n" => TokenScope::Nonce,
            "a" => TokenScope::Session,
            "q" => TokenScope::Request,
            "d" => TokenScope::Download,
            _ => return Err(TokenError::Malformed),
        };
        if expiry.is_empty() || expiry.len() > 12 || !expiry.bytes().all(|b| b.is_ascii_digit()) {
            return Err(TokenError::Malformed);
        }
        let expiry: i64 = expiry.parse().map_err(|_| TokenError::Malformed)?;
        let signature = BASE64URL.decode(signature).map_err(|_| TokenError::Malformed)?;
        if signature.len() != 32 {
            return Err(TokenError::Malformed);
        }
        Ok(Self {
            scope,
            expiry,
            signature,
        })
    }

    /// Made by us (any secret still accepted) for `subject`, and not expired.
    fn check(&self, secret: &TokenSecret, subject: &str, now: OffsetDateTime) -> Result<(), TokenError> {
        // Constant-time comparison; a token for another subject fails here too.
        let made_by_us = secret.verifying().any(|key| {
            mac(key, self.scope, subject, self.expiry)
                .verify_slice(&self.signature)
                .is_ok()
        });
        if !made_by_us {
            return Err(TokenError::Forged);
        }
        let expires_at = OffsetDateTime::from_unix_timestamp(self.expiry).map_err(|_| TokenError::Malformed)?;
        if now >= expires_at {
            return Err(TokenError::Expired);
        }
        Ok(())
    }
}

/// The id of the key a confirmed upload is copied to (`files/<id>/<name>`):
/// an HMAC over the upload's key and the ETag that was confirmed. The same
/// upload confirmed twice lands on the same key (a retry is harmless), other
/// bytes on another key (so no later write can change what a link serves), and
/// nobody without the secret can predict it.
pub fn confirmed_id(secret: &TokenSecret, upload_key: &ObjectKey, etag: &str) -> String {
    file_id(&secret.current, upload_key, etag)
}

/// The ids the same upload was given under every secret still accepted, the
/// current one first: a file confirmed before a rotation keeps the id the
/// previous secret gave it, and a retried confirmation must still find it.
pub fn confirmed_ids<'a>(
    secret: &'a TokenSecret,
    upload_key: &'a ObjectKey,
    etag: &'a str,
) -> impl Iterator<Item = String> + 'a {
    secret.verifying().map(move |key| file_id(key, upload_key, etag))
}

fn file_id(key: &Hmac<Sha256>, upload_key: &ObjectKey, etag: &str) -> String {
    let mut mac = key.clone();
    mac.update(format!("courier-confirmed-key/v1\n{etag}\n{}", upload_key.as_str()).as_bytes());
    hex::encode(&mac.finalize().into_bytes()[..crate::object_key::FILE_ID_LEN / 2])
}

fn mac(key: &Hmac<Sha256>, scope: TokenScope, subject: &str, expiry: i64) -> Hmac<Sha256> {
    let mut mac = key.clone();
    // Domain-separated so a token can never be confused with another HMAC of
    // ours: `courier-upload-token/v1\n<tag>\n<expiry>\n<subject>`.
    let mut digits = itoa::Buffer::new();
    for part in [
        "courier-upload-token/v1\n",
        scope.tag(),
        "\n",
        digits.format(expiry),
        "\n",
        subject,
    ] {
        mac.update(part.as_bytes());
    }
    mac
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::Duration;
    use time::macros::datetime;

    const NOW: OffsetDateTime = datetime!(2026-11-28 12:00 UTC);

    fn secret() -> TokenSecret {
        TokenSecret::new(*b"0123456789abcdef0123456789abcdef").expect("32 bytes")
    }

    fn key(raw: &str) -> ObjectKey {
        ObjectKey::parse(raw).expect("a valid key")
    }

    const KEY: &str = "uploads/6f1d1c52-3a55-4f4c-9a4e-1d7f25d1c0aa/report.pdf";
    const SIBLING: &str = "uploads/6f1d1c52-3a55-4f4c-9a4e-1d7f25d1c0aa/other.pdf";
    const STRANGER: &str = "uploads/0b6e2cf0-9d7e-4d8e-8f7a-3a3e0e8f9b11/report.pdf";

    #[test]
    fn the_wire_form_is_the_documented_one() {
        // Written out independently here, so tokens issued before a change
        // to how they are built still verify after it.
        let expires_at = NOW + Duration::minutes(5);
        let token = UploadToken::issue(&secret(), TokenScope::Key, KEY, expires_at);
        let mut mac = Hmac::<Sha256>::new_from_slice(b"0123456789abcdef0123456789abcdef").expect("a key");
        mac.update(format!("courier-upload-token/v1\nk\n{}\n{KEY}", expires_at.unix_timestamp()).as_bytes());
        let expected = format!(
            "k.{}.{}",
            expires_at.unix_timestamp(),
            BASE64URL.encode(mac.finalize().into_bytes())
        );
        assert_eq!(token, expected);
    }

    #[test]
    fn a_multipart_token_covers_its_upload_only_and_opens_no_key() {
        let subject = multipart_subject(KEY, "upload-1", 100, 8);
        let token = UploadToken::issue(&secret(), TokenScope::Multipart, &subject, NOW + Duration::minutes(5));
        assert_eq!(UploadToken::verify_multipart(&secret(), &token, &subject, NOW), Ok(()));
        for other in [
            multipart_subject(KEY, "upload-2", 100, 8),
            multipart_subject(KEY, "upload-1", 101, 8),
            multipart_subject(KEY, "upload-1", 100, 9),
            multipart_subject(SIBLING, "upload-1", 100, 8),
        ] {
            assert_eq!(
                UploadToken::verify_multipart(&secret(), &token, &other, NOW),
                Err(TokenError::Forged)
            );
        }
        assert_eq!(
            UploadToken::verify(&secret(), &token, &key(KEY), NOW),
            Err(TokenError::Forged)
        );
        let key_token = UploadToken::issue(&secret(), TokenScope::Key, KEY, NOW + Duration::minutes(5));
        assert_eq!(
            UploadToken::verify_multipart(&secret(), &key_token, &subject, NOW),
            Err(TokenError::Forged)
        );
        assert_eq!(
            UploadToken::verify_multipart(&secret(), &token, &subject, NOW + Duration::minutes(5)),
            Err(TokenError::Expired)
        );
    }

    #[test]
    fn a_key_token_opens_its_key_only() {
        let token = UploadToken::issue(&secret(), TokenScope::Key, KEY, NOW + Duration::minutes(5));
        let verified = UploadToken::verify(&secret(), &token, &key(KEY), NOW).expect("valid");
        assert_eq!(verified.scope, TokenScope::Key);
        assert_eq!(
            UploadToken::verify(&secret(), &token, &key(SIBLING), NOW),
            Err(TokenError::Forged)
        );
        assert_eq!(
            UploadToken::verify(&secret(), &token, &key(STRANGER), NOW),
            Err(TokenError::Forged)
        );
    }

    #[test]
    fn a_prefix_token_opens_its_prefix_only() {
        let prefix = "uploads/6f1d1c52-3a55-4f4c-9a4e-1d7f25d1c0aa/";
        let token = UploadToken::issue(&secret(), TokenScope::Prefix, prefix, NOW + Duration::minutes(5));
        assert!(UploadToken::verify(&secret(), &token, &key(KEY), NOW).is_ok());
        assert!(UploadToken::verify(&secret(), &token, &key(SIBLING), NOW).is_ok());
        assert_eq!(
            UploadToken::verify(&secret(), &token, &key(STRANGER), NOW),
            Err(TokenError::Forged)
        );
    }

    #[test]
    fn scopes_cannot_be_swapped() {
        let token = UploadToken::issue(&secret(), TokenScope::Key, KEY, NOW + Duration::minutes(5));
        let renewal = format!("r{}", &token[1..]);
        assert_eq!(
            UploadToken::verify(&secret(), &renewal, &key(KEY), NOW),
            Err(TokenError::Forged)
        );
        let token = UploadToken::issue(&secret(), TokenScope::Renewal, KEY, NOW + Duration::days(5));
        assert_eq!(
            UploadToken::verify(&secret(), &token, &key(KEY), NOW).map(|v| v.scope),
            Ok(TokenScope::Renewal)
        );
    }

    #[test]
    fn an_expired_token_is_refused() {
        let token = UploadToken::issue(&secret(), TokenScope::Key, KEY, NOW);
        assert_eq!(
            UploadToken::verify(&secret(), &token, &key(KEY), NOW),
            Err(TokenError::Expired)
        );
        assert!(UploadToken::verify(&secret(), &token, &key(KEY), NOW - Duration::seconds(1)).is_ok());
    }

    #[test]
    fn tampering_with_any_part_is_refused() {
        let token = UploadToken::issue(&secret(), TokenScope::Key, KEY, NOW + Duration::minutes(5));
        let parts: Vec<&str> = token.split('.').collect();
        let later = (NOW + Duration::days(365)).unix_timestamp().to_string();
        let widened = format!("p.{}.{}", parts[1], parts[2]);
        let extended = format!("k.{later}.{}", parts[2]);
        let mut flipped = parts[2].to_owned().into_bytes();
        flipped[0] = if flipped[0] == b'A' { b'B' } else { b'A' };
        let flipped = format!("k.{}.{}", parts[1], String::from_utf8(flipped).expect("ascii"));
        for forged in [widened, extended, flipped] {
            assert_eq!(
                UploadToken::verify(&secret(), &forged, &key(KEY), NOW),
                Err(TokenError::Forged),
                "{forged}"
            );
        }
        let other_secret = TokenSecret::new(*b"another secret that is long enough").expect("long");
        assert_eq!(
            UploadToken::verify(&other_secret, &token, &key(KEY), NOW),
            Err(TokenError::Forged)
        );
    }

    #[test]
    fn malformed_tokens_are_refused() {
        for bad in [
            "",
            "k",
            "k.1",
            "k.1.2.3",
            "x.1.AAAA",
            "k.-5.AAAA",
            "k.1e9.AAAA",
            "k.99999999999999.AAAA",
            "k.1.!!!!",
            "k.1.AAAA",
        ] {
            assert_eq!(
                UploadToken::verify(&secret(), bad, &key(KEY), NOW),
                Err(TokenError::Malformed),
                "{bad}"
            );
        }
    }

    #[test]
    fn confirmed_ids_depend_on_key_etag_and_secret() {
        let id = confirmed_id(&secret(), &key(KEY), "abc");
        assert_eq!(id.len(), 32);
        assert_eq!(id, confirmed_id(&secret(), &key(KEY), "abc"));
        assert_ne!(id, confirmed_id(&secret(), &key(KEY), "abd"));
        assert_ne!(id, confirmed_id(&secret(), &key(SIBLING), "abc"));
        let other = TokenSecret::new(*b"another secret that is long enough").expect("long");
        assert_ne!(id, confirmed_id(&other, &key(KEY), "abc"));
        assert!(key(KEY).confirmed(&id).is_ok());
    }

    #[test]
    fn a_rotated_secret_still_names_the_ids_its_predecessors_gave() {
        let old = TokenSecret::new(*b"the secret before the rotation..").expect("32 bytes");
        let rotated = secret().accepting(std::slice::from_ref(&old));
        let ids: Vec<String> = confirmed_ids(&rotated, &key(KEY), "abc").collect();
        assert_eq!(
            ids,
            vec![
                confirmed_id(&secret(), &key(KEY), "abc"),
                confirmed_id(&old, &key(KEY), "abc")
            ]
        );
        assert_eq!(confirmed_ids(&secret(), &key(KEY), "abc").count(), 1);
    }

    #[test]
    fn tokens_of_a_previous_secret_verify_until_it_is_dropped() {
        let old = TokenSecret::new(*b"the secret before the rotation..").expect("32 bytes");
        let token = UploadToken::issue(&old, TokenScope::Renewal, KEY, NOW + Duration::days(1));
        let rotated = secret().accepting(std::slice::from_ref(&old));
        assert_eq!(
            UploadToken::verify(&rotated, &token, &key(KEY), NOW).map(|v| v.scope),
            Ok(TokenScope::Renewal)
        );
        // New tokens come from the new secret only.
        let fresh = UploadToken::issue(&rotated, TokenScope::Key, KEY, NOW + Duration::days(1));
        assert!(UploadToken::verify(&secret(), &fresh, &key(KEY), NOW).is_ok());
        assert_eq!(
            UploadToken::verify(&old, &fresh, &key(KEY), NOW),
            Err(TokenError::Forged)
        );
        // A previous secret still checks key, scope and expiry.
        assert_eq!(
            UploadToken::verify(&rotated, &token, &key(SIBLING), NOW),
            Err(TokenError::Forged)
        );
        assert_eq!(
            UploadToken::verify(&rotated, &token, &key(KEY), NOW + Duration::days(2)),
            Err(TokenError::Expired)
        );
        // Once it is dropped, its tokens stop working.
        assert_eq!(
            UploadToken::verify(&secret(), &token, &key(KEY), NOW),
            Err(TokenError::Forged)
        );
    }

    #[test]
    fn short_secrets_are_refused() {
        assert_eq!(TokenSecret::new("short").err(), Some(TokenError::WeakSecret));
        assert_eq!(format!("{:?}", secret()), "TokenSecret(<redacted>)");
    }
}
