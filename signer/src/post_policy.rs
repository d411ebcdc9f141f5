//! S3 POST policies, signed with SigV4: the AWS Rust SDK presigns GET and PUT
//! but has no presigned POST (awslabs/aws-sdk-rust#863), so this is ours.
//!
//! Every form field the browser must send gets a matching condition, so the
//! store refuses a form in which anything was changed.

use std::fmt::Write as _;

use time::OffsetDateTime;

use wire::FormFields;

pub use crate::credentials::SigningCredentials;
use crate::credentials::SigningIdentity;
use crate::utc;

pub const ALGORITHM: &str = "AWS4-HMAC-SHA256";

/// A POST policy before it is signed. Its document is written as JSON as
/// conditions are added (building a `serde_json::Value` per condition was
/// most of a grant's cost).
#[derive(Clone, Debug)]
pub struct PostPolicy {
    /// `{"expiration":"…","conditions":[` and the conditions so far,
    /// comma-separated; [`PostPolicy::seal`] closes it.
    document: String,
    /// Where the first condition starts in `document`.
    conditions_start: usize,
    fields: FormFields,
}

/// The signed result: the form fields to send (policy and signature included).
#[derive(Clone, Debug)]
pub struct SignedPostPolicy {
    pub fields: FormFields,
}

impl PostPolicy {
    /// A policy for `bucket` that expires at `expiration`.
    pub fn builder(bucket: &str, expiration: OffsetDateTime) -> Self {
        let mut document = String::with_capacity(1024);
        document.push_str("{\"expiration\":\"");
        utc::push_expiration(&mut document, expiration);
        document.push_str("\",\"conditions\":[");
        let mut policy = Self {
            conditions_start: document.len(),
            document,
            fields: FormFields::with_capacity(12),
        };
        policy.equals("bucket", bucket);
        policy
    }

    /// A form field that must be sent with exactly this value (a `String`
    /// is kept as it is, without a copy).
    pub fn field(mut self, name: &'static str, value: impl Into<String>) -> Self {
        let value = value.into();
        self.equals(name, &value);
        self.fields.insert(name, value);
        self
    }

    /// A form field that must start with `prefix`; the form carries `value`.
    pub fn field_starting_with(mut self, name: &'static str, prefix: &str, value: impl Into<String>) -> Self {
        let out = self.next_condition();
        out.push_str("[\"starts-with\",\"$");
        json_string_body(out, name);
        out.push_str("\",");
        json_string(out, prefix);
        out.push(']');
        self.fields.insert(name, value);
        self
    }

    /// The accepted file sizes, in bytes.
    pub fn content_length_range(mut self, min: u64, max: u64) -> Self {
        let out = self.next_condition();
        let mut digits = itoa::Buffer::new();
        out.push_str("[\"content-length-range\",");
        out.push_str(digits.format(min));
        out.push(',');
        out.push_str(digits.format(max));
        out.push(']');
        self
    }

    /// `{"name":"value"}`
    fn equals(&mut self, name: &str, value: &str) {
        let out = self.next_condition();
        out.push('{');
        json_string(out, name);
        out.push(':');
        json_string(out, value);
        out.push('}');
    }

    fn next_condition(&mut self) -> &mut String {
        if self.document.len() > self.conditions_start {
            self.document.push(',');
        }
        &mut self.document
    }

    /// Adds the SigV4 fields and signs the base64 policy with the day's key.
    pub fn sign(self, identity: &SigningIdentity, now: OffsetDateTime) -> SignedPostPolicy {
        self.stamped(identity, now).seal(identity, now)
    }

    /// The policy with the SigV4 fields (and their conditions) added.
    fn stamped(mut self, identity: &SigningIdentity, now: OffsetDateTime) -> Self {
        let amz_date = utc::amz_date(now);
        let day = amz_date.get(..8).unwrap_or_default();
        let region = identity.day_key.region();
        let mut credential = String::with_capacity(identity.access_key_id.len() + region.len() + 32);
        for part in [
            identity.access_key_id.as_str(),
            "/",
            day,
            "/",
            region,
            "/s3/aws4_request",
        ] {
            credential.push_str(part);
        }
        self = self
            .field("x-amz-credential", credential)
            .field("x-amz-algorithm", ALGORITHM)
            .field("x-amz-date", amz_date);
        if let Some(token) = &identity.session_token {
            self = self.field("x-amz-security-token", token.as_str());
        }
        self
    }

