//! SigV4 for a POST policy. Its string to sign is the base64 policy itself,
//! so all it needs is the day's signing key and the signature: both come
//! from `aws-sigv4`, the crate the S3 client signs its own requests with.

use aws_sigv4::sign::v4::{calculate_signature, generate_signing_key};
use time::OffsetDateTime;

/// The hex signature of `string_to_sign` (for a POST, the base64 policy),
/// under the signing key for `at`'s day (UTC), `region` and S3.
pub fn signature(secret_access_key: &str, at: OffsetDateTime, region: &str, string_to_sign: &str) -> String {
    let key = generate_signing_key(secret_access_key, at.into(), region, "s3");
    calculate_signature(key, string_to_sign.as_bytes())
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
}
