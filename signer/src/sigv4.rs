//! SigV4, the two shapes Courier signs: a POST policy (its string to sign is
//! the base64 policy) and a presigned GET (see [`crate::presign`]). Both end
//! in an HMAC under the day's signing key, which changes only at UTC
//! midnight: [`DayKey`] derives it once per day and keeps the keyed HMAC, so
//! a signature costs one HMAC instead of five.

use std::sync::RwLock;

use aws_sigv4::sign::v4::generate_signing_key;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use time::{Date, OffsetDateTime, UtcOffset};

type HmacSha256 = Hmac<Sha256>;

/// The signing key for one secret, region and S3, cached for its UTC day.
pub struct DayKey {
    secret_access_key: String,
    region: String,
    cached: RwLock<Option<(Date, HmacSha256)>>,
}

impl DayKey {
    pub fn new(secret_access_key: &str, region: &str) -> Self {
        Self {
            secret_access_key: secret_access_key.to_owned(),
            region: region.to_owned(),
            cached: RwLock::new(None),
        }
    }

    pub fn region(&self) -> &str {
        &self.region
    }

    /// The hex signature of `string_to_sign` under `at`'s day key.
    pub fn sign(&self, at: OffsetDateTime, string_to_sign: &[u8]) -> String {
        let mut mac = self.keyed(at.to_offset(UtcOffset::UTC).date());
        mac.update(string_to_sign);
        let mut signature = String::with_capacity(64);
        push_hex(&mut signature, &mac.finalize().into_bytes());
        signature
    }

    /// A fresh HMAC keyed with `day`'s signing key.
    fn keyed(&self, day: Date) -> HmacSha256 {
        // A poisoned lock only means another signer panicked mid-write; the
        // cache is then recomputed, never trusted.
        if let Ok(cached) = self.cached.read()
            && let Some((cached_day, mac)) = cached.as_ref()
            && *cached_day == day
        {
            return mac.clone();
        }
        let mac = derive(&self.secret_access_key, day, &self.region);
        if let Ok(mut cached) = self.cached.write() {
            *cached = Some((day, mac.clone()));
        }
        mac
    }
}

impl std::fmt::Debug for DayKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DayKey")
            .field("region", &self.region)
            .finish_non_exhaustive()
    }
}

/// Appends `bytes` in lower-case hex (the `hex` crate's char iterator was a
/// tenth of a signature's cost).
pub fn push_hex(out: &mut String, bytes: &[u8]) {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    out.reserve(bytes.len() * 2);
    for &b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 0xf)]));
    }
}

/// The day's signing key (AWS's four-step HMAC chain, from `aws-sigv4`),
/// ready to sign with.
fn derive(secret_access_key: &str, day: Date, region: &str) -> HmacSha256 {
    let midnight = day.midnight().assume_utc();
    let key = generate_signing_key(secret_access_key, midnight.into(), region, "s3");
    // HMAC takes a key of any length: this cannot fail.
    HmacSha256::new_from_slice(key.as_ref()).unwrap_or_else(|_| unreachable!("HMAC accepts any key length"))
}

/// The hex signature of `string_to_sign` (for a POST, the base64 policy),
/// under the signing key for `at`'s day (UTC), `region` and S3. Uncached: for
/// tests and one-off checks.
pub fn signature(secret_access_key: &str, at: OffsetDateTime, region: &str, string_to_sign: &str) -> String {
    DayKey::new(secret_access_key, region).sign(at, string_to_sign.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    // From AWS's "sigv4-post-example" in the S3 API reference.
    const EXAMPLE_SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";

    #[test]
    fn signing_key_matches_the_aws_example_day() {
        // The published example's signing key for 20151229/us-east-1/s3, at
        // both ends of the day: the key is the day's, whatever the hour.
        for at in [datetime!(2015-12-29 00:00 UTC), datetime!(2015-12-29 23:59:59 UTC)] {
            let key = generate_signing_key(EXAMPLE_SECRET, at.into(), "us-east-1", "s3");
            assert_eq!(
                hex::encode(key.as_ref()),
                "cbcef1ebeaefc82cce6530b9f0a9ae598846065f5c5bae0674bd5ebc4ba52d28"
            );
        }
    }

    #[test]
    fn hex_is_lower_case_and_complete() {
        let bytes: Vec<u8> = (0..=255).collect();
        let mut ours = String::new();
        push_hex(&mut ours, &bytes);
        assert_eq!(ours, hex::encode(&bytes));
    }

    #[test]
    fn the_cached_key_follows_the_utc_day() {
        let key = DayKey::new(EXAMPLE_SECRET, "us-east-1");
        let evening = datetime!(2015-12-29 23:59:59 UTC);
        let next_morning = datetime!(2015-12-30 00:00:01 UTC);
        // Same day, any hour or offset: the same signature as uncached.
        for at in [evening, datetime!(2015-12-29 08:00 -5)] {
            assert_eq!(
                key.sign(at, b"policy"),
                signature(EXAMPLE_SECRET, at, "us-east-1", "policy")
            );
        }
        // After midnight the cache must not serve yesterday's key.
        let today = key.sign(next_morning, b"policy");
        assert_eq!(today, signature(EXAMPLE_SECRET, next_morning, "us-east-1", "policy"));
        assert_ne!(today, key.sign(evening, b"policy"));
    }
}