    /// The policy document, before base64.
    #[cfg(test)]
    fn document(&self) -> String {
        let mut document = self.document.clone();
        document.push_str("]}");
        document
    }

    fn seal(mut self, identity: &SigningIdentity, now: OffsetDateTime) -> SignedPostPolicy {
        self.document.push_str("]}");
        let mut policy = String::with_capacity(self.document.len().div_ceil(3) * 4);
        base64_simd::STANDARD.encode_append(&self.document, &mut policy);
        let signature = identity.day_key.sign(now, policy.as_bytes());
        let mut fields = self.fields;
        fields.insert("policy", policy);
        fields.insert("x-amz-signature", signature);
        SignedPostPolicy { fields }
    }
}

/// `s` as a JSON string, quotes included.
fn json_string(out: &mut String, s: &str) {
    out.push('"');
    json_string_body(out, s);
    out.push('"');
}

/// `s` escaped for the inside of a JSON string (RFC 8259: quote, backslash
/// and control characters; everything else, non-ASCII included, as is).
fn json_string_body(out: &mut String, s: &str) {
    // Without an early exit, so the check runs over whole vectors of bytes.
    let plain = !s
        .bytes()
        .fold(false, |escape, b| escape | (b == b'"') | (b == b'\\') | (b < b' '));
    if plain {
        out.push_str(s);
        return;
    }
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c < ' ' => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sigv4;
    use base64::Engine as _;
    use base64::engine::general_purpose::STANDARD as BASE64;
    use serde_json::Value;
    use time::macros::datetime;

    // AWS's published "sigv4-post-example" (S3 API reference).
    const EXAMPLE_POLICY_B64: &str = "eyAiZXhwaXJhdGlvbiI6ICIyMDE1LTEyLTMwVDEyOjAwOjAwLjAwMFoiLA0KICAiY29uZGl0aW9ucyI6IFsNCiAgICB7ImJ1Y2tldCI6ICJzaWd2NGV4YW1wbGVidWNrZXQifSwNCiAgICBbInN0YXJ0cy13aXRoIiwgIiRrZXkiLCAidXNlci91c2VyMS8iXSwNCiAgICB7ImFjbCI6ICJwdWJsaWMtcmVhZCJ9LA0KICAgIHsic3VjY2Vzc19hY3Rpb25fcmVkaXJlY3QiOiAiaHR0cDovL3NpZ3Y0ZXhhbXBsZWJ1Y2tldC5zMy5hbWF6b25hd3MuY29tL3N1Y2Nlc3NmdWxfdXBsb2FkLmh0bWwifSwNCiAgICBbInN0YXJ0cy13aXRoIiwgIiRDb250ZW50LVR5cGUiLCAiaW1hZ2UvIl0sDQogICAgeyJ4LWFtei1tZXRhLXV1aWQiOiAiMTQzNjUxMjM2NTEyNzQifSwNCiAgICB7IngtYW16LXNlcnZlci1zaWRlLWVuY3J5cHRpb24iOiAiQUVTMjU2In0sDQogICAgWyJzdGFydHMtd2l0aCIsICIkeC1hbXotbWV0YS10YWciLCAiIl0sDQoNCiAgICB7IngtYW16LWNyZWRlbnRpYWwiOiAiQUtJQUlPU0ZPRE5ON0VYQU1QTEUvMjAxNTEyMjkvdXMtZWFzdC0xL3MzL2F3czRfcmVxdWVzdCJ9LA0KICAgIHsieC1hbXotYWxnb3JpdGhtIjogIkFXUzQtSE1BQy1TSEEyNTYifSwNCiAgICB7IngtYW16LWRhdGUiOiAiMjAxNTEyMjlUMDAwMDAwWiIgfQ0KICBdDQp9";
    const EXAMPLE_SIGNATURE: &str = "8afdbf4008c03f22c2cd3cdb72e4afbb1f6a588f3255ac628749a66d7f09699e";
    const EXAMPLE_REDIRECT: &str = "http://sigv4examplebucket.s3.amazonaws.com/successful_upload.html";

    fn example_credentials() -> SigningCredentials {
        SigningCredentials {
            access_key_id: "AKIAIOSFODNN7EXAMPLE".to_owned(),
            secret_access_key: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY".to_owned(),
            session_token: None,
        }
    }

    fn example_policy() -> PostPolicy {
        PostPolicy::builder("sigv4examplebucket", datetime!(2015-12-30 12:00 UTC))
            .field_starting_with("key", "user/user1/", "user/user1/${filename}")
            .field("acl", "public-read")
            .field("success_action_redirect", EXAMPLE_REDIRECT)
            .field_starting_with("Content-Type", "image/", "image/jpeg")
            .field("x-amz-meta-uuid", "14365123651274")
            .field("x-amz-server-side-encryption", "AES256")
            .field_starting_with("x-amz-meta-tag", "", "")
    }

    #[test]
    fn signs_the_aws_example_policy_exactly() {
        let signature = sigv4::signature(
            &example_credentials().secret_access_key,
            datetime!(2015-12-29 00:00 UTC),
            "us-east-1",
            EXAMPLE_POLICY_B64,
        );
        assert_eq!(signature, EXAMPLE_SIGNATURE);
    }

    #[test]
    fn builds_the_same_policy_document_as_the_aws_example() {
        let at = datetime!(2015-12-29 00:00 UTC);
        let identity = SigningIdentity::new(&example_credentials(), "us-east-1");
        let stamped = example_policy().stamped(&identity, at);
        let ours: Value = serde_json::from_str(&stamped.document()).expect("our policy is JSON");
        let published = BASE64.decode(EXAMPLE_POLICY_B64).expect("the example is base64");
        let theirs: Value = serde_json::from_slice(&published).expect("the example is JSON");
        assert_eq!(ours, theirs);
        let signed = example_policy().sign(&identity, at);
        assert_eq!(
            signed.fields["x-amz-credential"],
            "AKIAIOSFODNN7EXAMPLE/20151229/us-east-1/s3/aws4_request"
        );
        assert_eq!(signed.fields["x-amz-date"], "20151229T000000Z");
        assert_eq!(signed.fields["x-amz-algorithm"], ALGORITHM);
        // And the signature is the policy's, under the day's key.
        let expected = sigv4::signature(
            &example_credentials().secret_access_key,
            at,
            "us-east-1",
            &signed.fields["policy"],
        );
        assert_eq!(signed.fields["x-amz-signature"], expected);
    }

    #[test]
    fn every_field_sent_has_a_condition() {
        let mut credentials = example_credentials();
        credentials.session_token = Some("session-token".to_owned());
        let at = datetime!(2026-01-01 00:00 UTC);
        let identity = SigningIdentity::new(&credentials, "eu-west-1");
        let stamped = example_policy().content_length_range(1, 10).stamped(&identity, at);
        let document: Value = serde_json::from_str(&stamped.document()).expect("the document is JSON");
        // The field each condition is about, lower-cased, read from the document itself.
        let covered: Vec<String> = document["conditions"]
            .as_array()
            .expect("conditions")
            .iter()
            .filter_map(|c| match c {
                Value::Object(map) => map.keys().next().cloned(),
                Value::Array(items) if items[0] == "starts-with" => {
                    items[1].as_str().map(|f| f.trim_start_matches('$').to_owned())
                }
                _ => None,
            })
            .map(|f| f.to_ascii_lowercase())
            .collect();
        let signed = stamped.seal(&identity, at);
        // policy and x-amz-signature are the only fields S3 exempts.
        for name in signed
            .fields
            .keys()
            .filter(|n| !matches!(*n, "policy" | "x-amz-signature"))
        {
            assert!(
                covered.contains(&name.to_ascii_lowercase()),
                "field {name} has no condition"
            );
        }
        assert_eq!(signed.fields["x-amz-security-token"], "session-token");
        assert!(
            document["conditions"]
                .as_array()
                .expect("conditions")
                .contains(&serde_json::json!(["content-length-range", 1, 10]))
        );
    }

    #[test]
    fn the_document_is_json_whatever_the_values() {
        let awkward = [
            "plain",
            "quote \" and \\ backslash",
            "line\nbreak\ttab\r",
            "\u{1}\u{1f}\u{7f}",
            "naïve 名前 🙂",
            "",
        ];
        for value in awkward {
            let policy = PostPolicy::builder(value, datetime!(2026-01-01 00:00 UTC))
                .field("key", value)
                .field_starting_with(value, value, value)
                .content_length_range(0, u64::MAX);
            let parsed: Value = serde_json::from_str(&policy.document()).expect("the document is JSON");
            let conditions = parsed["conditions"].as_array().expect("conditions");
            assert_eq!(conditions[0]["bucket"], value);
            assert_eq!(conditions[1]["key"], value);
            assert_eq!(conditions[2][1], format!("${value}"));
            assert_eq!(conditions[2][2], value);
            assert_eq!(conditions[3][2], u64::MAX);
        }
    }
}
