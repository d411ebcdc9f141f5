//! The SigV4 primitives the POST policy and upload tokens are built on.

use hmac::{Hmac, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// HMAC-SHA256; HMAC takes keys of any length, so this cannot fail.
pub fn hmac_sha256(key: &[u8], data: &[u8]) -> [u8; 32] {
    let mut mac = HmacSha256::new_from_slice(key).expect("HMAC accepts keys of any length");
    mac.update(data);
    mac.finalize().into_bytes().into()
}

/// The SigV4 signing key for one day, region and service.
pub fn signing_key(secret_access_key: &str, date: &str, region: &str, service: &str) -> [u8; 32] {
    let k_date = hmac_sha256(format!("AWS4{secret_access_key}").as_bytes(), date.as_bytes());
    let k_region = hmac_sha256(&k_date, region.as_bytes());
    let k_service = hmac_sha256(&k_region, service.as_bytes());
    hmac_sha256(&k_service, b"aws4_request")
}

/// The hex signature of `string_to_sign` (for a POST, the base64 policy).
pub fn signature(secret_access_key: &str, date: &str, region: &str, string_to_sign: &str) -> String {
    let key = signing_key(secret_access_key, date, region, "s3");
    hex::encode(hmac_sha256(&key, string_to_sign.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    // From AWS's "sigv4-post-example" in the S3 API reference.
    pub(crate) const EXAMPLE_SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";

    #[test]
    fn signing_key_matches_the_aws_example_day() {
        // The published example's signing key for 20151229/us-east-1/s3.
        let key = signing_key(EXAMPLE_SECRET, "20151229", "us-east-1", "s3");
        assert_eq!(
            hex::encode(key),
            "cbcef1ebeaefc82cce6530b9f0a9ae598846065f5c5bae0674bd5ebc4ba52d28"
        );
    }
}
